"""Network mode: procrastinate runs the jobs (its tables live in the archive's PostgreSQL).

One task, ``oralhist.run_job(job_id)``, calls :func:`oralhist.jobs.run_job`. It is deferred
with:

- ``lock = interview id``: procrastinate never runs two jobs of one interview at once;
- ``queueing_lock = "<interview>:<stage>"``: enqueuing twice does not queue twice;
- ``priority`` and ``queue`` of the Job row (an editor's re-index goes first);
- a retry strategy for :class:`~oralhist.jobs.TransientJobError` only (backoff 2, 7, 12 ...
  seconds); bad input ends the job as failed, with no retry.

Only jobs that are ready (earlier stages of the interview done) are deferred; when a job
ends, the next stage of its interview is deferred (:func:`defer_ready`).

``oralhist worker`` (:func:`run_worker`) runs procrastinate's worker, with its heartbeat,
and every few seconds gives the jobs of workers that stopped beating (kill -9, power cut)
back to the queue (procrastinate's stalled-job retry). The stage lock and the
already-done check in ``run_job`` make the re-run write its result once. When the database
goes away, procrastinate's worker stops; ``run_worker`` starts it again once the database
answers, after one round of the reconciler (``oralhist.jobs.reconcile``), which also runs
every 30 s. Many jobs queued at once are deferred in one batch (:func:`defer_new`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Optional

from oralhist.errors import WorkspaceError

log = logging.getLogger("oralhist.jobs")

TASK = "oralhist.run_job"
_CURRENT: dict = {}  # the workspace a worker serves
_open_lock = threading.Lock()


def conninfo(url: str) -> str:
    """libpq connection string from the SQLAlchemy URL (postgresql+psycopg://...)."""
    from sqlalchemy.engine import make_url

    from oralhist.db import PG_LINK_OPTIONS

    u = make_url(url).set(drivername="postgresql")
    u = u.update_query_dict({k: str(v) for k, v in PG_LINK_OPTIONS.items() if k not in u.query})
    return u.render_as_string(hide_password=False)


@lru_cache(maxsize=8)
def app_for(url: str):
    try:
        import procrastinate
    except ImportError:  # pragma: no cover - the [postgres] extra installs it
        raise WorkspaceError(None, "jobs on PostgreSQL need procrastinate: pip install 'oralhist[postgres]'") from None
    from oralhist.jobs import TransientJobError

    # timeout: a database that is away fails a wait for a connection in 5 s, not 30 (the worker
    # then starts again when it answers: run_worker)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url), timeout=5.0))

    @app.task(name=TASK, pass_context=True,
              retry=procrastinate.RetryStrategy(max_attempts=60, wait=2, linear_wait=5,
                                                retry_exceptions={TransientJobError}))
    def run_stage_job(context, job_id: int) -> None:
        from oralhist.jobs import run_job

        ws = _CURRENT["ws"]
        run_job(ws, job_id)

    return app


_SCHEMA_READY: set[str] = set()


def ensure_schema(ws) -> None:
    """procrastinate's tables, created once in the archive's database (under an advisory lock)."""
    if ws.database_url in _SCHEMA_READY:
        return
    from oralhist import db

    engine = db.engine_for(ws)
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(120112)")
        exists = conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
        if not exists:
            from procrastinate.schema import SchemaManager

            conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    _SCHEMA_READY.add(ws.database_url)


_SYNC_OPEN: set[int] = set()


@contextmanager
def _opened(app):
    """The app open for synchronous defers: opened once per process and kept (a connection
    pool), closed at exit; inside a worker the worker's own connection is used."""
    if _CURRENT.get("open"):
        yield app
        return
    with _open_lock:
        if id(app) not in _SYNC_OPEN:
            import atexit

            app.open()
            _SYNC_OPEN.add(id(app))
            atexit.register(app.close)
    yield app


def defer_ready(ws, interview_id: Optional[str], *, exclude: Optional[int] = None) -> list[int]:
    """Defer a procrastinate task for each ready, queued job of this interview (None: publish)."""
    from procrastinate.exceptions import AlreadyEnqueued
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import PUBLISH, Job, aware, is_ready, now

    ensure_schema(ws)
    with db.session(ws) as s:
        q = select(Job).where(Job.status == "queued")
        q = q.where(Job.interview_id == interview_id) if interview_id else q.where(Job.stage == PUBLISH)
        ready = [j for j in s.exec(q.order_by(Job.id)).all() if j.id != exclude and is_ready(s, j)]
    if not ready:
        return []
    app = app_for(ws.database_url)
    out = []
    with _opened(app):
        task = app.tasks[TASK]
        for j in ready:
            key = j.interview_id or "archive"
            wait = None
            if j.not_before is not None and aware(j.not_before) > now():
                wait = (aware(j.not_before) - now()).total_seconds()
            try:
                opts = dict(lock=key, queueing_lock=f"{key}:{j.stage}", priority=j.priority, queue=j.queue)
                if wait:
                    opts["schedule_in"] = {"seconds": wait}
                engine_id = task.configure(**opts).defer(job_id=j.id)
            except AlreadyEnqueued:
                continue
            with db.session(ws) as s:
                row = s.get(Job, j.id)
                row.engine_job_id = engine_id
                s.add(row)
                s.commit()
            out.append(engine_id)
    return out


def select_active(t, iids: list):
    from sqlalchemy import select

    from oralhist.jobs import ACTIVE

    return select(t.c.interview_id, t.c.stage).where(t.c.interview_id.in_(iids), t.c.status.in_(ACTIVE))


def defer_new(ws, new: list, by_interview: dict) -> list[int]:
    """Newly queued jobs handed to procrastinate in ONE batch: those first in their interview's
    line (no earlier stage queued or running). The others are deferred when the earlier
    stage ends (:func:`defer_ready`)."""
    from procrastinate import jobs as pjobs
    from procrastinate.exceptions import AlreadyEnqueued
    from sqlalchemy import bindparam, update

    from oralhist import db
    from oralhist.jobs import Job

    ensure_schema(ws)
    from oralhist.jobs import ACTIVE, STAGE_ORDER

    fresh = {id(j) for j in new}
    ready = []
    for iid, line in by_interview.items():
        first = next((j for j in line if j.status in ACTIVE), None)
        if first is not None and id(first) in fresh:
            ready.append(first)
    if not ready:
        return []
    # an earlier stage this call did not ask for may still be queued or running
    rank = {st: i for i, st in enumerate(STAGE_ORDER)}
    stage_of = {j.interview_id: j.stage for j in ready}
    waiting: set = set()
    with db.engine_for(ws).connect() as conn:
        t = Job.__table__
        for part in range(0, len(ready), 500):
            iids = [j.interview_id for j in ready[part:part + 500]]
            for iid, st in conn.execute(select_active(t, iids)):
                if rank.get(st, 99) < rank.get(stage_of[iid], 99):
                    waiting.add(iid)
    ready = [j for j in ready if j.interview_id not in waiting]
    if not ready:
        return []
    app = app_for(ws.database_url)
    with _opened(app):
        todo = [pjobs.Job(id=None, queue=j.queue, lock=j.interview_id, queueing_lock=f"{j.interview_id}:{j.stage}",
                          task_name=TASK, priority=j.priority, task_kwargs={"job_id": j.id}) for j in ready]
        try:
            ids = [pj.id for pj in app.job_manager.batch_defer_jobs(todo)]
        except AlreadyEnqueued:  # one was deferred meanwhile by someone else: one by one
            for j in ready:
                defer_ready(ws, j.interview_id)
            return []
    t = Job.__table__
    with db.engine_for(ws).begin() as conn:
        conn.execute(update(t).where(t.c.id == bindparam("jid")).values(engine_job_id=bindparam("eid")),
                     [{"jid": j.id, "eid": e} for j, e in zip(ready, ids)])
    for j, e in zip(ready, ids):
        j.engine_job_id = e
    return ids


# --- the worker ---


async def _retry_stalled(app, every_s: float, stalled_s: float) -> None:
    """Jobs of workers that stopped beating go back to the queue (procrastinate's own API)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            from oralhist.jobs import in_flight

            mine = in_flight()
            for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s):
                if job.task_kwargs.get("job_id") in mine:
                    continue  # run here right now (this worker's beat stopped while it waited out an outage)
                log.warning("job %s (%s) of a stopped worker: queued again", job.id, job.task_kwargs)
                try:
                    await app.job_manager.retry_job(job)
                except Exception:  # another worker retried it first
                    pass
            await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=stalled_s)
        except Exception:  # the database was away for a moment: next round
            log.exception("stalled-job check")


async def _reconcile(ws, every_s: float, stalled_s: float) -> None:
    """The reconciler's round (``oralhist.jobs.reconcile``) every ``every_s`` (the first one runs
    before the worker takes jobs: ``run_worker``)."""
    from oralhist.jobs.reconcile import run_logged

    while True:
        await asyncio.sleep(every_s)
        await asyncio.to_thread(run_logged, ws, stalled_s)


# Over 80 lines on purpose: the worker's life (open, run, reconnect after a lost database,
# stop on a signal) reads best in one place.
def run_worker(ws, *, concurrency: int = 1, queues: Optional[list[str]] = None, stalled_s: float = 30.0,
               once: bool = False) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM: the running jobs finish first).

    procrastinate's worker stops when it loses the database (its heartbeat fails); this
    process then waits for the database and starts it again, keeping the loaded model, so a
    link that drops for a while costs no job and no restart by hand.
    """
    import signal

    from oralhist import db
    from oralhist.jobs import is_db_error
    from oralhist.jobs.reconcile import EVERY_S

    from oralhist.recognition import models

    if not logging.getLogger().handlers:  # a worker's log says when: outages are read by their times
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("oralhist").setLevel(logging.INFO)
        logging.getLogger("procrastinate.worker").setLevel(logging.INFO)  # each job's start and end
    db.migrate(ws)
    ensure_schema(ws)
    app = app_for(ws.database_url)
    _CURRENT["ws"] = ws
    models.KEEP_LOADED = True  # one model load per worker, not per job
    heartbeat = max(0.5, stalled_s / 3)
    name = f"oralhist-{os.uname().nodename}-{os.getpid()}"

    async def one_run(stopping: asyncio.Event) -> None:
        from oralhist.jobs import database_answers
        from oralhist.jobs.reconcile import run_logged

        # after an outage: open the pool only once the database answers (an open waits 30 s),
        # and put right what the outage left before taking jobs (no wait for the next round)
        while not await asyncio.to_thread(database_answers, ws, 1.0):
            if stopping.is_set():
                return
        await asyncio.to_thread(run_logged, ws, stalled_s)
        async with app.open_async():
            _CURRENT["open"] = True
            try:
                checker = asyncio.create_task(_retry_stalled(app, heartbeat, stalled_s))
                reconciler = asyncio.create_task(_reconcile(ws, EVERY_S, stalled_s))
                worker = asyncio.create_task(app.run_worker_async(
                    queues=queues or None, concurrency=concurrency, wait=not once, install_signal_handlers=False,
                    update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_s, name=name))
                stop_wait = asyncio.create_task(stopping.wait())
                try:
                    await asyncio.wait({worker, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                    if not worker.done():  # a signal: procrastinate lets the running jobs finish
                        worker.cancel()
                    try:
                        await worker
                    except asyncio.CancelledError:
                        pass
                finally:
                    stop_wait.cancel()
                    checker.cancel()
                    reconciler.cancel()
            finally:
                _CURRENT["open"] = False

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        pause = 1.0
        while not stopping.is_set():
            try:
                await one_run(stopping)
                if once or stopping.is_set():
                    return
                log.warning("worker stopped by itself (database lost?): starting again")
            except Exception as exc:  # noqa: BLE001
                if not is_db_error(exc) and not isinstance(exc, OSError):
                    raise
                log.warning("database unreachable (%s): worker starts again when it answers", type(exc).__name__)
            try:
                await asyncio.wait_for(stopping.wait(), timeout=pause)
            except asyncio.TimeoutError:
                pass
            pause = min(pause * 2, 5.0)

    asyncio.run(main())
