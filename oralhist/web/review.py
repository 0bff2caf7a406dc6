"""Correction memory, review progress, assignment and passage comments: the editor's API and the pages « Mon travail » and « Mémoire des corrections ».

``routes(cfg, page, guard)`` as the other page groups; handlers call oralhist.editorial.memory and
oralhist.editorial.assign, the functions the CLI calls. Library reasons are English; the French
wording of the ones people meet here is below (``_FR``).
"""

from __future__ import annotations

import re

from sqlmodel import select
from starlette.requests import Request
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, NotFound
from oralhist.web.api import json_route, who as who_of
from oralhist.web.errors_fr import Refused

_FR = [
    (r"would loop: .*", "cette paire ferait une boucle : la mémoire ramène déjà de la forme corrigée à la forme fautive"),
    (r"empty \(no word in it\)", "vide (aucun mot)"),
    (r"too long: a pair is at most (\d+) words of (\d+) characters", r"trop longue : au plus \1 mots de \2 caractères"),
    (r"the same words as the wrong form", "les mêmes mots que la forme fautive"),
    (r"the comment is empty", "le commentaire est vide"),
    (r"too long \(at most (\d+) characters\)", r"trop long (au plus \1 caractères)"),
    (r"a time in ms is required", "un temps en millisecondes est requis"),
    (r"before start_ms", "la fin du passage précède son début"),
    (r"no such account", "aucun compte de ce nom"),
    (r"this account cannot reach this interview's museum", "ce compte n’a pas accès au musée de cet entretien"),
    (r"a non-empty list of segment start times \(ms\) is required", "indiquez les segments (débuts en ms)"),
    (r"no segment starts at (\d+) ms in the newest version", r"aucun segment ne commence à \1 ms dans la dernière version"),
    (r"too many segments at once", "trop de segments à la fois"),
]


def _french(fn):
    """``fn`` with the library's BadInput reasons of this page group worded in French."""

    def handler(request: Request, data):
        try:
            return fn(request, data)
        except BadInput as exc:
            for rx, repl in _FR:
                m = re.fullmatch(rx, exc.reason or "")
                if m:
                    raise Refused(exc.path, m.expand(repl)) from None
            raise

    return handler


def _account(request: Request):
    return request.scope.get("state", {}).get("account")


# Over 80 lines on purpose: the route table of this page group, short closures over the config.
def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def who(request: Request) -> str:
        return who_of(request, cfg.who)

    def api_suggestions(request: Request, data: dict):
        from oralhist.editorial.memory import suggestions

        with db.session(ws) as s:
            return suggestions(s, request.path_params["iid"])

    def api_review_get(request: Request, data: dict):
        from oralhist.editorial.assign import assignable, comments, progress, reviewed_starts
        from oralhist.records import Assignment

        iid = request.path_params["iid"]
        with db.session(ws) as s:
            a = s.get(Assignment, iid)
            names = assignable(s, iid)
            if cfg.mode == "token" and cfg.who not in names:
                names.insert(0, cfg.who)
            return {"progress": progress(s, [iid]).get(iid, {"segments": 0, "reviewed": 0, "percent": 0}),
                    "marked": reviewed_starts(s, iid), "comments": comments(s, iid),
                    "assignee": a.assignee if a else None, "assignable": names, "me": who(request)}

    def api_review_mark(request: Request, data: dict):
        from oralhist.editorial.assign import mark_reviewed

        return mark_reviewed(ws, request.path_params["iid"], data.get("starts"), data.get("reviewed", True) is not False,
                             who=who(request))

    def api_assign(request: Request, data: dict):
        from oralhist.editorial.assign import assign

        name = data.get("assignee")
        if name is not None and not isinstance(name, str):
            raise Refused(None, "assignee : un nom de compte est attendu")
        return assign(ws, request.path_params["iid"], name or None, who=who(request),
                      local_user=cfg.who if cfg.mode == "token" else None)

    def api_comment_add(request: Request, data: dict):
        from oralhist.editorial.assign import add_comment

        return add_comment(ws, request.path_params["iid"], data.get("start"), data.get("end"), data.get("body"),
                           data.get("quote", ""), who=who(request))

    def api_comment_resolve(request: Request, data: dict):
        from oralhist.editorial.assign import resolve_comment

        return resolve_comment(ws, request.path_params["iid"], request.path_params["cid"], who=who(request))

    def my_work_page(request: Request):
        from oralhist.editorial.assign import my_work
        from oralhist.web.permissions import can, interview_museum

        me = who(request)
        with db.session(ws) as s:
            rows = [r for r in my_work(s, me) if can(_account(request), "read", interview_museum(s, r["interview"])[1])]
        return page(request, "work.html", rows=rows, me=me)

    def _pairs(request: Request):
        from oralhist.editorial.memory import list_pairs
        from oralhist.records import CorrectionPair
        from oralhist.web.permissions import can_shared

        acc = _account(request)
        with db.session(ws) as s:
            mids = dict(s.exec(select(CorrectionPair.id, CorrectionPair.museum_id)).all())
            return [p for p in list_pairs(s) if can_shared(acc, "approve", mids.get(p["id"]))]

    def memory_page(request: Request):
        return page(request, "memory.html", pairs=_pairs(request))

    def api_memory_list(request: Request, data: dict):
        return {"pairs": _pairs(request)}

    def api_memory_delete(request: Request, data: dict):
        from oralhist.editorial.memory import delete_pair
        from oralhist.records import CorrectionPair
        from oralhist.web.permissions import can_shared

        pid = request.path_params["pid"]
        with db.session(ws) as s:
            p = s.get(CorrectionPair, pid)
        if p is None or p.deleted or not can_shared(_account(request), "approve", p.museum_id):
            raise NotFound(str(pid), "paire inconnue dans la mémoire des corrections")
        return delete_pair(ws, pid, who=who(request))

    def api_memory_add(request: Request, data: dict):
        from oralhist.editorial.memory import add_pair

        wrong, right = data.get("wrong"), data.get("right")
        if not isinstance(wrong, str) or not isinstance(right, str):
            raise Refused(None, "wrong et right (textes) sont requis")
        acc = _account(request)
        return add_pair(ws, wrong, right, museum_id=acc.museum_id if acc else None, who=who(request))

    return [
        Route("/travail", guard("read", my_work_page)),
        Route("/memoire", guard("approve", memory_page)),
        Route("/api/memory", guard("approve", json_route(api_memory_list)), methods=["GET"]),
        Route("/api/memory", guard("approve", json_route(_french(api_memory_add))), methods=["POST"]),
        Route("/api/memory/{pid:int}/delete", guard("approve", json_route(api_memory_delete)), methods=["POST"]),
        Route("/api/i/{iid}/suggestions", guard("read", json_route(api_suggestions)), methods=["GET"]),
        Route("/api/i/{iid}/review", guard("read", json_route(api_review_get)), methods=["GET"]),
        Route("/api/i/{iid}/review", guard("correct", json_route(_french(api_review_mark))), methods=["POST"]),
        Route("/api/i/{iid}/assign", guard("approve", json_route(_french(api_assign))), methods=["POST"]),
        Route("/api/i/{iid}/comments", guard("correct", json_route(_french(api_comment_add))), methods=["POST"]),
        Route("/api/i/{iid}/comments/{cid:int}/resolve", guard("correct", json_route(api_comment_resolve)),
              methods=["POST"]),
    ]
