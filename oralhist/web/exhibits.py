"""The curators' pages (issue 14, workbench side): exhibitions, adding clips, objects' alt text.

Who curates: editors and admins (permission ``curate``). An account tied to a museum sees and
edits the exhibitions of that museum (the front matter's ``museum:``) and adds clips of that
museum's interviews and that museum's objects; an untied account (a federation editor, an admin,
the local token) reaches every exhibition. Another museum's exhibition, interview or object
answers 404; a volunteer gets 403 (the ``guard``).

Routes only parse, check the account's reach, and call the library (``oralhist.outputs.exhibit``,
``oralhist.outputs.objects``, ``oralhist.editorial.search``): the CLI's ``exhibit import`` and these pages store
the same form.

Pages: /expositions (list, create), /expositions/{slug} (editor: sections, clips, objects,
terms, consent notes), /expositions/{slug}/markdown (export), /expositions/recherche (search the
transcripts, add a hit), /expositions/termes and /expositions/termes/{id} (a term's passages),
/expositions/lecteur/{iid} (the player with in/out points), /objets (objects, alt text).
JSON twins: /api/expositions, /api/expositions/{slug}, /api/objets; writes are POSTs under /api/,
every one through ``oralhist.web.api.json_route`` (one body parser, one error mapping).
"""

from __future__ import annotations

import re

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, NotFound
from oralhist.web.api import error_response, json_route

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED = ("recherche", "termes", "lecteur")  # page addresses under /expositions/
_HIT = re.compile(r"\[([^\[\]]+)\]")


def _account(request: Request):
    return request.scope.get("state", {}).get("account")


class Reach:
    """What one account may curate, asked of the one permission function (``permissions.can``)
    with the museum of each exhibition, interview or object."""

    def __init__(self, s, account):
        from oralhist.records import Interview, Museum

        self.account = account
        self.museum_id = account.museum_id if account is not None else None
        ids = {m.name: m.id for m in s.exec(select(Museum)).all()}
        self.museum = next((n for n, i in ids.items() if i == self.museum_id), None)
        self._ids = ids
        self._iv = dict(s.exec(select(Interview.id, Interview.museum_id)).all())

    def _can(self, museum_id) -> bool:
        from oralhist.web.permissions import can

        return can(self.account, "curate", museum_id)

    def exhibition(self, exh) -> bool:
        return self._can(self._ids.get(exh.museum) if exh.museum else None)

    def interview(self, iid: str) -> bool:
        return iid in self._iv and self._can(self._iv[iid])

    def object(self, museum_id) -> bool:
        return self._can(museum_id)

    def term(self, museum_id) -> bool:
        """A vocabulary term: the archive's (no museum) or this account's museum's."""
        from oralhist.web.permissions import can_shared

        return can_shared(self.account, "curate", museum_id)

    def check_object(self, s, ref: str) -> None:
        """An object reference a request names: another museum's answers « objet inconnu » (404)."""
        from oralhist.outputs.objects import find_object

        t = find_object(s, ref)
        if t is None or not self.object(t.museum_id):
            raise NotFound(ref, f"objet inconnu : {ref}")

    def check_term(self, s, label: str) -> None:
        """A term label a request names: another museum's answers « terme inconnu » (404)."""
        from oralhist.editorial.vocab import find_term

        try:
            t = find_term(s, label)
        except (NotFound, BadInput):
            raise NotFound(label, f"terme inconnu : {label}") from None
        if not self.term(t.museum_id):
            raise NotFound(label, f"terme inconnu : {label}")


def _reach(ws, request) -> Reach:
    with db.session(ws) as s:
        return Reach(s, _account(request))


def _taken_elsewhere(ws, reach: Reach, slug: str) -> bool:
    """True when ``slug`` is an exhibition this account may not curate (another museum's)."""
    from oralhist.outputs.exhibit import load_exhibition, store_dir

    if not _SLUG.match(slug) or not (store_dir(ws) / f"{slug}.json").exists():
        return False
    try:
        return not reach.exhibition(load_exhibition(ws, slug))
    except (NotFound, BadInput):
        return True


