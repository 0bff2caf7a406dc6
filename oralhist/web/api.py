"""The one shape of every JSON route: read the body, call the library, map its errors.

``json_route(fn)`` turns ``fn(request, data) -> dict`` (run in a worker thread, since the
library is synchronous) into a Starlette handler. The library's exceptions become JSON with
a status: ``ConflictError`` 409, ``NotFound`` 404, ``TooLarge`` 413, any other
``OralhistError`` 400 — always ``{"error": "…"}`` (French, for the page to show).
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oralhist.errors import BadInput, ConflictError, NotFound, OralhistError


class TooLarge(BadInput):
    """A request within the byte limit whose content is still too big (413)."""


def error_response(exc: OralhistError) -> JSONResponse:
    code = 409 if isinstance(exc, ConflictError) else 404 if isinstance(exc, NotFound) else \
        413 if isinstance(exc, TooLarge) else 400
    return JSONResponse({"error": exc.reason, "conflict": code == 409}, status_code=code)


async def read_json(request: Request) -> dict:
    """The JSON object of a write (``{}`` for GET or an empty body); BadInput otherwise."""
    if request.method in ("GET", "HEAD"):
        return {}
    try:
        data = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BadInput(None, "corps JSON invalide") from None
    if not isinstance(data, dict):
        raise BadInput(None, "corps JSON invalide")
    return data


def who(request: Request, default: str = "editor") -> str:
    """The name recorded with a change: the account, else the local editor's name."""
    acc = request.scope.get("state", {}).get("account")
    return acc.name if acc else default


def json_route(fn, *, status: int = 200):
    """A handler that calls ``fn(request, data)`` in a thread and answers its dict as JSON."""

    async def handler(request: Request):
        try:
            data = await read_json(request)
            res = await run_in_threadpool(fn, request, data)
        except OralhistError as exc:
            return error_response(exc)
        if isinstance(res, Response):
            return res
        return JSONResponse(res, status_code=status, headers={"cache-control": "no-store"})

    return handler
