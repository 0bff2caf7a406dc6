"""Researchers in the workbench: /inscription, /demandes, the reading page, the journal (issues 24 and 21 item 8).

Routes parse the request, check who may do it (``web.permissions`` for staff; a live grant,
``editorial.access.live_grant``, for a researcher), and call the library
(``oralhist.editorial.access``, ``oralhist.editorial.activity``). ``researcher_gate`` is what the
application's ``guard`` hands every interview route to when the account is a researcher: only
the record (``GET /api/interviews/{id}``), the audio (``/audio/{id}``, by range only) and the
reading page answer, with the interview's public id and a live grant; every other route, and
every id without a live grant, answers 403 with nothing served. Every read is logged.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, ConflictError, NotFound, OralhistError
from oralhist.web.api import Forbidden, error_response, json_route

OPEN_PATHS = ("/inscription", "/api/register")  # reached without a session (AccessControl lets them through)
NO_ACCESS = "accès non accordé : demandez-le sur /demandes (ou votre accès a pris fin)"


class RateLimit:
    """At most ``n`` events per key in ``window`` seconds (registrations per address, requests per account)."""

    def __init__(self, n: int, window: float):
        self.n, self.window, self.seen, self.lock = n, window, {}, threading.Lock()

    def hit(self, key) -> float:
        """0 when allowed (and counted), else the seconds to wait."""
        now = time.monotonic()
        with self.lock:
            times = [t for t in self.seen.get(key, []) if now - t < self.window]
            if len(times) >= self.n:
                self.seen[key] = times
                return self.window - (now - times[0])
            self.seen[key] = times + [now]
            if len(self.seen) > 100_000:
                self.seen = {k: v for k, v in self.seen.items() if v and now - v[-1] < self.window}
        return 0.0


def _acc(request):
    return request.scope.get("state", {}).get("account")


def _addr(request) -> str | None:
    return request.client.host if request.client else None


def approver_level(ws) -> str:
    from oralhist.editorial.access import access_settings

    return access_settings(ws).approvers


def may_decide(ws, account, museum_id) -> bool:
    """An admin (or an editor, when ``[access] approvers = "editor"``) of the interview's museum."""
    from oralhist.web.permissions import can

    if account is None:
        return False
    deciders = ("editor", "admin") if approver_level(ws) == "editor" else ("admin",)
    return account.role in deciders and can(account, "read", museum_id)


def notices(cfg, account) -> int:
    """The number in the header: decisions a researcher has not seen, or requests waiting for this decider."""
    from oralhist.editorial.access import pending_count

    if account is None or cfg.mode == "token":
        return 0
    try:
        if account.role == "researcher":
            return pending_count(cfg.ws, account_name=account.name, researcher=True)
        if not may_decide(cfg.ws, account, account.museum_id):
            return 0
        return pending_count(cfg.ws, account_name=account.name, researcher=False, museum_id=account.museum_id,
                             every_museum=account.museum_id is None)
    except OralhistError:
        return 0


# ------------------------------------------------------------------------------ researcher reads


def _forbidden(request, message: str = NO_ACCESS) -> Response:
    if request.url.path.startswith(("/api/", "/audio/")):
        return JSONResponse({"error": message}, 403)
    from html import escape

    return Response(f"<!doctype html><html lang=fr><meta charset=utf-8><title>Accès refusé</title><h1>Accès refusé</h1>"
                    f"<p>{escape(message)}</p><p><a href=\"/demandes\">Mes demandes</a></p></html>", 403,
                    media_type="text/html")


async def researcher_gate(cfg, request: Request, page) -> Response:
    """Every guarded route asked by a researcher: the three reads below with a live grant, else 403."""
    from oralhist.editorial.access import admit

    ws, acc, path = cfg.ws, _acc(request), request.url.path
    if path == "/" and request.method == "GET":
        return RedirectResponse("/demandes", 303)
    key = request.path_params.get("iid")
    kind = ("record" if path.startswith("/api/interviews/") else "audio" if path.startswith("/audio/")
            else "page" if path.startswith("/lecture/") else None)
    if request.method != "GET" or kind is None or not key:
        return _forbidden(request, "action réservée à l’équipe du musée")
    rng = request.headers.get("range", "")
    if kind == "audio" and not rng.startswith("bytes="):
        return JSONResponse({"error": "écoute par plages seulement (en-tête Range requis) ; pas de téléchargement"}, 416)
    what, detail = {"audio": ("audio", rng[:60]), "record": ("transcript", "texte (API)"),
                    "page": ("page", "page de lecture")}[kind]
    admitted = await run_in_threadpool(lambda: admit(ws, acc.name, key, what, detail=detail, address=_addr(request)))
    if admitted is None:
        return _forbidden(request)
    iid, source = admitted
    if kind == "audio":
        return await _audio(cfg, request, iid, key, source)
    if kind == "record":
        from oralhist.editorial.access import researcher_json

        body = await run_in_threadpool(researcher_json, ws, iid, key)
        return JSONResponse(body, headers={"cache-control": "no-store"})
    return await _reading_page(cfg, request, iid, key, page)


