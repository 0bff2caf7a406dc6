"""The reconciler: job rows, engine jobs and stage locks brought back in line (every 30 s).

It runs in every ``oralhist worker`` (PostgreSQL) and in the embedded runner (SQLite). One
round (:func:`reconcile_once`):

- a job row ``running`` that nobody runs is queued again: its engine job (procrastinate) is
  failed, finished, absent, or ``doing`` for a worker whose heartbeat stopped; or the row
  names this very process, which does not run it; or (one computer) a process that is gone;
- a job row ``queued`` whose engine job is finished or absent (a defer lost while the
  database was away) is deferred again;
- a stage lock held by this very process but by none of its jobs (a release that failed
  while the database was away) is released at once;
- finished jobs older than ``[jobs] keep_days`` are pruned (``oralhist.jobs.prune``).

Everything it does is a compare-and-set on the row it read, so two workers reconciling at
once do the same thing once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Optional

log = logging.getLogger("oralhist.jobs")

EVERY_S = float(os.environ.get("ORALHIST_RECONCILE_S", "30"))
FINISHED_ENGINE = ("succeeded", "failed", "cancelled", "aborted", "aborting")


def _pid_state(worker: Optional[str]) -> Optional[str]:
    """'me', 'alive', 'dead' for a holder of this computer; None for another computer's."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return "me"
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return "dead"
    except PermissionError:
        pass
    return "alive"


def _engine_rows(ws, job_ids: list[int], stalled_s: float) -> dict[int, tuple[str, bool]]:
    """{engine job id: (status, its worker stopped beating)} for these procrastinate jobs."""
    from sqlalchemy import text

    from oralhist import db

    if not job_ids:
        return {}
    q = text("SELECT p.id, p.status::text AS status, "
             "(p.worker_id IS NULL OR w.last_heartbeat IS NULL "
             " OR w.last_heartbeat < now() - make_interval(secs => :s)) AS stalled "
             "FROM procrastinate_jobs p LEFT JOIN procrastinate_workers w ON w.id = p.worker_id "
             "WHERE p.id = ANY(:ids)")
    with db.engine_for(ws).connect() as conn:
        return {r.id: (r.status, bool(r.stalled)) for r in conn.execute(q, {"s": stalled_s, "ids": job_ids})}


def _stuck(ws, row, engine: Optional[tuple[str, bool]], network: bool) -> Optional[str]:
    """Why this ``running`` row is run by nobody (None: someone runs it)."""
    from oralhist.jobs import in_flight

    state = _pid_state(row.worker)
    if state == "me" and row.id not in in_flight():
        return "this process does not run it"
    if state == "dead":
        return "its process is gone"
    if not network:
        return None
    if state == "me":
        return None
    if row.engine_job_id is None or engine is None:
        return "no engine job"
    status, stalled = engine
    if status in FINISHED_ENGINE:
        return f"engine job {status}"
    if status == "doing" and stalled:
        return "its worker stopped beating"
    if status == "todo":
        return "engine job queued again"
    return None


def really_running(ws, job, *, stalled_s: float = 30.0) -> bool:
    """Whether a job row marked ``running`` is being run by some worker (for ``jobs retry``)."""
    from oralhist.jobs import is_network

    network = is_network(ws)
    engine = _engine_rows(ws, [job.engine_job_id], stalled_s).get(job.engine_job_id) if (
        network and job.engine_job_id is not None) else None
    return _stuck(ws, job, engine, network) is None and (network or _pid_state(job.worker) != "dead")


def hand_back(ws, job, engine_status: Optional[str], why: str) -> bool:
    """A ``running`` row run by nobody: queued again (compare-and-set on its worker), and its
    engine job put back to ``todo`` (``doing``) or deferred anew (finished, absent)."""
    from sqlalchemy import text, update

    from oralhist import db
    from oralhist.jobs import Job, is_network

    t = Job.__table__
    with db.engine_for(ws).begin() as conn:
        res = conn.execute(update(t).where(t.c.id == job.id, t.c.status == "running", t.c.worker == job.worker)
                           .values(status="queued", worker=None, not_before=None,
                                   message="En attente (reprise après interruption)"))
        if res.rowcount != 1:
            return False
        if is_network(ws) and engine_status == "doing":
            conn.execute(text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"),
                         {"id": job.engine_job_id})
    log.warning("job %s (%s %s) was running for nobody (%s): queued again", job.id, job.stage,
                job.interview_id or "archive", why)
    if is_network(ws) and engine_status != "doing":
        from oralhist.jobs import dispatch

        dispatch(ws, job.interview_id)
    return True


