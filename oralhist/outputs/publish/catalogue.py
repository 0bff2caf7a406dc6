"""Catalogue pages of the public site (issue 24): research-only or embargoed interviews, catalogue fields only.

An interview whose consent says ``listing = catalogue`` (``consent.listed``) gets a card on the
home page and in ``catalogue/index.html``, a page ``catalogue/<public id>.html``, a line in the
sitemap and a record in both OAI-PMH outputs — built from ``consent.catalogue_card`` only:
title, museum, decade, trades and themes, duration, the narrator's name when not anonymised.
No audio, no text, no synopsis, no keyword taken from the transcript; the page says
« Consultable sur demande » and links to the request form (``[access] request_url``, default
the workbench's ``/demandes``). Pagefind indexes the catalogue page itself (catalogue fields).
A listing that ends (withdrawal, ``listing = none``) leaves no trace at the next publish; its
public id is announced deleted by the OAI endpoint (``consent.set_consent`` retires it).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Optional
from urllib.parse import quote

WORDS = {
    "fr": {"on_request": "Consultable sur demande", "ask": "Demander l’accès à ce témoignage",
           "catalogue": "Témoignages consultables sur demande",
           "ask_museum": "Pour le consulter, adressez-vous au musée.",
           "why": "Ce témoignage est réservé à la recherche ou sous embargo : ni son, ni texte en ligne. "
                  "Les chercheurs peuvent en demander l’accès ; le musée examine chaque demande.",
           "themes": "Thèmes", "trades": "Métiers", "reference": "Référence", "rights": "Accès sur demande : "
           "consultation réservée à la recherche, sur autorisation du musée"},
    "en": {"on_request": "Available on request", "ask": "Request access to this testimony",
           "catalogue": "Testimonies available on request",
           "ask_museum": "To consult it, please contact the museum.",
           "why": "This testimony is restricted to research or under embargo: no audio or text online. "
                  "Researchers may request access; the museum reviews each request.",
           "themes": "Themes", "trades": "Trades", "reference": "Reference", "rights": "Access on request: "
           "restricted to research, with the museum's permission"},
}


def catalogue_cards(ws, today: Optional[date] = None) -> list[dict]:
    """Every listed interview's catalogue fields (``consent.catalogue_card``), by title."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.editorial.consent import catalogue_card, listed
    from oralhist.editorial.view import load_interview
    from oralhist.records import Consent

    out = []
    with db.session(ws) as s:
        for c in s.exec(select(Consent).where(Consent.listing == "catalogue")).all():
            if not listed(c, today):
                continue
            card = catalogue_card(load_interview(s, c.interview_id, with_words=False), today)
            if card is not None:
                card["changed"] = max(filter(None, [c.updated_at]))
                out.append(card)
    out.sort(key=lambda c: (c["title"].casefold(), c["id"]))
    return out


def request_link(ws, key: str) -> str:
    """The request form's address for this interview ("" when the archive has no web address)."""
    from oralhist.editorial.access import access_settings

    url = access_settings(ws).request_url
    return url + "?entretien=" + quote(key) if url else ""


