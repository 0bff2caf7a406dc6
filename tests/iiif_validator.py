"""The official IIIF Presentation validator's check of a v3 manifest or collection, offline.

The validator (github.com/IIIF/presentation-validator, not on PyPI) validates a v3 document
with ``jsonschema.Draft7Validator`` against its ``schema/iiif_3_0.json`` (copied in
tests/data/iiif/ with its provenance) and reports each error as the rule's ``title`` and
``description``; :func:`iiif_errors` gives the same messages.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA = Path(__file__).parent / "data" / "iiif" / "iiif_3_0.json"


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _leaves(err):
    if err.context:
        for sub in err.context:
            yield from _leaves(sub)
    else:
        yield err


def iiif_errors(doc) -> list[str]:
    """The validator's messages for ``doc`` (a dict or JSON text); empty when it passes."""
    if isinstance(doc, (str, bytes)):
        doc = json.loads(doc)
    out = []
    for err in _validator().iter_errors(doc):
        for leaf in _leaves(err):
            node = leaf
            while node is not None and not (isinstance(node.schema, dict) and node.schema.get("title")):
                node = node.parent
            s = node.schema if node is not None else {}
            detail = " ".join(x for x in (s.get("title", ""), s.get("description", "")) if x)
            path = "/".join(str(p) for p in leaf.absolute_path)
            out.append((path, f"{path}: {detail or leaf.message}"))
    # The schema tries the document as each resource type (oneOf): the errors of the types it
    # is not (at its root, or on its "type") are noise, dropped as the validator's error parser
    # does, unless nothing else is wrong.
    real = [m for path, m in out if path and path != "type" and not path.endswith("/type")]
    return sorted(set(real or [m for _, m in out]))


def iiif_passes(doc) -> bool:
    return not any(True for _ in _validator().iter_errors(json.loads(doc) if isinstance(doc, (str, bytes)) else doc))
