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


# Metadata labels in French and English (issue 25 item 6): viewers show the reader's language.
LABELS = {
    "narrator": {"fr": ["Témoin"], "en": ["Narrator"]},
    "interviewer": {"fr": ["Enquêteur ou enquêtrice"], "en": ["Interviewer"]},
    "date": {"fr": ["Date"], "en": ["Date"]},
    "place": {"fr": ["Lieu"], "en": ["Place"]},
    "museum": {"fr": ["Musée"], "en": ["Museum"]},
    "language": {"fr": ["Langue"], "en": ["Language"]},
    "trade": {"fr": ["Métiers"], "en": ["Trades"]},
    "object": {"fr": ["Objets"], "en": ["Objects"]},
    "subject": {"fr": ["Sujets"], "en": ["Subjects"]},
    "places": {"fr": ["Lieux cités"], "en": ["Places mentioned"]},
}


def term_metadata(links) -> list:
    """One metadata entry per kind of linked term (trades, objects, places, subjects); a term
    with a URI is a link to it (IIIF allows ``<a href>`` in metadata values)."""
    from html import escape

    from iiif_prezi3 import KeyValueString

    by_kind: dict[str, list[str]] = {}
    for ln in links:
        if ln.status == "rejected":
            continue
        uri = ln.uri or next(iter(ln.same_as or ()), None)
        text = f'<a href="{escape(uri)}">{escape(ln.term_label)}</a>' if uri else ln.term_label
        vals = by_kind.setdefault("places" if ln.kind == "place" else ln.kind, [])
        if text not in vals:
            vals.append(text)
    return [KeyValueString(label=LABELS[k], value={"none": v}) for k, v in by_kind.items() if k in LABELS]


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
    md = [KeyValueString(label=LABELS[key], value={"none": [str(val)]})
          for key, val in (("narrator", view.narrator), ("interviewer", view.interviewer), ("date", view.date),
                           ("place", view.place), ("museum", view.museum), ("language", view.language)) if val]
    md += term_metadata(view.links)
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
        from oralhist.editorial.rights import iiif_rights_uri

        m.rights = iiif_rights_uri(rights)
    return m


def manifest_json(view, **kw) -> str:
    m = build_manifest(view, **kw)
    return m.json(indent=2)


def write(view, out: Path, *, base_url: str = "", public_id: Optional[str] = None, audio_path: Optional[str] = None,
          rights: str = "", license: str = "", archive_title: str = "", language: str = "fr") -> Path:
    """The staff manifest, with the ids, rights and provider of the site's own copy: IIIF ids
    are web addresses (never ``file://``), those of the published site under ``base_url``
    ([site] base_url), else those of a local build; ``public_id``/``audio_path`` as the site
    publishes them (outputs/exports/addresses.py)."""
    from types import SimpleNamespace

    from oralhist.editorial.rights import iiif_rights
    from oralhist.outputs.exports.addresses import LOCAL_BASE, MIME

    out = Path(out)
    site = (base_url or LOCAL_BASE).rstrip("/")
    pid = public_id or view.id
    base = f"{site}/media/{pid}"
    man = build_manifest(view, base=base, audio_url=f"{site}/{audio_path}" if audio_path else f"{base}/audio.mp3",
                         audio_format=MIME.get(Path(audio_path or "a.mp3").suffix, "audio/mpeg"),
                         vtt_url=f"{base}/captions.vtt", homepage=f"{site}/i/{pid}.html")
    iiif_rights(man, SimpleNamespace(language=language, rights=rights, license=license, title=archive_title),
                view, site, rights=rights, license=license)
    with atomic_write(out) as fh:
        fh.write(man.json(indent=2))
    return out
