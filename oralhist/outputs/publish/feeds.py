"""Feeds for machines: each interview's JSON-LD, the sitemap and the static OAI-PMH file."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from oralhist.outputs.publish.model import MIME
from oralhist.outputs.publish.typography import clock, iso_duration, seconds


def jsonld(entry, model, page_url: str) -> dict:
    """The interview's schema.org AudioObject (JSON-LD), embedded in its page."""
    v = entry.view
    base = model.base_url
    absu = (lambda p: f"{base}/{p}") if base else (lambda p: p)
    d = {
        "@context": "https://schema.org",
        "@type": "AudioObject",
        "@id": absu(page_url),
        "name": v.title or v.id,
        "inLanguage": v.language,
        "duration": iso_duration(v.duration_ms),
        "genre": "oral history",
    }
    if v.summary:
        d["description"] = v.summary
    if v.date:
        d["dateCreated"] = v.date
    if v.narrator:
        d["creator"] = {"@type": "Person", "name": v.narrator}
    if v.interviewer:
        d["contributor"] = {"@type": "Person", "name": v.interviewer}
    if v.museum:
        # schema.org's Museum is a Place; the publisher is an organisation.
        d["publisher"] = {"@type": "Organization", "name": v.museum}
    if entry.license:
        d["license"] = entry.license
    if entry.rights:
        d["copyrightNotice"] = entry.rights
    text = " ".join(sg.text.strip() for sg in getattr(v, "segments", ()) if sg.text.strip())
    if text:
        d["transcript"] = text
    if v.place:
        d["contentLocation"] = {"@type": "Place", "name": v.place}
    if entry.audio_path:
        d["contentUrl"] = absu(entry.audio_path)
        d["encodingFormat"] = MIME.get(Path(entry.audio_path).suffix, "audio/mpeg")
    about, seen = [], set()
    for ln in entry.links:
        if ln.term_id in seen:
            continue
        seen.add(ln.term_id)
        a = {"@type": "DefinedTerm", "name": ln.term_label}
        if ln.uri:
            a["sameAs"] = ln.uri
        about.append(a)
    if about:
        d["about"] = about
    if v.topics:
        d["hasPart"] = [{"@type": "Clip", "name": t.title or clock(t.start_ms), "startOffset": t.start_ms / 1000,
                         "endOffset": t.end_ms / 1000, "url": absu(f"{page_url}#t={seconds(t.start_ms)}")}
                        for t in v.topics]
    return d



def sitemap(model) -> str:
    """sitemap.xml: the home page, every interview page and every term page."""
    from xml.sax.saxutils import escape

    base = model.base_url
    urls = ["index.html"] + [f"i/{e.view.id}.html" for e in model.interviews] + [f"t/{t.slug}.html" for t in model.terms.values()]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for u in urls:
        lines.append(f"  <url><loc>{escape(f'{base}/{u}' if base else u)}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def oai_static(model) -> str:
    """OAI-PMH Static Repository file (Identify, ListMetadataFormats, ListRecords in oai_dc)."""
    from xml.etree import ElementTree as ET

    from oralhist.outputs.exports import dublincore

    SR = "http://www.openarchives.org/OAI/2.0/static-repository"
    OAI = "http://www.openarchives.org/OAI/2.0/"
    ET.register_namespace("", SR)
    ET.register_namespace("oai", OAI)
    base = model.base_url or "file:"
    root = ET.Element(f"{{{SR}}}Repository", {
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
            f"{SR} http://www.openarchives.org/OAI/2.0/static-repository.xsd"})
    ident = ET.SubElement(root, f"{{{SR}}}Identify")
    host = re.sub(r"^[a-z]+://", "", base).split("/")[0] or "localhost"
    for tag, val in (("repositoryName", model.title), ("baseURL", f"{base}/oai-pmh.xml"),
                     ("protocolVersion", "2.0"), ("adminEmail", "archive@example.invalid"),
                     ("earliestDatestamp", min((e.changed for e in model.interviews if e.changed), default="2000-01-01")),
                     ("deletedRecord", "no"), ("granularity", "YYYY-MM-DD")):
        ET.SubElement(ident, f"{{{OAI}}}{tag}").text = val
    fmts = ET.SubElement(root, f"{{{SR}}}ListMetadataFormats")
    fmt = ET.SubElement(fmts, f"{{{OAI}}}metadataFormat")
    ET.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = "oai_dc"
    ET.SubElement(fmt, f"{{{OAI}}}schema").text = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    ET.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = dublincore.OAI_DC
    recs = ET.SubElement(root, f"{{{SR}}}ListRecords", {"metadataPrefix": "oai_dc"})
    today = date.today().isoformat()
    for e in model.interviews:
        stamp = e.changed or today
        v = e.view
        rec = ET.SubElement(recs, f"{{{OAI}}}record")
        header = ET.SubElement(rec, f"{{{OAI}}}header")
        # The same stable identifiers as the OAI-PMH endpoint (oralhist/outputs/publish/oai.py).
        ET.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:{model.oai_repo or host}:{v.id}"
        ET.SubElement(header, f"{{{OAI}}}datestamp").text = stamp
        md = ET.SubElement(rec, f"{{{OAI}}}metadata")
        md.append(ET.fromstring(e.oai_dc))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

