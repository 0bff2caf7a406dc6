"""The stages of the pipeline in order, their entry functions, and the callbacks that wire a stage to the layers above it."""

from __future__ import annotations

import importlib
from typing import Callable

# (stage name, module, entry function) in pipeline order.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("normalise", "oralhist.archive.audio", "normalise_interviews"),
    ("transcribe", "oralhist.recognition.transcribe", "transcribe_interviews"),
    ("diarize", "oralhist.recognition.diarize", "diarize_interviews"),
    ("index", "oralhist.editorial.indexing", "index_interviews"),
    ("link", "oralhist.editorial.link", "link_interviews"),
)


def stage_function(module: str, name: str) -> Callable:
    """The entry function of a stage, its module imported when first used (heavy imports wait)."""
    return getattr(importlib.import_module(module), name)


def stage_wiring(stage: str) -> dict:
    """Keyword arguments that connect a stage to higher layers (docs/architecture.md, callbacks).

    A recognition stage must not import editorial or output modules, so what it triggers there
    is passed in: transcribe writes the staff exports of each new transcript; diarize re-makes
    the machine topic segments its new speaker turns move.
    """
    if stage == "transcribe":
        from oralhist.outputs.exports.staff import write_transcript_exports

        return {"exports": write_transcript_exports}
    if stage == "diarize":
        from oralhist.editorial.indexing import reindex_machine

        return {"reindex": reindex_machine}
    return {}


def call_stage(ws, stage: str, ids, **kw):
    """Run one stage's entry function on ``ids`` with its wiring (no locks: see pipeline.run_stage)."""
    module, name = next((m, n) for s, m, n in STAGES if s == stage)
    return stage_function(module, name)(ws, ids, **{**stage_wiring(stage), **kw})
