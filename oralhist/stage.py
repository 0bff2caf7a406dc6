"""What every pipeline stage shares: its report, and the record of what is done.

Each stage module has one entry function ``<verb>_interviews(ws, ids, *, force=False,
progress=None, **options) -> StageReport``. It processes interviews one by one, each in its
own transaction, so a failure or a kill leaves earlier interviews done and the failing one
as it was. ``oralhist run`` chains the entry functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlmodel import Session, select

from oralhist.records import Interview, StageRun, utcnow

# The order of the pipeline; Interview.status is the last one reached.
STAGES = ("ingested", "normalised", "transcribed", "diarized", "indexed", "linked", "published")


@dataclass
class StageReport:
    stage: str
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already done (use --force to redo)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (interview id or file, message)
    details: dict = field(default_factory=dict)  # stage-specific figures

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict:
        return {
            "stage": self.stage,
            "done": self.done,
            "skipped": self.skipped,
            "failed": [{"id": i, "error": m} for i, m in self.failed],
            "details": self.details,
        }


def is_done(s: Session, interview_id: str, stage: str) -> bool:
    return (
        s.exec(select(StageRun).where(StageRun.interview_id == interview_id, StageRun.stage == stage)).first()
        is not None
    )


def mark_done(s: Session, interview_id: str, stage: str, options: Optional[dict] = None) -> None:
    """Record the stage as done (inside the stage's own transaction) and advance the status."""
    row = s.exec(select(StageRun).where(StageRun.interview_id == interview_id, StageRun.stage == stage)).first()
    if row is None:
        row = StageRun(interview_id=interview_id, stage=stage)
    row.finished_at = utcnow()
    row.options = options
    s.add(row)
    iv = s.get(Interview, interview_id)
    if iv is not None:
        status = {"normalise": "normalised", "transcribe": "transcribed", "diarize": "diarized",
                  "index": "indexed", "link": "linked", "publish": "published"}.get(stage, stage)
        if status in STAGES and (iv.status not in STAGES or STAGES.index(status) > STAGES.index(iv.status)):
            iv.status = status
        iv.updated_at = utcnow()
        s.add(iv)


def clear_done(s: Session, interview_id: str, stage: str) -> None:
    row = s.exec(select(StageRun).where(StageRun.interview_id == interview_id, StageRun.stage == stage)).first()
    if row is not None:
        s.delete(row)


def resolve_ids(s: Session, ids: list[str] | None, all_: bool = False) -> list[str]:
    """The interviews a command works on: the ids given, or every interview with ``--all``."""
    from oralhist.errors import BadInput, NotFound

    if all_ or not ids:
        if not all_ and not ids:
            raise BadInput(None, "name one or more interview ids, or use --all")
        return list(s.exec(select(Interview.id).order_by(Interview.id)).all())
    for i in ids:
        if s.get(Interview, i) is None:
            raise NotFound(i, "no such interview (see `oralhist list`)")
    return list(ids)
