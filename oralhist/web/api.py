"""The one shape of every JSON route: read the body, call the library, map its errors.

``json_route(fn)`` turns ``fn(request, data) -> dict`` (run in a worker thread, since the
library is synchronous; a coroutine function is awaited as it is) into a Starlette handler.
``error_response`` is the one mapping of the library's exceptions to JSON, used by
``json_route`` and by the multipart routes that read their body themselves: ``ConflictError``
409, ``NotFound`` 404, ``TooLarge`` 413, ``Forbidden`` 403, any other ``OralhistError`` 400 —
always ``{"error": "…", "conflict": bool}``, the reason worded in French by
``errors_fr.message`` (led by the name of the file the user sent, when there is one).
"""

from __future__ import annotations

import inspect

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oralhist.errors import BadInput, ConflictError, NotFound, OralhistError


class TooLarge(BadInput):
    """A request within the byte limit whose content is still too big (413)."""


class Forbidden(OralhistError):
    """An action the account's role does not allow (403); its reason is French."""


def error_response(exc: OralhistError, name: str | None = None, **extra) -> JSONResponse:
    """``{"error": <French reason>, "conflict": bool, **extra}`` with the status of the error's kind;
    ``name``: the file the user sent, shown before the reason (never a server path)."""
    from oralhist.web.errors_fr import message

    code = 409 if isinstance(exc, ConflictError) else 404 if isinstance(exc, NotFound) else \
        413 if isinstance(exc, TooLarge) else 403 if isinstance(exc, Forbidden) else 400
    return JSONResponse({"error": message(exc, name), "conflict": code == 409, **extra}, status_code=code)


async def read_json(request: Request) -> dict:
    """The JSON object of a write (``{}`` for GET or an empty body), its types and bounds checked
    by ``jsonbody.parse`` (the one place); the address's integer ids too. BadInput otherwise."""
    from oralhist.web.jsonbody import bad_path_ids, parse

    bad = bad_path_ids(request)
    if bad is not None:
        raise bad
    if request.method in ("GET", "HEAD"):
        return {}
    return parse(await request.body())


def who(request: Request, default: str = "editor") -> str:
    """The name recorded with a change: the account, else the local editor's name."""
    acc = request.scope.get("state", {}).get("account")
    return acc.name if acc else default


def json_route(fn, *, status: int = 200):
    """A handler that calls ``fn(request, data)`` and answers its dict (or list) as JSON with
    ``status``; a ``Response`` it returns is sent as it is (another status, a file)."""
    is_async = inspect.iscoroutinefunction(fn)

    async def handler(request: Request):
        try:
            data = await read_json(request)
            res = await fn(request, data) if is_async else await run_in_threadpool(fn, request, data)
        except OralhistError as exc:
            return error_response(exc)
        except OverflowError:  # a number past what the database stores, from a query or a computation
            return error_response(BadInput(None, "nombre hors limites"))
        if isinstance(res, Response):
            return res
        return JSONResponse(res, status_code=status, headers={"cache-control": "no-store"})

    return handler
