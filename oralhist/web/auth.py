"""Who may use the editor.

Local mode (bound to 127.0.0.1/::1): a random token in the printed address; the first
visit sets it as an HttpOnly cookie. Network mode (any other address): editor accounts
with scrypt-hashed passwords (``oralhist edit user add``); the server refuses to start
without at least one account — the editor is never open on a network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets

from sqlmodel import select

from oralhist.errors import BadInput

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
SESSION_COOKIE = "oralhist_session"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


ROLES = ("volunteer", "editor", "admin", "researcher")  # researcher: issue 24 (reads only what is granted)
SESSION_DAYS = 14


def set_account(ws, name: str, password: str | None, *, role: str | None = None, museum: str | None = None,
                new_role: str = "editor") -> bool:
    """Create (True) or update (False) an account; ``role`` volunteer|editor|admin, ``museum`` a museum's name.

    On an existing account only what is given changes (``None``: kept); a new password ends every
    session of the account. A new account needs a password and gets ``role`` or ``new_role``.
    """
    from oralhist import db
    from oralhist.records import EditorAccount

    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise BadInput(name, "an account name is 1-64 characters without spaces")
    if password is not None and len(password) < MIN_PASSWORD:
        raise BadInput(name, f"the password must have at least {MIN_PASSWORD} characters")
    if role is not None and role not in ROLES:
        raise BadInput(role, "role must be volunteer, editor, admin or researcher")
    with db.session(ws) as s:
        museum_id = None
        if museum:
            from oralhist.records import museum_id as find_museum

            museum_id = find_museum(s, museum)
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        created = row is None
        if created:
            if password is None:
                raise BadInput(name, "a new account needs a password")
            row = EditorAccount(name=name, password_hash=hash_password(password), role=role or new_role,
                                museum_id=museum_id)
        else:
            if password is not None:
                row.password_hash = hash_password(password)
                _end_sessions(s, row.id)  # a changed password takes every signed-in browser out
            if role is not None:
                row.role = role
            if museum is not None:
                row.museum_id = museum_id
        s.add(row)
        s.commit()
    return created


def list_accounts(ws) -> list[dict]:
    from oralhist import db
    from oralhist.records import EditorAccount

    with db.session(ws) as s:
        rows = s.exec(select(EditorAccount).order_by(EditorAccount.name)).all()
        from oralhist.records import Museum

        museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
        return [{"name": r.name, "role": r.role, "museum": museums.get(r.museum_id), "created_at": r.created_at.isoformat(timespec="seconds"),
                 "last_login_at": r.last_login_at.isoformat(timespec="seconds") if r.last_login_at else None}
                for r in rows]


def remove_account(ws, name: str) -> None:
    from oralhist import db
    from oralhist.errors import NotFound
    from oralhist.records import EditorAccount

    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        if row is None:
            raise NotFound(name, "no such account")
        _end_sessions(s, row.id)
        s.delete(row)
        s.commit()


def account_exists(ws, name: str) -> bool:
    from oralhist import db
    from oralhist.records import EditorAccount

    with db.session(ws) as s:
        return s.exec(select(EditorAccount.id).where(EditorAccount.name == name.strip())).first() is not None


def _end_sessions(s, account_id: int) -> None:
    """Delete every stored session of an account now (a statement, run before the account's own
    delete: the unit of work has no relationship to order the two by, hence the old FK failure)."""
    from sqlalchemy import delete

    from oralhist.records import WebSession

    s.exec(delete(WebSession).where(WebSession.account_id == account_id))


def _sid_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(ws, name: str) -> tuple[str, str]:
    """A new stored session for account ``name``: (cookie value, csrf token)."""
    from datetime import timedelta

    from oralhist import db
    from oralhist.records import EditorAccount, WebSession, utcnow

    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with db.session(ws) as s:
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == name)).one()
        s.add(WebSession(id=_sid_hash(token), account_id=acc.id, csrf=csrf,
                         expires_at=utcnow() + timedelta(days=SESSION_DAYS)))
        s.commit()
    return token, csrf


def session_user(ws, token: str):
    """(name, role, museum_id, csrf) of a live session, or None."""
    from oralhist import db
    from oralhist.records import EditorAccount, WebSession, utcnow

    if not token or len(token) > 200:
        return None
    with db.session(ws) as s:
        ses = s.get(WebSession, _sid_hash(token))
        if ses is None:
            return None
        exp = ses.expires_at if ses.expires_at.tzinfo else ses.expires_at.replace(tzinfo=utcnow().tzinfo)
        if exp < utcnow():
            return None
        acc = s.get(EditorAccount, ses.account_id)
        return (acc.name, acc.role, acc.museum_id, ses.csrf) if acc else None


def close_session(ws, token: str) -> None:
    from oralhist import db
    from oralhist.records import WebSession

    with db.session(ws) as s:
        ses = s.get(WebSession, _sid_hash(token or ""))
        if ses is not None:
            s.delete(ses)
            s.commit()


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


def verify_login(ws, name: str, password: str) -> bool:
    from oralhist import db
    from oralhist.records import EditorAccount, utcnow

    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        if row is None:
            hash_password(password)  # same time whether or not the name exists
            return False
        if not check_password(password, row.password_hash):
            return False
        row.last_login_at = utcnow()
        s.add(row)
        s.commit()
        return True


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
    """(login page, logout, POST /api/login) for the application built by web.app.make_app."""
    from urllib.parse import parse_qs

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, RedirectResponse


    ws = cfg.ws

    def set_cookie(resp, token):
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies,
                        path="/", max_age=SESSION_DAYS * 86400)

    async def attempt(request, name, password):
        """None (ok) or (status, French message)."""
        addr = request.client.host if request.client else "?"
        wait = cfg.limiter.blocked(addr, name)
        if wait > 0:
            return 429, f"trop d’essais : réessayez dans {int(wait) // 60 + 1} min"
        from oralhist.editorial.activity import record_now  # issue 21 item 8: logins in the activity log

        if await run_in_threadpool(verify_login, ws, name, password):
            cfg.limiter.succeeded(addr, name)
            await run_in_threadpool(record_now, ws, actor=name, action="login", address=addr)
            return None
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
            return page(request, "login.html", next=nxt, failed=False)
        if not _same_origin(request):
            return JSONResponse({"error": "connexion refusée (autre site)"}, 403)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        name = (form.get("name") or [""])[0][:200]
        password = (form.get("password") or [""])[0][:1000]
        bad = await attempt(request, name, password)
        if bad is None:
            token, _ = await run_in_threadpool(open_session, ws, name)
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
        token, csrf = await run_in_threadpool(open_session, ws, name)
        found = await run_in_threadpool(session_user, ws, token)
        resp = JSONResponse({"csrf": csrf, "login": name, "role": found[1]})
        set_cookie(resp, token)
        return resp

    async def logout(request):
        await run_in_threadpool(close_session, ws, request.cookies.get(SESSION_COOKIE, ""))
        resp = JSONResponse({"ok": True})
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    return login, logout, api_login
