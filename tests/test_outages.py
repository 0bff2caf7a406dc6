"""Network outages, for real (issue 22 item 1): a PostgreSQL server in one network namespace,
an `oralhist worker` in another, a virtual cable between them; the cable or the server goes
away for 30 s while the worker transcribes. Each job ends done exactly once, within 90 s of
the link's return, with no `running` row and no stage lock left.

Needs root and `ip netns` (CI runs as root); skipped, saying so, where the machine refuses.
All three outages run in every test run: database down (the one the code before issue 22
failed: the server's end closes the connections, every write fails at once), the worker's own
link down, and the far end down — about a minute of waiting each (the file is handed out first).
"""

from __future__ import annotations

import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

OUTAGE_S = 30.0
RECOVERY_S = 90.0


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _netns_refused() -> str:
    """Why this machine cannot make network namespaces ('' when it can)."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "no `ip` command"
    name = f"ohprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return r.stderr.strip() or "ip netns add failed"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ""


class Cable:
    """Two namespaces: ``db`` (PostgreSQL) and ``wk`` (the worker), joined by a veth pair
    (wk side / db side); the test process reaches ``db`` by a second pair from the root."""

    def __init__(self):
        tag = f"{os.getpid() % 10000}{random.randrange(100):02d}"
        self.db, self.wk = f"ohdb{tag}", f"ohwk{tag}"
        a, b = random.randrange(100, 250), random.randrange(0, 63) * 4
        self.root_ip, self.db_ip_root = f"10.{a}.{b}.1", f"10.{a}.{b}.2"
        self.wk_ip, self.db_ip_wk = f"10.{a}.{b + 1}.1", f"10.{a}.{b + 1}.2"
        self.if_root, self.if_db_root = f"ohr{tag}", f"ohs{tag}"
        self.if_wk, self.if_db_wk = f"ohw{tag}", f"ohx{tag}"
        self.made: list[str] = []

    def up(self) -> "Cable":
        for ns in (self.db, self.wk):
            _ip("netns", "add", ns)
            self.made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("link", "add", self.if_root, "type", "veth", "peer", "name", self.if_db_root, "netns", self.db)
        self.made.append(self.if_root)
        _ip("addr", "add", f"{self.root_ip}/24", "dev", self.if_root)
        _ip("link", "set", self.if_root, "up")
        _ip("-n", self.db, "addr", "add", f"{self.db_ip_root}/24", "dev", self.if_db_root)
        _ip("-n", self.db, "link", "set", self.if_db_root, "up")
        _ip("-n", self.wk, "link", "add", self.if_wk, "type", "veth", "peer", "name", self.if_db_wk, "netns", self.db)
        _ip("-n", self.wk, "addr", "add", f"{self.wk_ip}/24", "dev", self.if_wk)
        _ip("-n", self.wk, "link", "set", self.if_wk, "up")
        _ip("-n", self.db, "addr", "add", f"{self.db_ip_wk}/24", "dev", self.if_db_wk)
        _ip("-n", self.db, "link", "set", self.if_db_wk, "up")
        return self

    def worker_link(self, up: bool) -> None:
        _ip("-n", self.wk, "link", "set", self.if_wk, "up" if up else "down")

    def far_end(self, up: bool) -> None:
        _ip("-n", self.db, "link", "set", self.if_db_wk, "up" if up else "down")

    def down(self) -> None:
        if self.if_root in self.made:
            _ip("link", "del", self.if_root, check=False)
        for ns in (self.wk, self.db):
            if ns in self.made:
                _ip("netns", "del", ns, check=False)


class Server:
    """A PostgreSQL cluster of its own, run inside the ``db`` namespace (port 5432 there)."""

    def __init__(self, cable: Cable, folder: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert found, "PostgreSQL server binaries are missing (scripts/test.sh installs Debian's postgresql)"
        self.bindir, self.cable, self.data = Path(found[-1]).parent, cable, folder
        shutil.chown(self.data, "postgres", "postgres")
        self.as_pg = ["ip", "netns", "exec", cable.db, "runuser", "-u", "postgres", "--"]
        subprocess.run([*self.as_pg, str(self.bindir / "initdb"), "-D", str(self.data / "db"), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        with open(self.data / "db" / "pg_hba.conf", "a") as fh:
            fh.write("host all all 10.0.0.0/8 trust\n")

    def start(self) -> None:
        opts = f"-p 5432 -k {self.data} -c listen_addresses='*'"
        r = subprocess.run([*self.as_pg, str(self.bindir / "pg_ctl"), "-D", str(self.data / "db"), "-w", "-l",
                            str(self.data / "log"), "-o", opts, "start"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr + (self.data / "log").read_text(errors="replace")

    def stop(self) -> None:
        subprocess.run([*self.as_pg, str(self.bindir / "pg_ctl"), "-D", str(self.data / "db"), "-m", "fast", "stop"],
                       capture_output=True)

    def url(self, host: str, name: str = "oralhist") -> str:
        return f"postgresql+psycopg://postgres@{host}:5432/{name}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The two namespaces and the server, once for the file (each test gets its own database)."""
    why = _netns_refused()
    assert not why, (f"the outage tests need network namespaces, and this machine refuses `ip netns` ({why}): "
                     "run the test command as root (sudo bash scripts/test.sh), which also installs iproute2")
    cable = Cable()
    server = None
    try:
        cable.up()
        folder = Path(tempfile.mkdtemp(prefix="oralhist-outage-"))  # pytest's tmp is root-only; postgres reads it
        server = Server(cable, folder)
        server.start()
        yield cable, server
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.data, ignore_errors=True)
        cable.down()


