"""Background jobs: one stage of one interview (or ``publish``, the whole archive).

The interface is shared with the workbench (/JOBS-INTERFACE in the project's notes):
``enqueue``, ``enqueue_publish``, ``list_jobs``, ``retry``, ``run_job`` and
``EmbeddedRunner``. The ``job`` table is the record people see (state, progress, French
message and error); the work itself is always done by ``run_job``:

- SQLite (one computer, no service): :class:`EmbeddedRunner`, a thread of ``oralhist serve``
  (or of a test), takes queued jobs by priority, then age.
- PostgreSQL: ``enqueue`` also defers a procrastinate task (``oralhist.jobs.engine``) and
  ``oralhist worker`` processes on any machine run them.

Rules kept by ``run_job`` in both modes:

- an interview's stages run in pipeline order: a job waits while an earlier stage of the
  same interview is queued or running; a failed stage cancels the later ones (``retry``
  brings them back);
- the stage runs under the database lock of (interview, stage) (``oralhist.jobs.locks``);
- a job re-run after a kill does not redo work that was committed: a stage already done
  (or, for a forced job, done since the job first started) marks the job done;
- bad input (the stage reports the interview as failed) is not retried; a transient error
  (file system, database connection, lock held elsewhere) is retried with backoff.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional, Sequence

from oralhist.errors import BadInput, Busy, NotFound, OralhistError
from oralhist.progress import Progress
from oralhist.records import Job

log = logging.getLogger("oralhist.jobs")

STAGE_ORDER = ("normalise", "transcribe", "diarize", "index", "link")
PUBLISH = "publish"
STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
MAX_ATTEMPTS = 3  # transient errors: the first run and two retries
BACKOFF_S = 5.0  # 5 s, then 10 s, 20 s ...

LABELS = {  # French, for people
    "normalise": "Normalisation",
    "transcribe": "Transcription",
    "diarize": "Locuteurs",
    "index": "Découpage en thèmes",
    "link": "Liens au vocabulaire",
    "publish": "Publication",
}

__all__ = ["enqueue", "enqueue_many", "enqueue_publish", "list_jobs", "retry", "cancel", "run_job", "EmbeddedRunner", "Job",
           "STAGE_ORDER", "TransientJobError", "is_network", "is_db_error", "recover_stalled", "run_pending"]


class TransientJobError(Exception):
    """The job could not run now but may later (raised by run_job for the engine to retry)."""

    def __init__(self, job_id: int, reason: str):
        self.job_id = job_id
        self.reason = reason
        super().__init__(f"job {job_id}: {reason}")


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(t: Optional[datetime]) -> Optional[datetime]:
    """A datetime read back from the database, as UTC-aware (SQLite forgets the zone)."""
    return t if t is None or t.tzinfo else t.replace(tzinfo=timezone.utc)


def is_network(ws) -> bool:
    """PostgreSQL: jobs go to procrastinate and ``oralhist worker`` runs them."""
    return ws.database_url.startswith("postgresql")


# --- asking for work ---


def _check_stages(stages: Iterable[str]) -> list[str]:
    out = []
    for st in stages:
        if st not in STAGE_ORDER:
            raise BadInput(st, f"unknown stage; use one of {', '.join(STAGE_ORDER)} (publish: enqueue_publish)")
        out.append(st)
    return [st for st in STAGE_ORDER if st in out]  # pipeline order, once each


def enqueue(ws, interview_id: str, stages: Optional[Sequence[str]] = None, *, priority: int = 0,
            queue: str = "default", who: Optional[str] = None, force: bool = False) -> list[Job]:
    """Queue stages of one interview (None: every stage not yet done, in pipeline order).

    A stage already queued or running for this interview is not queued twice: its job is
    returned (with the higher priority of the two). Returns the jobs in pipeline order.
    """
    return enqueue_many(ws, [interview_id], stages, priority=priority, queue=queue, who=who,
                        force=force)[interview_id]


def _chunks(seq: Sequence, n: int = 500):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# Over 80 lines on purpose: one transaction for the whole batch (read what exists, add what is
# missing), then one defer batch; split, the reads and the writes would race other enqueuers.
def enqueue_many(ws, interview_ids: Sequence[str], stages: Optional[Sequence[str]] = None, *, priority: int = 0,
                 queue: str = "default", who: Optional[str] = None, force: bool = False) -> dict[str, list[Job]]:
    """:func:`enqueue` for many interviews at once: one transaction and one ``defer`` batch
    (issue 22: 1,000 interviews' stages took 28 s one by one on PostgreSQL). Returns
    ``{interview id: its jobs in pipeline order}``; an unknown id refuses the whole batch."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import locks
    from oralhist.records import Interview, StageRun

    wanted = _check_stages(stages) if stages is not None else list(STAGE_ORDER)
    ids = list(dict.fromkeys(interview_ids))
    out: dict[str, list] = {iid: [] for iid in ids}
    new: list[Job] = []
    planned: list[tuple[str, int, dict]] = []
    # Two processes enqueuing at once (two `run --queue`, the workbench): one at a time.
    with locks.stage_lock(ws, None, "enqueue", wait=60):
        with db.session(ws) as s:
            known: set[str] = set()
            active: dict[tuple[str, str], Job] = {}
            done: set[tuple[str, str]] = set()
            for part in _chunks(ids):
                known.update(s.exec(select(Interview.id).where(Interview.id.in_(part))).all())
                for j in s.exec(select(Job).where(Job.interview_id.in_(part), Job.stage.in_(wanted),
                                                  Job.status.in_(ACTIVE)).order_by(Job.id)).all():
                    active.setdefault((j.interview_id, j.stage), j)
                if stages is None and not force:
                    done.update(s.exec(select(StageRun.interview_id, StageRun.stage).where(
                        StageRun.interview_id.in_(part))).all())
            missing = [iid for iid in ids if iid not in known]
            if missing:
                raise NotFound(missing[0], "no such interview (see `oralhist list`)")
            for iid in ids:
                for st in wanted:
                    existing = active.get((iid, st))
                    if existing is not None:
                        if priority > existing.priority:
                            existing.priority = priority
                            s.add(existing)
                        out[iid].append(existing)
                        continue
                    if (iid, st) in done:
                        continue
                    planned.append((iid, len(out[iid]), dict(
                        interview_id=iid, stage=st, priority=priority, queue=queue, who=who, force=force,
                        message="En attente", status="queued", progress=0.0, attempts=0, created_at=now())))
                    out[iid].append(None)  # filled below, in pipeline order
            # one multi-row INSERT … RETURNING, then the rows loaded back (building ORM objects one by
            # one and flushing them cost 0.3 ms each: 1.4 s for 1,000 interviews before any I/O)
            from sqlalchemy import insert

            t = Job.__table__
            for part in _chunks(planned, 1000):
                res = s.connection().execute(insert(t).returning(t.c.id, sort_by_parameter_order=True),
                                             [row for _, _, row in part])
                ids_new = res.scalars().all()
                loaded = {j.id: j for j in s.exec(select(Job).where(Job.id.in_(ids_new))).all()}
                for (iid, k, _), jid in zip(part, ids_new):
                    out[iid][k] = loaded[jid]
                    new.append(loaded[jid])
            s.commit()
    if is_network(ws) and new:
        from oralhist.jobs import engine

        engine.defer_new(ws, new, out)
    return out


def enqueue_publish(ws, *, who: Optional[str] = None, priority: int = 0, queue: str = "default") -> Job:
    """Queue a publication of the public site (once: an already queued one is returned)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.jobs import locks

    with locks.stage_lock(ws, None, "enqueue", wait=60):
        with db.session(ws) as s:
            job = s.exec(select(Job).where(Job.interview_id.is_(None), Job.stage == PUBLISH,
                                           Job.status == "queued")).first()
            if job is None:
                job = Job(interview_id=None, stage=PUBLISH, priority=priority, queue=queue, who=who,
                          message="En attente")
                s.add(job)
                s.commit()
    if is_network(ws):
        dispatch(ws, None)
    return job


def _iso(t: Optional[datetime]) -> Optional[str]:
    t = aware(t)
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if t else None


def job_dict(j: Job) -> dict:
    return {
        "id": j.id, "interview_id": j.interview_id, "stage": j.stage, "label": LABELS.get(j.stage, j.stage),
        "status": j.status, "progress": round(j.progress or 0.0, 3), "message": j.message, "error": j.error,
        "attempts": j.attempts, "worker": j.worker, "priority": j.priority, "queue": j.queue, "who": j.who,
        "created_at": _iso(j.created_at), "started_at": _iso(j.started_at), "finished_at": _iso(j.finished_at),
        "engine_job_id": j.engine_job_id,
    }


def list_jobs(ws, interview_ids: Optional[Sequence[str]] = None, *, statuses: Optional[Sequence[str]] = None,
              limit: int = 200) -> list[dict]:
    """Jobs, newest first, as plain dicts (times in ISO 8601 UTC)."""
    from sqlmodel import select

    from oralhist import db

    q = select(Job)
    if interview_ids is not None:
        q = q.where(Job.interview_id.in_(list(interview_ids)))
    if statuses is not None:
        bad = [st for st in statuses if st not in STATUSES]
        if bad:
            raise BadInput(bad[0], f"unknown job status; use one of {', '.join(STATUSES)}")
        q = q.where(Job.status.in_(list(statuses)))
    with db.session(ws) as s:
        rows = s.exec(q.order_by(Job.id.desc()).limit(limit)).all()
        return [job_dict(j) for j in rows]


def get(ws, job_id: int) -> Job:
    from oralhist import db

    with db.session(ws) as s:
        job = s.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id}", "no such job (see `oralhist jobs`)")
        return job


def _cancel_marker(job_id: int) -> str:
    return f"(tâche {job_id})"


def retry(ws, job_id: int, *, who: Optional[str] = None) -> Job:
    """A failed or cancelled job queued again (with the later stages it had cancelled); also a
    job left ``running`` that no worker runs (the engine says so), see ``reconcile``."""
    from sqlmodel import select

    from oralhist import db

    with db.session(ws) as s:
        job = s.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id}", "no such job (see `oralhist jobs`)")
        if job.status == "running":
            from oralhist.jobs.reconcile import really_running

            if really_running(ws, job):
                raise BadInput(f"job {job_id}", "is running; only failed, cancelled or stuck jobs are retried")
            log.info("job %s: marked running, but no worker runs it: queued again", job_id)
        elif job.status not in ("failed", "cancelled"):
            raise BadInput(f"job {job_id}", f"is {job.status}; only failed, cancelled or stuck jobs are retried")
        again = [job]
        if job.interview_id is not None:
            again += s.exec(select(Job).where(Job.interview_id == job.interview_id, Job.status == "cancelled",
                                              Job.error.contains(_cancel_marker(job_id)))).all()
        for j in again:
            j.status, j.error, j.progress, j.finished_at, j.not_before = "queued", None, 0.0, None, None
            j.started_at, j.attempts, j.worker = None, 0, None
            j.message = "En attente (relancée)"
            if who:
                j.who = who
            s.add(j)
        s.commit()
    if is_network(ws):
        dispatch(ws, job.interview_id)
    return job


def cancel(ws, job_id: int) -> Job:
    """A queued job taken off the queue (a running one finishes)."""
    from oralhist import db

    with db.session(ws) as s:
        job = s.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id}", "no such job (see `oralhist jobs`)")
        if job.status != "queued":
            raise BadInput(f"job {job_id}", f"is {job.status}; only queued jobs are cancelled")
        job.status, job.finished_at, job.message = "cancelled", now(), "Annulée"
        s.add(job)
        s.commit()
        return job


# --- order of an interview's stages ---


def is_ready(s, job: Job) -> bool:
    """No earlier stage of the same interview is still queued or running."""
    from sqlmodel import select

    if job.stage == PUBLISH:
        q = select(Job.id).where(Job.interview_id.is_not(None), Job.status.in_(ACTIVE), Job.id < job.id)
        return s.exec(q.limit(1)).first() is None
    earlier = list(STAGE_ORDER[: STAGE_ORDER.index(job.stage)])
    if not earlier:
        return True
    q = select(Job.id).where(Job.interview_id == job.interview_id, Job.stage.in_(earlier), Job.status.in_(ACTIVE))
    return s.exec(q.limit(1)).first() is None


def dispatch(ws, interview_id: Optional[str], *, exclude: Optional[int] = None) -> None:
    """Network mode: hand the ready jobs of this interview (or publish) to procrastinate."""
    from oralhist.jobs import engine

    engine.defer_ready(ws, interview_id, exclude=exclude)


# --- running one job ---


class JobProgress(Progress):
    """Stage progress written to Job.progress / Job.message, at most every 0.5 s."""

    EVERY_S = 0.5

    def __init__(self, ws, job_id: int, stage: str, seconds: bool):
        super().__init__(None)
        self.ws, self.job_id, self.stage, self.seconds = ws, job_id, stage, seconds
        self.tasks: dict[int, list] = {}
        self.last = 0.0
        import threading

        self.pending: Optional[tuple[float, str]] = None
        self._writer: Optional[threading.Thread] = None
        self._wake = threading.Event()
        self._closed = False

    def add(self, description: str, total: Optional[float] = None):
        key = len(self.tasks) + 1
        self.tasks[key] = [total, 0.0]
        self._write()
        return key

    def advance(self, task, amount: float = 1) -> None:
        if task in self.tasks:
            self.tasks[task][1] += amount
            self._write()

    def update(self, task, **kw) -> None:
        if task in self.tasks:
            if kw.get("completed") is not None:
                self.tasks[task][1] = float(kw["completed"])
            if kw.get("total") is not None:
                self.tasks[task][0] = float(kw["total"])
            self._write()

    def log(self, message: str) -> None:
        log.info("job %s: %s", self.job_id, message)

    @staticmethod
    def _dur(sec: float) -> str:
        return f"{sec:.0f} s" if sec < 60 else f"{sec / 60:.0f} min"

    def _write(self, force: bool = False) -> None:
        t = time.monotonic()
        if not force and t - self.last < self.EVERY_S:
            return
        self.last = t
        self.pending = self._values()
        if self._writer is None:
            import threading

            self._writer = threading.Thread(target=self._write_loop, name=f"oralhist-progress-{self.job_id}",
                                            daemon=True)
            self._writer.start()
        self._wake.set()

    def close(self) -> None:
        """Stop writing progress (a write stuck on a lost link is left to time out alone)."""
        self._closed = True
        self._wake.set()

    def _write_loop(self) -> None:
        # Progress is written by this thread, never by the stage's: a database that is away (or a
        # link that hangs) must not slow the decoding; a failed write is simply skipped.
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            values, self.pending = self.pending, None
            if values is None or self._closed:
                continue
            try:
                _update(self.ws, self.job_id, only_running=True, progress=values[0], message=values[1])
            except Exception as exc:  # noqa: BLE001 - the next write tries again
                log.debug("job %s: progress not written (%s)", self.job_id, type(exc).__name__)

    def _values(self) -> tuple[float, str]:
        total, done = (self.tasks[max(self.tasks)] if self.tasks else (None, 0.0))
        frac = min(1.0, done / total) if total else 0.0
        label = LABELS.get(self.stage, self.stage)
        if total and self.seconds:
            msg = f"{label} : {self._dur(done)} / {self._dur(total)}"
        elif total and total > 1:
            msg = f"{label} : {done:.0f} / {total:.0f}"
        else:
            msg = f"{label} en cours"
        return frac, msg


def _update(ws, job_id: int, *, only_running: bool = False, **values) -> None:
    from sqlalchemy import update

    from oralhist import db

    t = Job.__table__
    q = update(t).where(t.c.id == job_id)
    if only_running:
        q = q.where(t.c.status == "running")
    with db.engine_for(ws).begin() as conn:
        conn.execute(q.values(**values))


def _claim(ws, job_id: int, worker: str) -> bool:
    """queued/running -> running (attempts + 1); False when the job is finished or cancelled."""
    from sqlalchemy import func, update

    from oralhist import db

    t = Job.__table__
    with db.engine_for(ws).begin() as conn:
        res = conn.execute(
            update(t).where(t.c.id == job_id, t.c.status.in_(ACTIVE)).values(
                status="running", worker=worker, attempts=t.c.attempts + 1, error=None,
                started_at=func.coalesce(t.c.started_at, now()), not_before=None,
                message="Démarrage"))
        return res.rowcount == 1


def _already_done(s, job: Job) -> bool:
    """The stage's result is committed (a kill after the commit, or someone else did it)."""
    from oralhist.records import StageRun
    from sqlmodel import select

    if job.stage == PUBLISH:
        return False
    row = s.exec(select(StageRun).where(StageRun.interview_id == job.interview_id, StageRun.stage == job.stage)).first()
    if row is None:
        return False
    if not job.force:
        return True
    started = aware(job.started_at)
    return started is not None and aware(row.finished_at) >= started


def _finish(ws, job_id: int, status: str, *, message: str, error: Optional[str] = None,
            worker: Optional[str] = None) -> None:
    """``worker``: the process that ran the job to its end, written again in case the reconciler
    queued the row meanwhile (a heartbeat late on a loaded machine) and cleared it."""
    extra = {"progress": 1.0} if status == "done" else {}
    if worker is not None:
        extra["worker"] = worker
    _update(ws, job_id, status=status, message=message, error=error, finished_at=now(), **extra)


def _cancel_later(ws, job: Job) -> None:
    from sqlmodel import select

    from oralhist import db

    if job.interview_id is None:
        return
    later = list(STAGE_ORDER[STAGE_ORDER.index(job.stage) + 1:])
    with db.session(ws) as s:
        for j in s.exec(select(Job).where(Job.interview_id == job.interview_id, Job.stage.in_(later),
                                          Job.status == "queued")).all():
            j.status, j.finished_at = "cancelled", now()
            j.error = f"Annulée : l'étape « {LABELS[job.stage]} » a échoué {_cancel_marker(job.id)}"
            j.message = "Annulée"
            s.add(j)
        s.commit()


def _stage_call(ws, job: Job, progress: Progress):
    from oralhist.jobs.stages import call_stage
    from oralhist.outputs.exports.staff import refresh_staff_exports

    if job.stage == PUBLISH:
        from oralhist.outputs.publish import publish_site

        return publish_site(ws, progress=progress, before=refresh_staff_exports)
    return call_stage(ws, job.stage, [job.interview_id], force=job.force, progress=progress)


class MediaMismatch(BadInput):
    """A file read from the shared folder is not the one the database recorded."""


def check_media(ws, job: Job) -> list[str]:
    """SHA-256 of the files this stage reads, against the database, before using them.

    normalise reads the originals (Recording.sha256); transcribe and diarize read asr.wav
    (Derivative.sha256). A mismatch (a file changed or swapped on the share) is refused:
    :class:`MediaMismatch`, no retry. A missing file raises FileNotFoundError, retried (a
    share not mounted yet). Returns the paths checked.
    """
    from sqlmodel import select

    from oralhist import db
    from oralhist.archive.ingest import sha256_file
    from oralhist.records import Derivative, Recording

    if job.interview_id is None or job.stage not in ("normalise", "transcribe", "diarize"):
        return []
    with db.session(ws) as s:
        if job.stage == "normalise":
            files = [(r.path, r.sha256) for r in s.exec(select(Recording).where(Recording.interview_id == job.interview_id))]
        else:
            files = [(d.path, d.sha256) for d in s.exec(select(Derivative).where(
                Derivative.interview_id == job.interview_id, Derivative.kind == "asr"))]
    for rel, digest in files:
        path = ws.abs(rel)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing in the shared archive folder (is it mounted here?)")
        if sha256_file(path) != digest:
            raise MediaMismatch(rel, "l'empreinte SHA-256 du fichier lu ne correspond pas à celle de la base ; "
                                     "fichier refusé (lancez `oralhist verify` ; pour asr.wav, `normalise --force`)")
    return [rel for rel, _ in files]


TRANSIENT = (OSError, TimeoutError, ConnectionError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, Busy):
        return True
    if isinstance(exc, OralhistError):
        return False  # bad input, missing model, stage error: a retry would fail the same way
    try:
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, TRANSIENT)


