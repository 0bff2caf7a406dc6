"""Accounts in the browser: « Comptes » (/comptes, admins) and « Mon compte » (/moi, everyone), and their JSON API.

GET  /comptes, /comptes/{login}      the accounts an admin manages (a museum's admin: its museum's)
GET  /moi                            my account: change my password, my open sessions
GET  /api/users                      the accounts (admin)
POST /api/users                      {login, password, role, museum} -> 201; 409 duplicate; 400 weak password…
POST /api/users/{login}              {role?, museum?, disabled?, password?}
POST /api/users/{login}/reset        -> {password}: a temporary password; the person chooses a new one at login
DELETE /api/users/{login}            -> 204
POST /api/me/password                {current, new}
DELETE /api/me/sessions/{key}        end one of my sessions

Every rule (who manages whom, the last admin, weak passwords, unknown roles or museums) is the
library's (``oralhist.editorial.accounts``), shared with `oralhist user`; this module reads the
request, asks ``can(account, "accounts")`` (the guard) and words the answer in French.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oralhist.editorial import accounts as lib
from oralhist.errors import BadInput, NotFound
from oralhist.web.api import json_route


def _actor(cfg, request: Request):
    """The login the library checks the scope of; None in the local token mode (this computer's owner)."""
    acc = request.scope.get("state", {}).get("account")
    return acc.name if (acc is not None and cfg.mode == "accounts") else None


def _text(data: dict, key: str, *, required: bool = True):
    v = data.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise BadInput(None, f"{key} must be a text")
    return v


# Over 80 lines on purpose: the route table of the accounts pages; each handler is a short closure
# over the app's config, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def accounts_page(request: Request):
        by = _actor(cfg, request)
        rows = lib.list_accounts(ws, by=by)
        return page(request, "accounts.html", rows=rows, museums=lib.museum_names(ws, by=by), roles=list(lib.STAFF_ROLES),
                    idle_minutes=cfg.idle_minutes, session_hours=cfg.session_hours)

    def account_page(request: Request):
        from oralhist.web.refusal import refused

        by = _actor(cfg, request)
        login = request.path_params["login"]
        row = next((r for r in lib.list_accounts(ws, by=by) if r["login"] == login), None)
        if row is None:
            return refused(request, page, 404, f"aucun compte « {login[:80]} » parmi ceux que vous gérez",
                           title="Compte introuvable")
        return page(request, "account.html", a=row, museums=lib.museum_names(ws, by=by), roles=list(lib.STAFF_ROLES))

    def me_page(request: Request):
        acc = request.scope.get("state", {}).get("account")
        if cfg.mode != "accounts":
            return page(request, "me.html", local=True, sessions=[], me=None)
        me = next((r for r in lib.list_accounts(ws) if r["login"] == acc.name), None)
        return page(request, "me.html", local=False, me=me, current=acc.session[:16],
                    sessions=lib.list_sessions(ws, acc.name), must_change=acc.must_change_password)

    def api_users(request: Request, data: dict):
        return {"users": lib.list_accounts(ws, by=_actor(cfg, request))}

    def api_create(request: Request, data: dict):
        museum = data.get("museum")
        if museum is not None and not isinstance(museum, str):
            raise BadInput(None, "museum must be a name")
        return lib.create_account(ws, _text(data, "login"), _text(data, "password"), _text(data, "role"),
                                  museum or None, by=_actor(cfg, request))

    def api_update(request: Request, data: dict):
        unknown = set(data) - {"role", "museum", "disabled", "password"}
        if unknown:
            raise BadInput(None, "unknown field: " + ", ".join(sorted(unknown)))
        museum = data["museum"] if "museum" in data else ...
        if museum not in (None, ...) and not isinstance(museum, str):
            raise BadInput(None, "museum must be a name")
        return lib.update_account(ws, request.path_params["login"], role=_text(data, "role", required=False),
                                  museum=museum, disabled=data.get("disabled"),
                                  password=_text(data, "password", required=False), by=_actor(cfg, request))

    def api_reset(request: Request, data: dict):
        return {"login": request.path_params["login"],
                "password": lib.reset_password(ws, request.path_params["login"], by=_actor(cfg, request))}

    def api_remove(request: Request, data: dict):
        lib.remove_account(ws, request.path_params["login"], by=_actor(cfg, request))
        return Response(status_code=204)

    def api_my_password(request: Request, data: dict):
        acc = request.scope.get("state", {}).get("account")
        if cfg.mode != "accounts":
            raise NotFound(None, "pas de compte en mode local")
        lib.change_own_password(ws, acc.name, _text(data, "current"), _text(data, "new"), keep_session=acc.session)
        return {"ok": True}

    def api_end_session(request: Request, data: dict):
        acc = request.scope.get("state", {}).get("account")
        if cfg.mode != "accounts":
            raise NotFound(None, "pas de compte en mode local")
        lib.end_session(ws, acc.name, request.path_params["key"])
        return Response(status_code=204)

    a = lambda h, **kw: guard("accounts", json_route(h, **kw))  # noqa: E731  admins only (the guard: 403)
    me = lambda h: guard("read", json_route(h))  # noqa: E731  every signed-in person
    return [
        Route("/comptes", guard("accounts", accounts_page)),
        Route("/comptes/{login}", guard("accounts", account_page)),
        Route("/moi", guard("read", me_page)),
        Route("/api/users", a(api_users), methods=["GET"]),
        Route("/api/users", a(api_create, status=201), methods=["POST"]),
        Route("/api/users/{login}", a(api_update), methods=["POST"]),
        Route("/api/users/{login}", a(api_remove), methods=["DELETE"]),
        Route("/api/users/{login}/reset", a(api_reset), methods=["POST"]),
        Route("/api/me/password", me(api_my_password), methods=["POST"]),
        Route("/api/me/sessions/{key}", me(api_end_session), methods=["DELETE"]),
    ]