@pytest.fixture()
def archive(lab, tmp_path, ffmpeg, corpus, monkeypatch):
    """A fresh database and archive with one normalised interview; a function to start the worker
    in the worker's namespace."""
    import uuid

    import psycopg

    from oralhist.archive.workspace import init

    cable, server = lab
    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(f"postgresql://postgres@{cable.db_ip_root}:5432/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    here = server.url(cable.db_ip_root, name)
    monkeypatch.setenv("DATABASE_URL", here)
    ws = init(tmp_path / "archive")
    clip = tmp_path / "carte-sd" / "temoignage.wav"
    clip.parent.mkdir()
    # a short real clip: the worker is cut off while it loads the model and hears it
    subprocess.run([ffmpeg, "-v", "error", "-i", str(corpus / "fr" / "fleurs_fr_000.ogg"), "-t", "8", "-ac", "1",
                    "-ar", "16000", str(clip)], check=True)
    env = {**os.environ, "DATABASE_URL": here, "PYTHONUNBUFFERED": "1"}
    res = subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "ingest", str(clip.parent),
                          "--narrator", "Jeanne Leroy", "--date", "2001", "--json"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    iid = json.loads(res.stdout)["done"][0]
    procs: list[subprocess.Popen] = []

    def worker() -> subprocess.Popen:
        wenv = {**env, "DATABASE_URL": server.url(cable.db_ip_wk, name), "ORALHIST_RECONCILE_S": "30"}
        log = open(tmp_path / "worker.log", "w")
        p = subprocess.Popen(["ip", "netns", "exec", cable.wk, sys.executable, "-m", "oralhist", "--workspace",
                              str(ws.root), "worker", "--stalled-after", "10"],
                             env=wenv, stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    yield ws, iid, worker, tmp_path / "worker.log"
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _rows(ws) -> list[dict]:
    from oralhist import jobs

    return jobs.list_jobs(ws, limit=1000)


def _wait(ws, what, timeout: float, log: Path) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        try:
            rows = _rows(ws)
        except Exception:  # the database itself may be the one that is away
            rows = []
        if rows and what(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"not reached in {timeout:.0f} s: {rows}\n--- worker log ---\n"
                         f"{log.read_text(errors='replace')[-4000:]}")


def _outage(archive, cut, restore) -> None:
    """The worker starts transcribing; ``cut()``; 30 s; ``restore()``; then every job done once."""
    from sqlmodel import select

    from oralhist import db, jobs
    from oralhist.jobs import locks
    from oralhist.records import StageRun, Transcript

    ws, iid, worker, log = archive
    jobs.enqueue(ws, iid, ["transcribe"])
    w = worker()
    _wait(ws, lambda rows: any(r["stage"] == "transcribe" and r["status"] == "running" for r in rows), 180, log)
    print(f"{time.strftime('%H:%M:%S')} cut")
    cut()
    try:
        time.sleep(OUTAGE_S)  # the outage itself: nothing to poll, it is the time that is tested
    finally:
        restore()
    back = time.monotonic()
    print(f"{time.strftime('%H:%M:%S')} back")
    rows = _wait(ws, lambda rows: all(r["status"] == "done" for r in rows), RECOVERY_S, log)
    took = time.monotonic() - back
    print(f"every job done {took:.1f} s after the link came back")  # shown with -s; bench/RESULTS-network.md
    assert took <= RECOVERY_S
    assert w.poll() is None, "the worker kept running through the outage"
    assert [r["stage"] for r in rows] == ["transcribe"] and not [r for r in rows if r["status"] == "running"]
    with db.session(ws) as s:
        assert s.exec(select(Transcript.version).where(Transcript.interview_id == iid)).all() == [1]
        assert "transcribe" in {r.stage for r in s.exec(select(StageRun).where(StageRun.interview_id == iid))}
    deadline = time.monotonic() + 10  # the lock is released with the job's end; give its delete a moment
    while locks.holders(ws) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert locks.holders(ws) == [], "no stage lock is left"


def test_database_down_30s_mid_transcription(lab, archive):
    _, server = lab
    _outage(archive, server.stop, server.start)


def test_worker_link_down_30s_mid_transcription(lab, archive):
    cable, _ = lab
    _outage(archive, lambda: cable.worker_link(False), lambda: cable.worker_link(True))


def test_far_end_down_30s_mid_transcription(lab, archive):
    cable, _ = lab
    _outage(archive, lambda: cable.far_end(False), lambda: cable.far_end(True))