def dc_element(ws, card: dict, identifier: str):
    """The record's ``oai_dc`` element: catalogue fields, and ``dc:rights`` saying access is on request."""
    from xml.etree import ElementTree as ET

    from oralhist.outputs.exports.dublincore import DC, OAI_DC, XSI

    root = ET.Element(f"{{{OAI_DC}}}dc", {f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

    def add(name, value):
        if value:
            ET.SubElement(root, f"{{{DC}}}{name}").text = str(value)

    lang = (ws.settings.site_language or "fr")[:2]
    w = WORDS.get(lang, WORDS["fr"])
    add("title", card["title"] or ("Entretien" if lang == "fr" else "Interview"))
    add("creator", card["narrator"])
    add("date", f"{card['decade']}/{int(card['decade']) + 9}" if card["decade"] else None)
    add("type", "Sound")
    add("type", "oral history interview")
    for t in card["trades"] + card["themes"]:
        add("subject", t)
    add("publisher", card["museum"])
    add("identifier", identifier)
    add("rights", " — ".join(filter(None, [w["rights"], request_link(ws, card["id"])])))
    secs = card["duration_ms"] // 1000
    add("format", f"PT{secs // 3600}H{secs // 60 % 60}M{secs % 60}S")
    return root


def oai_records(ws, repo: str, base: str, today: Optional[date] = None) -> list[tuple]:
    """(identifier, datestamp, dc element, museum) of every catalogue record, for the OAI-PMH endpoint."""
    out = []
    for card in catalogue_cards(ws, today):
        page = f"{base}/catalogue/{card['id']}.html" if base else f"catalogue/{card['id']}.html"
        out.append((f"oai:{repo}:{card['id']}", card["changed"], dc_element(ws, card, page), card.get("museum")))
    return out


# Over 80 lines on purpose: every output of the catalogue (pages, list, search pages, home block, sitemap,
# static OAI records) is written from the same cards in one pass, as exhibits.py does for exhibitions.
def add_catalogue(ws, model, *, today: Optional[date] = None) -> int:
    """Add the catalogue's pages and records to ``model``; returns how many interviews are listed."""
    from html import escape
    from xml.etree import ElementTree as ET
    from xml.sax.saxutils import escape as xml_escape

    from jinja2 import Environment, PackageLoader, StrictUndefined

    from oralhist.outputs.publish.i18n import messages
    from oralhist.outputs.publish.typography import decade, duration

    cards = catalogue_cards(ws, today)
    if not cards:
        return 0
    # the site's templates without render.py's filters (none needed; render -> model -> oai -> here would be a cycle)
    env = Environment(loader=PackageLoader("oralhist.outputs.publish", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    lang = model.language
    w = WORDS.get(lang, WORDS["fr"])
    common = {"site_title": model.title, "lang": lang, "m": messages(lang), "w": w}
    base = model.base_url or ""
    for c in cards:
        c["decade_label"] = decade(c["decade"], lang) if c["decade"] else ""
        c["duration_label"] = duration(c["duration_ms"], lang)
        c["request"] = request_link(ws, c["id"])
        page = f"catalogue/{c['id']}.html"
        html = env.get_template("catalogue.html").render(**common, root="../", c=c)
        model.add_text(page, html)
        model.search_pages[page] = (hashlib.sha256(html.encode()).hexdigest(), html)
    model.add_text("catalogue/index.html", env.get_template("catalogue_list.html").render(**common, root="../", cards=cards))
    # home page, sitemap, static OAI file: small insertions, so build.py and feeds.py stay as they are
    block = (f'<section class="catalogue" aria-labelledby="cat-h"><h2 id="cat-h">{escape(w["catalogue"])}</h2><ul class="cards">'
             + "".join(f'<li class="card"><h3><a href="catalogue/{escape(c["id"])}.html">{escape(c["title"] or "Entretien")}</a></h3>'
                       f'<p class="meta">{escape(" · ".join(x for x in (c["narrator"], c["decade_label"], c["museum"], c["duration_label"]) if x))}</p>'
                       f'<p class="on-request">{escape(w["on_request"])}</p></li>' for c in cards)
             + f'</ul><p><a href="catalogue/index.html">{escape(w["catalogue"])}</a></p></section>\n')
    loc = lambda p: xml_escape(f"{base}/{p}" if base else p)  # noqa: E731
    oai = "".join(_oai_static_record(ws, model, c, ET) for c in cards)
    for path, markers, add in (("index.html", ("</main>",), block),
                               ("sitemap.xml", ("</urlset>",), "".join(
                                   "  <url><loc>" + loc("catalogue/" + c["id"] + ".html") + "</loc></url>\n" for c in cards)),
                               ("oai-pmh.xml", ("</ListRecords>",), oai)):
        f = model.files.get(path)
        if f is None or f.content is None:
            continue
        text = f.content.decode("utf-8")
        empty = '<ListRecords metadataPrefix="oai_dc" />'
        if path == "oai-pmh.xml" and empty in text:
            text = text.replace(empty, '<ListRecords metadataPrefix="oai_dc">' + oai + "</ListRecords>", 1)
        else:
            text = text.replace(markers[0], add + markers[0], 1)
        del model.files[path]
        model.add_text(path, text)
    return len(cards)


def _oai_static_record(ws, model, card, ET) -> str:
    OAI = "http://www.openarchives.org/OAI/2.0/"
    base = model.base_url
    page = f"{base}/catalogue/{card['id']}.html" if base else f"catalogue/{card['id']}.html"
    rec = ET.Element(f"{{{OAI}}}record")
    header = ET.SubElement(rec, f"{{{OAI}}}header")
    ET.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:{model.oai_repo}:{card['id']}"
    ET.SubElement(header, f"{{{OAI}}}datestamp").text = str(card["changed"])[:10]
    ET.SubElement(rec, f"{{{OAI}}}metadata").append(dc_element(ws, card, page))
    return ET.tostring(rec, encoding="unicode")
