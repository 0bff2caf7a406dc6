"""Qualified Dublin Core record (``oai_qdc``) of one interview: dcterms refinements for aggregators."""

from __future__ import annotations

import re
from typing import Optional
from xml.etree import ElementTree as ET

QDC = "http://epubs.cclrc.ac.uk/xmlns/qdc/"
QDC_SCHEMA = "http://epubs.cclrc.ac.uk/xsd/qdc.xsd"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("qdc", QDC)
ET.register_namespace("dcterms", DCTERMS)


def _extent(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S"


def element(view, *, identifier: Optional[str] = None, audio_url: Optional[str] = None, rights: str = "",
            license: str = "", access: str = "public", publisher: Optional[str] = None) -> ET.Element:
    """``<qdc:qualifieddc>``: the oai_dc fields, refined (``dcterms:created``, ``extent``,
    ``spatial`` with the places' coordinates as a DCMI Point, ``temporal``, ``accessRights``,
    ``license``, ``isPartOf`` = the museum), and the terms' URIs as ``dcterms:subject``."""
    root = ET.Element(f"{{{QDC}}}qualifieddc", {f"{{{XSI}}}schemaLocation": f"{QDC} {QDC_SCHEMA}"})

    def add(ns, name, value, **attrs):
        if value:
            ET.SubElement(root, f"{{{ns}}}{name}", attrs).text = str(value)

    uri_type = {f"{{{XSI}}}type": "dcterms:URI"}
    add(DC, "title", view.title or view.id)
    add(DC, "creator", view.narrator)
    add(DC, "contributor", view.interviewer)
    add(DCTERMS, "created", view.date, **({f"{{{XSI}}}type": "dcterms:W3CDTF"}
                                          if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", view.date or "") else {}))
    add(DC, "language", view.language)
    add(DC, "type", "Sound", **{f"{{{XSI}}}type": "dcterms:DCMIType"})
    add(DC, "type", "oral history interview")
    add(DCTERMS, "abstract", view.summary)
    add(DCTERMS, "tableOfContents", " -- ".join(
        f"{t.start_ms // 60000:02d}:{t.start_ms // 1000 % 60:02d} {t.title}" for t in view.topics if t.title))
    seen = set()
    for ln in view.links:
        if ln.status == "rejected" or (ln.kind, ln.term_label) in seen:
            continue
        seen.add((ln.kind, ln.term_label))
        if ln.kind == "place":
            if ln.latitude is not None and ln.longitude is not None:
                add(DCTERMS, "spatial", f"name={ln.term_label}; east={ln.longitude}; north={ln.latitude}",
                    **{f"{{{XSI}}}type": "dcterms:Point"})
            else:
                add(DCTERMS, "spatial", ln.term_label)
        else:
            add(DC, "subject", ln.term_label)
        for u in dict.fromkeys(u for u in (ln.uri, *(ln.same_as or ())) if u):
            add(DCTERMS, "spatial" if ln.kind == "place" else "subject", u, **uri_type)
    add(DCTERMS, "spatial", view.place)
    m = re.match(r"(\d{4})", view.date or "")
    if m:  # the time the interview tells about is not known; the decade it was recorded in is
        add(DCTERMS, "temporal", f"name={m.group(1)[:3]}0s; start={m.group(1)[:3]}0; end={m.group(1)[:3]}9",
            **{f"{{{XSI}}}type": "dcterms:Period"})
    add(DCTERMS, "extent", _extent(view.duration_ms))
    add(DC, "format", "audio/mpeg", **{f"{{{XSI}}}type": "dcterms:IMT"})
    add(DCTERMS, "isPartOf", view.museum)
    add(DC, "publisher", publisher or view.museum)
    add(DC, "identifier", identifier or view.id, **(uri_type if identifier else {}))
    add(DC, "identifier", audio_url, **uri_type)
    add(DCTERMS, "accessRights", access)
    add(DC, "rights", rights)
    add(DCTERMS, "license", license, **uri_type)
    return root
