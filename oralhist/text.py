"""Plain-text helpers that every layer may use: URL-safe slugs."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, fallback: str = "x") -> str:
    t = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    t = re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()
    return t[:60] or fallback
