"""Publishing the site: read the model, render it, add the feeds, validate, then write.

The parts, each in its own module: ``model`` (what is public and how it reads), ``render``
(templates), ``feeds`` (JSON-LD, sitemap, the static OAI-PMH file), ``write`` (atomic files in
a safe order, the cache, the search shards). Only ``consent.public_view`` output reaches them.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Callable, Optional

from oralhist.errors import BadInput, StageError
from oralhist.progress import NULL
from oralhist.outputs.publish.model import load_model, validate
from oralhist.outputs.publish.render import render_model
from oralhist.outputs.publish.write import MANIFEST, built_kind, read_cache, write_site
from oralhist.stage import StageReport


KINDS = {"public": "public web site", "local": "local (file://) site", "kiosk": "kiosk build (--on-site)"}


def build_kind(ws, on_site: bool) -> str:
    """``kiosk`` (on-site interviews too), ``public`` (web addresses from ``[site] base_url``)
    or ``local`` (relative addresses only: a USB key, ``file://``)."""
    return "kiosk" if on_site else ("public" if ws.settings.base_url.strip() else "local")


def check_destination(ws, out: Path, kind: str) -> None:
    """Refuse, before anything is written, a build that would mix with another one.

    A build owns its whole folder (it serves, rewrites and removes every file in it), so no
    build goes inside another build, or in a folder holding one, whatever their kinds; a
    folder holds one kind, except that a public site and a local one (the same public
    interviews, other addresses) may replace each other. A kiosk build never goes in or
    around the archive's public site folder, even before that is built."""
    if out.exists() and not out.is_dir():
        raise BadInput(out, "exists and is not a folder")
    o = out.resolve()
    pub = ws.site.resolve()
    if kind == "kiosk" and (o == pub or pub in o.parents or o in pub.parents):
        raise BadInput(out, f"a kiosk build (--on-site) must not be written in or around the public site {ws.site}; "
                            "choose a folder outside it")
    for parent in o.parents:
        other = built_kind(parent)
        if other is not None:
            raise BadInput(out, f"folder is inside the {KINDS.get(other, 'site')} built in {parent}; "
                                "choose a folder outside it")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BadInput(out, f"folder is not empty and is not a site built by oralhist (no {MANIFEST}); choose another --out")
    other = built_kind(out)
    if other and other != kind and "kiosk" in (kind, other):
        raise BadInput(out, f"folder holds a {KINDS.get(other, other)}; a {KINDS[kind]} must not replace it: "
                            "choose another --out")
    if other is not None:
        inner = next((p.parent for p in out.rglob(MANIFEST) if p.parent != out), None)
        if inner is not None:
            raise BadInput(out, f"folder holds another oralhist build in {inner}; move it out first")
    if o != pub and (pub in o.parents or o in pub.parents):
        raise BadInput(out, f"folder is in or around the archive's public site {ws.site}; choose a folder outside it")


def partner_notes(ws, model) -> list[str]:
    """What partners' tools will miss (issue 25), for the publish report: the records left out
    of the EDM format (no rights URI Europeana accepts), and robots.txt when base_url has a path."""
    from urllib.parse import urlsplit

    from oralhist.editorial.rights import iiif_rights_uri

    notes = []
    no_rights = sorted(e.view.id for e in model.interviews if not iiif_rights_uri(e.license))
    if no_rights:
        notes.append(f"{len(no_rights)} interview(s) left out of the EDM records (OAI-PMH metadataPrefix=edm) for "
                     f"want of a rights URI (Creative Commons or rightsstatements.org; [site] license or "
                     f"oralhist consent ID --license URI): {', '.join(no_rights[:20])}"
                     + (" …" if len(no_rights) > 20 else ""))
    u = urlsplit(model.base_url or "")
    if u.path.strip("/"):
        notes.append(f"robots.txt is only read at the root of the host ({u.scheme}://{u.netloc}/robots.txt), "
                     f"not in {u.path.rstrip('/')}/: add its line 'Sitemap: {model.base_url}/sitemap.xml' "
                     "there (docs/publish.md)")
    return notes


def publish_site(ws, out: Optional[Path] = None, *, progress=NULL, language: Optional[str] = None,
                 today: Optional[date] = None, on_site: bool = False, strict: bool = True,
                 before: Optional[Callable[[object], object]] = None) -> StageReport:
    """Build the static site into ``out`` (default ``site/`` of the archive).

    ``before(ws)`` runs first: the callers above this layer pass
    ``pipeline.refresh_staff_exports``, so that staff copies made before a killed stage run
    follow the data again (publish does not import the pipeline)."""
    from oralhist import db
    from oralhist.stage import mark_done

    t0 = time.perf_counter()
    out = Path(out) if out is not None else ws.site
    kind = build_kind(ws, on_site)
    check_destination(ws, out, kind)
    if before is not None:
        before(ws)
    scopes = ("public", "on-site") if on_site else ("public",)
    from oralhist.outputs.publish.status import extras_state, record_published  # issue 21: /publish's truth

    extras = extras_state(ws)  # read before the site is: a change made during the publish stays pending
    cache = read_cache(out, ws)
    model = load_model(ws, language=language, today=today, scopes=scopes, progress=progress, cache=cache, out=out)
    model.language_index = (ws.settings.language if ws.settings.language not in ("", "auto") else model.language)[:2]
    from oralhist.outputs.publish.skip import set_aside_broken  # issue 19: one broken interview never blocks the others

    broken = set_aside_broken(model)
    render_model(model)
    from oralhist.outputs.publish.exhibits import add_exhibitions  # issue 14: exhibition pages
    from oralhist.outputs.publish.objects import add_objects  # issue 14: object and trade pages

    object_notes, object_pages = add_objects(ws, model, today=today)
    exhibit_notes = add_exhibitions(ws, model, today=today, objects_pages=object_pages)
    from oralhist.outputs.publish.front import add_front  # issue 26: home, museums, map, timeline, theme
    from oralhist.outputs.publish.places import add_places
    from oralhist.outputs.publish.theme import add_theme

    add_theme(ws, model)
    add_front(ws, model, object_pages, add_places(ws, model, object_pages))
    from oralhist.outputs.publish.catalogue import add_catalogue  # issue 24: listed research-only / embargoed interviews

    catalogue = add_catalogue(ws, model, today=today)
    problems = validate(model)
    if problems and strict:
        raise StageError(out, "the site model is not valid: " + "; ".join(problems[:5]))
    figures = write_site(ws, model, out, progress=progress, kind=kind)
    record_published(ws, out, extras)
    rep = StageReport(stage="publish")
    rep.done = [e.archive_id for e in model.interviews]
    rep.failed = broken
    rep.details = {
        "site": str(out),
        "interviews": len(model.interviews),
        "terms": len(model.terms),
        "files": len(model.files),
        "written": len(figures["written"]),
        "kept": figures["kept"],
        "removed": len(figures["removed"]),
        "search_reindexed": figures["indexed"],
        "search_shards": model.search_shards,
        "search_shards_reindexed": figures["shards_indexed"],
        "seconds": round(time.perf_counter() - t0, 3),
        "warnings": problems,
        "exhibitions": exhibit_notes,
        "objects": object_notes,
        "partners": partner_notes(ws, model),
        "catalogue": catalogue,
    }
    if out.resolve() == ws.site.resolve() and not on_site:
        fresh = [(e.archive_id, e.view.transcript_version) for e in model.interviews if e.cached is None]
        if fresh:
            with db.session(ws) as s:
                for iid, tv in fresh:
                    # the version published, for status.site_notes ("a newer approved version waits")
                    mark_done(s, iid, "publish", {"site": str(out), "transcript_version": tv})
                s.commit()
    if out.resolve() == ws.site.resolve():
        from oralhist.editorial.activity import record_now  # issue 21 item 8: every publish of the site

        record_now(ws, actor="oralhist publish", action="publish",
                   detail=f"site publié : {len(model.interviews)} entretiens, {len(figures['written'])} fichiers écrits")
    return rep
