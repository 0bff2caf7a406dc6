"""Plain-text helpers that every layer may use: URL-safe slugs, accent- and case-folding, header keys."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, fallback: str = "x") -> str:
    t = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    t = re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()
    return t[:60] or fallback


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Métier à tisser' -> 'metier a tisser'."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("œ", "oe").replace("Œ", "Oe"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def header_key(h: str) -> str:
    """A CSV column name folded to its lookup key: « Numéro d'inventaire » -> ``numero_d_inventaire``."""
    return re.sub(r"[^a-z0-9]+", "_", fold(h)).strip("_")
