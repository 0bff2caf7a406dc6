"""Exhibition pages of the public site (issue 14), added to the site model after build.py's pages.

Consent is re-checked here at every publish (``exhibit.public_exhibition``): a clip whose
interview is no longer public or that a redaction overlaps is left out and noted for the
curator; clip words come from ``consent.public_view`` only. Objects without alt text are left
out with a warning. Pages: ``expositions/<slug>/index.html``; pictures under
``objets/media/`` (shared with the object pages, publish/objects.py); ``expositions/collection.json`` (IIIF Collection); the home page and the
sitemap get the list.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Optional


def add_exhibitions(ws, model, *, today: Optional[date] = None, objects_pages: Optional[dict] = None) -> list[str]:
    """Render every stored exhibition into ``model.files``; returns the curator's notes."""
    from html import escape
    from xml.sax.saxutils import escape as xml_escape

    from oralhist import db
    from oralhist.editorial.consent import load_for_public, public_view
    from oralhist.outputs.exhibit import list_exhibitions, public_exhibition, store_dir
    from oralhist.outputs.publish.seo import page_meta
    from oralhist.outputs.objects import find_object_record
    from oralhist.outputs.publish.render import jinja_env
    from oralhist.outputs.publish.objects import clip_dict, object_media
    from oralhist.outputs.publish.i18n import messages

    exhibitions = list_exhibitions(ws)
    if not exhibitions:
        return []
    env = jinja_env()
    common = {"site_title": model.title, "lang": model.language, "m": messages(model.language)}
    entries = {e.archive_id: e for e in model.interviews}
    term_slugs = {tp.label: tp.slug for tp in model.terms.values()}
    notes: list[str] = []
    listed = []
    views = {}
    with db.session(ws) as s:
        for exh in exhibitions:
            pub, n = public_exhibition(s, exh, today)
            notes += n
            sections = []
            for sec in pub.sections:
                clips = []
                for c in sec.clips:
                    entry = entries.get(c.interview_id)
                    if entry is None or not entry.audio_path:
                        notes.append(f"{exh.slug} › {sec.title} : extrait retiré : consentement modifié (ligne {c.line})")
                        continue
                    if c.interview_id not in views:
                        views[c.interview_id] = public_view(load_for_public(s, c.interview_id), today=today)
                    clips.append(clip_dict(views[c.interview_id], entry.audio_path, c.start_ms, c.end_ms))
                objects = []
                for inv in sec.objects:
                    term, rec = find_object_record(s, inv)
                    if rec is None or not rec.image_path:
                        continue
                    if not (rec.alt or "").strip():
                        notes.append(f"{exh.slug} › {sec.title} : objet {inv} sans texte alternatif, non publié")
                        continue
                    pg = (objects_pages or {}).get(term.id)
                    objects.append({"alt": rec.alt, "label": term.designation or term.label,
                                    "inventory": term.inventory_number, "credit": rec.credit_line,
                                    "media": pg.media if pg and pg.media else object_media(ws, model, rec),
                                    "page": pg.path if pg else None})
                terms = [{"label": t, "slug": term_slugs.get(t)} for t in sec.terms]
                sections.append({"title": sec.title, "html": sec.narrative_html, "clips": clips,
                                 "objects": objects, "terms": terms})
            pic = next((o for sec in sections for o in sec["objects"] if o["media"]), None)
            path = f"expositions/{exh.slug}/index.html"
            intro = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pub.intro_html or "")).strip()
            meta = page_meta(model, path, f"{pub.title} · {model.title}", intro or pub.title, kind="exhibition",
                             image=pic["media"]["page"]["jpg"] if pic else None, image_alt=pic["alt"] if pic else "")
            html = env.get_template("exhibition.html").render(**common, root="../../", e=pub, sections=sections,
                                                              meta=meta)
            model.add_text(path, html)
            listed.append(exh)
            src = store_dir(ws) / f"{exh.slug}.json"  # issue 26: the front pages' featured exhibition and rows
            model.exhibitions.append({"slug": exh.slug, "title": pub.title, "intro": intro, "museum": exh.museum,
                                      "media": pic["media"] if pic else None, "alt": pic["alt"] if pic else "",
                                      "mtime": src.stat().st_mtime if src.exists() else 0})
    # IIIF Collection of the exhibitions
    base = model.base_url or ""
    coll = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{base}/expositions/collection.json",
            "type": "Collection", "label": {"fr": ["Expositions"]},
            "items": [{"id": f"{base}/expositions/{e.slug}/index.html", "type": "Collection",
                       "label": {"fr": [e.title]}} for e in listed]}
    model.add_text("expositions/collection.json", json.dumps(coll, ensure_ascii=False, indent=1))
    # Home page and sitemap: a small insertion, so build.py stays as it is.
    block = ('<section class="exhibitions" aria-labelledby="expo-h"><h2 id="expo-h">Expositions</h2><ul>'
             + "".join(f'<li><a href="expositions/{escape(e.slug)}/index.html">{escape(e.title)}</a></li>' for e in listed)
             + "</ul></section>\n")
    for path, marker, add in (("temoignages.html", "</main>", block),
                              ("sitemap.xml", "</urlset>", "".join(
                                  f"  <url><loc>{xml_escape(f'{base}/expositions/{e.slug}/index.html' if base else f'expositions/{e.slug}/index.html')}</loc></url>\n"
                                  for e in listed))):
        f = model.files.get(path)
        if f is not None and f.content is not None:
            text = f.content.decode("utf-8").replace(marker, add + marker, 1)
            del model.files[path]
            model.add_text(path, text)
    return notes