def visible_exhibitions(ws, reach: Reach) -> list:
    from oralhist.outputs.exhibit import list_exhibitions

    return [e for e in list_exhibitions(ws) if reach.exhibition(e)]


def load_visible(ws, reach: Reach, slug: str):
    """The exhibition if this account may curate it; NotFound otherwise (another museum's: 404)."""
    from oralhist.outputs.exhibit import load_exhibition

    if not _SLUG.match(slug or ""):
        raise NotFound(slug, "exposition inconnue")
    try:
        exh = load_exhibition(ws, slug)
    except NotFound:
        raise NotFound(slug, "exposition inconnue") from None
    if not reach.exhibition(exh):
        raise NotFound(slug, "exposition inconnue")
    return exh


def targets(exhibitions) -> list[dict]:
    """« Exposition › section » choices for the « ajouter à l'exposition… » buttons."""
    return [{"value": f"{e.slug}|{i}", "label": f"{e.title} › {sec.title}"}
            for e in exhibitions for i, sec in enumerate(e.sections)]


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """search's « [mot] » marks as (text, is_hit) parts: the template escapes and wraps them."""
    out, pos = [], 0
    for m in _HIT.finditer(snippet or ""):
        out += [(snippet[pos:m.start()], False), (m.group(1), True)]
        pos = m.end()
    return out + [(snippet[pos:], False)]


