"""``oralhist run``: every stage, in order, for new recordings, then the public site.

ingest -> normalise -> transcribe -> diarize -> index -> (starter vocabulary) -> link ->
exports (transcripts/<id>/) -> publish. Each stage runs over all the interviews before the
next one starts (one model loaded once per stage); each stage skips what it has already
done, so running the same command again after a failure or an interruption finishes the
work. An interview that fails a stage is not passed to the later stages; the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from oralhist.progress import NULL
from oralhist.jobs.stages import STAGES, call_stage, stage_function
from oralhist.outputs.exports.staff import refresh_staff_exports, write_staff_exports
from oralhist.stage import StageReport


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

    held, busy = locks.acquire_many(ws, ids, stage)
    try:
        mine = [lock.interview_id for lock in held]
        rep = call_stage(ws, stage, mine, **kw) if mine else StageReport(stage=stage)
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

        r = publish_site(ws, progress=progress, before=refresh_staff_exports)
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
    for iid, line in (jobs.enqueue_many(ws, ids, queue=queue, who=who) if ids else {}).items():
        for job in line:
            queued.details["jobs"].append(jobs.job_dict(job))
        queued.done.append(iid)
    if publish and ids:
        queued.details["jobs"].append(jobs.job_dict(jobs.enqueue_publish(ws, who=who, queue=queue)))
    out.reports.append(queued)
    return out
