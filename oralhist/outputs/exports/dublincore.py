"""Dublin Core record (``oai_dc``) of one interview, for aggregators and OAI-PMH."""

from __future__ import annotations

from pathlib import Path
from typing import Optional
from xml.etree import ElementTree as ET

from oralhist.outputs.exports import atomic_write

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("oai_dc", OAI_DC)
ET.register_namespace("dc", DC)
ET.register_namespace("xsi", XSI)


def _iso_duration(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S"


def element(view, *, identifier: Optional[str] = None, audio_url: Optional[str] = None,
            publisher: Optional[str] = None, rights: Optional[str] = None) -> ET.Element:
    """The ``<oai_dc:dc>`` element (used inside OAI-PMH records too)."""
    root = ET.Element(f"{{{OAI_DC}}}dc", {
        f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

    def add(name: str, value) -> None:
        if value:
            ET.SubElement(root, f"{{{DC}}}{name}").text = str(value)

    add("title", view.title or view.id)
    add("creator", view.narrator)
    add("contributor", view.interviewer)
    add("date", view.date)
    add("language", view.language)
    add("type", "Sound")
    add("type", "oral history interview")
    add("format", "audio/mpeg")
    add("description", view.summary)
    for t in view.topics:
        if t.title:
            add("description", f"{t.start_ms // 60000:02d}:{t.start_ms // 1000 % 60:02d} {t.title}")
    seen = set()
    for ln in view.links:
        if ln.status == "rejected":
            continue
        key = (ln.kind, ln.term_label)
        if key in seen:
            continue
        seen.add(key)
        add("coverage" if ln.kind == "place" else "subject", ln.term_label)
    for ln in view.links:  # issue 25: the terms' URIs (Wikidata, AAT, RAMEAU...), after the labels
        if ln.status == "rejected":
            continue
        for u in dict.fromkeys(u for u in (ln.uri, *(getattr(ln, "same_as", None) or ())) if u):
            if (ln.kind, u) not in seen:
                seen.add((ln.kind, u))
                add("coverage" if ln.kind == "place" else "subject", u)
    add("coverage", view.place)
    add("publisher", publisher or view.museum)
    add("identifier", identifier or view.id)
    add("identifier", audio_url)
    add("format", _iso_duration(view.duration_ms))
    add("rights", rights)
    return root


def to_xml(view, **kw) -> str:
    el = element(view, **kw)
    ET.indent(el)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode") + "\n"


def write(view, out: Path, **kw) -> Path:
    out = Path(out)
    with atomic_write(out) as fh:
        fh.write(to_xml(view, **kw))
    return out
