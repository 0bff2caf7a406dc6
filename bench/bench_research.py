"""Researchers' access (issue 24): the cost of the access check, and the access log filtered by interview.

    .venv/bin/python bench/bench_research.py [--requests 300] [--entries 100000] [--repeat 7]

1. Access check. A real workbench (uvicorn, accounts mode, SQLite) on a temporary archive with
   the real recogniser output of tests/data and its audio as the listening copy. The same route,
   ``GET /audio/<id>`` with ``Range: bytes=0-4095``, is asked alternately by an admin (the
   permission function only) and by a researcher with a live grant (``researcher_gate``:
   the grant's query, the consent check, the activity-log line written). Same file, same
   bytes, one keep-alive connection each; median and p90 of ``--requests`` each, after 20
   warm-up requests. The difference of the medians is what the access check adds.
2. Access log. ``--entries`` activity lines (1,000 interviews, 200 people, a year of
   timestamps) bulk-inserted in the archive's SQLite database; ``activity.query`` filtered by one
   interview (first page of 50, with the total count) and by interview + time range, median of
   ``--repeat``.

Writes bench/results-research.json; bench/RESULTS-research.md quotes the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
PW = "correct horse battery"
RPW = "Archives du Nord 59"
IID = "2022-lecteurs-fleurs"


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Conn:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        self.csrf = ""

    def req(self, method, path, body=None, headers=None):
        h = {"Cookie": self.cookie, **(headers or {})}
        if body is not None:
            h["Content-Type"] = "application/json"
            h["X-CSRF-Token"] = self.csrf
        try:
            self.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
            r = self.c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # uvicorn closes a keep-alive connection idle for 5 s (the other role's block, on a loaded machine)
            self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
            r = self.c.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("oralhist_session="):
                self.cookie = v.split(";")[0]
        return r.status, data

    def login(self, name, pw):
        st, data = self.req("POST", "/api/login", {"login": name, "password": pw})
        assert st == 200, data
        self.csrf = json.loads(data)["csrf"]


def bench_access(n: int) -> dict:
    from editdata import make_interview
    from oralhist.archive.workspace import init
    from oralhist.editorial.consent import set_consent
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.records import Interview
    from oralhist import db
    import imageio_ffmpeg

    tmp = Path(tempfile.mkdtemp(prefix="bench-research-"))
    ws = init(tmp / "archive", title="Banc")
    make_interview(ws, IID, audio=True, corpus=REPO / "tests" / "data" / "corpus", ffmpeg=imageio_ffmpeg.get_ffmpeg_exe())
    set_account(ws, "admin", PW, role="admin")
    set_consent(ws, IID, scope="research-only", listing="catalogue", who="admin")
    with db.session(ws) as s:
        key = s.get(Interview, IID).public_key
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    try:
        r = Conn(port)
        st, _ = r.req("POST", "/api/register", {"name": "Claire Martin", "email": "claire@exemple.fr",
                                                "institution": "", "password": RPW})
        assert st == 201
        r.login("claire@exemple.fr", RPW)
        st, data = r.req("POST", "/api/access-requests", {"interviews": [key], "purpose": "mesure du coût"})
        rid = json.loads(data)["id"]
        a = Conn(port)
        a.login("admin", PW)
        assert a.req("POST", f"/api/access-requests/{rid}/grant", {"days": 30})[0] == 200
        rng = {"Range": "bytes=0-4095"}
        pairs = ((a, f"/audio/{IID}"), (r, f"/audio/{key}"))
        for _ in range(20):
            for c, p in pairs:
                st, body = c.req("GET", p, headers=rng)
                assert st == 206 and len(body) == 4096, (p, st)
        times = {"admin": [], "researcher": []}
        cpus = {"admin": 0.0, "researcher": 0.0}
        c0, w0 = cpu(), time.perf_counter()
        for _ in range(0, n, 25):  # blocks of 25 of each, alternating: wall per request, CPU per block
            for who, (c, p) in zip(("admin", "researcher"), pairs):
                cb = cpu()
                for _ in range(25):
                    t = time.perf_counter()
                    st, _ = c.req("GET", p, headers=rng)
                    times[who].append((time.perf_counter() - t) * 1000)
                    assert st == 206
                cpus[who] += cpu() - cb
        out = {k: {"median_ms": round(statistics.median(v), 2), "p90_ms": round(sorted(v)[int(len(v) * 0.9)], 2),
                   "cpu_ms_per_request": round(cpus[k] * 1000 / len(v), 2)} for k, v in times.items()}
        out["added_ms"] = round(out["researcher"]["median_ms"] - out["admin"]["median_ms"], 2)
        out["added_cpu_ms"] = round(out["researcher"]["cpu_ms_per_request"] - out["admin"]["cpu_ms_per_request"], 2)
        out["requests_each"] = n
        out["in_process"] = in_process(ws, key, n)
        out["wall_s"] = round(time.perf_counter() - w0, 2)
        out["cpu_s_server_and_client"] = round(cpu() - c0, 2)
        return out
    finally:
        server.should_exit = True
        server._thread.join(5)


def in_process(ws, key: str, n: int) -> dict:
    """The check alone, no HTTP: the researcher's ``access.admit`` (grant, consent, listening copy,
    log line, commit) against the admin's two look-ups of the same route (``interview_museum``
    in the guard, the listening copy in the handler); thread CPU time and wall, median of ``n``."""
    from oralhist import db
    from oralhist.editorial.access import admit
    from oralhist.web.editor import _audio_path  # noqa: PLC2701  (the bench measures the admin's route as it is)
    from oralhist.web.permissions import interview_museum

    def admin():
        with db.session(ws) as s:
            interview_museum(s, IID)
        with db.session(ws) as s:
            _audio_path(ws, s, IID)

    def researcher():
        assert admit(ws, "claire@exemple.fr", key, "audio", detail="bytes=0-4095", address="127.0.0.1") is not None

    res = {}
    for name, fn in (("admin", admin), ("researcher", researcher)):
        walls, cpus = [], []
        for _ in range(n):
            w, c = time.perf_counter(), time.thread_time()
            fn()
            walls.append((time.perf_counter() - w) * 1000)
            cpus.append((time.thread_time() - c) * 1000)
        res[name] = {"median_ms": round(statistics.median(walls), 2), "median_cpu_ms": round(statistics.median(cpus), 2)}
    res["added_ms"] = round(res["researcher"]["median_ms"] - res["admin"]["median_ms"], 2)
    res["added_cpu_ms"] = round(res["researcher"]["median_cpu_ms"] - res["admin"]["median_cpu_ms"], 2)
    return res


def bench_log(entries: int, repeat: int) -> dict:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import insert

    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.editorial.activity import query
    from oralhist.records import ActivityEntry

    tmp = Path(tempfile.mkdtemp(prefix="bench-research-log-"))
    ws = init(tmp / "archive", title="Banc journal")
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    actions = ("access.page", "access.audio", "access.transcript", "login", "consent")
    rows = [{"at": t0 + timedelta(seconds=i * 315), "actor": f"chercheur{i % 200}@exemple.fr",
             "action": actions[i % 5], "interview_id": f"iv-{i % 1000:04d}", "museum_id": i % 120,
             "detail": "bytes=0-4095", "address": "10.0.0.1"} for i in range(entries)]
    w = time.perf_counter()
    with db.session(ws) as s:
        for k in range(0, len(rows), 10_000):
            s.exec(insert(ActivityEntry), params=rows[k:k + 10_000])
        s.commit()
    load_s = time.perf_counter() - w
    res = {}
    for name, kw in (("by_interview", {"interview_id": "iv-0421"}),
                     ("by_interview_and_month", {"interview_id": "iv-0421", "since": "2026-03-01", "until": "2026-04-01"}),
                     ("by_interview_accesses", {"interview_id": "iv-0421", "action": "access."})):
        times = []
        for _ in range(repeat):
            with db.session(ws) as s:
                t = time.perf_counter()
                page = query(s, per_page=50, **kw)
                times.append((time.perf_counter() - t) * 1000)
        res[name] = {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2),
                     "total": page.total, "rows": len(page.rows)}
    res["entries"] = entries
    res["insert_s"] = round(load_s, 2)
    return res


def postgres_url():
    """A throwaway PostgreSQL cluster (Debian's binaries, as tests/conftest.py's pg_url): (url, stop)."""
    import glob
    import shutil
    import socket
    import subprocess

    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="bench-research-pg-"))
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"),
                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bench"],
                   check=True, capture_output=True)

    def stop():
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench", stop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--pg", action="store_true", help="also the access log on PostgreSQL")
    args = ap.parse_args()
    out = {"load_before": os.getloadavg(), "access": bench_access(args.requests) if args.requests else None,
           "log": bench_log(args.entries, args.repeat) if args.entries else None}
    if args.pg and args.entries:
        url, stop = postgres_url()
        os.environ["DATABASE_URL"] = url
        try:
            out["log_postgresql"] = bench_log(args.entries, args.repeat)
        finally:
            del os.environ["DATABASE_URL"]
            stop()
    out["load_after"] = os.getloadavg()
    (REPO / "bench" / "results-research.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
