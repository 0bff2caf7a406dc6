"""The network's look (issue 26 item 6): ``[site] theme``, the sharing card, the language switch.

``[site] theme = { logo = "logo.png", primary = "#24313d", accent = "#0b5394" }``: ``primary``
is the colour of the header, footer and buttons (white text on it), ``accent`` that of links
on the page background and of buttons' text background. Every pair is checked against WCAG
2.x's contrast ratio (4.5:1 for text) when the site is published; a failing theme is refused
(``BadInput`` naming the two colours and their ratio), nothing is written. The logo (a picture
in the archive folder) is copied as ``logo.<ext>`` and shown by theme.css beside the title.

``[site] languages = ["fr", "en"]``: ``langues.js`` carries the chrome's words in both
languages for static/chrome.js (the switch); testimonies carry no ``data-i18n`` and never change.
"""

from __future__ import annotations

import hashlib
import json
import re

DEFAULTS = {"primary": "#24313d", "accent": "#0b5394"}
PAGE_BG, WHITE = "#fdfcf8", "#ffffff"
MIN_RATIO = 4.5


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def read_theme(ws) -> dict:
    """The checked theme: primary, accent, logo (a Path or None); ``BadInput`` otherwise."""
    from oralhist.archive.images import check_image, resolve_inside
    from oralhist.errors import BadInput

    toml = ws.root / "oralhist.toml"
    raw = (ws.settings.raw.get("site", {}) if ws.settings.raw else {}).get("theme") or {}
    if not isinstance(raw, dict):
        raise BadInput(toml, "[site] theme must be a table: theme = { logo = \"logo.png\", primary = \"#24313d\", accent = \"#0b5394\" }")
    out = dict(DEFAULTS)
    for k in ("primary", "accent"):
        v = str(raw.get(k) or out[k]).strip()
        if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", v):
            raise BadInput(toml, f"[site] theme {k} {v!r} is not a colour like #24313d")
        out[k] = v.lower()
    for fg, bg, what in ((WHITE, out["primary"], "white text on the primary colour"),
                         (out["accent"], PAGE_BG, "the accent colour (links) on the page background"),
                         (WHITE, out["accent"], "white text on the accent colour (buttons)")):
        r = contrast(fg, bg)
        if r < MIN_RATIO:
            raise BadInput(toml, f"[site] theme refused: {fg} on {bg} ({what}) has a contrast of {r:.2f}:1, "
                                 f"below {MIN_RATIO}:1 (WCAG AA); choose a darker colour")
    out["logo"] = None
    if raw.get("logo"):
        logo = resolve_inside(ws.root, str(raw["logo"]), toml)
        check_image(logo)
        out["logo"] = logo
    return out


def languages(ws) -> list[str]:
    from oralhist.errors import BadInput

    raw = (ws.settings.raw.get("site", {}) if ws.settings.raw else {}).get("languages") or []
    if not isinstance(raw, list) or any(x not in ("fr", "en") for x in raw):
        raise BadInput(ws.root / "oralhist.toml", f"[site] languages must be a list of \"fr\" and \"en\", not {raw!r}")
    return raw


def add_theme(ws, model) -> None:
    """theme.css, the logo, langues.js and the sharing card (seo.add_card)."""
    from oralhist.outputs.publish.i18n import MESSAGES
    from oralhist.outputs.publish.seo import add_card
    from oralhist.outputs.publish.write import OutFile

    t = read_theme(ws)
    css = [f":root {{ --accent: {t['accent']}; --primary: {t['primary']}; }}",
           "header.site, footer.site { background: var(--primary); }"]
    if t["logo"] is not None:
        data = t["logo"].read_bytes()
        name = "logo" + t["logo"].suffix.lower()
        model.add(OutFile(path=name, key=hashlib.sha256(data).hexdigest(), content=data))
        css.append(f'.brand::before {{ content: ""; display: inline-block; width: 2.2em; height: 2.2em; '
                   f'margin-right: .5em; vertical-align: middle; background: url("{name}") center / contain no-repeat; }}')
    model.add_text("theme.css", "/* oralhist: [site] theme, checked for contrast at publish time */\n" + "\n".join(css) + "\n")
    langs = languages(ws)
    words = {k: {key: MESSAGES[k][key] for key in MESSAGES[k]} for k in langs} if len(langs) > 1 else None
    text = json.dumps(words, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    model.add_text("langues.js", "/* oralhist: the chrome's words for the language switch ([site] languages) */\n"
                                 f"window.OH_LANG={text};window.OH_LANG_DEFAULT={json.dumps(model.language)};\n")
    add_card(model, t["primary"])
