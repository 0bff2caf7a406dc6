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
        about.append(defined_term(ln))
    if about:
        d["about"] = about
    if v.topics:
        d["hasPart"] = [{"@type": "Clip", "name": t.title or clock(t.start_ms), "startOffset": t.start_ms / 1000,
                         "endOffset": t.end_ms / 1000, "url": absu(f"{page_url}#t={seconds(t.start_ms)}")}
                        for t in v.topics]
    return d



def same_as(item) -> list[str]:
    """The term's URI and its equivalents (Wikidata, AAT, RAMEAU...): schema.org ``sameAs``."""
    out = [u for u in (getattr(item, "uri", None), *(getattr(item, "same_as", None) or ())) if u]
    return list(dict.fromkeys(out))


def defined_term(item, url: str = "") -> dict:
    """schema.org node of a vocabulary term (a link or a ``TermPage``): a ``Place`` with its
    ``geo`` coordinates for places, a ``DefinedTerm`` otherwise; ``@id`` its URI, ``sameAs`` its
    equivalents. For the interview's ``about`` and the term pages (the site renders it)."""
    kind = getattr(item, "kind", "")
    label = getattr(item, "term_label", None) or getattr(item, "label", "")
    d: dict = {"@type": "Place" if kind == "place" else "DefinedTerm", "name": label}
    uris = same_as(item)
    if uris:
        d["@id"] = uris[0]
        d["sameAs"] = uris if len(uris) > 1 else uris[0]
    if url:
        d["url"] = url
    lat, lon = getattr(item, "latitude", None), getattr(item, "longitude", None)
    if kind == "place" and lat is not None and lon is not None:
        d["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
    insee = getattr(item, "insee", None)
    if kind == "place" and insee:
        d["identifier"] = {"@type": "PropertyValue", "propertyID": "INSEE", "value": insee}
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
                     ("protocolVersion", "2.0"), ("adminEmail", model.admin_email or "archive@example.invalid"),
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



def iiif_collections(model) -> dict[str, str]:
    """IIIF Presentation 3 collections: ``iiif/collection.json``, the archive's: one collection
    per museum (``iiif/musees/<museum>.json``, its interviews' manifests), then every
    interview's manifest. Path -> JSON text."""
    import json

    from oralhist.outputs.exports.addresses import LOCAL_BASE
    from oralhist.text import slugify

    base = model.base_url or LOCAL_BASE
    ctx = "http://iiif.io/api/presentation/3/context.json"
    by_museum: dict[str, list] = {}
    items = []
    for e in sorted(model.interviews, key=lambda e: ((e.view.title or e.view.id).casefold(), e.view.id)):
        v = e.view
        item = {"id": f"{base}/media/{v.id}/manifest.json", "type": "Manifest",
                "label": {model.language: [v.title or v.id]}}
        items.append(item)
        if v.museum:
            by_museum.setdefault(v.museum, []).append(item)
    title = {"fr": ["Témoignages"], "en": ["Interviews"]}
    out = {}
    museums = []
    for name, its in sorted(by_museum.items(), key=lambda kv: kv[0].casefold()):
        path = f"iiif/musees/{slugify(name, 'musee')}.json"
        cid = f"{base}/{path}"
        museums.append({"id": cid, "type": "Collection", "label": {"none": [name]}})
        out[path] = json.dumps({"@context": ctx, "id": cid, "type": "Collection",
                                "label": {"fr": [f"Témoignages — {name}"], "en": [f"Interviews — {name}"]},
                                "partOf": [{"id": f"{base}/iiif/collection.json", "type": "Collection",
                                            "label": title}],
                                "items": its}, ensure_ascii=False, indent=1)
    top = {"@context": ctx, "id": f"{base}/iiif/collection.json", "type": "Collection",
           "label": {"fr": [f"{model.title} — témoignages"], "en": [f"{model.title} — interviews"]},
           "items": museums + items}
    from oralhist.editorial.rights import iiif_rights_uri

    if iiif_rights_uri(model.license):
        top["rights"] = iiif_rights_uri(model.license)
    out["iiif/collection.json"] = json.dumps(top, ensure_ascii=False, indent=1)
    return out


# What partners' viewers (Clover, Mirador, Universal Viewer, the OHMS viewer) fetch from
# another origin: manifests and collections, captions and chapters, audio, OHMS and DC.
CORS_PATHS = ("*.json", "*.vtt", "*.xml", "*.mp3", "*.m4a", "*.ogg", "*.opus", "*.webm")


def headers_file() -> str:
    """``_headers`` (Netlify, Cloudflare Pages): CORS for what viewers on other sites read."""
    lines = ["# Written by oralhist publish: viewers on other sites (IIIF, OHMS) may read these files.",
             "# docs/publish.md, \"Hosting for partners' viewers\"."]
    # Patterns that never overlap: a path matched twice would get the header twice ("*, *"),
    # which browsers refuse.
    for pat in ("/media/*", "/iiif/*", "/objets/*", "/oai-pmh.xml", "/sitemap.xml"):
        lines += [pat, "  Access-Control-Allow-Origin: *", "  Access-Control-Allow-Headers: Range",
                  "  Access-Control-Expose-Headers: Content-Length, Content-Range, Accept-Ranges"]
    return "\n".join(lines) + "\n"


def htaccess_file() -> str:
    """``.htaccess`` (Apache with mod_headers): the same CORS headers, and the types of VTT and JSON."""
    exts = "|".join(p[2:] for p in CORS_PATHS)
    return ("# Written by oralhist publish: viewers on other sites (IIIF, OHMS) may read these files.\n"
            "# docs/publish.md, \"Hosting for partners' viewers\". Needs mod_headers.\n"
            "AddType text/vtt .vtt\nAddType application/ld+json .jsonld\n"
            "<IfModule mod_headers.c>\n"
            f'  <FilesMatch "\\.({exts})$">\n'
            '    Header set Access-Control-Allow-Origin "*"\n'
            '    Header set Access-Control-Allow-Headers "Range"\n'
            '    Header set Access-Control-Expose-Headers "Content-Length, Content-Range, Accept-Ranges"\n'
            "  </FilesMatch>\n</IfModule>\n")
