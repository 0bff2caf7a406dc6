"""The site's front pages (issue 26): the home page, the timeline ``frise/``, the random clip.

Runs after the interview, object and exhibition pages (build.py), from what they put in the
model: every interview entry (fresh or kept from the cache), ``model.exhibitions`` and the
object pages. What each interview gives these pages (its short clips, the years it speaks
about) is computed from its public view when it is rendered and kept in the build cache
(``cached_out["front"]``), so an incremental publish reads no unchanged interview again.

* ``index.html``: a hero (the network's intro and the featured exhibition with its picture:
  ``[site] featured``, else the newest), « Écouter un témoignage au hasard », rows of cards
  (newest testimonies, trades with counts, museums, objects that speak).
  The filters and pages of every testimony are ``temoignages.html`` (home.py).
* ``extraits.js``: the random clip's candidates, loaded on the first click (a script, so it
  loads from ``file://``): topic segments of 20 to 60 s (a longer topic is cut at 60 s),
  none overlapping a redaction.
* ``frise/index.html``: testimonies by the decade they speak about, each with a clip.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Optional

CLIP_MIN_MS, CLIP_MAX_MS = 20_000, 60_000
ROW = 8  # cards per row on the home page
PER_DECADE = 12  # testimonies per decade on the timeline (the rest: the filtered list)
_YEAR = re.compile(r"\b(1[89]\d\d|20[0-4]\d)\b")


def front_facts(view) -> dict:
    """What the front pages need from one public view: candidate clips and topic years."""
    red = [(a, b) for a, b, _ in (view.consent.redactions if view.consent else ())]
    clips, years = [], []
    for t in view.topics:
        text = " ".join([t.title or "", t.synopsis or "", " ".join(t.keywords or ())])
        ys = sorted({int(y) for y in _YEAR.findall(text)})
        end = min(t.end_ms, t.start_ms + CLIP_MAX_MS)
        ok = end - t.start_ms >= CLIP_MIN_MS and not any(a < end and t.start_ms < b for a, b in red)
        if ok:
            clips.append([t.start_ms, end, t.title or ""])
        years += [[y, t.start_ms, end, t.title or ""] for y in ys if ok]
    return {"clips": clips, "years": years}


def facts_of(e) -> dict:
    if e.cached is not None:
        return e.cached.get("front") or {"clips": [], "years": []}
    f = front_facts(e.view)
    if e.cached_out is not None:
        e.cached_out["front"] = f
    return f


def _featured(ws, model) -> Optional[dict]:
    want = str((ws.settings.raw.get("site", {}) if ws.settings.raw else {}).get("featured", "") or "").strip()
    shown = model.exhibitions
    if not shown:
        return None
    for x in shown:
        if x["slug"] == want:
            return x
    return max(shown, key=lambda x: (x["mtime"], x["slug"]))


def random_clips_js(model, facts: dict) -> str:
    rows = []
    for e in model.interviews:
        if not e.audio_path:
            continue
        v = e.view
        for a, b, title in facts[e.archive_id]["clips"]:
            rows.append([v.id, e.audio_path, round(a / 1000, 2), round(b / 1000, 2), v.title or v.id,
                         v.narrator or "", title])
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return "/* oralhist: public clips of 20-60 s for the home page's random clip (static/front.js) */\n" \
           f"window.OH_CLIPS={text};\n"


def newest_cards(model, lang: str) -> list[dict]:
    from oralhist.outputs.publish.home import home_cards

    cards = home_cards(model)
    cards.sort(key=lambda c: (c["date"] or ""), reverse=True)
    return cards


def add_front(ws, model, object_pages: dict, museums: list) -> None:
    """index.html, extraits.js and frise/index.html (see the module's docstring)."""
    from oralhist.outputs.publish.i18n import messages
    from oralhist.outputs.publish.render import jinja_env
    from oralhist.outputs.publish.seo import page_meta

    env = jinja_env()
    m = messages(model.language)
    facts = {e.archive_id: facts_of(e) for e in model.interviews}
    model.add_text("extraits.js", random_clips_js(model, facts))
    cards = newest_cards(model, model.language)
    trades = Counter()
    for e in model.interviews:
        for label in {ln.term_label for ln in e.links if ln.kind == "trade"}:
            trades[label] += 1
    slugs = {tp.label: tp.slug for tp in model.terms.values() if tp.kind == "trade"}
    trade_row = [{"label": k, "n": n, "slug": slugs.get(k)} for k, n in
                 sorted(trades.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[:ROW]]
    speaking = [p for p in object_pages.values() if p.media and model.terms.get(p.term_id)
                and model.terms[p.term_id].clips]
    n_clips = sum(len(f["clips"]) for f in facts.values())
    common = {"site_title": model.title, "lang": model.language, "m": m}
    model.add_text("index.html", env.get_template("front.html").render(
        **common, root="", intro=model.intro, featured=_featured(ws, model), cards=cards[:ROW], total=len(cards),
        trades=trade_row, museums=museums[:ROW], n_museums=len(museums), objects=speaking[:ROW],
        n_objects=len(object_pages), n_clips=n_clips, exhibitions=model.exhibitions,
        meta=page_meta(model, "index.html", model.title, model.intro or model.title, kind="home")))
    add_timeline(model, env, common, facts)


def add_timeline(model, env, common: dict, facts: dict) -> None:
    """frise/index.html: by decade spoken about (topic years, else the interview's date)."""
    from oralhist.outputs.publish.seo import page_meta

    decades: dict[str, list] = {}
    for e in model.interviews:
        v, f = e.view, facts[e.archive_id]
        seen = set()
        for y, a, b, title in f["years"]:
            d = f"{y // 10 * 10}"
            if d not in seen:
                seen.add(d)
                decades.setdefault(d, []).append((e, a, b, title))
        if not seen and e.decade:
            c = f["clips"][0] if f["clips"] else None
            decades.setdefault(e.decade, []).append((e, c[0] if c else 0, c[1] if c else None, c[2] if c else ""))
    rows = []
    for d in sorted(decades):
        items = []
        for e, a, b, title in sorted(decades[d], key=lambda t: ((t[0].view.date or ""), t[0].view.id))[:PER_DECADE]:
            v = e.view
            end = b if b is not None else min(a + 30_000, v.duration_ms or a + 30_000)
            items.append({"id": v.id, "title": v.title or v.id, "narrator": v.narrator or "", "topic": title,
                          "audio": e.audio_path, "start": f"{a / 1000:.2f}", "end": f"{end / 1000:.2f}",
                          "museum": v.museum or ""})
        rows.append({"decade": d, "entries": items, "more": len(decades[d]) - len(items)})
    model.add_text("frise/index.html", env.get_template("timeline.html").render(
        **common, root="../", decades=rows,
        meta=page_meta(model, "frise/index.html", common["m"]["timeline"] + " · " + model.title,
                       common["m"]["timeline_intro"], kind="collection")))