async def _audio(cfg, request, iid: str, key: str, source) -> Response:
    """The listening copy (redactions silenced), only by byte range (checked by the gate)."""
    from oralhist.editorial.access import research_audio

    path = source[0] if source[0] is not None and not source[2] else \
        await run_in_threadpool(research_audio, cfg.ws, iid, source)
    if path is None:
        return JSONResponse({"error": "pas d’enregistrement d’écoute"}, 404)
    mt = "audio/ogg" if path.suffix in (".ogg", ".opus") else "audio/mpeg" if path.suffix == ".mp3" else \
        "audio/mp4" if path.suffix == ".m4a" else "audio/wav" if path.suffix == ".wav" else "application/octet-stream"
    resp = FileResponse(path, media_type=mt, content_disposition_type="inline", filename=f"{key}{path.suffix}")
    return resp


async def _reading_page(cfg, request, iid: str, key: str, page) -> Response:
    from oralhist.editorial.access import citation, researcher_view

    pv = await run_in_threadpool(researcher_view, cfg.ws, iid)
    return page(request, "research_read.html", pv=pv, key=key, cite=citation(cfg.ws, pv, key))


# ------------------------------------------------------------------------------ routes


# Over 80 lines on purpose: the route table of the researcher pages; each handler is a short closure over the
# app's config and its two rate limits, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    from datetime import timedelta

    from oralhist.editorial import access
    from oralhist.web.auth import SESSION_COOKIE, open_session, same_origin, set_account

    ws = cfg.ws
    registrations = RateLimit(5, 3600.0)  # per address and hour
    asks = RateLimit(20, 3600.0)  # requests per account and hour

    def register(data: dict, address: str | None) -> dict:
        fields = access.check_registration(ws, name=data.get("name", ""), email=data.get("email", ""),
                                           institution=data.get("institution", "") or "",
                                           password=data.get("password", ""))
        set_account(ws, fields["email"], data["password"], role="researcher")
        try:
            access.add_profile(ws, address=address, **fields)
        except Exception:
            from oralhist.web.auth import remove_account

            remove_account(ws, fields["email"])
            raise
        return fields

    def limited(request) -> Response | None:
        wait = registrations.hit(_addr(request) or "?")
        if wait:
            msg = f"trop d’inscriptions depuis cette adresse : réessayez dans {int(wait) // 60 + 1} min"
            return JSONResponse({"error": msg}, 429)
        return None

    async def inscription(request: Request):
        if cfg.mode != "accounts":
            return RedirectResponse("/", 303)
        if request.method == "GET":
            return page(request, "inscription.html", form={}, failed=None)
        if not same_origin(request):
            return JSONResponse({"error": "inscription refusée (autre site)"}, 403)
        form = {k: v[0][:1000] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if limited(request) is not None:
            return page(request, "inscription.html", 429, form=form,
                        failed="Trop d’inscriptions depuis cette adresse : réessayez plus tard.")
        try:
            fields = await run_in_threadpool(register, form, _addr(request))
        except OralhistError as exc:
            from oralhist.web.errors_fr import message

            return page(request, "inscription.html", 409 if isinstance(exc, ConflictError) else 400, form=form,
                        failed=message(exc), field=getattr(exc, "path", None))
        token, _ = await run_in_threadpool(lambda: open_session(ws, fields["email"], lifetime=timedelta(hours=cfg.session_hours),
                                                                address=_addr(request)))
        resp = RedirectResponse("/demandes", 303)
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies, path="/",
                        max_age=cfg.session_hours * 3600)
        return resp

    async def api_register(request: Request):
        if cfg.mode != "accounts":
            return JSONResponse({"error": "pas de comptes en mode local"}, 404)
        if not same_origin(request):
            return JSONResponse({"error": "inscription refusée (autre site)"}, 403)
        from oralhist.web.jsonbody import parse

        try:
            data = parse(await request.body())
        except BadInput as exc:
            return error_response(exc)
        if not isinstance(data, dict) or not all(isinstance(data.get(k, ""), str) for k in
                                                 ("name", "email", "institution", "password")):
            return JSONResponse({"error": "name, email, institution et password (textes) sont requis"}, 400)
        too_many = limited(request)
        if too_many is not None:
            return too_many
        try:
            fields = await run_in_threadpool(register, data, _addr(request))
        except OralhistError as exc:
            return error_response(exc)
        return JSONResponse({"login": fields["email"], "role": "researcher"}, 201)

    # requests -------------------------------------------------------------------------

    def museum_of(rid: int):
        with db.session(ws) as s:
            row, iv = access.request_row(s, rid)
            return iv.museum_id if iv else None, row

    def api_requests_get(request: Request, data: dict):
        acc = _acc(request)
        if acc.role == "researcher":
            return access.list_requests(ws, account_name=acc.name, mine=True)
        if not may_decide(ws, acc, acc.museum_id):
            raise Forbidden(None, "action réservée à un autre rôle")
        return access.list_requests(ws, account_name=acc.name, mine=False, museum_id=acc.museum_id,
                                    every_museum=acc.museum_id is None)

    def api_requests_post(request: Request, data: dict):
        acc = _acc(request)
        if acc.role != "researcher":
            raise Forbidden(None, "les demandes d’accès se font avec un compte de chercheur (/inscription)")
        wait = asks.hit(acc.name)
        if wait:
            return JSONResponse({"error": f"trop de demandes : réessayez dans {int(wait) // 60 + 1} min"}, 429)
        keys = data.get("interviews")
        if isinstance(keys, str):
            keys = [k for k in keys.replace(",", " ").split() if k]
        ids = access.request_access(ws, acc.name, keys, purpose=data.get("purpose", ""),
                                    project=data.get("project", "") or "", use=data.get("use", "") or "",
                                    address=_addr(request))
        return JSONResponse({"id": ids[0], "ids": ids}, 201)

    def decision(action):
        def handler(request: Request, data: dict):
            acc = _acc(request)
            rid = request.path_params["rid"]
            mid, _ = museum_of(rid)
            if acc.role == "researcher" or not can_read(acc, mid):
                raise NotFound(None, "demande inconnue")
            if not may_decide(ws, acc, mid):
                raise Forbidden(None, "action réservée à un autre rôle")
            days = data.get("days")
            return access.decide(ws, rid, action, who=acc.name, days=days, reason=data.get("reason", "") or "",
                                 address=_addr(request))
        return handler

    def can_read(acc, mid):
        from oralhist.web.permissions import can

        return can(acc, "read", mid)

    async def demandes(request: Request):
        acc = _acc(request)
        decider = await run_in_threadpool(may_decide, ws, acc, acc.museum_id if acc else None)
        if acc is None or (acc.role != "researcher" and not decider):
            return _forbidden(request, "page réservée aux chercheurs et à ceux qui décident des accès")
        mine = acc.role == "researcher"
        count = await run_in_threadpool(notices, cfg, acc)  # before the researcher's decisions are marked seen
        rows = await run_in_threadpool(lambda: access.list_requests(
            ws, account_name=acc.name, mine=mine, museum_id=acc.museum_id, every_museum=acc.museum_id is None))
        prof = None
        if mine:
            with db.session(ws) as s:
                prof = access.profile(s, acc.name)
        return page(request, "demandes.html", rows=rows, mine=mine, prof=prof, notices=count, decider=decider,
                    asked=request.query_params.get("entretien", "")[:64],
                    default_days=access.access_settings(ws).default_days, MAX_DAYS=access.MAX_DAYS)

    # the journal -------------------------------------------------------------------------

    def journal_filters(request: Request) -> dict:
        from oralhist.web.permissions import can

        acc = _acc(request)
        q = request.query_params
        museum = q.get("museum")
        mid = None
        if museum:
            try:
                mid = int(museum)
            except ValueError:
                raise BadInput("museum", "museum : numéro de musée attendu") from None
        if acc.museum_id is not None:  # a museum's admin sees its museum only
            mid = acc.museum_id
        if not can(acc, "accounts", mid, any_museum=mid is None and acc.museum_id is None):
            raise Forbidden(None, "journal réservé aux administrateurs")
        return {"actor": q.get("actor") or None, "interview_id": q.get("interview") or None, "museum_id": mid,
                "action": q.get("action") or None, "since": q.get("since") or None, "until": q.get("until") or None}

    def journal_page_data(request: Request) -> dict:
        from oralhist.editorial.activity import ACTIONS_FR, query
        from oralhist.records import Museum
        from oralhist.web.jsonbody import query_int
        from sqlmodel import select

        f = journal_filters(request)
        pg = query_int(request.query_params.get("page"), "page") or 1
        with db.session(ws) as s:
            res = query(s, page=pg, per_page=50, **f)
            museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
        return {"res": res, "f": f, "museums": museums, "ACTIONS_FR": ACTIONS_FR,
                "query": "&".join(f"{k}={quote(str(v))}" for k, v in request.query_params.items() if k != "page")}

    async def journal(request: Request):
        try:
            ctx = await run_in_threadpool(journal_page_data, request)
        except Forbidden as exc:
            return _forbidden(request, exc.reason)
        except BadInput as exc:
            return error_response(exc)
        return page(request, "journal.html", **ctx)

    def api_journal(request: Request, data: dict):
        from oralhist.editorial.activity import query
        from oralhist.web.jsonbody import query_int

        f = journal_filters(request)
        with db.session(ws) as s:
            res = query(s, page=query_int(request.query_params.get("page"), "page") or 1,
                        per_page=query_int(request.query_params.get("per_page"), "per_page") or 50, **f)
        return {"entries": res.rows, "total": res.total, "page": res.page, "per_page": res.per_page}

    def journal_csv(request: Request, data: dict):
        from oralhist.editorial.activity import export_csv

        f = journal_filters(request)
        with db.session(ws) as s:
            text = export_csv(s, **f)
        return PlainTextResponse(text, media_type="text/csv; charset=utf-8",
                                 headers={"content-disposition": 'attachment; filename="journal.csv"'})

    # who read this interview (admins) ---------------------------------------------------------

    def access_log_data(request: Request) -> dict:
        from oralhist.editorial.activity import query
        from oralhist.web.jsonbody import query_int

        iid = request.path_params["iid"]
        with db.session(ws) as s:
            res = query(s, interview_id=iid, action="access.",
                        page=query_int(request.query_params.get("page"), "page") or 1, per_page=100)
        return {"entries": res.rows, "total": res.total, "page": res.page}

    def consultations_page(request: Request):
        from oralhist.editorial.activity import ACTIONS_FR
        from oralhist.editorial.view import load_interview

        iid = request.path_params["iid"]
        with db.session(ws) as s:
            v = load_interview(s, iid, with_words=False)
        return page(request, "consultations.html", v=v, tab="consultations", log=access_log_data(request),
                    ACTIONS_FR=ACTIONS_FR)

    async def reading(request: Request):  # staff opening a researcher's link: the editor
        return RedirectResponse("/", 303)

    return [
        Route("/inscription", inscription, methods=["GET", "POST"]),
        Route("/api/register", api_register, methods=["POST"]),
        Route("/demandes", demandes),
        Route("/api/access-requests", json_route(api_requests_get), methods=["GET"]),
        Route("/api/access-requests", json_route(api_requests_post), methods=["POST"]),
        Route("/api/access-requests/{rid:int}/grant", json_route(decision("grant")), methods=["POST"]),
        Route("/api/access-requests/{rid:int}/refuse", json_route(decision("refuse")), methods=["POST"]),
        Route("/api/access-requests/{rid:int}/revoke", json_route(decision("revoke")), methods=["POST"]),
        Route("/lecture/{iid}", guard("read", reading)),
        Route("/journal", journal),
        Route("/api/journal", json_route(api_journal), methods=["GET"]),
        Route("/journal.csv", json_route(journal_csv), methods=["GET"]),
        Route("/api/i/{iid}/access-log", guard("accounts", json_route(lambda r, d: access_log_data(r))), methods=["GET"]),
        Route("/i/{iid}/consultations", guard("accounts", consultations_page)),
    ]
