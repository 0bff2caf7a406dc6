"""Museum pages ``musees/<slug>/``, their index ``musees/`` and the map ``carte/`` (issue 26).

A museum page lists that museum's public testimonies (the site model holds public views only),
its published objects and exhibitions, and what the museums file gives (address, website, logo,
description: outputs/museums.py). Museums shown: those of the museums file and those with a
public testimony. The map is an SVG drawn at publish time (no script, no tile server: it works
offline and from ``file://``): a marker per museum with coordinates, placed on the bounds of
Hauts-de-France (widened to hold every marker); the list under it carries the same content for
keyboard and screen-reader users. Interview places get markers where the vocabulary gives
coordinates (at merge: see docs/publish.md); here they are listed with their testimonies.
"""

from __future__ import annotations

import math
from typing import Optional

# Hauts-de-France, in degrees (west, south, east, north), and the SVG's width
BOUNDS = (1.35, 48.80, 4.30, 51.10)
SVG_W = 600


def _logo(ws, model, m) -> Optional[dict]:
    from PIL import Image

    from oralhist.outputs.museums import logo_derivative
    from oralhist.outputs.publish.write import OutFile

    if not m.logo_sha256:
        return None
    d = {}
    for ext in ("webp", "jpg"):
        src = logo_derivative(ws, m, ext)
        if not src.is_file():
            return None
        path = f"musees/media/{src.name}"
        if path not in model.files:
            st = src.stat()
            model.add(OutFile(path=path, key=f"{src.name}|{st.st_size}|{st.st_mtime_ns}", source=src, recipe="copy"))
        d[ext] = path
    with Image.open(logo_derivative(ws, m, "jpg")) as im:
        d["w"], d["h"] = im.size
    return d


def museum_rows(ws, model) -> list[dict]:
    """One dict per museum shown on the site, by name."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.museums import museum_slug
    from oralhist.records import Museum

    counts: dict[str, int] = {}
    for e in model.interviews:
        if e.view.museum:
            counts[e.view.museum] = counts.get(e.view.museum, 0) + 1
    with db.session(ws) as s:
        rows = s.exec(select(Museum)).all()
    out, taken = [], set()
    for m in sorted(rows, key=lambda m: (m.name.casefold(), m.id)):
        if not m.slug and m.name not in counts:
            continue
        slug = museum_slug(m)
        if slug in taken:
            slug = f"{slug}-{m.id}"
        taken.add(slug)
        out.append({"name": m.name, "slug": slug, "town": m.place or "", "address": m.address or "",
                    "website": m.url or "", "lat": m.latitude, "lon": m.longitude,
                    "description": m.description or "", "logo": _logo(ws, model, m), "n": counts.get(m.name, 0)})
    return out


def project(lat: float, lon: float, bounds=BOUNDS) -> tuple[float, float]:
    """Equirectangular projection scaled by cos(latitude): SVG x, y of a point."""
    w, s, e, n = bounds
    k = math.cos(math.radians((s + n) / 2))
    width = (e - w) * k
    scale = SVG_W / width
    return round((lon - w) * k * scale, 1), round((n - lat) * scale, 1)


def outline_path(bounds) -> str:
    """The region's outline (oralhist/data/geo, IGN Admin Express under the Licence Ouverte) as an
    SVG path in the map's projection; points closer than a pixel to the last one are dropped."""
    import json
    from importlib.resources import files

    shape = json.loads(files("oralhist").joinpath("data/geo/hauts-de-france.geojson").read_text(encoding="utf-8"))
    geom = shape["geometry"]
    polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    parts = []
    for polygon in polygons:
        for ring in polygon:
            kept, last = [], None
            for lon, lat in ring:
                x, y = project(lat, lon, bounds)
                if last is None or abs(x - last[0]) + abs(y - last[1]) >= 1.0:
                    kept.append(f"{x:g},{y:g}")
                    last = (x, y)
            if len(kept) >= 3:
                parts.append("M" + "L".join(kept) + "Z")
    return "".join(parts)


