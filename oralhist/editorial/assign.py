"""Review progress and shared work: segments marked « relu », interviews assigned to editors, passage comments.

A segment is marked reviewed by where it starts (``SegmentReview.start_ms``): a save keeps the
times of unchanged segments, so marks survive new versions; a segment cut in two keeps its mark
on the first half only. Progress is over the newest version's segments.
"""

from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import func
from sqlmodel import Session, select

from oralhist.errors import BadInput, NotFound
from oralhist.records import (Assignment, EditorAccount, Interview, PassageComment, Segment, SegmentReview,
                              Transcript, utcnow)
from oralhist.textsafe import clean_text

MAX_COMMENT = 4000
MAX_QUOTE = 500


def _newest(s: Session, ids: Optional[Iterable[str]] = None) -> dict[int, str]:
    """transcript id of each interview's newest version -> interview id."""
    q = select(Transcript.interview_id, func.max(Transcript.version)).group_by(Transcript.interview_id)
    if ids is not None:
        ids = list(ids)
        if not ids:
            return {}
        q = q.where(Transcript.interview_id.in_(ids))
    newest = dict(s.exec(q).all())
    out = {}
    for tid, iid, v in s.exec(select(Transcript.id, Transcript.interview_id, Transcript.version)
                              .where(Transcript.interview_id.in_(list(newest)))).all():
        if newest.get(iid) == v:
            out[tid] = iid
    return out


def progress(s: Session, ids: Optional[Iterable[str]] = None) -> dict[str, dict]:
    """interview id -> {"segments", "reviewed", "percent"} on its newest version (interviews with a transcript)."""
    tids = _newest(s, ids)
    if not tids:
        return {}
    marks: dict[str, set] = {}
    q = select(SegmentReview.interview_id, SegmentReview.start_ms)
    if ids is not None:
        q = q.where(SegmentReview.interview_id.in_(list(set(tids.values()))))
    for iid, start in s.exec(q).all():
        marks.setdefault(iid, set()).add(start)
    out = {iid: {"segments": 0, "reviewed": 0} for iid in tids.values()}
    for tid, start in s.exec(select(Segment.transcript_id, Segment.start_ms).where(Segment.transcript_id.in_(list(tids)))).all():
        d = out[tids[tid]]
        d["segments"] += 1
        d["reviewed"] += start in marks.get(tids[tid], ())
    for d in out.values():
        # floor: « 100 % » only when every segment is reviewed
        d["percent"] = (100 * d["reviewed"] // d["segments"]) if d["segments"] else 0
    return out


def reviewed_starts(s: Session, interview_id: str) -> list[int]:
    return sorted({r for r in s.exec(select(SegmentReview.start_ms).where(SegmentReview.interview_id == interview_id)).all()})


def mark_reviewed(ws, interview_id: str, starts: list, reviewed: bool, *, who: str) -> dict:
    """Mark (or unmark) the segments starting at ``starts`` (ms) of the newest version; the new progress."""
    from oralhist import db

    if not isinstance(starts, list) or not starts or not all(isinstance(x, int) and not isinstance(x, bool) for x in starts):
        raise BadInput("starts", "a non-empty list of segment start times (ms) is required")
    if len(starts) > 50_000:
        raise BadInput("starts", "too many segments at once")
    with db.session(ws) as s:
        tids = _newest(s, [interview_id])
        if not tids:
            raise NotFound(interview_id, "no transcript yet")
        known = set(s.exec(select(Segment.start_ms).where(Segment.transcript_id.in_(list(tids)))).all())
        wanted = set(starts)
        if wanted - known:
            raise BadInput("starts", f"no segment starts at {min(wanted - known)} ms in the newest version")
        for r in s.exec(select(SegmentReview).where(SegmentReview.interview_id == interview_id,
                                                    SegmentReview.start_ms.in_(list(wanted)))).all():
            s.delete(r)
        if reviewed:
            for x in sorted(wanted):
                s.add(SegmentReview(interview_id=interview_id, start_ms=x, who=who))
        s.commit()
        return {"interview": interview_id, **progress(s, [interview_id]).get(interview_id, {}),
                "marked": reviewed_starts(s, interview_id)}


# ---------------------------------------------------------------------------- assignment


def assign(ws, interview_id: str, assignee: Optional[str], *, who: str, local_user: Optional[str] = None) -> dict:
    """Assign an interview to an account that may correct it (``None``: unassign). ``local_user``: the
    one person of the local token mode, who has no account."""
    from oralhist import db

    with db.session(ws) as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise NotFound(interview_id, "no such interview")
        row = s.get(Assignment, interview_id)
        if not assignee:
            if row is not None:
                s.delete(row)
                s.commit()
            return {"interview": interview_id, "assignee": None}
        assignee = assignee.strip()
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == assignee)).first()
        if acc is None and assignee != local_user:
            raise BadInput(assignee, "no such account")
        if acc is not None and acc.museum_id is not None and acc.museum_id != iv.museum_id:
            raise BadInput(assignee, "this account cannot reach this interview's museum")
        if row is None:
            row = Assignment(interview_id=interview_id, assignee=assignee, assigned_by=who)
        row.assignee, row.assigned_by, row.at = assignee, who, utcnow()
        s.add(row)
        s.commit()
        return {"interview": interview_id, "assignee": assignee}


