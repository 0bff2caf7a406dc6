"""Network mode on a real PostgreSQL server: real `oralhist worker` processes (procrastinate),
real clips and the real model; a worker killed with SIGKILL; two `run --queue` at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

STAGES = ("normalise", "transcribe", "diarize", "index", "link")


def _clips(tmp: Path, ffmpeg: str, corpus: Path, n: int, seconds: float = 2.0) -> Path:
    """``n`` different files (a comment tag makes each one's bytes, and so its SHA-256, unique)."""
    folder = tmp / "carte-sd"
    folder.mkdir()
    src = corpus / "fr" / "fleurs_fr_000.ogg"
    for k in range(n):
        subprocess.run([ffmpeg, "-v", "error", "-i", str(src), "-t", str(seconds), "-ac", "1", "-ar", "16000",
                        "-metadata", f"comment=copie {k}", str(folder / f"temoignage-{k:02d}.wav")], check=True)
    return folder


@pytest.fixture()
def net(pg_fresh, tmp_path, monkeypatch):
    """An archive on a fresh PostgreSQL database, and a way to start worker processes."""
    from oralhist.archive.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive")
    env = {**os.environ, "DATABASE_URL": pg_fresh, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    procs: list[subprocess.Popen] = []

    def oralhist(*args) -> list[str]:
        return [sys.executable, "-m", "oralhist", "--workspace", str(ws.root), *map(str, args)]

    def worker() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(procs)}.log", "w")
        p = subprocess.Popen(oralhist("worker", "--stalled-after", "3"), env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    yield ws, env, oralhist, worker
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def _jobs(ws) -> list[dict]:
    from oralhist import jobs

    return jobs.list_jobs(ws, limit=10_000)


def _wait_done(ws, timeout: float, workers=()) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _jobs(ws)
        if rows and all(r["status"] in ("done", "failed", "cancelled") for r in rows):
            return rows
        for w in workers:
            assert w.poll() is None or w.returncode == -signal.SIGKILL, f"a worker exited ({w.returncode})"
        time.sleep(0.5)
    raise AssertionError(f"jobs not finished in {timeout} s: {Counter(r['status'] for r in _jobs(ws))}")


def _exactly_once(ws, ids: list[str]) -> None:
    """Every stage of every interview done, one job each, one transcript version, one index version."""
    from sqlmodel import func, select

    from oralhist import db
    from oralhist.records import StageRun, TopicSegment, Transcript

    rows = [r for r in _jobs(ws) if r["interview_id"]]
    assert {r["status"] for r in rows} == {"done"}, [r for r in rows if r["status"] != "done"]
    per = Counter((r["interview_id"], r["stage"]) for r in rows)
    assert set(per) == {(i, st) for i in ids for st in STAGES} and set(per.values()) == {1}
    with db.session(ws) as s:
        for iid in ids:
            versions = s.exec(select(Transcript.version).where(Transcript.interview_id == iid)).all()
            assert versions == [1], (iid, versions)
            idx = s.exec(select(func.count(func.distinct(TopicSegment.version))).where(TopicSegment.interview_id == iid)).one()
            assert idx <= 1, iid  # a 2-second clip may give no topic segment; never two versions
            done = s.exec(select(StageRun.stage).where(StageRun.interview_id == iid)).all()
            assert set(done) >= set(STAGES), (iid, done)


def _queue_run(oralhist, env, folder) -> dict:
    res = subprocess.run(oralhist("run", folder, "--narrator", "Jeanne Leroy", "--date", "2001", "--queue", "default",
                                  "--no-publish", "--json"), env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_fifteen_interviews_three_workers_every_stage_exactly_once(net, ffmpeg, corpus, tmp_path):
    ws, env, oralhist, worker = net
    folder = _clips(tmp_path, ffmpeg, corpus, 15)
    out = _queue_run(oralhist, env, folder)
    ids = out["interviews"]
    assert len(ids) == 15
    assert len([r for r in _jobs(ws) if r["status"] == "queued"]) == 75
    workers = [worker() for _ in range(3)]
    rows = _wait_done(ws, 900, workers)
    _exactly_once(ws, ids)
    assert len({r["worker"] for r in rows}) == 3, "the three workers shared the work"
    # `oralhist jobs --json` shows them; enqueuing again adds nothing
    listed = json.loads(subprocess.run(oralhist("jobs", "--json"), env=env, capture_output=True, text=True).stdout)
    assert len(listed) == 75 and {j["status"] for j in listed} == {"done"}
    assert _queue_run(oralhist, env, folder)["interviews"] == ids
    assert len(_jobs(ws)) == 75


def test_a_worker_killed_mid_transcription_loses_nothing_and_writes_once(net, ffmpeg, corpus, tmp_path):
    ws, env, oralhist, worker = net
    folder = _clips(tmp_path, ffmpeg, corpus, 6, seconds=4.0)
    ids = _queue_run(oralhist, env, folder)["interviews"]
    workers = [worker() for _ in range(3)]
    victim, running = None, []
    deadline = time.monotonic() + 300
    while victim is None and time.monotonic() < deadline:
        running = [r for r in _jobs(ws) if r["status"] == "running" and r["stage"] == "transcribe" and r["progress"] < 1.0]
        victim = next((w for r in running for w in workers if r["worker"].endswith(f":{w.pid}")), None)
        time.sleep(0.05)
    assert victim is not None, "no worker was seen transcribing"
    killed_job = next(r["id"] for r in running if r["worker"].endswith(f":{victim.pid}"))
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    _wait_done(ws, 900, [w for w in workers if w is not victim])
    _exactly_once(ws, ids)
    from oralhist import jobs

    again = jobs.get(ws, killed_job)
    assert again.attempts >= 2 and str(victim.pid) not in again.worker  # run again by another worker


def test_two_run_queue_at_once_make_one_set_of_interviews(net, ffmpeg, corpus, tmp_path):
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Interview, Recording

    ws, env, oralhist, worker = net
    folder = _clips(tmp_path, ffmpeg, corpus, 5)
    cmd = oralhist("run", folder, "--narrator", "Jeanne Leroy", "--date", "2001", "--queue", "default", "--no-publish",
                   "--json")
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with db.session(ws) as s:
        assert len(s.exec(select(Interview)).all()) == 5
        assert len(s.exec(select(Recording)).all()) == 5
    rows = _jobs(ws)
    per = Counter((r["interview_id"], r["stage"]) for r in rows)
    assert len(per) == 25 and set(per.values()) == {1}


def test_editor_priority_first_and_bad_input_not_retried(net, ffmpeg, corpus, tmp_path):
    from oralhist import jobs

    ws, env, oralhist, worker = net
    folder = _clips(tmp_path, ffmpeg, corpus, 5)
    res = subprocess.run(oralhist("ingest", folder, "--narrator", "Jeanne Leroy", "--date", "2001", "--no-normalise",
                                  "--json"), env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    ids = json.loads(res.stdout)["done"]
    *bulk, bad, editor = ids
    for iid in bulk:
        jobs.enqueue(ws, iid, ["normalise", "transcribe"], queue="bulk")
    broken = jobs.enqueue(ws, bad, ["transcribe"], queue="bulk")[0]  # never normalised: bad input
    urgent = jobs.enqueue(ws, editor, ["normalise"], priority=10, who="editrice")[0]
    w = worker()
    rows = _wait_done(ws, 600, [w])
    first = min((r for r in rows), key=lambda r: r["started_at"])
    assert first["id"] == urgent.id, "the editor's job went first"
    b = jobs.get(ws, broken.id)
    assert b.status == "failed" and b.attempts == 1 and "normalise" in b.error, b
    assert {r["status"] for r in rows if r["id"] != broken.id} == {"done"}
    res = subprocess.run(oralhist("jobs", "--status", "failed", "--json"), env=env, capture_output=True, text=True)
    assert [j["id"] for j in json.loads(res.stdout)] == [broken.id]
    # fixed (normalised), retried from the command line: done by the worker
    assert subprocess.run(oralhist("normalise", bad), env=env, capture_output=True).returncode == 0
    assert subprocess.run(oralhist("jobs", "retry", broken.id), env=env, capture_output=True).returncode == 0
    _wait_done(ws, 300, [w])
    assert jobs.get(ws, broken.id).status == "done"
