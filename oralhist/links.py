"""Links people give (vocabulary and object URIs, exhibition texts, settings): http(s) only.

A ``javascript:`` (or ``data:``, ``vbscript:``…) address published as a link runs script when
a visitor clicks it. Every place where a user gives a link checks it with :func:`check_http`
at entry (the library raises ``BadInput`` naming the file and what to write instead); the
templates also show a link only when :func:`is_http` holds (``http_only`` in Jinja), so a
value stored before this check is shown as text, never as an ``href``.
"""

from __future__ import annotations

import re
from typing import Optional

from oralhist.errors import BadInput

_HTTP = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def is_http(value: Optional[str]) -> bool:
    """True for an absolute http:// or https:// address with a host and no white space."""
    return bool(value) and isinstance(value, str) and _HTTP.fullmatch(value) is not None


def check_http(value: Optional[str], where, what: str = "the link", tail: str = "") -> Optional[str]:
    """``value`` (stripped; ``None`` when empty) if it is an http(s) address, else ``BadInput``
    reading "<what> '<value>' is not an http:// or https:// address …<tail>"."""
    if value is None or not str(value).strip():
        return None
    v = str(value).strip()
    if not is_http(v):
        shown = v if len(v) <= 60 else v[:57] + "…"
        raise BadInput(where, f"{what} '{shown}' is not an http:// or https:// address "
                              f"(only web addresses are accepted, e.g. https://www.example.org/){tail}")
    return v


def http_only(value: Optional[str]) -> str:
    """For templates: the value when it is an http(s) address, else an empty text."""
    return value if is_http(value) else ""


def markdown_links(text: str) -> list[str]:
    """Every link and image address in a CommonMark text (what ``render_markdown`` would
    publish), in order."""
    from markdown_it import MarkdownIt

    out = []

    def walk(tokens):
        for t in tokens:
            if t.type in ("link_open", "image"):
                out.append(str(t.attrGet("href") or t.attrGet("src") or ""))
            if t.children:
                walk(t.children)

    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = lambda url: True  # see every address, even those markdown-it would drop
    walk(md.parse(text or ""))
    return out


def check_markdown(text: str, where, what: str = "the link") -> None:
    """Refuse a text whose links are not http(s) (relative links inside the site and ``#`` anchors
    are fine: they stay on the site)."""
    for href in markdown_links(text):
        if href and not is_http(href) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:|^//", href.strip()):
            check_http(href, where, what)
