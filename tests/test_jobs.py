"""The job layer (embedded mode, SQLite) and the stage locks: real clips, the real model,
real processes holding and losing locks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from oralhist import jobs
from oralhist.jobs import locks
from oralhist.errors import BadInput, Busy, NotFound


def _ingest(cli, clip, narrator: str, *extra) -> str:
    res = cli("ingest", clip, "--narrator", narrator, "--date", "2001", "--no-normalise", "--json", *extra)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["done"][0]


def _versions(ws, iid: str) -> list[int]:
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Transcript

    with db.session(ws) as s:
        return sorted(s.exec(select(Transcript.version).where(Transcript.interview_id == iid)).all())


# --- locks ---


def test_lock_is_exclusive_and_names_its_holder(ws):
    with locks.stage_lock(ws, None, "publish"):
        with pytest.raises(Busy) as exc:
            locks.acquire(ws, None, "publish")
        assert locks.holder_id() in exc.value.message and "publish" in exc.value.message
        assert [h["stage"] for h in locks.holders(ws)] == ["publish"]
    with locks.stage_lock(ws, None, "publish"):  # released: free again
        pass
    assert locks.holders(ws) == []


def _insert_lock(ws, holder: str, age_s: float) -> None:
    from sqlalchemy import insert

    from oralhist import db
    from oralhist.records import StageLock

    t = datetime.now(timezone.utc) - timedelta(seconds=age_s)
    with db.engine_for(ws).begin() as conn:
        conn.execute(insert(StageLock.__table__).values(interview_id="x", stage="transcribe", holder=holder,
                                                        token="t0", acquired_at=t, heartbeat_at=t))


def test_lock_of_another_machine_expires_only_when_its_heartbeat_is_old(ws):
    _insert_lock(ws, "autre-machine:4242", age_s=1)
    with pytest.raises(Busy) as exc:
        locks.acquire(ws, "x", "transcribe")
    assert "autre-machine:4242" in exc.value.message
    from oralhist import db

    with db.engine_for(ws).begin() as conn:
        conn.exec_driver_sql("DELETE FROM stagelock")
    _insert_lock(ws, "autre-machine:4242", age_s=locks.EXPIRY_S + 5)
    lock = locks.acquire(ws, "x", "transcribe")
    assert lock.holder == locks.holder_id()
    locks.release(lock)


def test_lock_of_a_killed_process_is_taken_over_at_once(ws):
    """A real process takes the lock and is killed with SIGKILL: the lock is free again."""
    code = (
        "import sys, time; from oralhist.archive.workspace import open_workspace; from oralhist.jobs import locks;"
        "ws = open_workspace(sys.argv[1]); locks.acquire(ws, 'x', 'transcribe'); print('held', flush=True);"
        "time.sleep(60)"
    )
    p = subprocess.Popen([sys.executable, "-c", code, str(ws.root)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "held"
        with pytest.raises(Busy) as exc:
            locks.acquire(ws, "x", "transcribe")
        assert f"{socket.gethostname()}:{p.pid}" in exc.value.message
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    lock = locks.acquire(ws, "x", "transcribe")
    locks.release(lock)


# --- jobs, embedded ---


def test_enqueue_runs_every_stage_once_in_order(ws, cli, corpus):
    iid = _ingest(cli, corpus / "fr" / "fleurs_fr_000.ogg", "Jeanne Leroy")
    first = jobs.enqueue(ws, iid, who="marie")
    assert [j.stage for j in first] == list(jobs.STAGE_ORDER)
    again = jobs.enqueue(ws, iid, priority=5)  # idempotent: the same jobs, priority raised
    assert [j.id for j in again] == [j.id for j in first]
    rows = jobs.list_jobs(ws, [iid])
    assert len(rows) == 5 and {r["status"] for r in rows} == {"queued"} and {r["priority"] for r in rows} == {5}

    runner = jobs.EmbeddedRunner(ws, concurrency=2).start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and jobs.list_jobs(ws, [iid], statuses=["queued", "running"]):
            time.sleep(0.3)
    finally:
        runner.stop()
    rows = sorted(jobs.list_jobs(ws, [iid]), key=lambda r: r["id"])
    assert [r["status"] for r in rows] == ["done"] * 5, rows
    starts = [r["started_at"] for r in rows]
    ends = [r["finished_at"] for r in rows]
    assert all(ends[k] <= starts[k + 1] for k in range(4)), rows  # stage k+1 began after stage k ended
    assert all(r["progress"] == 1.0 and r["attempts"] == 1 and r["worker"] for r in rows)
    assert rows[0]["created_at"].endswith("Z")
    assert _versions(ws, iid) == [1]
    res = cli("show", iid, "--json")
    assert json.loads(res.stdout)["status"] == "linked"
    for ext in (".vtt", ".ohms.xml", ".chapters.vtt"):  # the staff exports follow each job
        assert (ws.transcripts / iid / f"{iid}{ext}").is_file(), ext
    assert jobs.enqueue(ws, iid) == []  # nothing left to do
    assert jobs.list_jobs(ws, [iid], statuses=["queued"]) == []


def test_bad_input_fails_once_cancels_later_stages_and_retry_brings_them_back(ws, cli, corpus):
    iid = _ingest(cli, corpus / "fr" / "fleurs_fr_005.ogg", "Paul Martin")
    # transcribe and diarize without normalising first: no asr.wav, a bad-input failure
    tr, di = jobs.enqueue(ws, iid, ["diarize", "transcribe"])
    assert (tr.stage, di.stage) == ("transcribe", "diarize")
    jobs.run_pending(ws, timeout=120)
    t, d = jobs.get(ws, tr.id), jobs.get(ws, di.id)
    assert t.status == "failed" and t.attempts == 1, t
    assert "normalise" in t.error and t.error.startswith("Transcription : ")
    assert d.status == "cancelled" and "Transcription" in d.error
    with pytest.raises(BadInput):
        jobs.retry(ws, jobs.enqueue(ws, iid, ["normalise"])[0].id)  # queued: not retried
    jobs.run_pending(ws, timeout=120)  # the normalise job
    jobs.retry(ws, tr.id, who="marie")
    assert jobs.get(ws, di.id).status == "queued"
    jobs.run_pending(ws, timeout=300)
    assert jobs.get(ws, tr.id).status == "done" and jobs.get(ws, di.id).status == "done"
    assert jobs.get(ws, tr.id).who == "marie"
    assert _versions(ws, iid) == [1]


def test_priority_then_age_and_bad_arguments(ws, cli, corpus):
    from oralhist.jobs.embedded import _next_job

    a = _ingest(cli, corpus / "fr" / "fleurs_fr_002.ogg", "Anne A")
    b = _ingest(cli, corpus / "fr" / "fleurs_fr_003.ogg", "Bruno B")
    bulk = jobs.enqueue(ws, a, ["normalise"])[0]
    editor = jobs.enqueue(ws, b, ["normalise"], priority=10)[0]
    assert _next_job(ws) == editor.id
    jobs.cancel(ws, editor.id)
    assert _next_job(ws) == bulk.id
    with pytest.raises(BadInput):
        jobs.enqueue(ws, a, ["ingest"])
    with pytest.raises(NotFound):
        jobs.enqueue(ws, "1999-personne", ["normalise"])
    with pytest.raises(NotFound):
        jobs.retry(ws, 999)
    pub = jobs.enqueue_publish(ws, who="marie")
    assert jobs.enqueue_publish(ws).id == pub.id and pub.interview_id is None and pub.stage == "publish"


def test_a_job_left_running_by_a_killed_process_runs_again_exactly_once(ws, cli, corpus):
    from oralhist import db
    from oralhist.jobs.embedded import recover_stalled

    iid = _ingest(cli, corpus / "fr" / "fleurs_fr_000.ogg", "Luc Bernard")
    jobs.enqueue(ws, iid, ["normalise"])
    jobs.run_pending(ws, timeout=120)
    job = jobs.enqueue(ws, iid, ["transcribe"])[0]
    # A process that took the job and died (its pid no longer exists) after committing the stage.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    jobs.run_pending(ws, timeout=300)
    assert _versions(ws, iid) == [1]
    with db.session(ws) as s:
        j = s.get(jobs.Job, job.id)
        j.status, j.worker = "running", f"{socket.gethostname()}:{dead.pid}"
        s.add(j)
        s.commit()
    assert recover_stalled(ws) == [job.id]
    jobs.run_pending(ws, timeout=120)
    j = jobs.get(ws, job.id)
    assert j.status == "done" and "déjà" in j.message
    assert _versions(ws, iid) == [1]  # the committed result was not written twice


def test_two_transcribe_all_at_once_give_one_version_each(ws, cli, corpus):
    """Issue 15 item 7: two real `oralhist transcribe --all` processes at the same time."""
    ids = [_ingest(cli, corpus / "fr" / f"fleurs_fr_00{n}.ogg", name) for n, name in ((0, "Un Deux"), (5, "Trois Quatre"))]
    assert cli("normalise", "--all").exit_code == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "transcribe", "--all"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for iid in ids:
        assert _versions(ws, iid) == [1], outs
    said = "".join(o for o, _ in outs)
    # each interview was transcribed by one run; the other said so (busy now, or already done)
    for iid in ids:
        assert said.count(f"transcribe: {iid} v1") == 1, said
        assert f"transcribe: {iid} skipped: running right now elsewhere" in said or f"transcribe: {iid} already done" in said


def test_a_changed_file_on_the_share_is_refused_and_a_missing_one_retried(ws, cli, corpus):
    iid = _ingest(cli, corpus / "fr" / "fleurs_fr_000.ogg", "Marc Petit")
    jobs.enqueue(ws, iid, ["normalise"])
    jobs.run_pending(ws, timeout=120)
    asr = ws.derived_dir(iid) / "asr.wav"
    good = asr.read_bytes()
    asr.write_bytes(good[:-2] + b"\x01\x02")  # same size, other bytes
    job = jobs.enqueue(ws, iid, ["transcribe"])[0]
    jobs.run_pending(ws, timeout=120)
    j = jobs.get(ws, job.id)
    assert j.status == "failed" and j.attempts == 1 and "SHA-256" in j.error and "asr.wav" in j.error, j
    assert _versions(ws, iid) == []
    asr.unlink()  # the share not mounted: transient, queued again for later
    jobs.retry(ws, job.id)
    with pytest.raises(jobs.TransientJobError):
        jobs.run_job(ws, job.id)
    j = jobs.get(ws, job.id)
    assert j.status == "queued" and j.not_before is not None and "missing" in j.error
    asr.write_bytes(good)
    from oralhist import db

    with db.session(ws) as s:  # no need to wait out the backoff in a test
        row = s.get(jobs.Job, job.id)
        row.not_before = None
        s.add(row)
        s.commit()
    jobs.run_pending(ws, timeout=300)
    assert jobs.get(ws, job.id).status == "done" and _versions(ws, iid) == [1]


def test_storage_root_points_a_worker_at_the_shared_folder(ws, tmp_path, monkeypatch):
    from oralhist.errors import WorkspaceError
    from oralhist.archive.workspace import open_workspace

    local = tmp_path / "worker-local"
    local.mkdir()
    (local / "oralhist.toml").write_text(f'[storage]\nroot = "{ws.root}"\n[database]\nurl = "sqlite:///{ws.db_path}"\n')
    w = open_workspace(local)
    assert w.root == ws.root and w.interviews == ws.interviews and w.database_url == f"sqlite:///{ws.db_path}"
    monkeypatch.setenv("ORALHIST_STORAGE_ROOT", str(ws.root))
    assert open_workspace(tmp_path).root == ws.root
    monkeypatch.setenv("ORALHIST_STORAGE_ROOT", str(tmp_path / "not-mounted"))
    with pytest.raises(WorkspaceError) as exc:
        open_workspace(local)
    assert "not-mounted" in exc.value.message and "mounted" in exc.value.reason


def test_stage_commands_queue_instead_of_running(ws, cli, corpus):
    iid = _ingest(cli, corpus / "fr" / "fleurs_fr_000.ogg", "Rose Blanc")
    res = cli("transcribe", iid, "--queue", "bulk", "--json")
    assert res.exit_code == 0, res.output
    queued = json.loads(res.stdout)
    assert [(j["stage"], j["status"], j["queue"]) for j in queued] == [("transcribe", "queued", "bulk")]
    assert json.loads(cli("transcribe", iid, "--queue", "bulk", "--json").stdout)[0]["id"] == queued[0]["id"]
    res = cli("normalise", iid, "--queue", "default")
    assert res.exit_code == 0 and f"normalise: {iid} queued" in res.stdout
    assert _versions(ws, iid) == []  # nothing ran here
    table = cli("jobs")
    assert table.exit_code == 0 and "transcribe" in table.stdout and "queued" in table.stdout
    res = cli("worker", "--once")
    assert res.exit_code == 0 and "2 job(s) run" in res.stdout, res.output
    listed = json.loads(cli("jobs", "--json").stdout)
    assert {j["status"] for j in listed} == {"done"} and _versions(ws, iid) == [1]
    assert cli("jobs", "retry", str(listed[0]["id"])).exit_code == 2  # a done job is not retried
    assert cli("jobs", "--status", "bogus").exit_code == 2
