"""``oralhist run``: every stage, in order, for new recordings, then the public site.

ingest -> normalise -> transcribe -> diarize -> index -> (starter vocabulary) -> link ->
exports (transcripts/<id>/) -> publish. Each stage runs over all the interviews before the
next one starts (one model loaded once per stage); each stage skips what it has already
done, so running the same command again after a failure or an interruption finishes the
work. An interview that fails a stage is not passed to the later stages; the others go on.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from oralhist.progress import NULL
from oralhist.stage import StageReport

# (stage name, module, entry function) in pipeline order.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("normalise", "oralhist.archive.audio", "normalise_interviews"),
    ("transcribe", "oralhist.recognition.transcribe", "transcribe_interviews"),
    ("diarize", "oralhist.recognition.diarize", "diarize_interviews"),
    ("index", "oralhist.editorial.topics", "index_interviews"),
    ("link", "oralhist.editorial.link", "link_interviews"),
)
STAFF_EXPORTS = ("vtt", "srt", "txt", "json", "chapters", "ohms", "iiif", "dc")


@dataclass
class PipelineReport:
    reports: list[StageReport] = field(default_factory=list)
    interviews: list[str] = field(default_factory=list)
    site: Optional[Path] = None

    @property
    def exit_code(self) -> int:
        return 1 if any(r.failed for r in self.reports) else 0

    def to_dict(self) -> dict:
        return {
            "interviews": self.interviews,
            "stages": [r.to_dict() for r in self.reports],
            "site": str(self.site) if self.site else None,
            "open": str(self.site / "index.html") if self.site else None,
            "exit_code": self.exit_code,
        }


def stage_function(module: str, name: str) -> Callable:
    """The entry function of a stage, its module imported when first used (heavy imports wait)."""
    return getattr(importlib.import_module(module), name)


def ingest_locked(ws, paths: Sequence[Path], meta=None, manifest: Optional[Path] = None, *, progress=NULL,
                  wait: float = 3600.0, allow_outside: bool = False) -> StageReport:
    """Ingest under the archive-wide ingest lock: two ingests of the same files at once (two
    `run` on two machines) make one set of interviews; the second finds them in the archive."""
    from oralhist.jobs import locks

    ingest = stage_function("oralhist.archive.ingest", "ingest_paths")
    lock, holder = locks.try_acquire(ws, None, "ingest")
    if lock is None:
        progress.log(f"ingest: another ingest is running ({holder}); waiting for it to end")
        lock = locks.acquire(ws, None, "ingest", wait=wait)
    try:
        return ingest(ws, paths, meta=meta, manifest=manifest, progress=progress, allow_outside=allow_outside)
    finally:
        locks.release(lock)


def run_stage(ws, stage: str, ids: Sequence[str], **kw) -> StageReport:
    """Run one stage on ``ids`` holding its lock on each interview (oralhist.jobs.locks).

    Interviews whose stage is running elsewhere right now (another process, another
    machine) are left out and listed in ``details["busy"]`` ({id: holder}); the stage
    function runs once, on the others, so its model is loaded once.
    """
    from oralhist.jobs import locks

    fn = stage_function(*next((m, n) for s, m, n in STAGES if s == stage))
    held, busy = locks.acquire_many(ws, ids, stage)
    try:
        mine = [lock.interview_id for lock in held]
        rep = fn(ws, mine, **kw) if mine else StageReport(stage=stage)
    finally:
        for lock in held:
            locks.release(lock)
    if busy:
        rep.details["busy"] = busy
    if stage != "normalise":
        # Exports written before (or by a run killed after this stage committed) follow the data.
        held_ids = [i for i in ids if i not in busy]
        ex = refresh_staff_exports(ws, held_ids)
        if ex.details.get("rewritten"):
            rep.details["exports_rewritten"] = ex.details["rewritten"]
    return rep


EXPORTS_STAMP = ".exports.json"  # in transcripts/<id>/: fingerprint of the data the exports were made from


def exports_fingerprint(view) -> str:
    """SHA-256 of everything the exports of an interview are made from (transcript version,
    words, speakers, topics, links, metadata, consent): it changes whenever one of them does."""
    import dataclasses
    import hashlib
    import json

    blob = json.dumps(dataclasses.asdict(view), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_stamp(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_stamp(path: Path, data: dict) -> None:
    import json
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".exports.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, sort_keys=True)
    os.replace(tmp, path)


def write_staff_exports(ws, ids: Sequence[str], formats: Sequence[str] = STAFF_EXPORTS, *,
                        only_stale: bool = False) -> StageReport:
    """transcripts/<id>/<id>.<ext> for every format available (archive copies, not consent-filtered).

    Each folder keeps a fingerprint of the data its exports come from (``.exports.json``),
    written after the exports. With ``only_stale``, interviews whose fingerprint still matches
    are skipped and the others rewritten (the exports follow the data: after an edit, a killed
    stage run, a new speaker name...). ``details["rewritten"]`` lists the stale ones rewritten.
    """
    from oralhist import db
    from oralhist.errors import OralhistError
    from oralhist.outputs.exports import default_path, exporter
    from oralhist.editorial.view import load_interview

    rep = StageReport(stage="exports")
    writers = {}
    for fmt in formats:
        writers[fmt] = exporter(fmt)
    rep.details["formats"] = sorted(writers)
    rep.details["rewritten"] = []
    for iid in ids:
        try:
            with db.session(ws) as s:
                view = load_interview(s, iid)
            if view.transcript_version is None:
                rep.skipped.append(iid)
                continue
            fp = exports_fingerprint(view)
            stamp_path = ws.transcript_dir(iid) / EXPORTS_STAMP
            if only_stale:
                old = _read_stamp(stamp_path)
                if (old.get("fingerprint") == fp and set(old.get("formats", [])) >= set(writers)
                        and all(default_path(ws, iid, f).is_file() for f in writers)):
                    rep.skipped.append(iid)
                    continue
                rep.details["rewritten"].append(iid)
            for fmt, write in writers.items():
                write(view, default_path(ws, iid, fmt))
            _write_stamp(stamp_path, {"fingerprint": fp, "formats": sorted(writers)})
            rep.done.append(iid)
        except (OralhistError, OSError, ValueError) as exc:
            rep.failed.append((iid, str(exc)))
    return rep


def refresh_staff_exports(ws, ids: Optional[Sequence[str]] = None) -> StageReport:
    """Rewrite the stale staff exports of ``ids`` (default: every interview) that have exports."""
    if ids is None:
        ids = sorted(p.name for p in ws.transcripts.iterdir() if p.is_dir()) if ws.transcripts.is_dir() else []
    ids = [i for i in ids if (ws.transcripts / i).is_dir()]
    return write_staff_exports(ws, ids, only_stale=True)


def run_all(ws, paths: Sequence[Path], meta=None, manifest: Optional[Path] = None, *, progress=NULL,
            model: Optional[str] = None, language: Optional[str] = None, speakers: Optional[int] = None,
            publish: bool = True, allow_outside: bool = False) -> PipelineReport:
    """Ingest ``paths`` (or ``manifest``) and run every later stage on those interviews."""
    out = PipelineReport()
    rep = ingest_locked(ws, paths, meta=meta, manifest=manifest, progress=progress, allow_outside=allow_outside)
    out.reports.append(rep)
    ids = list(dict.fromkeys([*rep.done, *(i for i in rep.skipped if isinstance(i, str))]))
    out.interviews = ids
    failed: set[str] = set()
    for stage, module, name in STAGES:
        todo = [i for i in ids if i not in failed]
        if stage == "link":
            vocab = stage_function("oralhist.editorial.vocab", "ensure_starter")
            imports = vocab(ws, manifest=Path(manifest) if manifest else None)
            out.reports.append(StageReport(stage="vocab", details={"imported": [getattr(r, "file", str(r)) for r in imports]}))
        if not todo:
            out.reports.append(StageReport(stage=stage))
            continue
        kw = {"progress": progress}
        if stage == "transcribe":
            kw.update(model=model, language=language)
        if stage == "diarize" and speakers:
            kw["speakers"] = speakers
        r = run_stage(ws, stage, todo, **kw)
        out.reports.append(r)
        failed.update(i for i, _ in r.failed)
        failed.update(r.details.get("busy", {}))  # another process is on it: it carries on
    out.reports.append(write_staff_exports(ws, [i for i in ids if i not in failed]))
    if publish:
        from oralhist.outputs.publish import publish_site

        r = publish_site(ws, progress=progress)
        out.reports.append(r)
        out.site = Path(r.details["site"])
    return out


def queue_all(ws, paths: Sequence[Path], meta=None, manifest: Optional[Path] = None, *, queue: str = "default",
              progress=NULL, publish: bool = True, who: Optional[str] = None,
              allow_outside: bool = False) -> PipelineReport:
    """Ingest here (synchronously), then queue every later stage for the workers (``run --queue``).

    The jobs use the archive's settings (model, language). Returns the ingest report; the
    queued jobs are listed in a "queue" report's details.
    """
    from oralhist import jobs

    out = PipelineReport()
    rep = ingest_locked(ws, paths, meta=meta, manifest=manifest, progress=progress, allow_outside=allow_outside)
    out.reports.append(rep)
    ids = list(dict.fromkeys([*rep.done, *(i for i in rep.skipped if isinstance(i, str))]))
    for dup in rep.details.get("duplicates", []):  # files already in the archive: their interview
        iid = dup.get("interview")
        if iid and iid != "(same command)" and iid not in ids:
            ids.append(iid)
    out.interviews = ids
    queued = StageReport(stage="queue", details={"jobs": []})
    for iid in ids:
        for job in jobs.enqueue(ws, iid, queue=queue, who=who):
            queued.details["jobs"].append(jobs.job_dict(job))
        queued.done.append(iid)
    if publish and ids:
        queued.details["jobs"].append(jobs.job_dict(jobs.enqueue_publish(ws, who=who, queue=queue)))
    out.reports.append(queued)
    return out
