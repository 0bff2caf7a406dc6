"""The workbench's ASGI application (Starlette): the app factory, login/logout, access control.

Each page group is a module of this package with ``routes(cfg, page, guard)`` (archive.py,
editor.py, interviews.py, publish.py); JSON routes share oralhist/web/api.py.

Pages are Jinja templates with autoescaping; every piece of user data reaches the page
either escaped by Jinja or through JSON read by plain JS that only uses ``textContent``.
A strict Content-Security-Policy (scripts from this server only, no inline script) is a
second line of defence against a transcript or metadata carrying markup.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from oralhist import db
from oralhist.editorial.accounts import ROLE_FR as ACCOUNT_ROLE_FR
from oralhist.web.auth import SESSION_COOKIE  # the login cookie is auth's; the app reads it

HERE = Path(__file__).parent
TOKEN_COOKIE = "oralhist_token"

STAGE_FR = {
    "ingested": "importé", "normalised": "normalisé", "transcribed": "transcrit", "diarized": "locuteurs",
    "indexed": "indexé", "linked": "liens", "published": "publié",
}
REVIEW_FR = {None: "pas de transcription", "machine": "à relire", "corrected": "corrigée", "approved": "approuvée"}
ROLE_FR = {"narrator": "narrateur", "interviewer": "enquêteur", "other": "autre"}
ROLE_NAME = ACCOUNT_ROLE_FR  # account roles as people read them: the library's one table (the activity log uses it too)
LINK_FR = {"suggested": "proposé", "accepted": "accepté", "rejected": "rejeté"}
KIND_FR = {"trade": "métier", "object": "objet", "place": "lieu", "subject": "sujet"}


def browser_name(agent: str | None) -> str:
    """A session's browser as people name it, from its User-Agent (the raw string is English jargon)."""
    a = agent or ""
    name = next((n for k, n in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome ou Chromium"),
                                ("Safari/", "Safari")) if k in a), "navigateur non reconnu")
    system = next((n for k, n in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                  ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux")) if k in a), "")
    return f"{name} sur {system}" if system else name


def source_fr(source: str | None) -> str:
    """Where a transcript version comes from, for people: never "machine" or "editor"."""
    if not source or source == "machine":
        return "reconnaissance automatique"
    if source == "editor":
        return "correction dans l’éditeur"
    if source.startswith("import:"):
        return "import de " + source.split(":", 1)[1]
    return source

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


@dataclass
class EditorConfig:
    ws: object
    mode: str = "token"  # token (localhost) | accounts (network)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    who: str = "editor"  # local mode: the name recorded with saves
    sessions: dict = field(default_factory=dict)  # unused: sessions are stored in the database (websession)
    secure_cookies: bool = False
    allowed_hosts: tuple = ()  # Host header names accepted (empty: any; `serve` fills it)
    max_body: int = 8 * 1024 * 1024  # JSON writes (413 beyond)
    max_upload: int = 4 * 1024**3  # multipart uploads of /api/interviews
    limiter: object = None
    trusted_proxies: tuple = ()  # [server] trusted_proxies, parsed (auth.proxy_networks)
    upload_quota: int = 20 * 1024**3  # [server] upload_quota_gb: bytes one account may hold (web/quota.py)
    idle_minutes: float = 30  # [server] idle_minutes: a session unused this long ends (issue 21)
    session_hours: float = 12  # [server] session_hours: a login lasts at most this long, used or not

    def __post_init__(self):
        if self.limiter is None:
            from oralhist.web.auth import LoginLimiter

            self.limiter = LoginLimiter()

    @property
    def local_csrf(self) -> str:
        return hmac.new(self.token.encode(), b"csrf", "sha256").hexdigest()


def _val(x):
    return x.value if hasattr(x, "value") else x


def hms(ms: int) -> str:
    s = max(0, int(ms or 0)) // 1000
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _templates():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template: user strings are always escaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hms"] = hms
    from oralhist.editorial.speakers import voice_label

    from oralhist.editorial.review import author_fr

    env.filters["voice"] = voice_label  # issue 21: « Voix 1 », never SPEAKER_1
    from oralhist.outputs.publish.typography import position

    env.filters["position"] = position  # issue 21: « 1 min 07 s » in prose; hms (00:01:07) in editing fields
    env.filters["author"] = author_fr  # issue 21: « reconnaissance automatique », never « oralhist transcribe »
    env.filters["browser"] = browser_name  # /moi: « Chrome ou Chromium sur Linux », never the raw user agent
    env.filters["plural"] = lambda n, one, many: f"{n} {one if abs(n) < 2 else many}"  # French: 0 and 1 singular
    env.filters["kind"] = lambda k: KIND_FR.get(_val(k), _val(k))
    from oralhist.outputs.publish.typography import long_date

    env.filters["long_date"] = long_date  # '1998-06-14' -> '14 juin 1998'
    env.globals.update(STAGE_FR=STAGE_FR, REVIEW_FR=REVIEW_FR, ROLE_FR=ROLE_FR, ROLE_NAME=ROLE_NAME, LINK_FR=LINK_FR, KIND_FR=KIND_FR,
                       SOURCE_FR=source_fr)
    return env


# ------------------------------------------------------------------------------------- access


OAI_PATH = "/oai"  # the OAI-PMH endpoint (oralhist/outputs/publish/oai.py), the one address open without login
# reached without a session (login pages; /logout checks the Origin itself, like /login)
OPEN_PATHS = ("/login", "/api/login", "/logout", "/favicon.ico")
# what a person whose password an admin reset may open before choosing a new one
CHANGE_FIRST_PATHS = ("/moi", "/api/me", "/api/me/password", "/logout", "/api/logout", "/favicon.ico")


class AccessControl:
    """Pure ASGI middleware: token (local) or account session (network) on EVERY request."""

    def __init__(self, app, cfg: EditorConfig):
        self.app = app
        self.cfg = cfg

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from oralhist.web.auth import METHOD_OVERRIDES, forwarded_scope

        cfg = self.cfg
        if any(k.lower() in METHOD_OVERRIDES for k, _ in scope.get("headers") or ()):
            # the method checked here (CSRF, roles) must be the one run: no X-HTTP-Method-Override
            return await self._send(JSONResponse({"error": "en-tête de substitution de méthode refusé "
                                                           "(X-HTTP-Method-Override)"}, 400), scope, receive, send)
        scope = forwarded_scope(scope, cfg.trusted_proxies, cfg.allowed_hosts)
        req = Request(scope)
        path = scope["path"]
        user = None
        account = None
        if "\x00" in path or "\x00" in scope.get("query_string", b"").decode("latin-1"):
            return await self._send(JSONResponse({"error": "adresse invalide (caractère nul)"}, 400), scope, receive, send)
        if cfg.allowed_hosts:
            host = (req.headers.get("host") or "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in cfg.allowed_hosts:
                return await self._send(JSONResponse({"error": "nom d’hôte non autorisé"}, 400), scope, receive, send)
        length = req.headers.get("content-length")
        limit = cfg.max_upload if ((path == "/api/interviews" and req.method == "POST")
                                   or (path.startswith("/api/uploads/") and req.method == "PATCH")) else cfg.max_body
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._send(JSONResponse({"error": f"requête trop volumineuse (au plus {limit // 1024**2} Mo)"}, 413),
                                    scope, receive, send)
        receive = _limited(receive, limit)
        if path == OAI_PATH:  # public: harvesters have no login (and read only public records)
            return await self.app(scope, receive, _with_headers(send))
        from oralhist.web.permissions import Account

        if cfg.mode == "token":
            given = req.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode(), cfg.token.encode()):
                if req.method == "GET":  # set the cookie and drop the token from the address bar
                    rest = [(k, v) for k, v in req.query_params.multi_items() if k != "token"]
                    resp = RedirectResponse(path + ("?" + urlencode(rest) if rest else ""), status_code=303)
                    self._cookie(resp, TOKEN_COOKIE, cfg.token)
                    return await self._send(resp, scope, receive, send)
                user = cfg.who
            cookie = req.cookies.get(TOKEN_COOKIE, "")
            if user is None and cookie and hmac.compare_digest(cookie.encode(), cfg.token.encode()):
                user = cfg.who
            if user is None:
                return await self._send(_forbidden(), scope, receive, send)
            account = Account(cfg.who, "admin", None, cfg.local_csrf)
        else:
            from starlette.concurrency import run_in_threadpool

            from datetime import timedelta

            from oralhist.editorial.accounts import session_user

            cookie = req.cookies.get(SESSION_COOKIE, "")
            found = await run_in_threadpool(session_user, cfg.ws, cookie, idle=timedelta(minutes=cfg.idle_minutes),
                                            lifetime=timedelta(hours=cfg.session_hours)) if cookie else None
            if found is not None:
                account = Account(found.name, found.role, found.museum_id, found.csrf, found.must_change_password,
                                  found.session)
                user = account.name
            from oralhist.web.research import OPEN_PATHS as REGISTRATION  # issue 24: registration needs no session

            if user is None and not (path in OPEN_PATHS or path in REGISTRATION or path.startswith("/static/")):
                if path.startswith("/api/") or req.method != "GET":
                    return await self._send(JSONResponse({"error": "connexion requise"}, 401 if path.startswith("/api/") else 403),
                                            scope, receive, send)
                nxt = path + (("?" + scope["query_string"].decode()) if scope.get("query_string") else "")
                ended = "&fin=1" if cookie else ""  # a cookie without a live session: it ended (idle, logout, disabled)
                return await self._send(RedirectResponse("/login?next=" + quote(nxt) + ended, 303), scope, receive, send)
            if account is not None and account.must_change_password and path not in CHANGE_FIRST_PATHS \
                    and not path.startswith("/static/"):
                # an admin reset the password: the person chooses a new one before anything else
                if path.startswith("/api/") or req.method != "GET":
                    return await self._send(JSONResponse({"error": "choisissez d’abord un nouveau mot de passe (/moi)"}, 403),
                                            scope, receive, send)
                return await self._send(RedirectResponse("/moi", 303), scope, receive, send)
        if path == "/api/interviews" and req.method == "POST":  # multipart import: the account's upload quota
            from starlette.concurrency import run_in_threadpool

            from oralhist.web import quota

            left = await run_in_threadpool(quota.left_bytes, cfg, account)
            if left is not None:
                if length is not None and int(length) > left:
                    return await self._send(JSONResponse({"error": quota.over_message(cfg, left)}, 413),
                                            scope, receive, send)
                receive = _limited(receive, left, quota.over_message(cfg, left))
        # Writes: the session's CSRF token in X-CSRF-Token (login itself checks the Origin instead).
        if req.method not in ("GET", "HEAD") and path not in ("/login", "/api/login", "/logout", "/inscription",
                                                               "/api/register"):
            sent = req.headers.get("x-csrf-token", "")
            if account is None or not hmac.compare_digest(sent.encode(), account.csrf.encode()):
                return await self._send(JSONResponse({"error": "requête refusée (jeton CSRF manquant ou faux)"}, 403),
                                        scope, receive, send)
        scope.setdefault("state", {})["account"] = account
        scope.setdefault("state", {})["user"] = user
        return await self.app(scope, receive, _with_headers(send))

    def _cookie(self, resp: Response, name: str, value: str) -> None:
        resp.set_cookie(name, value, httponly=True, samesite="strict", secure=self.cfg.secure_cookies, path="/")

    async def _send(self, resp, scope, receive, send):
        await resp(scope, receive, _with_headers(send))


class GzipExceptAudio:
    """gzip pages and JSON (the transcript of an hour is ~5x smaller); never audio (byte ranges)."""

    def __init__(self, app):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=800)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith("/audio/"):
            return await self.gzip(scope, receive, send)
        return await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    pass


def _limited(receive, limit: int, message: str = ""):
    """Count the body as it arrives (chunked requests have no Content-Length)."""
    seen = 0

    async def wrapped():
        nonlocal seen
        msg = await receive()
        if msg["type"] == "http.request":
            seen += len(msg.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(message)
        return msg

    return wrapped


def _with_headers(send):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers += [
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"),
            ]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _forbidden() -> Response:
    return HTMLResponse(
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Accès refusé</title>"
        "<h1>Accès refusé</h1><p>Ouvrez l’adresse complète affichée par <code>oralhist edit</code> "
        "(elle contient <code>?token=…</code>).</p></html>",
        status_code=403,
    )


# ------------------------------------------------------------------------------------- app


def make_app(cfg: EditorConfig) -> Starlette:
    env = _templates()
    ws = cfg.ws

    def page(request: Request, template_name: str, status: int = 200, **ctx) -> HTMLResponse:
        acc = request.scope.get("state", {}).get("account")
        ctx.setdefault("user", acc.name if acc and cfg.mode != "token" else None)
        ctx.setdefault("account", acc)
        ctx.setdefault("csrf", acc.csrf if acc else "")
        ctx.setdefault("archive_title", getattr(ws.settings, "title", "Archive"))
        ctx.setdefault("mode", cfg.mode)
        if "notices" not in ctx:  # issue 24: the header's count of access requests / decisions
            from oralhist.web.research import may_decide, notices

            ctx["notices"] = notices(cfg, acc) if acc is not None and cfg.mode != "token" else 0
            ctx["decider"] = bool(acc) and cfg.mode != "token" and acc.role != "researcher" and \
                may_decide(ws, acc, acc.museum_id)
        from oralhist.web.permissions import can

        ctx.setdefault("may", lambda action: can(acc, action, any_museum=True))  # controls a role may not use: not shown
        return HTMLResponse(env.get_template(template_name).render(request=request, **ctx), status_code=status)

    # ---------------------------------------------------------------- login (network mode)

    from oralhist.web import auth as auth_views

    login, logout, api_login, api_logout, api_me = auth_views.views(cfg, page)

    def guard(action, handler):
        """Every interview route asks the one permission function (403; 404 for another museum's)."""
        import inspect

        from oralhist.web.permissions import can, interview_museum

        async def wrapped(request: Request):
            from oralhist.web.jsonbody import bad_path_ids

            acc = request.scope.get("state", {}).get("account")
            if acc is not None and acc.role == "researcher":  # issue 24: only what is granted, by public id
                from oralhist.web.research import researcher_gate

                return await researcher_gate(cfg, request, page)
            from oralhist.web.refusal import refused

            if bad_path_ids(request) is not None:  # /api/links/<10**30>: out of any table's range
                return refused(request, page, 400, "identifiant hors limites")
            acc = request.scope.get("state", {}).get("account")
            iid = request.path_params.get("iid")
            lid = request.path_params.get("lid")
            with db.session(ws) as s_:
                if lid is not None:
                    from oralhist.records import Link

                    ln = s_.get(Link, lid)
                    iid = ln.interview_id if ln else None
                    if iid is None:
                        return refused(request, page, 404, "lien inconnu", title="Lien introuvable")
                exists, mid = interview_museum(s_, iid) if iid else (False, None)
            if iid and not (exists and can(acc, "read", mid)):  # unknown, or another museum's: the same 404
                return refused(request, page, 404, "entretien inconnu", title="Entretien introuvable")
            if not can(acc, action, mid, any_museum=not iid):
                return refused(request, page, 403, "action réservée à un autre rôle")
            res = handler(request)
            return await res if inspect.isawaitable(res) else res

        return wrapped

    from oralhist.outputs.publish.oai import create_app as create_oai_app
    from oralhist.web import accounts, archive, doubts, editor, exhibits, interviews, publish, research, review, tasks, upload

    # one entry per page group (a module of oralhist/web/ with routes(cfg, page, guard))
    extra_routes = [
        *archive.routes(cfg, page, guard),
        *editor.routes(cfg, page, guard),
        *interviews.routes(cfg, page, guard),
        *publish.routes(cfg, page, guard),
        *tasks.routes(cfg, page, guard),
        *exhibits.routes(cfg, page, guard),
        *upload.routes(cfg, page, guard),
        *research.routes(cfg, page, guard),  # issue 24 + issue 21 item 8: researchers, requests, the journal
        *review.routes(cfg, page, guard),  # issue 23: correction memory, review progress, assignment, comments
        *accounts.routes(cfg, page, guard),  # issue 21: /comptes, /moi
        *doubts.routes(cfg, page, guard),  # issue 23: doubtful words, « remplacer partout »
    ]

    routes = [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/login", api_login, methods=["POST"]),
        Route("/api/logout", api_logout, methods=["POST"]),
        Route("/api/me", api_me, methods=["GET"]),
        *extra_routes,
        Route(OAI_PATH, create_oai_app(ws, path=OAI_PATH), methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def too_large(request, exc):
        return JSONResponse({"error": str(exc) or "requête trop volumineuse"}, 413)

    async def http_error(request, exc):  # no such address (404), wrong method (405): French, HTML for browsers
        from oralhist.web.refusal import refused

        from http import HTTPStatus

        words = {404: "aucune page à cette adresse", 405: "cette adresse ne permet pas cette action"}
        default = HTTPStatus(exc.status_code).phrase if exc.status_code in iter(HTTPStatus) else None
        said = words.get(exc.status_code) if exc.detail in (None, default) else str(exc.detail)  # a route's own words kept
        resp = refused(request, page, exc.status_code, said or str(exc.detail))
        resp.headers.update(getattr(exc, "headers", None) or {})  # 405's Allow
        return resp

    from starlette.exceptions import HTTPException

    app = Starlette(routes=routes, exception_handlers={BodyTooLarge: too_large, HTTPException: http_error}, middleware=[Middleware(GzipExceptAudio), Middleware(AccessControl, cfg=cfg)])
    app.state.cfg = cfg
    return app