def _lost_defers(ws, stalled_s: float) -> set[Optional[str]]:
    """Interviews (None: publish) with a ``queued`` row the engine does not hold: its engine job
    is finished or absent, or it was never deferred although ready (queued while no worker
    could take it). One query each, whatever the backlog: nothing walks the interviews."""
    from sqlalchemy import case, select

    from oralhist import db
    from oralhist.jobs import ACTIVE, PUBLISH, STAGE_ORDER, Job

    t = Job.__table__
    j2 = t.alias("earlier")
    order = {st: i for i, st in enumerate(STAGE_ORDER)}
    earlier = select(j2.c.id).where(j2.c.interview_id == t.c.interview_id, j2.c.status.in_(ACTIVE),
                                    case(order, value=j2.c.stage, else_=99) < case(order, value=t.c.stage, else_=99))
    with db.engine_for(ws).connect() as conn:
        rows = conn.execute(select(t.c.interview_id, t.c.engine_job_id).where(
            t.c.status == "queued", t.c.engine_job_id.is_not(None))).all()
        unsent = set(conn.execute(select(t.c.interview_id).distinct().where(
            t.c.status == "queued", t.c.engine_job_id.is_(None), t.c.interview_id.is_not(None),
            ~earlier.exists())).scalars())
        if conn.execute(select(t.c.id).where(t.c.status == "queued", t.c.stage == PUBLISH,
                                             t.c.engine_job_id.is_(None)).limit(1)).first():
            unsent.add(None)
    engine = _engine_rows(ws, [e for _, e in rows], stalled_s)
    return unsent | {iid for iid, e in rows if e not in engine or engine[e][0] in FINISHED_ENGINE}


def reconcile_once(ws, *, stalled_s: float = 30.0, prune: bool = True) -> dict:
    """One round; returns what it did ({"requeued": [...], "deferred": n, "locks": n, "pruned": n})."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import Job, is_network, locks

    network = is_network(ws)
    out = {"requeued": [], "deferred": 0, "locks": locks.release_orphans(ws), "pruned": 0}
    with db.session(ws) as s:
        running = s.exec(select(Job).where(Job.status == "running")).all()
    engine = _engine_rows(ws, [j.engine_job_id for j in running if j.engine_job_id is not None],
                          stalled_s) if network else {}
    for job in running:
        eng = engine.get(job.engine_job_id)
        why = _stuck(ws, job, eng, network)
        if why and hand_back(ws, job, eng[0] if eng else None, why):
            out["requeued"].append(job.id)
    if network:
        from oralhist.jobs import dispatch

        for iid in _lost_defers(ws, stalled_s):  # interviews whose ready jobs are handed on again
            dispatch(ws, iid)
            out["deferred"] += 1
    if prune:
        from oralhist.jobs.prune import prune_finished

        out["pruned"] = prune_finished(ws)
    return out


class Reconciler:
    """A daemon thread running :func:`reconcile_once` every ``every_s`` seconds (the embedded
    runner's; the network worker runs the same round in its event loop)."""

    def __init__(self, ws, every_s: float = EVERY_S, stalled_s: float = 30.0):
        self.ws, self.every_s, self.stalled_s = ws, every_s, stalled_s
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "Reconciler":
        self._thread = threading.Thread(target=self._loop, name="oralhist-reconciler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            run_logged(self.ws, self.stalled_s)


def run_logged(ws, stalled_s: float = 30.0) -> Optional[dict]:
    """One round; a database that is away is logged, not raised (the next round tries again)."""
    from oralhist.jobs import is_db_error

    try:
        return reconcile_once(ws, stalled_s=stalled_s)
    except Exception as exc:  # noqa: BLE001
        if is_db_error(exc):
            log.info("reconciler: database away (%s); next round in %.0f s", type(exc).__name__, EVERY_S)
        else:
            log.exception("reconciler")
        return None