def is_db_error(exc: BaseException) -> bool:
    """The database could not be reached or answered (link down, server restarting): transient."""
    try:
        from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

        if isinstance(exc, (OperationalError, InterfaceError)) or (
                isinstance(exc, DBAPIError) and exc.connection_invalidated):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import psycopg

        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return True
    except ImportError:  # SQLite-only install
        pass
    try:
        from procrastinate.exceptions import ConnectorException

        if isinstance(exc, ConnectorException):
            return True
    except ImportError:
        pass
    return False


_IN_FLIGHT: set[int] = set()  # jobs this process is running now (the reconciler leaves them alone)
_IN_FLIGHT_MUTEX = __import__("threading").Lock()


def in_flight() -> set[int]:
    with _IN_FLIGHT_MUTEX:
        return set(_IN_FLIGHT)


def mark_in_flight(job_id: int, on: bool = True) -> None:
    with _IN_FLIGHT_MUTEX:
        (_IN_FLIGHT.add if on else _IN_FLIGHT.discard)(job_id)


def run_job(ws, job_id: int) -> None:
    """Run one job: the stage under its lock, progress and result written to the job row.

    Returns normally when the job ended (done, failed, or nothing left to do). Raises
    :class:`TransientJobError` when it should be tried again later (the row is queued again
    with ``not_before``; the engine's retry strategy or the embedded runner honours it).
    A database error anywhere (in the stage, or in the writes of its own error handling) is
    transient: the job is handed back (the row queued again when the database answers, or
    later by the reconciler, :mod:`oralhist.jobs.reconcile`), never failed.
    """
    mark_in_flight(job_id)
    try:
        _run_job(ws, job_id)
    except TransientJobError:
        raise
    except Exception as exc:
        if not is_db_error(exc):
            raise
        reason = f"base de données injoignable ({type(exc).__name__})"
        log.warning("job %s: %s; handed back", job_id, reason)
        try:
            _update(ws, job_id, only_running=True, status="queued", worker=None, message=f"En attente : {reason}",
                    not_before=now() + timedelta(seconds=2.0))
        except Exception:  # noqa: BLE001 - still away: the reconciler queues it again later
            pass
        raise TransientJobError(job_id, reason) from exc
    finally:
        mark_in_flight(job_id, False)


