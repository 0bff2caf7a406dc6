"""Who may use the editor.

Local mode (bound to 127.0.0.1/::1): a random token in the printed address; the first
visit sets it as an HttpOnly cookie. Network mode (any other address): editor accounts
with scrypt-hashed passwords (``oralhist edit user add``); the server refuses to start
without at least one account — the editor is never open on a network.
"""

from __future__ import annotations

import ipaddress

# The accounts themselves (passwords, roles, sessions) live in the library, shared with `oralhist user`;
# the names this module always offered stay importable from here.
from oralhist.editorial.accounts import (  # noqa: F401
    MIN_PASSWORD, ROLES, account_exists, check_password, close_session, hash_password, list_accounts,
    open_session, remove_account, session_user, set_account, verify_login,
)
from oralhist.errors import BadInput

SESSION_COOKIE = "oralhist_session"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoginLimiter:
    """Failed logins in the last ``window`` seconds, counted three ways; then 429 until it passes.

    - per (client address, login): ``burst`` (5);
    - per login, whatever the address: ``burst * 2`` (10) — guessing one person's password from
      many addresses;
    - per client address, whatever the login: ``burst * 4`` (20) — one address trying many logins.

    The client address is the real one: behind a reverse proxy listed in ``[server]
    trusted_proxies`` it is taken from ``X-Forwarded-For`` (``forwarded_scope``), so one person's
    failures never lock out everybody else who comes through the same proxy. Kept in memory: a
    restart forgets failures (sessions themselves are stored); scrypt already costs ~50 ms a try.
    """

    def __init__(self, burst: int = 5, window: float = 300.0):
        import threading

        self.burst, self.window = burst, window
        self.fails: dict[tuple, list[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, key, now):
        return [t for t in self.fails.get(key, []) if now - t < self.window]

    def _keys(self, addr: str, login: str):
        login = login.casefold()
        return (((addr, login), self.burst), ((None, login), self.burst * 2), ((addr, None), self.burst * 4))

    def blocked(self, addr: str, login: str) -> float:
        import time

        now = time.monotonic()
        with self.lock:
            for key, limit in self._keys(addr, login):
                times = self._recent(key, now)
                if len(times) >= limit:
                    return self.window - (now - times[-limit])
        return 0.0

    def failed(self, addr: str, login: str) -> None:
        import time

        now = time.monotonic()
        with self.lock:
            for key, limit in self._keys(addr, login):
                self.fails[key] = (self._recent(key, now) + [now])[-limit * 2:]
            if len(self.fails) > 100_000:  # bounded memory: forget keys with nothing recent
                for key in [k for k in self.fails if not self._recent(k, now)]:
                    del self.fails[key]

    def succeeded(self, addr: str, login: str) -> None:
        with self.lock:
            self.fails.pop((addr, login.casefold()), None)


# --------------------------------------------------------------------------- reverse proxies


def proxy_networks(values) -> tuple:
    """``[server] trusted_proxies`` (addresses or networks, e.g. "127.0.0.1", "10.0.0.0/8") parsed."""
    return tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in values or ())


def _is_in(addr: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in networks)


FORWARDED = (b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-port",
             b"x-forwarded-prefix", b"x-real-ip", b"forwarded")
METHOD_OVERRIDES = (b"x-http-method-override", b"x-http-method", b"x-method-override")


def forwarded_scope(scope: dict, trusted, allowed_hosts) -> dict:
    """The request as this application must see it: forwarded headers believed only from a trusted proxy.

    From a peer in ``trusted`` (``[server] trusted_proxies``): the client address becomes the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy; ``X-Forwarded-Host``
    is kept only when it names one of ``allowed_hosts`` (``[server] hosts``) and
    ``X-Forwarded-Proto`` only when it is http or https. From any other peer every forwarded
    header is dropped, so nothing downstream (the tus server's ``Location``, the login limiter)
    can be steered by a client.
    """
    peer = (scope.get("client") or ("", 0))[0]
    headers = list(scope.get("headers") or [])
    kept = [(k, v) for k, v in headers if k.lower() not in FORWARDED]
    if not trusted or not _is_in(peer, trusted):
        return dict(scope, headers=kept) if len(kept) != len(headers) else scope
    client = scope.get("client")
    hops = [h.strip() for k, v in headers if k.lower() == b"x-forwarded-for"
            for h in v.decode("latin-1").split(",")]
    for hop in reversed(hops):
        if not _is_in(hop, trusted):
            try:
                client = (str(ipaddress.ip_address(hop)), 0)
            except ValueError:
                pass  # not an address: keep the proxy's (it is then limited as one client)
            break
    for k, v in headers:
        k = k.lower()
        if k == b"x-forwarded-host":
            host = v.decode("latin-1").split(",")[0].strip()
            name = host.rsplit(":", 1)[0].strip("[]").lower() if not host.endswith("]") else host.strip("[]").lower()
            if host and (not allowed_hosts or name in allowed_hosts):
                kept.append((k, host.encode("latin-1")))
        elif k == b"x-forwarded-proto":
            proto = v.decode("latin-1").split(",")[0].strip().lower()
            if proto in ("http", "https"):
                kept.append((k, proto.encode()))
    return dict(scope, headers=kept, client=client)


# ------------------------------------------------------------------------------ login pages / API


