"""Museum pages ``musees/<slug>/``, their index ``musees/`` and the map ``carte/`` (issue 26).

A museum page lists that museum's public testimonies (the site model holds public views only),
its published objects and exhibitions, and what the museums file gives (address, website, logo,
description: outputs/museums.py). Museums shown: those of the museums file and those with a
public testimony. The map is an SVG drawn at publish time (no script, no tile server: it works
offline and from ``file://``): a marker per museum with coordinates, placed on the bounds of
Hauts-de-France (widened to hold every marker); the list under it carries the same content for
keyboard and screen-reader users. Interview places get markers where the vocabulary gives
coordinates, or an INSEE commune code (its centre: oralhist/data/geo/communes-hauts-de-france.csv,
from IGN Admin Express via france-geojson); the others are listed with their testimonies. ``[site]
map_tiles`` (off by default) adds a tile layer under the same SVG (Web Mercator then), the outline
and the list staying as they are.
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


def outline_path(bounds, proj=None) -> str:
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
                x, y = proj(lat, lon) if proj else project(lat, lon, bounds)
                if last is None or abs(x - last[0]) + abs(y - last[1]) >= 1.0:
                    kept.append(f"{x:g},{y:g}")
                    last = (x, y)
            if len(kept) >= 3:
                parts.append("M" + "L".join(kept) + "Z")
    return "".join(parts)


def commune_centres() -> dict[str, tuple[float, float]]:
    """INSEE code -> (latitude, longitude) of the communes of Hauts-de-France (oralhist/data/geo:
    the centres of IGN Admin Express's commune outlines, see its README); read once per publish."""
    import csv
    import io
    from importlib.resources import files

    text = files("oralhist").joinpath("data/geo/communes-hauts-de-france.csv").read_text(encoding="utf-8")
    return {r["insee"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(io.StringIO(text))}


def place_coordinates(tp, centres: Optional[dict]) -> Optional[tuple[float, float]]:
    """A place term's coordinates: the vocabulary's own, else its INSEE code's commune centre."""
    if tp.latitude is not None and tp.longitude is not None:
        return tp.latitude, tp.longitude
    code = (tp.insee or "").strip().upper()
    if code and centres is not None:
        return centres.get(code)
    return None


def map_tiles(ws) -> Optional[dict]:
    """``[site] map_tiles`` (issue 26): a tile URL template with {z}, {x} and {y}, http(s) only, and
    ``[site] map_tiles_credit`` (the provider's attribution, shown under the map); None when unset."""
    from oralhist.errors import BadInput

    site = (ws.settings.raw.get("site", {}) if ws.settings.raw else {})
    url = site.get("map_tiles")
    if not url:
        return None
    toml = ws.root / "oralhist.toml"
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or \
            any(k not in url for k in ("{z}", "{x}", "{y}")) or any(c in url for c in "\"'<> "):
        raise BadInput(toml, f"[site] map_tiles must be an http(s) tile address with {{z}}, {{x}} and {{y}}, "
                             f"like \"https://tile.example.org/{{z}}/{{x}}/{{y}}.png\", not {url!r}")
    origin = url.split("/", 3)
    credit = site.get("map_tiles_credit") or ""
    if not isinstance(credit, str):
        raise BadInput(toml, "[site] map_tiles_credit must be a text (the tile provider's attribution)")
    return {"url": url, "origin": "/".join(origin[:3]), "credit": credit.strip()}


class Mercator:
    """Web Mercator at zoom ``z``, scaled so that the bounds are SVG_W wide: the projection of the
    tiles, used for the outline and markers too when a tile layer is drawn."""

    def __init__(self, bounds, z: int = 8):
        w, s, e, n = bounds
        self.z = z
        self.x0, self.y0 = self.world(n, w)
        x1, _ = self.world(s, e)
        self.k = SVG_W / (x1 - self.x0)

    def world(self, lat: float, lon: float) -> tuple[float, float]:
        size = 256 * 2 ** self.z
        y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
        return (lon + 180) / 360 * size, (1 - y / math.pi) / 2 * size

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.world(lat, lon)
        return round((x - self.x0) * self.k, 1), round((y - self.y0) * self.k, 1)

    def tiles(self, template: str, height: float) -> list[dict]:
        """The tiles covering the map (SVG x, y, size and address)."""
        size = 256 * self.k
        tx0, ty0 = int(self.x0 // 256), int(self.y0 // 256)
        tx1, ty1 = int((self.x0 + SVG_W / self.k) // 256), int((self.y0 + height / self.k) // 256)
        out = []
        for tx in range(tx0, tx1 + 1):
            for ty in range(ty0, ty1 + 1):
                out.append({"x": round((tx * 256 - self.x0) * self.k, 1), "y": round((ty * 256 - self.y0) * self.k, 1),
                            "size": round(size, 1),
                            "href": template.replace("{z}", str(self.z)).replace("{x}", str(tx)).replace("{y}", str(ty))})
        return out


def map_bounds(points: list[tuple[float, float]]):
    w, s, e, n = BOUNDS
    for lat, lon in points:
        w, e, s, n = min(w, lon - .1), max(e, lon + .1), min(s, lat - .1), max(n, lat + .1)
    return w, s, e, n


def add_places(ws, model, object_pages: dict) -> list[dict]:
    """musees/index.html, musees/<slug>/index.html, carte/index.html; returns the museum rows."""
    from oralhist.outputs.publish.front import newest_cards
    from oralhist.outputs.publish.home import PAGE_SIZE
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
        # PAGE_SIZE testimonies a page, like « Tous les témoignages »: page 1 is index.html (with the
        # museum's objects and exhibitions), the next ones page-2.html, page-3.html… (a museum with
        # hundreds of testimonies made a page of thousands of elements, slow on a phone)
        pages = max(1, -(-len(mine) // PAGE_SIZE))
        for no in range(1, pages + 1):
            path = f"musees/{mu['slug']}/" + ("index.html" if no == 1 else f"page-{no}.html")
            title = mu["name"] if no == 1 else f"{mu['name']} ({m['page']} {no})"
            model.add_text(path, tpl.render(
                **common, root="../../", mu=mu, cards=mine[(no - 1) * PAGE_SIZE:no * PAGE_SIZE],
                objects=objs if no == 1 else [], exhibitions=expos if no == 1 else [], page_no=no, pages=pages,
                total=len(mine),
                meta=page_meta(model, path, f"{title} · {model.title}", mu["description"] or mu["name"], kind="museum",
                               image=mu["logo"]["jpg"] if mu["logo"] else None,
                               ld={k: v for k, v in ld.items() if v is not None})))
    model.add_text("musees/index.html", env.get_template("museums.html").render(
        **common, root="../", museums=museums,
        meta=page_meta(model, "musees/index.html", f"{m['museums']} · {model.title}", m["museums_row"],
                       kind="collection")))
    add_map(model, env, common, museums, tiles=map_tiles(ws))
    return museums


# Over 80 lines by a little: the markers (museums, places by coordinates or INSEE code), the optional
# tile layer and the list that says the same are one page, read top to bottom.
def add_map(model, env, common: dict, museums: list, tiles: Optional[dict] = None) -> None:
    from oralhist.outputs.publish.seo import page_meta

    placed = [mu for mu in museums if mu["lat"] is not None]
    # places of the vocabulary with coordinates (CSV latitude/longitude or SKOS wgs84), linked to a public interview
    heard = {ln.term_id: 0 for e in model.interviews for ln in e.links}
    for e in model.interviews:
        for tid in {ln.term_id for ln in e.links}:
            heard[tid] += 1
    # places of the vocabulary given by INSEE code only: the commune's centre (oralhist/data/geo)
    heard_places = [tp for tp in model.terms.values() if tp.kind == "place" and heard.get(tp.term_id)]
    centres = commune_centres() if any(tp.insee and tp.latitude is None for tp in heard_places) else None
    spots = sorted(((tp, ll) for tp in heard_places if (ll := place_coordinates(tp, centres)) is not None),
                   key=lambda x: x[0].label.casefold())
    bounds = map_bounds([(mu["lat"], mu["lon"]) for mu in placed] + [ll for _, ll in spots])
    proj = Mercator(bounds) if tiles else (lambda lat, lon: project(lat, lon, bounds))
    markers = []
    for mu in placed:
        x, y = proj(mu["lat"], mu["lon"])
        markers.append({**mu, "x": x, "y": y})
    place_markers = []
    for tp, (lat, lon) in spots:
        x, y = proj(lat, lon)
        place_markers.append({"label": tp.label, "slug": tp.slug, "lat": lat, "lon": lon, "insee": tp.insee or "",
                              "from_insee": tp.latitude is None, "n": heard[tp.term_id], "x": x, "y": y})
    _, h = proj(bounds[1], bounds[2])
    tile_layer = proj.tiles(tiles["url"], h) if tiles else []
    places: dict[str, list] = {}
    for e in model.interviews:
        if e.view.place:
            places.setdefault(e.view.place, []).append({"id": e.view.id, "title": e.view.title or e.view.id})
    m = common["m"]
    model.add_text("carte/index.html", env.get_template("map.html").render(
        **common, root="../", markers=markers, place_markers=place_markers, width=SVG_W, height=h, museums=museums,
        outline=outline_path(bounds, proj if tiles else None), tiles=tile_layer,
        tiles_credit=tiles["credit"] if tiles else "", img_origin=tiles["origin"] if tiles else "",
        places=sorted(places.items(), key=lambda kv: kv[0].casefold()),
        meta=page_meta(model, "carte/index.html", f"{m['map_h']} · {model.title}", m["map_intro"], kind="collection")))
