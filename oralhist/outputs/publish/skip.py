"""One broken interview never blocks publishing the others (issue 19, item 9).

A transcript saved with a NUL (or another control character) made every later publish of the
whole archive fail: the OHMS, captions and OAI-PMH files are XML, and XML 1.0 cannot carry those
characters. Text entries now strip them (``oralhist.textsafe``), but rows written before, or by
another program, may still hold one. ``set_aside_broken(model)`` runs after the site model is
read and before anything is rendered: an interview whose public text holds a character that XML
cannot carry is taken out of the build (its pages and clips are left out, so no page links to
it) and reported as ``(interview id, reason naming the field and the character)``; the publish
goes on with the others and ends with exit code 1 (``StageReport.failed``).
"""

from __future__ import annotations

import dataclasses
import re

# Not allowed in XML 1.0: C0 controls but tab, newline, carriage return; lone surrogates; U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIP = (int, float, bool, bytes, type(None))


def find_unpublishable(obj, where: str = "", _depth: int = 0):
    """(field path, character) of the first text in ``obj`` (dataclasses, lists, tuples, dicts,
    strings) that XML cannot carry, or None. ~1 µs a word: strings and numbers are checked inline."""
    if isinstance(obj, str):
        m = _NOT_XML.search(obj)
        return (where or "text", m.group()) if m else None
    if _depth > 12 or isinstance(obj, _SKIP):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        tp = type(obj)
        names = _FIELDS.get(tp)
        if names is None:
            names = _FIELDS[tp] = tuple(f.name for f in dataclasses.fields(tp))
        items = ((n, getattr(obj, n, None)) for n in names)
        sep = "."
    elif isinstance(obj, dict):
        items, sep = ((str(k), v) for k, v in obj.items()), "."
    elif isinstance(obj, (list, tuple)):
        items, sep = ((f"[{i}]", v) for i, v in enumerate(obj)), ""
    else:
        return None
    for name, value in items:
        if isinstance(value, str):
            if _NOT_XML.search(value) is None:
                continue
        elif isinstance(value, _SKIP):
            continue
        hit = find_unpublishable(value, f"{where}{sep if where else ''}{name}", _depth + 1)
        if hit:
            return hit
    return None


def set_aside_broken(model) -> list[tuple[str, str]]:
    """Remove from ``model`` (publish.build.SiteModel, before rendering) every interview whose
    public text cannot be published, with its clips on index pages (a page left without clips
    goes too). Returns [(interview id, reason)]; the model is left unchanged when all are fine."""
    broken: list[tuple[str, str]] = []
    keep, gone = [], set()
    for e in model.interviews:
        hit = find_unpublishable(e.view) or find_unpublishable(list(e.links), "links")
        if hit is None:
            keep.append(e)
            continue
        gone.add(e.view.id)
        field, ch = hit
        broken.append((e.archive_id, f"not published: its {field} holds the control character U+{ord(ch):04X}, "
                                     "which the site's XML files cannot carry; correct the text (saving it again "
                                     "removes such characters) and publish again"))
    if not broken:
        return broken
    model.interviews[:] = keep
    for tid in list(model.terms):
        tp = model.terms[tid]
        tp.clips[:] = [c for c in tp.clips if c.interview_id not in gone]
        if not tp.clips:
            del model.terms[tid]
    return broken