def _same_origin(request) -> bool:
    """Login refuses cross-site POSTs: a browser's Origin (or Sec-Fetch-Site) must be this site."""
    from urllib.parse import urlsplit

    site = request.headers.get("sec-fetch-site")
    if site is not None:  # every current browser sends it; Origin is "null" under no-referrer
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # scripts (curl, requests) send none
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


same_origin = _same_origin  # the public name (web/research.py: registration checks the Origin like login)


def views(cfg, page):
    """(login page, POST /logout, POST /api/login, POST /api/logout, GET /api/me) for the application
    built by web.app.make_app."""
    from datetime import timedelta
    from urllib.parse import parse_qs

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, RedirectResponse, Response

    from oralhist.editorial.accounts import login_status

    ws = cfg.ws

    def set_cookie(resp, token):
        # a session cookie (no max-age): it goes when the browser closes; the server ends it sooner
        # (idle_minutes, session_hours, logout)
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies, path="/")

    def new_session(request, name):
        return open_session(ws, name, lifetime=timedelta(hours=cfg.session_hours),
                            address=request.client.host if request.client else None,
                            agent=request.headers.get("user-agent"))

    async def attempt(request, name, password):
        """None (ok) or (status, French message)."""
        addr = request.client.host if request.client else "?"
        wait = cfg.limiter.blocked(addr, name)
        if wait > 0:
            return 429, f"trop d’essais : réessayez dans {int(wait) // 60 + 1} min"
        from oralhist.editorial.activity import record_now  # issue 21 item 8: logins in the activity log

        state = await run_in_threadpool(login_status, ws, name, password)
        if state == "ok":
            cfg.limiter.succeeded(addr, name)
            await run_in_threadpool(record_now, ws, actor=name, action="login", address=addr)
            return None
        if state == "disabled":  # the right password: saying so reveals nothing a guesser could use
            await run_in_threadpool(record_now, ws, actor=name[:64], action="login.disabled", address=addr)
            return 403, "ce compte est désactivé : demandez à un administrateur de le réactiver"
        cfg.limiter.failed(addr, name)
        await run_in_threadpool(record_now, ws, actor=name[:64], action="login.failed", address=addr)
        return 403, "nom ou mot de passe incorrect"

    async def login(request):
        nxt = request.query_params.get("next", "/")
        if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
            nxt = "/"
        if cfg.mode != "accounts":
            return RedirectResponse("/", 303)
        if request.method == "GET":
            ended = request.query_params.get("fin") == "1"
            return page(request, "login.html", next=nxt, failed=False, ended=ended,
                        idle_minutes=cfg.idle_minutes, session_hours=cfg.session_hours)
        if not _same_origin(request):
            return JSONResponse({"error": "connexion refusée (autre site)"}, 403)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name = (form.get("name") or [""])[0][:200]
        password = (form.get("password") or [""])[0][:1000]
        bad = await attempt(request, name, password)
        if bad is None:
            token, _ = await run_in_threadpool(new_session, request, name)
            resp = RedirectResponse(nxt, 303)
            set_cookie(resp, token)
            return resp
        return page(request, "login.html", bad[0], next=nxt, failed=bad[1], name=name)

    async def api_login(request):
        if cfg.mode != "accounts":
            return JSONResponse({"error": "pas de comptes en mode local"}, 404)
        if not _same_origin(request):
            return JSONResponse({"error": "connexion refusée (autre site)"}, 403)
        from oralhist.web.jsonbody import parse

        try:
            data = parse(await request.body())
        except BadInput:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("login"), str) or not isinstance(data.get("password"), str):
            return JSONResponse({"error": "login et password sont requis"}, 400)
        name, password = data["login"][:200], data["password"][:1000]
        bad = await attempt(request, name, password)
        if bad is not None:
            return JSONResponse({"error": bad[1]}, bad[0])
        token, csrf = await run_in_threadpool(new_session, request, name)
        found = await run_in_threadpool(session_user, ws, token)
        resp = JSONResponse({"csrf": csrf, "login": name, "role": found.role,
                             "must_change_password": found.must_change_password})
        set_cookie(resp, token)
        return resp

    def end_and_record(request) -> None:
        """The stored session deleted, and the logout in the activity log under its account's name."""
        from oralhist.editorial.activity import record_now

        name = close_session(ws, request.cookies.get(SESSION_COOKIE, ""))
        if name:
            record_now(ws, actor=name, action="logout", address=request.client.host if request.client else None)

    async def logout(request):
        """The « Se déconnecter » form: the stored session is deleted, then the login page."""
        if not _same_origin(request):
            return JSONResponse({"error": "déconnexion refusée (autre site)"}, 403)
        await run_in_threadpool(end_and_record, request)
        resp = RedirectResponse("/login?sortie=1", 303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    async def api_logout(request):
        """204: the session is destroyed server-side (the same cookie replayed answers 401)."""
        await run_in_threadpool(end_and_record, request)
        resp = Response(status_code=204)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    async def api_me(request):
        from oralhist import db
        from oralhist.records import Museum

        acc = request.scope.get("state", {}).get("account")
        museum = None
        if acc is not None and acc.museum_id is not None:
            def name():
                with db.session(ws) as s:
                    m = s.get(Museum, acc.museum_id)
                    return m.name if m else None

            museum = await run_in_threadpool(name)
        return JSONResponse({"login": acc.name, "role": acc.role, "museum": museum,
                             "must_change_password": acc.must_change_password})

    return login, logout, api_login, api_logout, api_me