def assignable(s: Session, interview_id: str) -> list[str]:
    """Names of the accounts an interview can be assigned to (those reaching its museum)."""
    iv = s.get(Interview, interview_id)
    mid = iv.museum_id if iv else None
    return [a.name for a in s.exec(select(EditorAccount).order_by(EditorAccount.name)).all()
            if a.museum_id is None or a.museum_id == mid]


def my_work(s: Session, name: str) -> list[dict]:
    """What is assigned to ``name``: id, title, when, progress, open comments."""
    rows = s.exec(select(Assignment, Interview).where(Assignment.assignee == name, Assignment.interview_id == Interview.id)
                  .order_by(Assignment.at)).all()
    ids = [a.interview_id for a, _ in rows]
    prog = progress(s, ids)
    opened = dict(s.exec(select(PassageComment.interview_id, func.count(PassageComment.id))
                         .where(PassageComment.interview_id.in_(ids), PassageComment.resolved_at.is_(None))
                         .group_by(PassageComment.interview_id)).all()) if ids else {}
    return [{"interview": a.interview_id, "title": iv.title or a.interview_id, "assigned_by": a.assigned_by,
             "at": a.at, "progress": prog.get(a.interview_id, {"segments": 0, "reviewed": 0, "percent": 0}),
             "open_comments": opened.get(a.interview_id, 0)} for a, iv in rows]


# ---------------------------------------------------------------------------- comments


def add_comment(ws, interview_id: str, start_ms, end_ms, body, quote="", *, who: str) -> dict:
    """A comment on the passage [start_ms, end_ms]; its text is kept as written (pages escape it)."""
    from oralhist import db

    if not isinstance(body, str) or not clean_text(body).strip():
        raise BadInput("body", "the comment is empty")
    body = clean_text(body).strip()
    if len(body) > MAX_COMMENT:
        raise BadInput("body", f"too long (at most {MAX_COMMENT} characters)")
    for name, v in (("start_ms", start_ms), ("end_ms", end_ms)):
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 10**9:
            raise BadInput(name, "a time in ms is required")
    if end_ms < start_ms:
        raise BadInput("end_ms", "before start_ms")
    quote = clean_text(quote if isinstance(quote, str) else "").strip()[:MAX_QUOTE]
    with db.session(ws) as s:
        if s.get(Interview, interview_id) is None:
            raise NotFound(interview_id, "no such interview")
        c = PassageComment(interview_id=interview_id, start_ms=start_ms, end_ms=end_ms, quote=quote, body=body, author=who)
        s.add(c)
        s.commit()
        return comment_dict(c)


def comment_dict(c: PassageComment) -> dict:
    return {"id": c.id, "start": c.start_ms, "end": c.end_ms, "quote": c.quote, "body": c.body, "author": c.author,
            "at": c.created_at.isoformat() if c.created_at else "", "resolved": c.resolved_at is not None}


def comments(s: Session, interview_id: str, *, open_only: bool = True) -> list[dict]:
    q = select(PassageComment).where(PassageComment.interview_id == interview_id)
    if open_only:
        q = q.where(PassageComment.resolved_at.is_(None))
    return [comment_dict(c) for c in s.exec(q.order_by(PassageComment.start_ms, PassageComment.id)).all()]


def resolve_comment(ws, interview_id: str, comment_id: int, *, who: str) -> dict:
    from oralhist import db

    with db.session(ws) as s:
        c = s.get(PassageComment, comment_id)
        if c is None or c.interview_id != interview_id:
            raise NotFound(str(comment_id), "no such comment on this interview")
        c.resolved_by, c.resolved_at = who, utcnow()
        s.add(c)
        s.commit()
        return comment_dict(c)
