"""IIIF Presentation 3 manifest of one interview (built and validated with ``iiif-prezi3``).

One audio canvas with the interview's duration; the access audio painted on it; the
transcript as a WebVTT ``supplementing`` annotation; the index (topic) segments as ranges
pointing at ``canvas#t=start,end``.

``write(view, out)`` makes the staff copy, with the published site's addresses (``base_url``)
or a local build's; the public site calls ``build_manifest(view, base=...)`` with its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from oralhist.outputs.exports import atomic_write


def _lang(view) -> str:
    return (view.language or "fr").split("-")[0] or "none"


def build_manifest(view, *, base: str, audio_url: str, audio_format: str = "audio/mpeg",
                   vtt_url: Optional[str] = None, homepage: Optional[str] = None, rights: Optional[str] = None):
    """The ``iiif_prezi3.Manifest`` model (pydantic-validated while it is built)."""
    from iiif_prezi3 import AnnotationBody, AnnotationPage, Annotation, CanvasRef, Homepage, KeyValueString, Manifest, Range

    lang = _lang(view)
    base = base.rstrip("/")
    label = {lang: [view.title or view.id]}
    m = Manifest(id=f"{base}/manifest.json", label=label)
    md = []
    for key, val in (("Narrator", view.narrator), ("Interviewer", view.interviewer), ("Date", view.date),
                     ("Place", view.place), ("Museum", view.museum), ("Language", view.language)):
        if val:
            md.append(KeyValueString(label={"en": [key]}, value={"none": [str(val)]}))
    if md:
        m.metadata = md
    if view.summary:
        m.summary = {lang: [view.summary]}
    if homepage:
        m.homepage = [Homepage(id=homepage, type="Text", label=label, format="text/html")]
    duration = max(view.duration_ms, max((s.end_ms for s in view.segments), default=0), 1) / 1000
    canvas_id = f"{base}/canvas/1"
    canvas = m.make_canvas(id=canvas_id, duration=duration, label=label)
    body = AnnotationBody(id=audio_url, type="Sound", format=audio_format, duration=duration)
    page = AnnotationPage(id=f"{canvas_id}/page/1")
    page.add_item(Annotation(id=f"{canvas_id}/page/1/a1", motivation="painting", body=body, target=canvas_id))
    canvas.add_item(page)
    if vtt_url:
        apage = AnnotationPage(id=f"{canvas_id}/annotations/1")
        apage.add_item(Annotation(
            id=f"{canvas_id}/annotations/1/transcript", motivation="supplementing", target=canvas_id,
            body=AnnotationBody(id=vtt_url, type="Text", format="text/vtt", language=lang,
                              label={lang: ["Transcription" if lang == "fr" else "Transcript"]}),
        ))
        canvas.annotations = [apage]
    if view.topics:
        ranges = []
        for n, t in enumerate(view.topics, 1):
            ranges.append(Range(
                id=f"{base}/range/{n}",
                label={lang: [t.title or f"{t.start_ms // 60000:02d}:{t.start_ms // 1000 % 60:02d}"]},
                items=[CanvasRef(id=f"{canvas_id}#t={t.start_ms / 1000:.3f},{t.end_ms / 1000:.3f}", type="Canvas")],
            ))
        m.structures = [Range(id=f"{base}/range/0", label={lang: ["Index"]}, items=ranges)]
    if rights:
        m.rights = rights
    return m


def manifest_json(view, **kw) -> str:
    m = build_manifest(view, **kw)
    return m.json(indent=2)


# Where a site built with `oralhist publish --local` is served (`python3 -m http.server 8000`).
LOCAL_BASE = "http://localhost:8000"


def write(view, out: Path, *, base_url: str = "") -> Path:
    """The staff manifest. IIIF ids must be web addresses (never ``file://``): those of the
    published site under ``base_url`` ([site] base_url), else those of a local build."""
    out = Path(out)
    site = (base_url or LOCAL_BASE).rstrip("/")
    base = f"{site}/media/{view.id}"
    text = manifest_json(view, base=base, audio_url=f"{base}/audio.mp3", vtt_url=f"{base}/captions.vtt",
                         homepage=f"{site}/i/{view.id}.html")
    with atomic_write(out) as fh:
        fh.write(text)
    return out
