"""Fixity: re-hash every original and every consent form, and report what is missing or changed.

Originals are sacred: ``verify`` never repairs or rewrites anything, it only reads and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from oralhist import db
from oralhist.progress import NULL, Progress
from oralhist.records import Consent, Recording


@dataclass(frozen=True)
class Problem:
    interview_id: str
    kind: str  # "original" | "consent"
    path: str  # relative to the workspace
    problem: str  # "missing" | "changed" | "unreadable" | "unrecorded"
    detail: str = ""

    def to_dict(self) -> dict:
        return {"interview": self.interview_id, "kind": self.kind, "path": self.path,
                "problem": self.problem, "detail": self.detail}


@dataclass
class VerifyReport:
    checked: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "bytes": self.bytes,
                "problems": [p.to_dict() for p in self.problems]}


def verify(ws, progress: Progress = NULL) -> VerifyReport:
    """Re-hash every original recording and consent form against the SHA-256 stored at ingest."""
    from oralhist.ingest import sha256_file

    with db.session(ws) as s:
        items = [(r.interview_id, "original", r.path, r.sha256, r.size)
                 for r in s.exec(select(Recording).order_by(Recording.interview_id, Recording.part)).all()]
        items += [(c.interview_id, "consent", c.form_path, c.form_sha256, c.form_size)
                  for c in s.exec(select(Consent).order_by(Consent.interview_id)).all()
                  if c.form_path and c.form_sha256]
    rep = VerifyReport()
    # Files in an original/ folder that no record knows (a copy interrupted by a power cut).
    known = {i[2] for i in items}
    if ws.interviews.is_dir():
        for f in sorted(ws.interviews.glob("*/original/*")):
            rel_f = ws.rel(f)
            if f.is_file() and rel_f not in known and not f.name.startswith("."):
                rep.problems.append(Problem(f.parent.parent.name, "original", rel_f, "unrecorded",
                                            "file in the archive that no recording row describes"))
    task = progress.add("verify", total=sum(i[4] or 0 for i in items) or None)
    for iid, kind, rel, digest, size in items:
        rep.checked += 1
        try:
            path = ws.abs(rel)
        except Exception:  # noqa: BLE001  a stored path that escapes the archive is itself a problem
            rep.problems.append(Problem(iid, kind, rel, "changed", "stored path escapes the archive"))
            continue
        if not path.is_file():
            rep.problems.append(Problem(iid, kind, rel, "missing", "file not found"))
            continue
        try:
            actual = sha256_file(path)
            actual_size = path.stat().st_size
        except OSError as exc:
            rep.problems.append(Problem(iid, kind, rel, "unreadable", exc.strerror or str(exc)))
            continue
        rep.bytes += actual_size
        progress.advance(task, size or 0)
        if actual != digest:
            detail = f"sha256 {actual[:12]}… instead of {digest[:12]}…"
            if size is not None and actual_size != size:
                detail += f"; {actual_size} bytes instead of {size}"
            rep.problems.append(Problem(iid, kind, rel, "changed", detail))
    return rep
