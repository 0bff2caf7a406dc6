"""The index stage: machine topic segments stored per interview, and kept current after corrections and re-diarization."""

from __future__ import annotations

import time
from typing import Optional, Sequence

from oralhist.editorial.topics import PER_HOUR, STAGE, index_view
from oralhist.progress import NULL, Progress
from oralhist.stage import StageReport


def index_interviews(ws, ids: Sequence[str], *, force: bool = False, progress: Progress = NULL) -> StageReport:
    """Index each interview (own transaction); skip done ones and editors' indexes unless ``force``."""
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist import db, stage
    from oralhist.errors import OralhistError
    from oralhist.records import TopicSegment
    from oralhist.editorial.view import current_topics, load_interview

    rep = StageReport(stage=STAGE)
    task = progress.add("index", total=len(ids))
    for interview_id in ids:
        try:
            with db.session(ws) as s:
                current = current_topics(s, interview_id)
                editor = bool(current) and current[0].source == "editor"
                if not force and (stage.is_done(s, interview_id, STAGE) or editor):
                    rep.skipped.append(interview_id)
                    if editor:
                        rep.details[interview_id] = {"kept": "editor's index (use --force to add a machine version)"}
                    progress.advance(task)
                    continue
                view = load_interview(s, interview_id)
                if view.transcript_version is None:
                    rep.failed.append((interview_id, f"no transcript yet; run `oralhist transcribe {interview_id}` first"))
                    progress.advance(task)
                    continue
                t0 = time.perf_counter()
                topics = index_view(view)
                newest = s.exec(select(func.max(TopicSegment.version)).where(TopicSegment.interview_id == interview_id)).one()
                version = (newest or 0) + 1
                for t in topics:
                    s.add(TopicSegment(interview_id=interview_id, version=version, source="machine",
                                       start_ms=t.start_ms, end_ms=t.end_ms, title=t.title, synopsis=t.synopsis,
                                       keywords=list(t.keywords), partial_transcript=t.partial_transcript,
                                       made_from=view.transcript_id))
                stage.mark_done(s, interview_id, STAGE, {"version": version, "per_hour": PER_HOUR,
                                                         "transcript_version": view.transcript_version,
                                                         "elapsed_s": round(time.perf_counter() - t0, 3)})
                s.commit()
            rep.done.append(interview_id)
            rep.details[interview_id] = {"version": version, "segments": len(topics)}
        except OralhistError as exc:
            rep.failed.append((interview_id, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad interview must not stop the others
            rep.failed.append((interview_id, f"indexing failed: {type(exc).__name__}: {exc}"))
        progress.advance(task)
    return rep


# ---------------------------------------------------------------- keeping machine text current


def refresh_machine_text(s, interview_id: str, transcript_id: int) -> int:
    """Store, in the current topic rows that the machine made, the text derived from
    transcript ``transcript_id`` (the version just saved) and mark them made from it.

    Called where a correction is saved (caller commits): later reads of that version find
    nothing to re-derive (``view.derive``). Editors' rows are not touched. Returns how many
    rows changed.
    """
    from oralhist.records import Transcript
    from oralhist.editorial.view import current_topics, load_interview

    tr = s.get(Transcript, transcript_id)
    rows = [r for r in current_topics(s, interview_id) if (r.source or "machine") == "machine"]
    if tr is None or not rows:
        return 0
    view = load_interview(s, interview_id, version=tr.version)
    derived = {(t.start_ms, t.end_ms): t for t in view.topics if t.source == "machine"}
    n = 0
    for r in rows:
        t = derived.get((r.start_ms, r.end_ms))
        if t is None:
            continue
        new = (t.title, t.synopsis, list(t.keywords), t.partial_transcript)
        if new != (r.title, r.synopsis, list(r.keywords or ()), r.partial_transcript):
            r.title, r.synopsis, r.keywords, r.partial_transcript = new
            n += 1
        r.made_from = transcript_id
        s.add(r)
    return n


def reindex_machine(s, interview_id: str) -> Optional[int]:
    """Re-index an interview whose speakers changed (re-diarized; caller commits).

    A new topic version: the machine's segments are made again from the current transcript
    (speaker turns and the interviewer's questions move boundaries); the segments an editor
    made are kept exactly, machine ones never overlap them. Nothing happens when the
    interview was never indexed or every current segment is an editor's. Returns the new
    version, or None.
    """
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist.records import TopicSegment
    from oralhist.editorial.view import current_topics, load_interview

    current = current_topics(s, interview_id)
    if not current or all((r.source or "machine") != "machine" for r in current):
        return None
    view = load_interview(s, interview_id)
    if view.transcript_version is None:
        return None
    editor = sorted((r for r in current if (r.source or "machine") != "machine"), key=lambda r: r.start_ms)
    made = []  # (start, end, topic): the machine's segments less the time the editor's cover
    for t in index_view(view):
        pieces = [(t.start_ms, t.end_ms)]
        for e in editor:
            pieces = [q for a, b in pieces
                      for q in ((a, min(b, e.start_ms)), (max(a, e.end_ms), b)) if q[1] > q[0]]
        made += [(a, b, t) for a, b in pieces]
    newest = s.exec(select(func.max(TopicSegment.version)).where(TopicSegment.interview_id == interview_id)).one()
    version = (newest or 0) + 1
    for e in editor:
        s.add(TopicSegment(interview_id=interview_id, version=version, source=e.source, start_ms=e.start_ms,
                           end_ms=e.end_ms, title=e.title, synopsis=e.synopsis, keywords=list(e.keywords or ()),
                           partial_transcript=e.partial_transcript, made_from=e.made_from))
    for start, end, t in made:
        s.add(TopicSegment(interview_id=interview_id, version=version, source="machine", start_ms=start,
                           end_ms=end, title=t.title, synopsis=t.synopsis, keywords=list(t.keywords),
                           partial_transcript=t.partial_transcript,
                           made_from=view.transcript_id if (start, end) == (t.start_ms, t.end_ms) else None))
    s.flush()
    refresh_machine_text(s, interview_id, view.transcript_id)  # the text of the pieces cut around an editor's
    return version
