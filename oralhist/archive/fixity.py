"""Fixity: re-hash every original and every consent form, and report what is missing or changed.

Originals are sacred: ``verify`` never rewrites a recorded file, it only reads and reports.
``verify --repair`` deals with what a killed run left behind, saying what it did per file:
temporary files whose process is gone are removed; a file in ``interviews/*/original`` or
``consent_forms`` that no record describes (an *orphan*: copied before a commit that never came)
is removed when the same bytes are recorded elsewhere, and adopted when its interview exists
(an original becomes a new part; a consent form becomes the interview's form if it has none).
Any other orphan stays, reported as "unrecorded", for a person to decide.
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
    repaired: list[dict] = field(default_factory=list)  # {"path", "action": removed|adopted, "why"}

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "bytes": self.bytes,
                "problems": [p.to_dict() for p in self.problems], "repaired": self.repaired}


def _orphans(ws, known: set[str]) -> list[tuple[str, str, "object"]]:
    """(interview id, kind, path) of files no record describes."""
    out = []
    if ws.interviews.is_dir():
        for f in sorted(ws.interviews.glob("*/original/*")):
            if f.is_file() and ws.rel(f) not in known and not f.name.startswith("."):
                out.append((f.parent.parent.name, "original", f))
    if ws.consent_forms.is_dir():
        for f in sorted(ws.consent_forms.iterdir()):
            if f.is_file() and ws.rel(f) not in known and not f.name.startswith("."):
                out.append((f.name.rsplit(".", 1)[0], "consent", f))
    return out


def repair(ws) -> list[dict]:
    """Remove or adopt what killed runs left behind; -> one entry per file touched."""
    import os
    import stat as _stat

    from oralhist import stage
    from oralhist.errors import NotAudio
    from oralhist.archive.ingest import LATER_STAGES, remove_stale_temps, sha256_file
    from oralhist.archive.probe import probe
    from oralhist.records import Interview

    done = [{"path": p, "action": "removed", "why": "temporary file of a killed run"} for p in remove_stale_temps(ws)]
    with db.session(ws) as s:
        recs = s.exec(select(Recording)).all()
        consents = s.exec(select(Consent)).all()
        known = {r.path for r in recs} | {c.form_path for c in consents if c.form_path}
        rec_hash = {r.sha256: r.interview_id for r in recs}
        form_hash = {c.form_sha256: c.interview_id for c in consents if c.form_sha256}
        for iid, kind, f in _orphans(ws, known):
            rel = ws.rel(f)
            digest = sha256_file(f)
            holder = (rec_hash if kind == "original" else form_hash).get(digest)
            if holder is not None:
                os.chmod(f, _stat.S_IRUSR | _stat.S_IWUSR)
                f.unlink()
                done.append({"path": rel, "action": "removed", "why": f"the same bytes are recorded for interview {holder}"})
                continue
            iv = s.get(Interview, iid)
            if iv is None:
                continue  # stays reported as unrecorded: nothing says what it is
            if kind == "original":
                try:
                    info = probe(f)
                except NotAudio:
                    continue
                parts = [r for r in recs if r.interview_id == iid]
                s.add(Recording(interview_id=iid, part=max((r.part for r in parts), default=0) + 1,
                                original_name=f.name, path=rel, sha256=digest, size=f.stat().st_size,
                                duration_ms=info.duration_ms, sample_rate=info.sample_rate, channels=info.channels,
                                codec=info.codec, container=info.container,
                                offset_ms=sum(r.duration_ms for r in parts)))
                iv.duration_ms = sum(r.duration_ms for r in parts) + info.duration_ms
                for later in LATER_STAGES:
                    stage.clear_done(s, iid, later)
                iv.status = "ingested"
                s.add(iv)
                s.commit()
                recs = s.exec(select(Recording)).all()
                done.append({"path": rel, "action": "adopted", "why": f"new part of interview {iid}; run the stages again"})
            else:
                c = s.exec(select(Consent).where(Consent.interview_id == iid)).first()
                if c is None or c.form_path:
                    continue
                c.form_path, c.form_name, c.form_sha256, c.form_size = rel, f.name, digest, f.stat().st_size
                s.add(c)
                s.commit()
                done.append({"path": rel, "action": "adopted", "why": f"consent form of interview {iid}"})
    return done


def verify(ws, progress: Progress = NULL, repair: bool = False) -> VerifyReport:
    """Re-hash every original recording and consent form against the SHA-256 stored at ingest."""
    from oralhist.archive.ingest import sha256_file

    repaired = globals()["repair"](ws) if repair else []

    with db.session(ws) as s:
        items = [(r.interview_id, "original", r.path, r.sha256, r.size)
                 for r in s.exec(select(Recording).order_by(Recording.interview_id, Recording.part)).all()]
        items += [(c.interview_id, "consent", c.form_path, c.form_sha256, c.form_size)
                  for c in s.exec(select(Consent).order_by(Consent.interview_id)).all()
                  if c.form_path and c.form_sha256]
    rep = VerifyReport(repaired=repaired)
    # Files in original/ or consent_forms/ that no record knows (a copy interrupted by a kill).
    known = {i[2] for i in items}
    for iid, kind, f in _orphans(ws, known):
        rep.problems.append(Problem(iid, kind, ws.rel(f), "unrecorded",
                                    "file in the archive that no record describes (verify --repair deals with it)"))
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
