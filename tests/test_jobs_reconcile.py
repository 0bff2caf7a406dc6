"""The reconciler, `jobs retry` of a stuck job, job pruning and batched enqueue (issue 22 items
1 and 3), on real SQLite and a real PostgreSQL with procrastinate; no model, no audio."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from oralhist import jobs
from oralhist.errors import BadInput
from oralhist.jobs import locks


def _interviews(ws, n: int, prefix: str = "iv") -> list[str]:
    from oralhist import db
    from oralhist.records import Interview

    ids = [f"{prefix}-{k:04d}" for k in range(n)]
    with db.session(ws) as s:
        s.add_all([Interview(id=i, title=f"Entretien {i}") for i in ids])
        s.commit()
    return ids


def _set(ws, job_id: int, **values) -> None:
    from sqlalchemy import update

    from oralhist import db
    from oralhist.records import Job

    t = Job.__table__
    with db.engine_for(ws).begin() as conn:
        conn.execute(update(t).where(t.c.id == job_id).values(**values))


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_running_row_nobody_runs_is_queued_again_and_an_orphaned_lock_released(ws):
    from oralhist.jobs.reconcile import reconcile_once

    a, b, c = _interviews(ws, 3)
    mine = jobs.enqueue(ws, a, ["index"])[0]
    gone = jobs.enqueue(ws, b, ["index"])[0]
    alive = jobs.enqueue(ws, c, ["index"])[0]
    host = socket.gethostname()
    _set(ws, mine.id, status="running", worker=locks.holder_id())  # this process, no job of it runs it
    _set(ws, gone.id, status="running", worker=f"{host}:{_dead_pid()}")
    _set(ws, alive.id, status="running", worker=locks.holder_id())
    jobs.mark_in_flight(alive.id)  # this one is being run here: left alone
    try:
        # a lock of this very process that no job holds (its release failed while the database was away)
        lock = locks.acquire(ws, a, "transcribe")
        locks._Heartbeat.remove(lock)
        out = reconcile_once(ws)
    finally:
        jobs.mark_in_flight(alive.id, False)
    assert sorted(out["requeued"]) == sorted([mine.id, gone.id]) and out["locks"] == 1
    assert jobs.get(ws, mine.id).status == "queued" and jobs.get(ws, gone.id).status == "queued"
    assert jobs.get(ws, alive.id).status == "running"
    assert locks.holders(ws) == []


def test_an_orphaned_lock_of_this_process_is_taken_at_once(ws):
    lock = locks.acquire(ws, "x", "transcribe")
    locks._Heartbeat.remove(lock)  # as a release that could not reach the database leaves it
    again = locks.acquire(ws, "x", "transcribe", wait=0)  # no 60-s wait for the expiry
    locks.release(again)
    assert locks.holders(ws) == []


def test_jobs_retry_takes_a_stuck_running_job_and_refuses_a_live_one(ws, cli):
    a, b = _interviews(ws, 2)
    stuck = jobs.enqueue(ws, a, ["index"])[0]
    live = jobs.enqueue(ws, b, ["index"])[0]
    _set(ws, stuck.id, status="running", worker=f"{socket.gethostname()}:{_dead_pid()}")
    _set(ws, live.id, status="running", worker=f"{socket.gethostname()}:{os.getppid()}")
    res = cli("jobs", "retry", str(stuck.id))
    assert res.exit_code == 0, res.output
    assert "was running" in res.output and "queued again" in res.output
    assert jobs.get(ws, stuck.id).status == "queued"
    with pytest.raises(BadInput, match="is running"):
        jobs.retry(ws, live.id)


def test_finished_jobs_are_pruned_keeping_the_last_of_each_stage_and_a_daily_count(ws):
    from oralhist.jobs.prune import daily_counts, prune_finished

    (a,) = _interviews(ws, 1)
    old = datetime.now(timezone.utc) - timedelta(days=40)
    ids = []
    for k in range(6):  # six runs of the same stage, all finished 40 days ago
        j = jobs.enqueue(ws, a, ["index"])[0]
        _set(ws, j.id, status="done" if k % 3 else "failed", finished_at=old + timedelta(minutes=k))
        ids.append(j.id)
    recent = jobs.enqueue(ws, a, ["link"])[0]
    _set(ws, recent.id, status="done", finished_at=datetime.now(timezone.utc))
    assert prune_finished(ws, 0) == 0  # keep_days = 0: kept for ever
    assert prune_finished(ws) == 5  # the default, 30 days
    left = {r["id"] for r in jobs.list_jobs(ws)}
    assert left == {ids[-1], recent.id}
    counts = daily_counts(ws)
    assert sum(c["count"] for c in counts) == 5
    assert {(c["stage"], c["status"]): c["count"] for c in counts} == {("index", "done"): 3, ("index", "failed"): 2}
    assert prune_finished(ws) == 0  # nothing more to prune: the last one stays


def test_keep_days_setting_is_read_and_checked(ws):
    from oralhist.archive.workspace import Settings
    from oralhist.errors import WorkspaceError
    from oralhist.jobs.prune import keep_days

    assert keep_days(ws) == 30
    (ws.root / "oralhist.toml").write_text('[jobs]\nkeep_days = 7\n', encoding="utf-8")
    assert Settings.from_toml(ws.root / "oralhist.toml").raw["jobs"]["keep_days"] == 7
    (ws.root / "oralhist.toml").write_text('[jobs]\nkeep_days = -1\n', encoding="utf-8")
    with pytest.raises(WorkspaceError, match="keep_days"):
        Settings.from_toml(ws.root / "oralhist.toml")


# --- PostgreSQL + procrastinate ---


@pytest.fixture()
def pg_ws(pg_fresh, tmp_path, monkeypatch):
    from oralhist.archive.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    return init(tmp_path / "archive")


def _engine_status(ws, engine_id: int):
    from sqlalchemy import text

    from oralhist import db

    with db.engine_for(ws).connect() as conn:
        return conn.execute(text("SELECT status::text FROM procrastinate_jobs WHERE id = :i"), {"i": engine_id}).scalar()


def test_enqueue_many_is_one_batch_and_defers_only_each_first_stage(pg_ws):
    from sqlalchemy import text

    from oralhist import db

    ids = _interviews(pg_ws, 40)
    got = jobs.enqueue_many(pg_ws, ids)
    assert [j.stage for j in got[ids[0]]] == list(jobs.STAGE_ORDER)
    with db.engine_for(pg_ws).connect() as conn:
        rows = conn.execute(text("SELECT args->>'job_id', lock FROM procrastinate_jobs")).all()
    firsts = {str(got[i][0].id): i for i in ids}
    assert {jid: lock for jid, lock in rows} == firsts  # normalise of each, nothing later yet
    again = jobs.enqueue_many(pg_ws, ids)
    assert {i: [j.id for j in again[i]] for i in ids} == {i: [j.id for j in got[i]] for i in ids}
    assert len(jobs.list_jobs(pg_ws, limit=10_000)) == 40 * len(jobs.STAGE_ORDER)  # nothing queued twice


def test_reconciler_on_postgres_requeues_a_running_row_whose_engine_job_failed(pg_ws):
    from sqlalchemy import text

    from oralhist import db
    from oralhist.jobs.reconcile import reconcile_once

    (a,) = _interviews(pg_ws, 1)
    job = jobs.enqueue(pg_ws, a, ["index"])[0]
    first = jobs.get(pg_ws, job.id).engine_job_id
    # as when the worker lost its link: procrastinate recorded a failure, the row stayed running
    with db.engine_for(pg_ws).begin() as conn:
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :i"), {"i": first})
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :i"), {"i": first})
    _set(pg_ws, job.id, status="running", worker="elsewhere:4242", progress=0.22)
    from oralhist.jobs.reconcile import really_running

    assert really_running(pg_ws, jobs.get(pg_ws, job.id)) is False
    out = reconcile_once(pg_ws)
    assert out["requeued"] == [job.id]
    again = jobs.get(pg_ws, job.id)
    assert again.status == "queued" and again.engine_job_id != first
    assert _engine_status(pg_ws, again.engine_job_id) == "todo"
    assert reconcile_once(pg_ws)["requeued"] == []  # once only
