"""One holder at a time for a stage on an interview, across processes and machines.

The lock is a row of ``stagelock`` (interview id, stage) in the archive's database, so it
holds for every process that reaches the database: two ``transcribe --all`` on one computer,
or workers on several machines. A held lock is refreshed (``heartbeat_at``) by a background
thread; the lock of a holder that was killed (kill -9, power cut) is taken over once its
heartbeat is older than :data:`EXPIRY_S`, or at once when the holder was a process of this
same computer that no longer exists. The same code runs on SQLite and PostgreSQL.

Use ``with stage_lock(ws, iid, "transcribe"):`` (raises :class:`oralhist.errors.Busy`), or
``acquire_many`` for a batch. The stage functions themselves know nothing of locks: the
pipeline (``oralhist.jobs.pipeline.run_stage``) and the job runner take them around stage calls.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional, Sequence

from oralhist.errors import Busy

# A lock whose heartbeat is older than this is taken over (its holder is presumed dead).
EXPIRY_S = float(os.environ.get("ORALHIST_LOCK_EXPIRY", "60"))
HEARTBEAT_S = max(0.2, EXPIRY_S / 4)
ARCHIVE = ""  # interview id of archive-wide stages (publish)


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Lock:
    url: str
    interview_id: str
    stage: str
    token: str
    holder: str


def _table():
    from oralhist.records import StageLock

    return StageLock.__table__


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _holder_is_dead(holder: str, heartbeat_at: datetime, token: str = "") -> bool:
    if datetime.now(timezone.utc) - _aware(heartbeat_at) > timedelta(seconds=EXPIRY_S):
        return True
    if holder == holder_id() and token and not _Heartbeat.holds(token):
        return True  # this very process holds it, but no job does: left by a release that failed
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def _try(engine, url: str, interview_id: str, stage: str) -> tuple[Optional[Lock], Optional[str]]:
    """(lock, None) when taken, (None, holder) when someone else holds it."""
    from sqlalchemy import and_, delete, insert, select
    from sqlalchemy.exc import IntegrityError

    t = _table()
    key = and_(t.c.interview_id == interview_id, t.c.stage == stage)
    for _ in range(3):
        token = uuid.uuid4().hex
        now = datetime.now(timezone.utc)
        me = holder_id()
        lock = Lock(url, interview_id, stage, token, me)
        _Heartbeat.add(lock)  # before the insert: the reconciler never sees it as orphaned
        try:
            with engine.begin() as conn:
                conn.execute(insert(t).values(interview_id=interview_id, stage=stage, holder=me, token=token,
                                              acquired_at=now, heartbeat_at=now))
            return lock, None
        except IntegrityError:
            _Heartbeat.remove(lock)
        except BaseException:
            _Heartbeat.remove(lock)
            raise
        with engine.begin() as conn:
            row = conn.execute(select(t.c.holder, t.c.token, t.c.heartbeat_at).where(key)).first()
            if row is None:
                continue  # released meanwhile: try again
            if not _holder_is_dead(row.holder, row.heartbeat_at, row.token):
                return None, row.holder
            # Compare-and-delete: only the stale holder's row, so two takers cannot both win.
            conn.execute(delete(t).where(key, t.c.token == row.token))
    return None, "?"


def try_acquire(ws, interview_id: Optional[str], stage: str) -> tuple[Optional[Lock], Optional[str]]:
    from oralhist import db

    db.migrate(ws)
    engine = db.engine_for(ws)
    return _try(engine, ws.database_url, interview_id or ARCHIVE, stage)


def acquire(ws, interview_id: Optional[str], stage: str, *, wait: float = 0.0) -> Lock:
    """Take the lock, waiting up to ``wait`` seconds; :class:`Busy` (naming the holder) otherwise."""
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        lock, holder = try_acquire(ws, interview_id, stage)
        if lock is not None:
            return lock
        if time.monotonic() >= deadline:
            raise Busy(interview_id or "archive", f"{stage} is running there right now ({holder}); skipped")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 2.0)


def release(lock: Lock) -> None:
    """Delete the lock's row. When the database cannot be reached the row stays, held by no
    job of this process: :func:`release_orphans` (the reconciler) or the next taker of the
    lock in this process removes it at once, with no wait for the expiry."""
    from sqlalchemy import delete

    from oralhist import db

    _Heartbeat.remove(lock)
    t = _table()
    try:
        with db.make_engine(lock.url).begin() as conn:
            conn.execute(delete(t).where(t.c.interview_id == lock.interview_id, t.c.stage == lock.stage,
                                         t.c.token == lock.token))
    except Exception as exc:  # noqa: BLE001 - the database is away: the row is an orphan now
        import logging

        logging.getLogger("oralhist.jobs").warning("lock %s/%s not released (%s): released when the database "
                                                   "is back", lock.interview_id, lock.stage, type(exc).__name__)


def release_orphans(ws) -> int:
    """Locks held by this very process that no job of it holds (a release that failed while
    the database was away): deleted now. Returns how many."""
    from sqlalchemy import delete, select

    from oralhist import db

    t = _table()
    me = holder_id()
    with db.engine_for(ws).begin() as conn:
        rows = conn.execute(select(t.c.token).where(t.c.holder == me)).all()
        orphans = [r.token for r in rows if not _Heartbeat.holds(r.token)]
        if orphans:
            conn.execute(delete(t).where(t.c.holder == me, t.c.token.in_(orphans)))
    return len(orphans)


@contextmanager
def stage_lock(ws, interview_id: Optional[str], stage: str, *, wait: float = 0.0) -> Iterator[Lock]:
    lock = acquire(ws, interview_id, stage, wait=wait)
    try:
        yield lock
    finally:
        release(lock)


def acquire_many(ws, ids: Sequence[str], stage: str) -> tuple[list[Lock], dict[str, str]]:
    """Locks for every interview that is free; ``{id: holder}`` for the busy ones."""
    held: list[Lock] = []
    busy: dict[str, str] = {}
    for iid in ids:
        lock, holder = try_acquire(ws, iid, stage)
        if lock is None:
            busy[iid] = holder or "?"
        else:
            held.append(lock)
    return held, busy


def holders(ws) -> list[dict]:
    """Every lock held now (for `oralhist jobs` and the workbench)."""
    from sqlalchemy import select

    from oralhist import db

    db.migrate(ws)
    t = _table()
    with db.engine_for(ws).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t))]


class _Heartbeat:
    """One thread per process refreshes every lock it holds."""

    _locks: dict[str, Lock] = {}
    _mutex = threading.Lock()
    _thread: Optional[threading.Thread] = None

    @classmethod
    def add(cls, lock: Lock) -> None:
        with cls._mutex:
            cls._locks[lock.token] = lock
            if cls._thread is None or not cls._thread.is_alive():
                cls._thread = threading.Thread(target=cls._run, name="oralhist-lock-heartbeat", daemon=True)
                cls._thread.start()

    @classmethod
    def holds(cls, token: str) -> bool:
        with cls._mutex:
            return token in cls._locks

    @classmethod
    def remove(cls, lock: Lock) -> None:
        with cls._mutex:
            cls._locks.pop(lock.token, None)

    @classmethod
    def _run(cls) -> None:
        from sqlalchemy import update

        from oralhist import db

        t = _table()
        while True:
            time.sleep(HEARTBEAT_S)
            with cls._mutex:
                by_url: dict[str, list[str]] = {}
                for lock in cls._locks.values():
                    by_url.setdefault(lock.url, []).append(lock.token)
            for url, tokens in by_url.items():
                try:
                    with db.make_engine(url).begin() as conn:
                        conn.execute(update(t).where(t.c.token.in_(tokens)).values(heartbeat_at=datetime.now(timezone.utc)))
                except Exception:  # a database hiccup: the next beat tries again
                    pass
