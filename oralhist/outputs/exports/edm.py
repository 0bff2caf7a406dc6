"""Europeana Data Model record (``edm``, RDF/XML) of one interview: ProvidedCHO, Aggregation, WebResource."""

from __future__ import annotations

from typing import Optional
from xml.etree import ElementTree as ET

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
EDM = "http://www.europeana.eu/schemas/edm/"
ORE = "http://www.openarchives.org/ore/terms/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
WGS84 = "http://www.w3.org/2003/01/geo/wgs84_pos#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EDM_SCHEMA = "http://www.europeana.eu/schemas/edm/EDM.xsd"
for _p, _u in (("rdf", RDF), ("edm", EDM), ("ore", ORE), ("skos", SKOS), ("wgs84_pos", WGS84), ("dcterms", DCTERMS)):
    ET.register_namespace(_p, _u)


def edm_rights(license: str) -> Optional[str]:
    """The ``edm:rights`` URI Europeana accepts (Creative Commons or rightsstatements.org, in
    their http:// form), None for any other licence: such a record has no EDM form."""
    from oralhist.editorial.rights import iiif_rights_uri

    return iiif_rights_uri(license)


def element(view, *, page_url: str, audio_url: Optional[str], license: str, rights: str = "",
            provider: str = "", data_provider: str = "", audio_format: str = "audio/mpeg") -> Optional[ET.Element]:
    """``<rdf:RDF>`` with the interview's ``edm:ProvidedCHO`` (``edm:type`` SOUND), its
    ``ore:Aggregation`` (``edm:dataProvider`` the museum, ``edm:provider`` the network,
    ``edm:rights``, ``isShownAt`` the page, ``isShownBy`` the audio), the audio's
    ``edm:WebResource``, and a ``skos:Concept``/``edm:Place`` for each linked term with a URI
    (``dc:subject``/``dcterms:spatial`` point at it with ``rdf:resource``). None without a
    rights URI Europeana accepts."""
    rights_uri = edm_rights(license)
    if not rights_uri:
        return None
    lang = (view.language or "fr").split("-")[0]
    root = ET.Element(f"{{{RDF}}}RDF")
    cho_id, agg_id = f"{page_url}#cho", f"{page_url}#aggregation"
    cho = ET.SubElement(root, f"{{{EDM}}}ProvidedCHO", {f"{{{RDF}}}about": cho_id})

    def lit(parent, ns, name, value, lang_tag: Optional[str] = None):
        if value:
            el = ET.SubElement(parent, f"{{{ns}}}{name}", {XML_LANG: lang_tag} if lang_tag else {})
            el.text = str(value)

    def res(parent, ns, name, uri):
        if uri:
            ET.SubElement(parent, f"{{{ns}}}{name}", {f"{{{RDF}}}resource": uri})

    lit(cho, DC, "title", view.title or view.id, lang)
    lit(cho, DC, "description", view.summary, lang)
    lit(cho, DC, "creator", view.narrator)
    lit(cho, DC, "contributor", view.interviewer)
    lit(cho, DC, "language", lang)
    lit(cho, DC, "type", "entretien d'histoire orale" if lang == "fr" else "oral history interview", lang)
    res(cho, DC, "type", "http://vocab.getty.edu/aat/300081037")  # AAT: oral histories (document genre)
    lit(cho, DCTERMS, "created", view.date)
    s = max(0, view.duration_ms) // 1000
    lit(cho, DCTERMS, "extent", f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S")
    lit(cho, DCTERMS, "isPartOf", view.museum)
    lit(cho, DCTERMS, "spatial", view.place)
    contextual, seen = [], set()
    for ln in view.links:
        if ln.status == "rejected" or (ln.kind, ln.term_label) in seen:
            continue
        seen.add((ln.kind, ln.term_label))
        uris = list(dict.fromkeys(u for u in (ln.uri, *(ln.same_as or ())) if u))
        prop = (DCTERMS, "spatial") if ln.kind == "place" else (DC, "subject")
        if uris:
            res(cho, *prop, uris[0])
            contextual.append((ln, uris))
        else:
            lit(cho, *prop, ln.term_label, lang)
    lit(cho, EDM, "type", "SOUND")
    if audio_url:
        wr = ET.SubElement(root, f"{{{EDM}}}WebResource", {f"{{{RDF}}}about": audio_url})
        lit(wr, DC, "format", audio_format)
        lit(wr, DC, "rights", rights)
        res(wr, EDM, "rights", rights_uri)
    agg = ET.SubElement(root, f"{{{ORE}}}Aggregation", {f"{{{RDF}}}about": agg_id})
    res(agg, EDM, "aggregatedCHO", cho_id)
    lit(agg, EDM, "dataProvider", data_provider or view.museum or provider)
    res(agg, EDM, "isShownAt", page_url)
    res(agg, EDM, "isShownBy", audio_url)
    lit(agg, EDM, "provider", provider or data_provider or view.museum)
    lit(agg, DC, "rights", rights)
    res(agg, EDM, "rights", rights_uri)
    for ln, uris in contextual:
        kind = (EDM, "Place") if ln.kind == "place" else (SKOS, "Concept")
        el = ET.SubElement(root, f"{{{kind[0]}}}{kind[1]}", {f"{{{RDF}}}about": uris[0]})
        lit(el, SKOS, "prefLabel", ln.term_label, lang)
        if ln.kind == "place" and ln.latitude is not None and ln.longitude is not None:
            lit(el, WGS84, "lat", ln.latitude)
            lit(el, WGS84, "long", ln.longitude)
        if ln.kind == "place" and ln.insee:
            lit(el, SKOS, "notation", f"INSEE {ln.insee}")
        for u in uris[1:]:
            res(el, SKOS, "exactMatch", u)
    return root
