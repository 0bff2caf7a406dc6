"""Discovery tags of every public page (issue 25 item 6): JSON-LD, OpenGraph and Twitter cards.

``page_meta`` gives what templates/base.html writes in ``<head>``: the page's absolute address
(with ``[site] base_url``; a local build keeps relative ones), an OpenGraph / Twitter card whose
image is the page's picture (an object's) or the site's generated card (``partage.png``, drawn
with Pillow at publish time), and a schema.org JSON-LD object for the page's kind: WebSite with
a SearchAction (home), DefinedTerm (term pages), CreativeWork with ``image`` (objects),
ExhibitionEvent (exhibitions), Museum (museum pages), CollectionPage (lists, map, timeline).
"""

from __future__ import annotations

import io
from typing import Optional

CARD = "partage.png"
CARD_SIZE = (1200, 630)


def card_png(title: str, colour: str = "#24313d") -> bytes:
    """The site's sharing card: its title on the theme's colour, 1200 x 630 (OpenGraph's size)."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", CARD_SIZE, colour)
    d = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=72)
    y = 200
    for line in textwrap.wrap(title or "", 28)[:4]:
        d.text((80, y), line, fill="#ffffff", font=font)
        y += 92
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def json_for_script(data) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' that could close the element (as render.py's)."""
    import json

    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def absolute(model, path: str) -> str:
    return f"{model.base_url}/{path}" if model.base_url else path


def page_meta(model, path: str, title: str, description: str, *, kind: str = "page",
              image: Optional[str] = None, image_alt: str = "", ld: Optional[dict] = None) -> dict:
    """Tags of one page. ``path``: the page, from the site root; ``image``: a picture's path from
    the root (else the generated card); ``ld``: the page's own JSON-LD fields (merged over the
    kind's defaults); kind ``interview`` keeps the interview page's own JSON-LD."""
    url = absolute(model, path)
    img = absolute(model, image or CARD)
    desc = " ".join((description or title or "").split())[:300]
    data = None
    if kind != "interview":
        types = {"home": "WebSite", "term": "DefinedTerm", "object": "CreativeWork", "exhibition": "ExhibitionEvent",
                 "museum": "Museum", "collection": "CollectionPage"}
        data = {"@context": "https://schema.org", "@type": types.get(kind, "WebPage"), "name": title, "url": url,
                "description": desc, "inLanguage": model.language}
        if kind == "home":
            data["potentialAction"] = {"@type": "SearchAction",
                                       "target": {"@type": "EntryPoint",
                                                  "urlTemplate": absolute(model, "search.html") + "?q={search_term_string}"},
                                       "query-input": "required name=search_term_string"}
        else:
            data["isPartOf"] = {"@type": "WebSite", "name": model.title, "url": absolute(model, "index.html")}
        if kind in ("object", "exhibition", "museum") or image:
            data["image"] = img
        data.update(ld or {})
    return {"url": url, "title": title, "description": desc, "image": img, "image_alt": image_alt or title,
            "type": "website" if kind == "home" else "article",
            "jsonld": json_for_script(data) if data is not None else None}


def term_meta(model, tp) -> dict:
    """A term page's tags: a DefinedTerm of the archive's vocabulary of its kind."""
    ld = {"termCode": tp.inventory_number or None, "sameAs": tp.uri or None,
          "inDefinedTermSet": {"@type": "DefinedTermSet", "name": f"{model.title} : {tp.kind}"}}
    return page_meta(model, f"t/{tp.slug}.html", f"{tp.label} · {model.title}", tp.label, kind="term",
                     ld={k: v for k, v in ld.items() if v})


def add_card(model, colour: str = "#24313d") -> None:
    """The generated sharing card, once per build."""
    import hashlib

    from oralhist.outputs.publish.write import OutFile

    data = card_png(model.title, colour)
    if CARD not in model.files:
        model.add(OutFile(path=CARD, key=hashlib.sha256(data).hexdigest(), content=data))
