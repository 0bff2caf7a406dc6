"""The embedded runner: background threads that run queued jobs (SQLite, one computer).

Used by ``oralhist serve`` (the workbench) when there is no PostgreSQL: no service to
install. Jobs are taken in priority order, then age, when ready (earlier stages of their
interview finished) and not waiting out a retry delay.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional

log = logging.getLogger("oralhist.jobs")


def _next_job(ws) -> Optional[int]:
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import Job, aware, is_ready, now

    t = now()
    with db.session(ws) as s:
        q = select(Job).where(Job.status == "queued").order_by(Job.priority.desc(), Job.created_at, Job.id)
        for job in s.exec(q.limit(500)).all():
            if job.not_before is not None and aware(job.not_before) > t:
                continue
            if is_ready(s, job):
                return job.id
    return None


def recover_stalled(ws) -> list[int]:
    """Jobs left 'running' by a process of this computer that no longer exists: queued again."""
    import os
    import socket

    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import Job

    host = socket.gethostname()
    out = []
    with db.session(ws) as s:
        for job in s.exec(select(Job).where(Job.status == "running")).all():
            h, _, pid = (job.worker or "").rpartition(":")
            if h != host or not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            job.status, job.worker, job.message = "queued", None, "En attente (reprise après interruption)"
            s.add(job)
            out.append(job.id)
        s.commit()
    return out


def _reserve(ws, job_id: int) -> bool:
    """queued -> running for this process, so that no other thread takes it."""
    from sqlalchemy import update

    from oralhist import db
    from oralhist.jobs import locks
    from oralhist.jobs import Job

    t = Job.__table__
    with db.engine_for(ws).begin() as conn:
        res = conn.execute(update(t).where(t.c.id == job_id, t.c.status == "queued")
                           .values(status="running", worker=locks.holder_id(), message="Démarrage"))
        if res.rowcount == 1:
            from oralhist.jobs import mark_in_flight

            mark_in_flight(job_id)  # run_job clears it; until then the reconciler leaves it alone
        return res.rowcount == 1


def run_pending(ws, *, timeout: float = 600.0) -> int:
    """Run queued jobs in this thread until none is left (or ``timeout``); how many ran."""
    from oralhist.jobs import TransientJobError, run_job

    ran = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job_id = _next_job(ws)
        if job_id is None:
            if not _waiting(ws):
                return ran
            time.sleep(0.2)
            continue
        try:
            run_job(ws, job_id)
        except TransientJobError as exc:
            log.info("%s", exc)
        ran += 1
    return ran


def _waiting(ws) -> bool:
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import Job

    with db.session(ws) as s:
        return s.exec(select(Job.id).where(Job.status == "queued").limit(1)).first() is not None


class EmbeddedRunner:
    """``concurrency`` threads running queued jobs until :meth:`stop`."""

    def __init__(self, ws, concurrency: int = 1, poll_s: float = 0.5):
        self.ws = ws
        self.concurrency = max(1, int(concurrency))
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pick = threading.Lock()  # one thread picks at a time (the stage lock guards the rest)

    def start(self) -> "EmbeddedRunner":
        from oralhist.recognition import models

        models.KEEP_LOADED = True  # one model load for the runner's life, not one per job
        recover_stalled(self.ws)
        self._stop.clear()
        from oralhist.jobs.reconcile import Reconciler

        self._reconciler = Reconciler(self.ws).start()  # stuck rows, orphaned locks, pruning
        for n in range(self.concurrency):
            th = threading.Thread(target=self._loop, name=f"oralhist-job-{n + 1}", daemon=True)
            th.start()
            self._threads.append(th)
        return self

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stop taking jobs; wait for the running ones to end (their stage commits or not)."""
        self._stop.set()
        if getattr(self, "_reconciler", None) is not None:
            self._reconciler.stop()
        for th in self._threads:
            th.join(timeout)
        self._threads = []

    @property
    def running(self) -> bool:
        return any(th.is_alive() for th in self._threads)

    def _loop(self) -> None:
        from oralhist.jobs import TransientJobError, run_job

        while not self._stop.is_set():
            try:
                with self._pick:
                    job_id = _next_job(self.ws)
                    if job_id is not None and not _reserve(self.ws, job_id):
                        continue
                if job_id is None:
                    self._stop.wait(self.poll_s)
                    continue
                run_job(self.ws, job_id)
            except TransientJobError as exc:
                log.info("%s", exc)
                self._stop.wait(self.poll_s)
            except Exception:  # never let the thread die: log and go on
                log.exception("embedded job runner")
                self._stop.wait(self.poll_s)
