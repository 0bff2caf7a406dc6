"""Write oralhist/data/geo/communes-hauts-de-france.csv from france-geojson's commune outlines.

    .venv/bin/python scripts/commune_centres.py FRANCE_GEOJSON_FOLDER

FRANCE_GEOJSON_FOLDER is a checkout of https://github.com/gregoiredavid/france-geojson (also on
Packagist as ``gregoiredavid/france-geojson``; commit 5d34ee6 was used), the package the region's
outline comes from: IGN Admin Express COG (2018 edition), under the Licence Ouverte / Open Licence.
Its files ``departements/<code>-<name>/communes-<code>-<name>.geojson`` hold each commune's outline
and INSEE code.

The table maps each commune of Hauts-de-France (departments 02, 59, 60, 62, 80) to its centre: the
area-weighted centroid of its largest polygon, or, when that falls outside the commune (a crescent
or a ring-shaped commune), the middle of the widest stretch of the commune on the centroid's
latitude. WGS 84, 5 decimals (about a metre). The publisher reads it to place interview places
given by INSEE code only (``oralhist/outputs/publish/places.py``).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

DEPARTMENTS = ("02", "59", "60", "62", "80")
OUT = Path(__file__).resolve().parents[1] / "oralhist" / "data" / "geo" / "communes-hauts-de-france.csv"


def area_centroid(ring: list) -> tuple[float, float, float]:
    """(area, lon, lat) of a closed ring (shoelace; plain degrees are fine at a commune's size)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if a == 0:
        return 0.0, ring[0][0], ring[0][1]
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def crossings(ring: list, lat: float) -> list[float]:
    """The longitudes where the ring crosses the latitude ``lat``."""
    out = []
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        if (y0 <= lat) != (y1 <= lat):
            out.append(x0 + (lat - y0) * (x1 - x0) / (y1 - y0))
    return sorted(out)


def centre(geometry: dict) -> tuple[float, float]:
    """(latitude, longitude) of a commune's centre, inside it."""
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    outer = max((p[0] for p in polys), key=lambda r: area_centroid(r)[0])
    _, lon, lat = area_centroid(outer)
    xs = crossings(outer, lat)
    spans = list(zip(xs[0::2], xs[1::2]))  # inside between the 1st and 2nd crossing, the 3rd and 4th...
    if not any(a <= lon <= b for a, b in spans):
        a, b = max(spans, key=lambda s: s[1] - s[0])
        lon = (a + b) / 2
    return lat, lon


def main(folder: str) -> None:
    rows = []
    for path in sorted(Path(folder, "departements").glob("*/communes-*.geojson")):
        if path.name.split("-")[1] not in DEPARTMENTS:
            continue
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            lat, lon = centre(feature["geometry"])
            rows.append((feature["properties"]["code"], feature["properties"]["nom"], f"{lat:.5f}", f"{lon:.5f}"))
    rows.sort()
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("insee", "nom", "latitude", "longitude"))
        w.writerows(rows)
    by_dep = {d: sum(r[0].startswith(d) for r in rows) for d in DEPARTMENTS}
    print(f"{len(rows)} communes written to {OUT}: {by_dep}")


if __name__ == "__main__":
    main(sys.argv[1])
