"""The one reading of a JSON request body: types and bounds checked before any route sees it.

``parse(raw)`` is used by every JSON route (``api.read_json``, hence ``api.json_route``) and by
``POST /api/login``. It refuses, with a French ``BadInput`` (400):

- what is not JSON, or not a JSON object;
- ``NaN``, ``Infinity``, ``-Infinity`` and numbers too large for a float (``1e999``);
- integers beyond ±(2⁵³ − 1) (``10**30`` versions or ids: JavaScript cannot even write them, and
  SQLite stops at 2⁶³), and integers of more than 20 digits before they are converted;
- strings holding a lone UTF-16 surrogate (``"\\ud800"``: not text, cannot be stored or sent);
- nesting deeper than ``MAX_DEPTH``;
- a known field of the wrong type (``FIELDS``: the API's field names and what each accepts, e.g.
  a list where a text is expected).

``path_id`` bounds the integer ids of addresses (``/api/jobs/{jid:int}/…``) the same way, and
``query_int`` the integers of query strings.
"""

from __future__ import annotations

import json
import math

from oralhist.errors import BadInput

MAX_INT = 2**53 - 1
MAX_DEPTH = 32
MAX_STRING = 4 * 1024 * 1024  # characters (the body itself is at most 8 MB)

_TEXT = (str, type(None))
_INT = (int, type(None))
_NUM_OR_TEXT = (int, float, str, type(None))
_LIST = (list, type(None))
_BOOL = (bool, type(None))

# Top-level fields of the API's JSON bodies and the JSON types each accepts (None: null).
FIELDS: dict[str, tuple] = {
    # accounts
    "login": (str,), "password": (str,),
    # transcript, review
    "base_version": _INT, "version": (int, str, type(None)),  # exhibitions' versions are texts
    "segments": _LIST, "topics": _LIST, "from": _TEXT, "into": _TEXT, "status": _TEXT,
    "term_id": (int, str, type(None)), "start_ms": _NUM_OR_TEXT, "end_ms": _NUM_OR_TEXT, "start": _NUM_OR_TEXT,
    "end": _NUM_OR_TEXT, "name": _TEXT, "role": _TEXT, "quote": _TEXT,
    # consent
    "scope": _TEXT, "embargo_until": _TEXT, "pseudonym": _TEXT, "anonymise": _BOOL, "withdraw": _BOOL,
    "redact": _LIST, "unredact": _LIST, "portrait": _BOOL,  # issue 26: the portrait permission
    # imports
    "uploads": _LIST, "consent": _TEXT, "together": _BOOL,
    "narrator": _TEXT, "interviewer": _TEXT, "date": _TEXT, "place": _TEXT, "language": _TEXT,
    "museum": _TEXT, "title": _TEXT, "interview": _TEXT,
    # exhibitions, objects
    "slug": _TEXT, "intro_md": _TEXT, "section": (int, str, type(None)), "exhibition": (dict, type(None)),
    "interview_id": _TEXT, "object": _TEXT, "term": _TEXT, "alt": _TEXT,
}

_KIND_FR = {str: "un texte", int: "un nombre entier", float: "un nombre", bool: "vrai ou faux",
            list: "une liste", dict: "un objet", type(None): "null"}


class _Refused(ValueError):
    pass


def _constant(name: str):
    raise _Refused(f"valeur non admise dans le JSON : {name}")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 20:
        raise _Refused("nombre entier hors limites")
    n = int(text)
    if abs(n) > MAX_INT:
        raise _Refused("nombre entier hors limites")
    return n


def _float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise _Refused("nombre hors limites")
    return x


def _check_text(s: str) -> None:
    if len(s) > MAX_STRING:
        raise _Refused("texte trop long")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("texte invalide (caractère UTF-16 isolé)") from None


def _walk(x, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _Refused("JSON trop imbriqué")
    if isinstance(x, str):
        _check_text(x)
    elif isinstance(x, dict):
        for k, v in x.items():
            _check_text(k)
            _walk(v, depth + 1)
    elif isinstance(x, list):
        for v in x:
            _walk(v, depth + 1)


def check_fields(data: dict) -> dict:
    """The types of ``FIELDS`` present in ``data`` (bool is never an int here)."""
    for key, kinds in FIELDS.items():
        if key not in data:
            continue
        v = data[key]
        ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
        if not ok:
            want = " ou ".join(_KIND_FR[k] for k in kinds if k is not type(None))
            raise BadInput(None, f"corps JSON invalide : « {key} » doit être {want}")
    return data


def parse(raw: bytes | str) -> dict:
    """The JSON object of a request body (``{}`` when empty), checked; ``BadInput`` (French) otherwise."""
    try:
        data = json.loads(raw or b"{}", parse_constant=_constant, parse_int=_int, parse_float=_float)
        if not isinstance(data, dict):
            raise BadInput(None, "corps JSON invalide (un objet {…} est attendu)")
        _walk(data)
    except _Refused as exc:
        raise BadInput(None, f"corps JSON invalide : {exc}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):  # JSONDecodeError is a ValueError
        raise BadInput(None, "corps JSON invalide") from None
    return check_fields(data)


def path_id(value) -> None:
    """An integer of an address (``{jid:int}``): within ``MAX_INT``; ``BadInput`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise BadInput(None, "identifiant hors limites")


def bad_path_ids(request) -> BadInput | None:
    """The first integer of ``request.path_params`` out of bounds, as an error (None: all fine)."""
    try:
        for v in request.path_params.values():
            path_id(v)
    except BadInput as exc:
        return exc
    return None


def query_int(value: str | None, what: str = "nombre") -> int | None:
    """An integer of a query string (``?version=3``): None when absent; ``BadInput`` when not one or out of bounds."""
    if value is None or value == "":
        return None
    v = value.strip()
    if not (v.isascii() and v.lstrip("-").isdigit()) or len(v.lstrip("-")) > 20 or abs(int(v)) > MAX_INT:
        raise BadInput(value, f"{what} invalide")
    return int(v)
