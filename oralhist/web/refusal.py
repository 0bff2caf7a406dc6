"""Refusals and missing things, in the form the asker reads: an HTML page in French with the way out for browsers, JSON for the API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TITLES = {400: "Demande incorrecte", 401: "Connexion requise", 403: "Accès réservé", 404: "Page introuvable",
          405: "Action impossible ici", 413: "Envoi trop volumineux", 429: "Trop d’essais"}


def wants_html(request: Request) -> bool:
    """A browser opening a page: not an /api/ address, and ``Accept`` names text/html."""
    path = request.url.path
    if path.startswith("/api/") or request.headers.get("x-oralhist"):
        return False
    return "text/html" in (request.headers.get("accept") or "")


def refused(request: Request, page, status: int, message: str, *, title: str | None = None) -> Response:
    """``{"error": message}`` with ``status``, or the French page ``refused.html`` for a browser
    (its title, the message, and the links out: the list, my account, another login)."""
    if not wants_html(request):
        return JSONResponse({"error": message}, status)
    return page(request, "refused.html", status, title=title or TITLES.get(status, "Accès impossible"),
                message=message, code=status)
