"""The home page for large archives (issue 13 item 2).

The page itself stays light: an introduction, the filters, and the first page of cards rendered
on the server (readable without JavaScript, with plain links to the next pages). Every card's
data goes to one compact file, ``home-data.js`` (a script, not JSON, so that it loads from
``file://`` too: kiosk, USB key), which ``static/home.js`` filters (museum, trade, place,
decade, language, free text), sorts (date, title, narrator) and shows page by page.

Facets: museum and place come from the interview's record, trade and place also from its
published links (a trade is only known through a linked term of kind ``trade``); a filter with
no value is not shown at all (an empty "Métier" list was the review's complaint).
"""

from __future__ import annotations

import json
import re

PAGE_SIZE = 24
SUMMARY_CHARS = 240


def _language_name(code: str, lang: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(lang).languages.get((code or "").split("-")[0].lower())
    except (UnknownLocaleError, ValueError):
        name = None
    return name or code


def _short(text: str, n: int = SUMMARY_CHARS) -> str:
    t = re.sub(r"\s+", " ", text or "").strip()
    return t if len(t) <= n else t[: n - 1].rsplit(" ", 1)[0] + " …"


def home_cards(model) -> list[dict]:
    """One dict per public interview, in the default order (date, then title)."""
    from oralhist.outputs.publish import typography

    lang = model.language
    cards = []
    for e in model.interviews:
        v = e.view
        trades = sorted({ln.term_label for ln in e.links if ln.kind == "trade"})
        places = sorted({ln.term_label for ln in e.links if ln.kind == "place"} | ({v.place} if v.place else set()))
        language = (v.language or "").split("-")[0].lower()
        cards.append({
            "id": v.id, "title": v.title or v.id, "narrator": v.narrator or "", "date": v.date or "",
            "date_label": typography.long_date(v.date, lang) if v.date else "",
            "duration_label": typography.duration(v.duration_ms, lang),
            "place": v.place or "", "museum": v.museum or "", "summary": _short(v.summary or ""),
            "trades": trades, "places": places, "decade": e.decade or "", "language": language,
        })
    cards.sort(key=lambda c: (not c["date"], c["date"], c["title"].casefold()))  # undated last, as home.js
    return cards


def facets(cards: list[dict], lang: str) -> dict[str, list[tuple[str, str]]]:
    """Filter values (value, label) per facet; a facet without values is left out."""
    from oralhist.outputs.publish import typography

    def coll(values):
        return sorted(values, key=lambda s: (s.casefold(), s))

    out = {
        "museum": [(x, x) for x in coll({c["museum"] for c in cards if c["museum"]})],
        "trade": [(x, x) for x in coll({t for c in cards for t in c["trades"]})],
        "place": [(x, x) for x in coll({p for c in cards for p in c["places"]})],
        "decade": [(x, typography.decade(x, lang)) for x in sorted({c["decade"] for c in cards if c["decade"]})],
        "language": sorted(((x, _language_name(x, lang)) for x in {c["language"] for c in cards if c["language"]}),
                           key=lambda p: p[1].casefold()),
    }
    return {k: v for k, v in out.items() if v}


def home_data_js(cards: list[dict], facet_values: dict, lang: str = "fr") -> str:
    """``window.OH_HOME``: facet values once, then one array per interview with indexes into them
    (compact: about 350 bytes an interview with its summary)."""
    keys = list(facet_values)
    index = {k: {v: i for i, (v, _) in enumerate(facet_values[k])} for k in keys}

    def ix(k, vals):
        return [index[k][x] for x in vals if k in index and x in index[k]]

    rows = []
    for c in cards:
        rows.append([c["id"], c["title"], c["narrator"], c["date"], c["date_label"], c["duration_label"],
                     c["place"], c["summary"], ix("museum", [c["museum"]] if c["museum"] else []),
                     ix("trade", c["trades"]), ix("place", c["places"]),
                     ix("decade", [c["decade"]] if c["decade"] else []),
                     ix("language", [c["language"]] if c["language"] else []), c["museum"]])
    data = {"facets": keys, "values": {k: [list(p) for p in facet_values[k]] for k in keys}, "rows": rows,
            "pageSize": PAGE_SIZE}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'/* oralhist: the home page\'s cards for static/home.js, labels in lang="{lang}" */\nwindow.OH_HOME=' + text + ";\n"


def add_home(model, env, common: dict, terms_by_kind: dict) -> None:
    """temoignages.html (« Tous les témoignages »: the filters and the first page of cards; the
    home page before issue 26), home-data.js, and list pages p/2.html… for visitors without
    JavaScript."""
    from oralhist.outputs.publish.i18n import messages
    from oralhist.outputs.publish.seo import page_meta

    m = messages(model.language)
    cards = home_cards(model)
    facet_values = facets(cards, model.language)
    model.add_text("home-data.js", home_data_js(cards, facet_values, model.language))
    labels = {"museum": m["museum"], "trade": m["trade"], "place": m["place"], "decade": m["decade"],
              "language": m["language"]}
    filters = [(k, labels[k], facet_values[k]) for k in labels if k in facet_values]
    pages = max(1, -(-len(cards) // PAGE_SIZE))
    tpl = env.get_template("home.html")
    model.add_text("temoignages.html", tpl.render(
        **common, root="", cards=cards[:PAGE_SIZE], total=len(cards), filters=filters, page_no=1, pages=pages,
        terms_by_kind=terms_by_kind, intro=model.intro, page_size=PAGE_SIZE,
        meta=page_meta(model, "temoignages.html", f"{m['all_interviews']} · {model.title}", model.intro or model.title,
                       kind="collection")))
    list_tpl = env.get_template("list.html")
    for n in range(2, pages + 1):
        model.add_text(f"p/{n}.html", list_tpl.render(
            **common, root="../", cards=cards[(n - 1) * PAGE_SIZE: n * PAGE_SIZE], total=len(cards),
            page_no=n, pages=pages, page_size=PAGE_SIZE,
            meta=page_meta(model, f"p/{n}.html", f"{m['all_interviews']} ({n}) · {model.title}", model.title,
                           kind="collection")))