def map_bounds(points: list[tuple[float, float]]):
    w, s, e, n = BOUNDS
    for lat, lon in points:
        w, e, s, n = min(w, lon - .1), max(e, lon + .1), min(s, lat - .1), max(n, lat + .1)
    return w, s, e, n


def add_places(ws, model, object_pages: dict) -> list[dict]:
    """musees/index.html, musees/<slug>/index.html, carte/index.html; returns the museum rows."""
    from oralhist.outputs.publish.front import newest_cards
    from oralhist.outputs.publish.i18n import messages
    from oralhist.outputs.publish.render import jinja_env
    from oralhist.outputs.publish.seo import page_meta

    env = jinja_env()
    m = messages(model.language)
    common = {"site_title": model.title, "lang": model.language, "m": m}
    museums = museum_rows(ws, model)
    cards = newest_cards(model, model.language)
    tpl = env.get_template("museum.html")
    for mu in museums:
        mine = [c for c in cards if c["museum"] == mu["name"]]
        objs = sorted((p for p in object_pages.values() if p.museum == mu["name"]), key=lambda p: p.label.casefold())
        expos = [x for x in model.exhibitions if x.get("museum") == mu["name"]]
        ld = {"address": mu["address"] or None, "url": mu["website"] or None}
        if mu["lat"] is not None:
            ld["geo"] = {"@type": "GeoCoordinates", "latitude": mu["lat"], "longitude": mu["lon"]}
        path = f"musees/{mu['slug']}/index.html"
        model.add_text(path, tpl.render(
            **common, root="../../", mu=mu, cards=mine, objects=objs, exhibitions=expos,
            meta=page_meta(model, path, f"{mu['name']} · {model.title}", mu["description"] or mu["name"], kind="museum",
                           image=mu["logo"]["jpg"] if mu["logo"] else None,
                           ld={k: v for k, v in ld.items() if v is not None})))
    model.add_text("musees/index.html", env.get_template("museums.html").render(
        **common, root="../", museums=museums,
        meta=page_meta(model, "musees/index.html", f"{m['museums']} · {model.title}", m["museums_row"],
                       kind="collection")))
    add_map(model, env, common, museums)
    return museums


def add_map(model, env, common: dict, museums: list) -> None:
    from oralhist.outputs.publish.seo import page_meta

    placed = [mu for mu in museums if mu["lat"] is not None]
    # places of the vocabulary with coordinates (CSV latitude/longitude or SKOS wgs84), linked to a public interview
    heard = {ln.term_id: 0 for e in model.interviews for ln in e.links}
    for e in model.interviews:
        for tid in {ln.term_id for ln in e.links}:
            heard[tid] += 1
    spots = sorted((tp for tp in model.terms.values() if tp.kind == "place" and tp.latitude is not None
                    and tp.longitude is not None and heard.get(tp.term_id)), key=lambda tp: tp.label.casefold())
    bounds = map_bounds([(mu["lat"], mu["lon"]) for mu in placed] + [(tp.latitude, tp.longitude) for tp in spots])
    markers = []
    for mu in placed:
        x, y = project(mu["lat"], mu["lon"], bounds)
        markers.append({**mu, "x": x, "y": y})
    place_markers = []
    for tp in spots:
        x, y = project(tp.latitude, tp.longitude, bounds)
        place_markers.append({"label": tp.label, "slug": tp.slug, "lat": tp.latitude, "lon": tp.longitude,
                              "n": heard[tp.term_id], "x": x, "y": y})
    _, h = project(bounds[1], bounds[2], bounds)
    places: dict[str, list] = {}
    for e in model.interviews:
        if e.view.place:
            places.setdefault(e.view.place, []).append({"id": e.view.id, "title": e.view.title or e.view.id})
    m = common["m"]
    model.add_text("carte/index.html", env.get_template("map.html").render(
        **common, root="../", markers=markers, place_markers=place_markers, width=SVG_W, height=h, museums=museums,
        outline=outline_path(bounds),
        places=sorted(places.items(), key=lambda kv: kv[0].casefold()),
        meta=page_meta(model, "carte/index.html", f"{m['map_h']} · {model.title}", m["map_intro"], kind="collection")))