# Over 80 lines on purpose: the one path of a job (ready, lock, claim, done-check, stage, outcome,
# hand-on), its error classification next to the writes it guards.
def _run_job(ws, job_id: int) -> None:
    from oralhist import db
    from oralhist.jobs import locks

    job = get(ws, job_id)
    if job.status not in ACTIVE:
        return
    with db.session(ws) as s:
        if not is_ready(s, job):
            # Not an error: when the earlier stage ends, it hands this job on (dispatch).
            _update(ws, job_id, message="En attente de l'étape précédente")
            return
    me = locks.holder_id()
    try:
        lock = locks.acquire(ws, job.interview_id, job.stage)
    except Busy as exc:
        _requeue(ws, job, f"En attente : {LABELS.get(job.stage, job.stage)} déjà en cours ailleurs", count=False)
        raise TransientJobError(job_id, exc.reason) from None
    try:
        if not _claim(ws, job_id, me):
            return
        job = get(ws, job_id)
        with db.session(ws) as s:
            if _already_done(s, job):
                _finish(ws, job_id, "done", message="Terminé (déjà fait)", worker=me)
                return
        progress = JobProgress(ws, job_id, job.stage, seconds=job.stage in ("normalise", "transcribe"))
        try:
            rep = _stage_waiting_out_the_database(ws, job, progress)
        except Exception as exc:  # noqa: BLE001 - classified below, shown to people
            progress.close()
            if is_db_error(exc):
                raise  # run_job hands the job back; never a failure
            reason = exc.message if isinstance(exc, OralhistError) else f"{type(exc).__name__}: {exc}"
            if _is_transient(exc) and job.attempts < MAX_ATTEMPTS:
                _requeue(ws, job, f"Erreur passagère, nouvel essai : {reason}")
                raise TransientJobError(job_id, reason) from exc
            _finish(ws, job_id, "failed", message="Échec", worker=me,
                    error=f"{LABELS.get(job.stage, job.stage)} : {reason}. Corrigez puis relancez la tâche.")
            _cancel_later(ws, job)
            if not isinstance(exc, OralhistError):  # a bug, not bad input: keep the traceback in the log
                log.exception("job %s failed", job_id)
            return
        progress.close()
        failed = [m for i, m in getattr(rep, "failed", [])]
        if failed:
            _finish(ws, job_id, "failed", message="Échec", worker=me,
                    error=f"{LABELS.get(job.stage, job.stage)} : {failed[0]}. Corrigez puis relancez la tâche.")
            _cancel_later(ws, job)
        else:
            if job.interview_id is not None and job.stage != "normalise":
                # the staff exports (transcripts/<id>/) follow the data they come from, as `run` does
                from oralhist.outputs.exports.staff import write_staff_exports

                write_staff_exports(ws, [job.interview_id])
            _finish(ws, job_id, "done", message="Terminé", worker=me)
    finally:
        locks.release(lock)  # never raises: a lock it cannot delete is released by the reconciler
        if is_network(ws):
            try:
                dispatch(ws, job.interview_id, exclude=job_id)
                if job.interview_id is not None:
                    dispatch(ws, None)  # a publish waiting for this interview
            except Exception as exc:  # noqa: BLE001 - the reconciler defers what is left
                if not is_db_error(exc):
                    raise
                log.warning("job %s: next stages not handed on (%s)", job_id, type(exc).__name__)


