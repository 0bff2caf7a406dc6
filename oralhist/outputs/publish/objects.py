"""Object pages and trade pages of the public site (issue 14), added after build.py's pages.

* **Object pages** ``objets/<id>-<slug>/index.html``: the picture (card and page derivatives,
  WebP + JPEG, ``srcset``, alt text), the inventory record (designation, dates, materials,
  dimensions, museum, credit line, rights) and every public passage that speaks of the object,
  each playable in place by the exhibitions' clip player (exactly its range, with read-along).
  Beside each page, ``manifest.json``: a IIIF Presentation 3 manifest (the picture painted on
  one canvas), built and validated with ``iiif-prezi3``. ``objets/index.html`` lists them,
  ``objets/collection.json`` is their IIIF Collection. An object whose picture has no alt text
  is not published: a warning goes to the publish report. Object pages are in the search index.
* **Trade pages as small exhibitions**: the trade's term page gains its broader and narrower
  trades, the objects linked in the same passages (an object link of the same interview whose
  range overlaps the trade's) and the museums that hold those objects.
* The object's own term page links to its object page.

Passages come from ``model.terms`` (public views only: a withdrawn interview is not in the
model) and their words from ``consent.public_view``, so consent is re-checked at every publish.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Optional


def _clock(ms: int) -> str:
    s = ms // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def clip_dict(view, audio: str, start_ms: int, end_ms: int, quote: str = "") -> dict:
    """What the clip player (templates/_clip.html) needs: range, audio, words for read-along."""
    words = [(round(w.start_ms / 1000, 2), w.text) for sg in view.segments for w in sg.words
             if start_ms <= w.start_ms < end_ms]
    return {"start": f"{start_ms / 1000:.2f}", "end": f"{end_ms / 1000:.2f}", "audio": audio, "page": view.id,
            "title": view.title or view.id, "narrator": view.narrator, "words": words, "quote": quote,
            "label": f"{_clock(start_ms)}–{_clock(end_ms)}"}


@dataclass
class ObjectPage:
    term_id: int
    inventory: Optional[str]
    label: str
    path: str  # objets/<slug>/index.html
    alt: Optional[str] = None
    media: dict = field(default_factory=dict)  # see object_media
    museum: Optional[str] = None


def object_media(ws, model, rec) -> dict:
    """Add the picture's four derivatives under ``objets/media/`` (once) and return their paths
    and sizes: ``{"page": {"webp", "jpg", "w", "h"}, "card": {...}}``, with ``"avif"`` too where the
    archive made it (archive/images.py; a picture imported before, or by a Pillow without AVIF, has none)."""
    from PIL import Image

    from oralhist.outputs.objects import derivative
    from oralhist.outputs.publish.write import OutFile

    out = {}
    for size in ("page", "card"):
        d = {}
        for ext in ("avif", "webp", "jpg"):
            src = derivative(ws, rec, size, ext)
            if ext == "avif" and not src.is_file():
                continue
            path = f"objets/media/{src.name}"
            if path not in model.files:
                # copied, not read into memory: the name holds the original's hash, the key the file's
                # size and time, so an unchanged picture is neither read nor rewritten at each publish
                st = src.stat()
                model.add(OutFile(path=path, key=f"{src.name}|{st.st_size}|{st.st_mtime_ns}", source=src, recipe="copy"))
            d[ext] = path
        with Image.open(derivative(ws, rec, size, "jpg")) as im:  # header only
            d["w"], d["h"] = im.size
        out[size] = d
    return out


def _manifest(page: ObjectPage, rec, term, base: str, model) -> str:
    """IIIF Presentation 3 manifest of one object: its picture painted on one canvas."""
    from iiif_prezi3 import Annotation, AnnotationBody, AnnotationPage, Homepage, KeyValueString, Manifest, Resource

    folder = page.path.rsplit("/", 1)[0]
    mid = f"{base}/{folder}"
    label = {"fr": [page.label]}
    m = Manifest(id=f"{mid}/manifest.json", label=label)
    md = []
    for key, en, val in (("Numéro d'inventaire", "Inventory number", term.inventory_number),
                         ("Désignation", "Designation", term.designation), ("Dates", "Dates", rec.dates),
                         ("Matériaux", "Materials", rec.materials), ("Dimensions", "Dimensions", rec.dimensions),
                         ("Musée", "Museum", page.museum), ("Droits", "Rights", rec.rights)):
        if val:
            md.append(KeyValueString(label={"fr": [key], "en": [en]}, value={"none": [str(val)]}))
    if md:
        m.metadata = md
    if rec.credit_line:
        m.requiredStatement = KeyValueString(label={"fr": ["Crédit"], "en": ["Credit"]}, value={"none": [rec.credit_line]})
    from oralhist.editorial.rights import iiif_rights_uri

    if iiif_rights_uri(rec.rights or ""):  # the validator's form (http://); other licences stay in metadata
        m.rights = iiif_rights_uri(rec.rights)
    m.homepage = [Homepage(id=f"{base}/{page.path}", type="Text", label=label, format="text/html")]
    pg = page.media["page"]
    cid = f"{mid}/canvas/1"
    canvas = m.make_canvas(id=cid, width=pg["w"], height=pg["h"], label=label)
    ap = AnnotationPage(id=f"{cid}/page/1")
    ap.add_item(Annotation(id=f"{cid}/page/1/a1", motivation="painting", target=cid,
                           body=AnnotationBody(id=f"{base}/{pg['jpg']}", type="Image", format="image/jpeg",
                                             width=pg["w"], height=pg["h"], label={"fr": [page.alt or page.label]})))
    canvas.add_item(ap)
    card = page.media["card"]
    m.thumbnail = [Resource(id=f"{base}/{card['jpg']}", type="Image", format="image/jpeg",
                                width=card["w"], height=card["h"])]
    return m.json(indent=1)


def _views(model, today):
    """public id -> (public view or None, audio path), read once per interview when first needed."""
    from oralhist.editorial.consent import load_for_public, public_view

    by_public = {e.view.id: e for e in model.interviews}
    cache = {}

    def get(s, public_id):
        if public_id not in cache:
            e = by_public.get(public_id)
            v = public_view(load_for_public(s, e.archive_id), today=today) if e is not None else None
            cache[public_id] = (v, e.audio_path if e is not None else None)
        return cache[public_id]

    return get


# Over 80 lines on purpose: object pages, their IIIF manifests, the object list and the trade pages come from
# the same rows, read in one session.
def add_objects(ws, model, *, today: Optional[date] = None) -> tuple[list[str], dict]:
    """Object pages, their manifests and list, trade pages; returns (warnings, {term id: ObjectPage})."""
    from xml.sax.saxutils import escape as xml_escape

    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.publish.model import LOCAL_BASE
    from oralhist.outputs.publish.render import jinja_env
    from oralhist.outputs.publish.seo import page_meta, term_meta
    from oralhist.outputs.publish.write import shard_of
    from oralhist.text import slugify
    from oralhist.outputs.publish.i18n import messages
    from oralhist.records import Museum, ObjectRecord, Term, TermKind

    env = jinja_env()
    common = {"site_title": model.title, "lang": model.language, "m": messages(model.language)}
    base = model.base_url or LOCAL_BASE
    notes: list[str] = []
    pages: dict[int, ObjectPage] = {}
    view_of = _views(model, today)
    live_before = {shard_of(p, model.search_shards) for p in model.search_pages}
    with db.session(ws) as s:
        museums = {mu.id: mu.name for mu in s.exec(select(Museum)).all()}
        rows = s.exec(select(Term, ObjectRecord).join(ObjectRecord, ObjectRecord.term_id == Term.id)
                      .where(Term.kind == TermKind.object)).all()
        records = {}
        for term, rec in sorted(rows, key=lambda tr: ((tr[0].designation or tr[0].label).casefold(), tr[0].id)):
            label = term.designation or term.label
            if rec.image_path and not (rec.alt or "").strip():
                notes.append(f"objet {term.inventory_number or term.label} sans texte alternatif, non publié")
                continue
            pg = ObjectPage(term_id=term.id, inventory=term.inventory_number, label=label, alt=rec.alt,
                            path=f"objets/{term.id}-{slugify(label)}/index.html",
                            museum=museums.get(term.museum_id))
            if rec.image_path:
                pg.media = object_media(ws, model, rec)
            pages[term.id] = pg
            records[term.id] = (term, rec)
        tpl = env.get_template("object.html")
        for tid, pg in pages.items():
            term, rec = records[tid]
            tp = model.terms.get(tid)
            clips = []
            for c in (tp.clips if tp else []):
                v, audio = view_of(s, c.interview_id)
                if v is None or not audio:
                    continue
                clips.append(clip_dict(v, audio, c.start_ms, c.end_ms, c.quote))
            folder = pg.path.rsplit("/", 1)[0]
            meta = page_meta(model, pg.path, f"{pg.label} · {model.title}", rec.alt or pg.label, kind="object",
                             image=pg.media["page"]["jpg"] if pg.media else None, image_alt=pg.alt or "",
                             ld={"identifier": term.inventory_number} if term.inventory_number else None)
            html = tpl.render(**common, root="../../", o=pg, rec=rec, term=term, clips=clips,
                              term_slug=tp.slug if tp else None, meta=meta)
            model.add_text(pg.path, html)
            model.search_pages[pg.path] = (hashlib.sha256(html.encode()).hexdigest(), html)  # Pagefind
            if pg.media:
                model.add_text(f"{folder}/manifest.json", _manifest(pg, rec, term, base, model))
        # Term pages: an object's links to its object page; a trade's becomes a small exhibition.
        trades = {t.label: t for t in s.exec(select(Term).where(Term.kind == TermKind.trade)).all()}
        slug_of = {tp.term_id: tp.slug for tp in model.terms.values()}
        obj_terms = {t.id: t for t in s.exec(select(Term).where(Term.kind == TermKind.object)).all()}
        # links by term and interview, object links by interview: one pass over the links
        by_term: dict[int, dict[int, list]] = {}
        object_links: dict[int, list] = {}
        for k, e in enumerate(model.interviews):
            for ln in e.links:
                by_term.setdefault(ln.term_id, {}).setdefault(k, []).append(ln)
                if ln.kind == "object":
                    object_links.setdefault(k, []).append(ln)
        for tp in model.terms.values():
            extra = None
            if tp.kind == "object" and tp.term_id in pages:
                extra = {"object": pages[tp.term_id]}
            elif tp.kind == "trade":
                extra = _trade(tp, by_term, object_links, trades, slug_of, obj_terms, pages, museums)
            if extra is None:
                continue
            html = env.get_template("term_more.html").render(**common, root="../", t=tp, x=extra,
                                                             meta=term_meta(model, tp))
            path = f"t/{tp.slug}.html"
            del model.files[path]
            model.add_text(path, html)
            if path in model.search_pages:
                model.search_pages[path] = (hashlib.sha256(html.encode()).hexdigest(), html)
    live = {shard_of(p, model.search_shards) for p in model.search_pages}
    if live != live_before and "search.html" in model.files:  # the search page lists the shards that hold pages
        del model.files["search.html"]
        model.add_text("search.html", env.get_template("search.html").render(
            **common, root="", shards=" ".join(map(str, sorted(live))),
            meta=page_meta(model, "search.html", f"{common['m']['search']} · {model.title}", common["m"]["search_label"])))
    listed = sorted(pages.values(), key=lambda p: (p.label.casefold(), p.term_id))
    if listed:
        model.add_text("objets/index.html", env.get_template("objects.html").render(
            **common, root="../", objects=listed,
            meta=page_meta(model, "objets/index.html", f"{common['m']['objects']} · {model.title}", common["m"]["objects"],
                           kind="collection")))
        coll = {"@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{base}/objets/collection.json",
                "type": "Collection", "label": {"fr": ["Objets"]},
                "items": [{"id": f"{base}/{p.path.rsplit('/', 1)[0]}/manifest.json", "type": "Manifest",
                           "label": {"fr": [p.label]}} for p in listed if p.media]}
        model.add_text("objets/collection.json", json.dumps(coll, ensure_ascii=False, indent=1))
        block = ('<p class="objects-link"><a href="objets/index.html">Les objets des musées</a> '
                 f'({len(listed)})</p>\n')
        urls = ["objets/index.html"] + [p.path for p in listed]
        _insert(model, "index.html", "</main>", block)
        _insert(model, "sitemap.xml", "</urlset>", "".join(
            f"  <url><loc>{xml_escape(f'{model.base_url}/{u}' if model.base_url else u)}</loc></url>\n" for u in urls))
    return notes, pages


def _insert(model, path: str, marker: str, text: str) -> None:
    f = model.files.get(path)
    if f is not None and f.content is not None:
        new = f.content.decode("utf-8").replace(marker, text + marker, 1)
        del model.files[path]
        model.add_text(path, new)


def _trade(tp, by_term: dict, object_links: dict, trades: dict, slug_of: dict, obj_terms: dict, pages: dict,
           museums: dict) -> dict:
    """Broader/narrower trades, objects named in the same passages, the museums holding them."""
    term = trades.get(tp.label)
    broader = None
    if term is not None and term.broader:
        b = trades.get(term.broader)
        broader = {"label": term.broader, "slug": slug_of.get(b.id) if b else None}
    narrower = [{"label": t.label, "slug": slug_of.get(t.id)} for t in
                sorted(trades.values(), key=lambda t: t.label.casefold()) if t.broader == tp.label]
    found: dict[int, int] = {}  # object term id -> passages
    for k, mine in by_term.get(tp.term_id, {}).items():
        for ln in object_links.get(k, ()):
            if any(ln.start_ms < t.end_ms and t.start_ms < ln.end_ms for t in mine):
                found[ln.term_id] = found.get(ln.term_id, 0) + 1
    objects, held = [], {}
    for oid, n in sorted(found.items(), key=lambda kv: (obj_terms[kv[0]].designation or obj_terms[kv[0]].label).casefold()
                         if kv[0] in obj_terms else ""):
        t = obj_terms.get(oid)
        if t is None:
            continue
        pg = pages.get(oid)
        objects.append({"label": t.designation or t.label, "inventory": t.inventory_number, "passages": n,
                        "page": pg.path if pg else None, "term": slug_of.get(oid),
                        "card": pg.media.get("card") if pg and pg.media else None, "alt": pg.alt if pg else None})
        name = museums.get(t.museum_id)
        if name:
            held[name] = held.get(name, 0) + 1
    return {"trade": True, "broader": broader, "narrower": narrower, "objects": objects,
            "museums": sorted(held.items(), key=lambda kv: kv[0].casefold())}
