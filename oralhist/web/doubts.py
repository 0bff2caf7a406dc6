"""Doubtful words and « remplacer partout » on the workbench (issue 23): confirm, preview, apply, undo.

``routes(cfg, page, guard)`` as the other page groups. The handlers read the request and call
``oralhist.editorial.doubts`` and ``oralhist.editorial.replace``, the functions behind
``oralhist show --words`` and ``oralhist replace``. Replacing in one interview needs the right
to correct it; across a museum or the archive, an editor's role (``approve``): an account
tied to a museum reaches only its museum's interviews, whatever it asks for.
"""

from __future__ import annotations

from typing import Optional

from starlette.requests import Request
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, NotFound
from oralhist.web.api import Forbidden, json_route, who as who_of

MAX_KEYS = 50_000  # unticked occurrences sent back with an apply


def _account(request: Request):
    return request.scope.get("state", {}).get("account")


def _terms(data: dict) -> tuple[str, str]:
    find, rep = data.get("find", ""), data.get("replace", "")
    if not isinstance(find, str) or not isinstance(rep, str):
        raise BadInput("find", "texte attendu")
    return find, rep


def _scope(request: Request, data: dict, s) -> dict:
    """The scope of a cross-interview replace: the account's museum, or (untied account) the museum
    named, or the whole archive."""
    from sqlmodel import select

    from oralhist.records import Museum

    acc = _account(request)
    if acc is not None and acc.museum_id is not None:
        return {"museum_id": acc.museum_id}
    name = data.get("museum")
    if isinstance(name, str) and name:
        mid = s.exec(select(Museum.id).where(Museum.name == name)).first()
        if mid is None:
            raise NotFound(name, "musée inconnu")
        return {"museum_id": mid}
    return {"everything": True}


def _keys(data: dict, name: str) -> list[str]:
    v = data.get(name) or []
    if not isinstance(v, list) or len(v) > MAX_KEYS or not all(isinstance(k, str) and len(k) < 400 for k in v):
        raise BadInput(name, "liste d’occurrences invalide")
    return v


def _versions(data: dict) -> Optional[dict]:
    v = data.get("versions")
    if v is None:
        return None
    if not isinstance(v, dict) or not all(isinstance(x, int) for x in v.values()):
        raise BadInput("versions", "versions invalides")
    return v


def _museums(s, request: Request) -> list[str]:
    from sqlmodel import select

    from oralhist.records import Museum

    acc = _account(request)
    if acc is not None and acc.museum_id is not None:
        m = s.get(Museum, acc.museum_id)
        return [m.name] if m else []
    return list(s.exec(select(Museum.name).order_by(Museum.name)).all())


# Over 80 lines on purpose: the route table of this page group; each handler is a short closure
# over the app's config, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def who(request: Request) -> str:
        return who_of(request, cfg.who)

    def replace_page(request: Request):
        from oralhist.editorial.view import load_interview

        iid = request.query_params.get("i") or None
        v = None
        with db.session(ws) as s:
            if iid:
                try:
                    v = load_interview(s, iid, with_words=False)
                except NotFound:
                    return page(request, "notfound.html", 404, iid=iid)
                from oralhist.web.permissions import can, interview_museum

                _, mid = interview_museum(s, iid)
                if not can(_account(request), "correct", mid):
                    return page(request, "notfound.html", 404, iid=iid)
            museums = _museums(s, request)
        acc = _account(request)
        wide = acc is None or acc.role in ("editor", "admin")
        return page(request, "replace.html", one=v, museums=museums, wide=wide,
                    tied=acc is not None and acc.museum_id is not None)

    def api_confirm(request: Request, data: dict):
        from oralhist.editorial.doubts import confirm

        words = data.get("words")
        if not isinstance(words, list) or not all(
                isinstance(w, list) and len(w) == 2 and all(isinstance(x, int) and 0 <= x < 10**9 for x in w)
                for w in words):
            raise BadInput("words", "liste de mots [début, fin] attendue")
        n = confirm(ws, request.path_params["iid"], [tuple(w) for w in words], who=who(request))
        return {"confirmed": n}

    def api_preview_one(request: Request, data: dict):
        from oralhist.editorial.replace import preview

        find, rep = _terms(data)
        return preview(ws, find, rep, interview=request.path_params["iid"]).to_dict()

    def api_apply_one(request: Request, data: dict):
        from oralhist.editorial.replace import apply_replace

        find, rep = _terms(data)
        iid = request.path_params["iid"]
        vs = _versions(data)
        if vs is not None and set(vs) - {iid}:
            raise BadInput("versions", "un autre entretien que celui-ci")
        return apply_replace(ws, find, rep, who=who(request), interview=iid, versions=vs,
                             skip=_keys(data, "skip")).to_dict()

    def api_preview(request: Request, data: dict):
        from oralhist.editorial.replace import preview

        find, rep = _terms(data)
        with db.session(ws) as s:
            scope = _scope(request, data, s)
        return preview(ws, find, rep, **scope).to_dict()

    def api_apply(request: Request, data: dict):
        from oralhist.editorial.replace import apply_replace

        find, rep = _terms(data)
        with db.session(ws) as s:
            scope = _scope(request, data, s)
        return apply_replace(ws, find, rep, who=who(request), versions=_versions(data), skip=_keys(data, "skip"),
                             **scope).to_dict()

    def api_undo(request: Request, data: dict):
        from oralhist.editorial.replace import undo_replace
        from oralhist.records import ReplaceBatch
        from oralhist.web.permissions import can, interview_museum

        bid = data.get("batch")
        if not isinstance(bid, int):
            raise BadInput("batch", "numéro de remplacement attendu")
        acc = _account(request)
        with db.session(ws) as s:
            b = s.get(ReplaceBatch, bid)
            if b is None:
                raise NotFound(str(bid), "remplacement inconnu")
            for it in b.items:
                if not can(acc, "correct", interview_museum(s, it["interview"])[1]):
                    raise Forbidden(None, "ce remplacement touche des entretiens d’un autre musée")
            if len(b.items) > 1 and not can(acc, "approve", None, any_museum=True):
                raise Forbidden(None, "action réservée à un autre rôle")
        return undo_replace(ws, bid, who=who(request)).to_dict()

    return [
        Route("/remplacer", guard("correct", replace_page)),
        Route("/api/i/{iid}/doubts/confirm", guard("correct", json_route(api_confirm)), methods=["POST"]),
        Route("/api/i/{iid}/replace/preview", guard("correct", json_route(api_preview_one)), methods=["POST"]),
        Route("/api/i/{iid}/replace/apply", guard("correct", json_route(api_apply_one)), methods=["POST"]),
        Route("/api/replace/preview", guard("approve", json_route(api_preview)), methods=["POST"]),
        Route("/api/replace/apply", guard("approve", json_route(api_apply)), methods=["POST"]),
        Route("/api/replace/undo", guard("correct", json_route(api_undo)), methods=["POST"]),
    ]