DB_WAIT_S = float(__import__("os").environ.get("ORALHIST_DB_WAIT_S", "120"))


def database_answers(ws, within: float) -> bool:
    """Whether the database answers a ``SELECT 1`` within ``within`` seconds (tried each second)."""
    deadline = time.monotonic() + within
    from oralhist import db

    while True:
        try:
            with db.engine_for(ws).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception as exc:  # noqa: BLE001
            if not is_db_error(exc) or time.monotonic() >= deadline:
                return False
            time.sleep(1.0)


def _stage_waiting_out_the_database(ws, job: Job, progress):
    """The stage; when the database goes away under it, wait here for its return (up to
    :data:`DB_WAIT_S`) and run it again at once, with the model still loaded and the stage
    lock still held, rather than hand the job back to the queue. Committed work is not redone
    (the stages skip what is done; transcription resumes from its checkpoints)."""
    from oralhist import db

    for attempt in range(3):
        try:
            check_media(ws, job)
            return _stage_call(ws, job, progress)
        except Exception as exc:  # noqa: BLE001
            if not is_db_error(exc) or attempt == 2:
                raise
            log.warning("job %s: database unreachable (%s); waiting for it here", job.id, type(exc).__name__)
            if not database_answers(ws, DB_WAIT_S):
                raise
            log.warning("job %s: database back; the stage goes on here", job.id)
            with db.session(ws) as s:
                if _already_done(s, job):
                    return None


def _requeue(ws, job: Job, message: str, *, count: bool = True) -> None:
    wait = BACKOFF_S * (2 ** max(0, job.attempts - 1)) if count else 2.0
    _update(ws, job.id, status="queued", message=message, worker=None,
            error=None if not count else message, not_before=now() + timedelta(seconds=wait))


from oralhist.jobs.embedded import EmbeddedRunner, recover_stalled, run_pending  # noqa: E402
