"""Finished jobs older than ``[jobs] keep_days`` pruned, the last of each (interview, stage) kept."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Optional

log = logging.getLogger("oralhist.jobs")

KEEP_DAYS = 30
FINISHED = ("done", "failed", "cancelled")
BATCH = 5000


def keep_days(ws) -> int:
    """``[jobs] keep_days`` of oralhist.toml (checked when the settings are read); 0 keeps all."""
    v = (ws.settings.raw.get("jobs") or {}).get("keep_days", KEEP_DAYS)
    return int(v)


def prune_finished(ws, days: Optional[int] = None, *, now: Optional[datetime] = None) -> int:
    """Delete finished jobs that ended more than ``days`` ago (default: the setting), except the
    last job of each (interview, stage); each day's count per stage and outcome is added to
    ``jobday``. One pruner at a time (the archive's ``prune`` lock; busy: nothing done).
    Returns how many rows went."""
    from oralhist.errors import Busy
    from oralhist.jobs import locks

    days = keep_days(ws) if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    try:
        lock = locks.acquire(ws, None, "prune-jobs")
    except Busy:
        return 0
    try:
        total = 0
        while True:
            n = _prune_batch(ws, cutoff)
            total += n
            if n < BATCH:
                break
        if total:
            log.info("pruned %d finished jobs older than %d days", total, days)
        _prune_engine(ws, days)
        return total
    finally:
        locks.release(lock)


def _prune_batch(ws, cutoff: datetime) -> int:
    from sqlalchemy import and_, delete, func, insert, select, update

    from oralhist import db
    from oralhist.records import Job, JobDay

    t, d = Job.__table__, JobDay.__table__
    last = select(func.max(t.c.id)).group_by(t.c.interview_id, t.c.stage).scalar_subquery()
    with db.engine_for(ws).begin() as conn:
        rows = conn.execute(select(t.c.id, t.c.stage, t.c.status, t.c.finished_at).where(
            t.c.status.in_(FINISHED), t.c.finished_at < cutoff, t.c.id.not_in(last)).limit(BATCH)).all()
        if not rows:
            return 0
        counts: dict[tuple, int] = {}
        for r in rows:
            key = (r.finished_at.date(), r.stage, r.status)
            counts[key] = counts.get(key, 0) + 1
        for (day, stage, status), n in counts.items():
            key = and_(d.c.day == day, d.c.stage == stage, d.c.status == status)
            if conn.execute(update(d).where(key).values(count=d.c.count + n)).rowcount == 0:
                conn.execute(insert(d).values(day=day, stage=stage, status=status, count=n))
        conn.execute(delete(t).where(t.c.id.in_([r.id for r in rows])))
    return len(rows)


def _prune_engine(ws, days: int) -> None:
    """procrastinate's finished jobs of the same age (its own query), in network mode."""
    from oralhist.jobs import is_network

    if not is_network(ws):
        return
    from sqlalchemy import text

    from oralhist import db

    with db.engine_for(ws).begin() as conn:
        conn.execute(text(
            "DELETE FROM procrastinate_jobs WHERE id IN (SELECT job.id FROM (SELECT DISTINCT ON (job.id) job.*, "
            "event.at AS latest_at FROM procrastinate_jobs job JOIN procrastinate_events event ON job.id = event.job_id "
            "ORDER BY job.id, event.at DESC) AS job WHERE job.status IN ('succeeded', 'failed', 'cancelled', 'aborted') "
            "AND latest_at < now() - make_interval(hours => :h))"), {"h": days * 24})


def daily_counts(ws) -> list[dict]:
    """The pruned jobs' counts, newest day first (for reports)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import JobDay

    with db.session(ws) as s:
        return [{"day": r.day.isoformat(), "stage": r.stage, "status": r.status, "count": r.count}
                for r in s.exec(select(JobDay).order_by(JobDay.day.desc(), JobDay.stage, JobDay.status))]