# Over 80 lines on purpose: the route table of the curators' pages; each handler is a short closure over the
# app's config, kept together so the URL map reads in one place.
def routes(cfg, page_, guard) -> list:
    from oralhist.outputs.exhibit import fmt_time

    ws = cfg.ws

    def page(request, template, status=200, **ctx):
        return page_(request, template, status, clock=fmt_time, **ctx)

    def titles(s) -> dict:
        from oralhist.records import Interview

        return {i: (t or i) for i, t in s.exec(select(Interview.id, Interview.title)).all()}

    def target_from(request, exhibitions) -> str:
        t = request.query_params.get("cible", "")
        values = [x["value"] for x in targets(exhibitions)]
        return t if t in values else (values[0] if values else "")

    # ---------------------------------------------------------------- pages

    def list_page(request: Request):
        from oralhist.outputs.exhibit import curator_notes

        reach = _reach(ws, request)
        rows = []
        with db.session(ws) as s:
            for e in visible_exhibitions(ws, reach):
                rows.append({"e": e, "withdrawn": curator_notes(s, e)["withdrawn"]})
        return page(request, "expo_list.html", rows=rows, museum=reach.museum)

    def edit_page(request: Request):
        from oralhist.outputs.exhibit import curator_notes, exhibition_version
        from oralhist.outputs.objects import list_objects
        from oralhist.records import Term

        reach = _reach(ws, request)
        try:
            exh = load_visible(ws, reach, request.path_params["slug"])
        except NotFound:
            from oralhist.web.refusal import refused

            return refused(request, page, 404, f"aucune exposition « {request.path_params['slug'][:80]} »",
                           title="Exposition introuvable")
        with db.session(ws) as s:
            notes = curator_notes(s, exh)
            names = titles(s)
            objects = [o for o in list_objects(s) if reach.object(o["museum_id"])]
            terms = sorted({t.label for t in s.exec(select(Term)).all() if reach.term(t.museum_id)}, key=str.casefold)
        return page(request, "expo_edit.html", e=exh, notes=notes, names=names, version=exhibition_version(ws, exh.slug),
                    objects=[o for o in objects if not o["needs_alt"]], terms=terms,
                    no_alt={o["ref"] for o in objects if o["needs_alt"]})

    def markdown(request: Request):
        from oralhist.outputs.exhibit import to_markdown

        try:
            exh = load_visible(ws, _reach(ws, request), request.path_params["slug"])
        except NotFound as exc:
            return error_response(exc)
        return Response(to_markdown(exh), media_type="text/markdown; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{exh.slug}.md"'})

    def search_page(request: Request):
        from oralhist.editorial.search import search

        reach = _reach(ws, request)
        exhibitions = visible_exhibitions(ws, reach)
        q = request.query_params.get("q", "").strip()[:200]
        hits, message = [], None
        if q:
            try:
                with db.session(ws) as s:
                    found = search(s, q, limit=100)
            except BadInput:
                found, message = [], "Tapez au moins un mot à chercher."
            hits = [{"h": h, "parts": snippet_parts(h.snippet)} for h in found if reach.interview(h.interview_id)][:30]
        return page(request, "expo_search.html", q=q, hits=hits, message=message, targets=targets(exhibitions),
                    cible=target_from(request, exhibitions))

    def terms_page(request: Request):
        from oralhist.records import Link, LinkStatus, Term

        reach = _reach(ws, request)
        with db.session(ws) as s:
            counts: dict = {}
            for tid, iid in s.exec(select(Link.term_id, Link.interview_id)
                                   .where(Link.status != LinkStatus.rejected)).all():
                if reach.interview(iid):
                    counts[tid] = counts.get(tid, 0) + 1
            rows = [(t, counts.get(t.id, 0)) for t in s.exec(select(Term).order_by(Term.kind, Term.label)).all()
                    if reach.object(t.museum_id) or t.museum_id is None]
        return page(request, "expo_terms.html", rows=rows, cible=request.query_params.get("cible", ""))

    def term_page(request: Request):
        from oralhist.records import Link, LinkStatus, Term

        reach = _reach(ws, request)
        exhibitions = visible_exhibitions(ws, reach)
        with db.session(ws) as s:
            t = s.get(Term, request.path_params["tid"])
            if t is None or not (t.museum_id is None or reach.object(t.museum_id)):
                from oralhist.web.refusal import refused

                return refused(request, page, 404, f"aucun terme n° {request.path_params['tid']}", title="Terme introuvable")
            names = titles(s)
            links = [ln for ln in s.exec(select(Link).where(Link.term_id == t.id, Link.status != LinkStatus.rejected)
                                         .order_by(Link.interview_id, Link.start_ms)).all()
                     if reach.interview(ln.interview_id)]
        return page(request, "expo_term.html", t=t, links=links, names=names, targets=targets(exhibitions),
                    cible=target_from(request, exhibitions))

    def player_page(request: Request):
        from oralhist.editorial.view import load_interview

        iid = request.path_params["iid"]
        reach = _reach(ws, request)
        exhibitions = visible_exhibitions(ws, reach)
        q = request.query_params

        def ms(name):
            try:
                return max(0, int(q.get(name, "")))
            except ValueError:
                return None

        with db.session(ws) as s:
            try:
                v = load_interview(s, iid, with_words=False)
            except NotFound:
                return page(request, "notfound.html", 404, iid=iid)
        return page(request, "expo_player.html", iv=v, start=ms("debut"), end=ms("fin"), targets=targets(exhibitions),
                    cible=target_from(request, exhibitions))

    def objects_page(request: Request):
        from oralhist.outputs.objects import list_objects

        reach = _reach(ws, request)
        exhibitions = visible_exhibitions(ws, reach)
        with db.session(ws) as s:
            rows = [o for o in list_objects(s) if reach.object(o["museum_id"])]
        return page(request, "expo_objects.html", rows=rows, targets=targets(exhibitions),
                    cible=target_from(request, exhibitions), museum=reach.museum)

    def thumbnail(request: Request):
        from oralhist.outputs.objects import derivative
        from oralhist.records import ObjectRecord, Term

        reach = _reach(ws, request)
        with db.session(ws) as s:
            t = s.get(Term, request.path_params["tid"])
            rec = s.get(ObjectRecord, t.id) if t is not None else None
        if rec is None or not rec.image_sha256 or not reach.object(t.museum_id):
            return Response("image inconnue", status_code=404)
        p = derivative(ws, rec, "card", "jpg")
        if not p.is_file():
            return Response("image inconnue", status_code=404)
        return FileResponse(p, media_type="image/jpeg")

    # ---------------------------------------------------------------- API (JSON)

    def _json(exh, ws_=ws) -> dict:
        from oralhist.outputs.exhibit import curator_notes, exhibition_version

        with db.session(ws_) as s:
            notes = curator_notes(s, exh)
        return {"exhibition": exh.to_dict(), "notes": notes, "version": exhibition_version(ws_, exh.slug),
                "url": f"/expositions/{exh.slug}"}

    def api_list(request: Request, data: dict):
        rows = visible_exhibitions(ws, _reach(ws, request))
        return [{"slug": e.slug, "title": e.title, "museum": e.museum, "sections": len(e.sections),
                 "clips": len(e.clips)} for e in rows]

    def api_create(request: Request, data: dict):
        from oralhist.outputs.exhibit import create_exhibition

        slug = str(data.get("slug") or "").strip()
        reach = _reach(ws, request)
        if slug in RESERVED or _taken_elsewhere(ws, reach, slug):
            # one answer for a reserved address and another museum's exhibition: its existence,
            # title and museum are not revealed (exhibitions share one namespace: the public site's)
            raise BadInput(slug, f"l’adresse {slug} n’est pas disponible ; choisissez-en une autre")
        exh = create_exhibition(ws, data.get("title"), str(data.get("slug") or ""), data.get("intro_md") or "",
                                data.get("section") or "Première partie", reach.museum)
        return _json(exh)

    def api_get(request: Request, data: dict):
        return _json(load_visible(ws, _reach(ws, request), request.path_params["slug"]))

    def api_save(request: Request, data: dict):
        from oralhist.outputs.exhibit import update_exhibition

        reach = _reach(ws, request)
        exh = load_visible(ws, reach, request.path_params["slug"])
        doc = data.get("exhibition")
        had = {c.interview_id for c in exh.clips}
        had_objects = {o for sec in exh.sections for o in sec.objects}
        had_terms = {x for sec in exh.sections for x in sec.terms}
        with db.session(ws) as s:
            for sec in (doc.get("sections") if isinstance(doc, dict) else None) or []:
                if not isinstance(sec, dict):
                    continue
                for c in sec.get("clips") or [] if isinstance(sec.get("clips"), list) else []:
                    iid = str(c.get("interview_id")) if isinstance(c, dict) else ""
                    if iid not in had and not reach.interview(iid):  # a new clip: of this museum's interviews
                        raise NotFound(iid, f"entretien inconnu : {iid}")
                # new objects and terms: this museum's (or the archive's shared terms)
                for o in sec.get("objects") or [] if isinstance(sec.get("objects"), list) else []:
                    if isinstance(o, str) and o not in had_objects:
                        reach.check_object(s, o.strip())
                for x in sec.get("terms") or [] if isinstance(sec.get("terms"), list) else []:
                    if isinstance(x, str) and x not in had_terms:
                        reach.check_term(s, x.strip())
        base = data.get("version")
        return _json(update_exhibition(ws, exh.slug, doc, base if isinstance(base, str) else None))

    def _ms(data, key):
        from oralhist.editorial.consent import parse_time

        v = data.get(key)
        if isinstance(v, bool):
            raise BadInput(None, f"{key} invalide")
        if isinstance(v, (int, float)):
            return int(v)
        if isinstance(v, str) and v.strip():
            try:
                return parse_time(v)
            except BadInput:
                raise BadInput(v, f"temps illisible : {v} (mm:ss ou hh:mm:ss)") from None
        raise BadInput(None, "début et fin de l’extrait sont requis")

    def api_add_clip(request: Request, data: dict):
        from oralhist.outputs.exhibit import add_clip

        reach = _reach(ws, request)
        exh = load_visible(ws, reach, request.path_params["slug"])
        iid = str(data.get("interview_id") or "")
        if not reach.interview(iid):
            raise NotFound(iid, f"entretien inconnu : {iid}")
        start = _ms(data, "start_ms" if "start_ms" in data else "start")
        end = _ms(data, "end_ms" if "end_ms" in data else "end")
        return _json(add_clip(ws, exh.slug, data.get("section", 0), iid, start, end))

    def api_add_object(request: Request, data: dict):
        from oralhist.outputs.exhibit import add_object
        from oralhist.outputs.objects import find_object

        reach = _reach(ws, request)
        exh = load_visible(ws, reach, request.path_params["slug"])
        ref = str(data.get("object") or "")
        with db.session(ws) as s:
            t = find_object(s, ref)
        if t is None or not reach.object(t.museum_id):
            raise NotFound(ref, f"objet inconnu : {ref}")
        return _json(add_object(ws, exh.slug, data.get("section", 0), ref))

    def api_add_term(request: Request, data: dict):
        from oralhist.outputs.exhibit import add_term

        reach = _reach(ws, request)
        exh = load_visible(ws, reach, request.path_params["slug"])
        label = str(data.get("term") or "")
        if label.strip():
            with db.session(ws) as s:
                reach.check_term(s, " ".join(label.split()))
        return _json(add_term(ws, exh.slug, data.get("section", 0), label))

    def api_objects(request: Request, data: dict):
        from oralhist.outputs.objects import list_objects

        reach = _reach(ws, request)
        with db.session(ws) as s:
            return [o for o in list_objects(s) if reach.object(o["museum_id"])]

    def api_alt(request: Request, data: dict):
        from oralhist.outputs.objects import set_alt
        from oralhist.records import Term

        tid = request.path_params["tid"]
        reach = _reach(ws, request)
        with db.session(ws) as s:
            t = s.get(Term, tid)
        if t is None or not reach.object(t.museum_id):
            raise NotFound(str(tid), "objet inconnu")
        return {"id": tid, "alt": set_alt(ws, tid, data.get("alt"))}

    def object_term(request: Request):
        from oralhist.records import Term

        tid = request.path_params["tid"]
        reach = _reach(ws, request)
        with db.session(ws) as s:
            t = s.get(Term, tid)
        if t is None or not reach.object(t.museum_id):
            raise NotFound(str(tid), "objet inconnu")
        return t

    async def api_picture(request: Request):
        """Add or replace a picture, with its alt text, in one step (issue 21, item 3)."""
        from starlette.concurrency import run_in_threadpool

        from oralhist.errors import OralhistError
        from oralhist.outputs.objects import set_picture
        from oralhist.web.tasks import answer_one_file

        try:
            t = await run_in_threadpool(object_term, request)
        except OralhistError as exc:
            return error_response(exc, None)

        def store(form, dest, name):
            res = set_picture(ws, t.id, dest, form.get("alt"))
            res["message"] = f"Photographie de {t.inventory_number or t.label} enregistrée avec son texte alternatif."
            return res

        return await answer_one_file(ws, request, "photo.img", store)

    def api_picture_remove(request: Request, data: dict):
        from oralhist.outputs.objects import remove_picture

        t = object_term(request)
        res = remove_picture(ws, t.id)
        res["message"] = f"Photographie de {t.inventory_number or t.label} retirée."
        return res

    c = lambda h: guard("curate", h)  # noqa: E731  every route: editors and admins (volunteers 403)
    j = lambda fn, **kw: c(json_route(fn, **kw))  # noqa: E731  the JSON twins
    return [
        Route("/expositions", c(list_page)),
        Route("/expositions/recherche", c(search_page)),
        Route("/expositions/termes", c(terms_page)),
        Route("/expositions/termes/{tid:int}", c(term_page)),
        Route("/expositions/lecteur/{iid}", c(player_page)),
        Route("/expositions/{slug}", c(edit_page)),
        Route("/expositions/{slug}/markdown", c(markdown)),
        Route("/objets", c(objects_page)),
        Route("/objets/{tid:int}/vignette.jpg", c(thumbnail)),
        Route("/api/expositions", j(api_list), methods=["GET"]),
        Route("/api/expositions", j(api_create, status=201), methods=["POST"]),
        Route("/api/expositions/{slug}", j(api_get), methods=["GET"]),
        Route("/api/expositions/{slug}", j(api_save), methods=["POST"]),
        Route("/api/expositions/{slug}/clips", j(api_add_clip), methods=["POST"]),
        Route("/api/expositions/{slug}/objects", j(api_add_object), methods=["POST"]),
        Route("/api/expositions/{slug}/terms", j(api_add_term), methods=["POST"]),
        Route("/api/objets", j(api_objects), methods=["GET"]),
        Route("/api/objets/{tid:int}/alt", j(api_alt), methods=["POST"]),
        Route("/api/objets/{tid:int}/photo", c(api_picture), methods=["POST"]),  # issue 21: pictures in the browser
        Route("/api/objets/{tid:int}/photo/retirer", j(api_picture_remove), methods=["POST"]),
    ]
