"""The museums file (issue 26 item 2): name, town, address, website, coordinates, logo, description.

``import_museums(ws, csv)`` reads the whole file first (every row checked: a name, coordinates
inside the bounds of the Earth and given in pairs, an http(s) website, a logo that is a picture
inside the file's folder); a bad row rejects the file with one line naming the file, the row
and the field, and nothing is written. Then logos are stored like object pictures (hashed
read-only original, WebP + JPEG derivatives) and each museum row is created or updated by name
(the same matching as ingest: exact, else ignoring case and accents).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from oralhist.errors import BadInput

_FIELDS = {
    "name": ["name", "nom", "musee", "museum"],
    "town": ["town", "ville", "commune", "localite"],
    "address": ["address", "adresse"],
    "website": ["website", "site", "site_web", "url", "site_internet"],
    "latitude": ["latitude", "lat"],
    "longitude": ["longitude", "lon", "lng", "long"],
    "logo": ["logo", "image"],
    "description": ["description", "presentation"],
}
LIMITS = {"name": 200, "town": 200, "address": 400, "description": 4000}


@dataclass
class MuseumImportReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    logos: int = 0

    def to_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "logos": self.logos}


def _coordinate(value: Optional[str], low: float, high: float, where: str, what: str) -> Optional[float]:
    if value is None:
        return None
    try:
        x = float(value.replace(",", "."))
    except ValueError:
        raise BadInput(where, f"{what} {value!r} is not a number (decimal degrees, e.g. 50.3579)") from None
    if not (low <= x <= high) or x != x:
        raise BadInput(where, f"{what} {value!r} is outside {low:g}..{high:g}")
    return x


def read_museums(path: Path) -> list[dict]:
    """The checked rows of a museums file; ``BadInput`` naming the file, row and field otherwise."""
    from oralhist.archive.images import check_image, resolve_inside
    from oralhist.editorial.vocab import decode_csv
    from oralhist.links import check_http
    from oralhist.text import header_key
    from oralhist.textsafe import clean_line, clean_text

    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "no such file")
    text = decode_csv(path, path.read_bytes(), None).lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delim = max(";,\t", key=first.count) if first else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    if not rows:
        raise BadInput(path, "the file is empty; nothing imported")
    names = {header_key(a): f for f, alts in _FIELDS.items() for a in alts}
    cols = {}
    for i, h in enumerate(rows[0]):
        f = names.get(header_key(h))
        if f and f not in cols.values():
            cols[i] = f
    if "name" not in cols.values():
        raise BadInput(path, "row 1: no 'name' (nom) column; expected name, town, address, website, latitude, "
                             "longitude, logo, description")
    out, seen = [], {}
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        where = f"{path}: row {n}"
        d = {f: (r[i].strip() if i < len(r) and r[i].strip() else None) for i, f in cols.items()}
        for f, limit in LIMITS.items():
            if d.get(f) is not None:
                if len(d[f]) > limit:
                    raise BadInput(where, f"{f} is longer than {limit} characters")
                d[f] = clean_text(d[f]) if f == "description" else clean_line(d[f])
        if not d.get("name"):
            raise BadInput(where, "name is empty")
        from oralhist.text import fold

        key = fold(d["name"])
        if key in seen:
            raise BadInput(where, f"museum {d['name']!r} is already on row {seen[key]}")
        seen[key] = n
        d["latitude"] = _coordinate(d.get("latitude"), -90, 90, where, "latitude")
        d["longitude"] = _coordinate(d.get("longitude"), -180, 180, where, "longitude")
        if (d["latitude"] is None) != (d["longitude"] is None):
            raise BadInput(where, "latitude and longitude go together: give both or neither")
        d["website"] = check_http(d.get("website"), where, "website")
        if d.get("logo"):
            img = resolve_inside(path.parent, d["logo"], where)
            try:
                check_image(img)
            except BadInput as e:
                raise BadInput(where, f"logo: {e.reason}") from None
            d["logo"] = img
        d["row"] = n
        out.append(d)
    return out


def import_museums(ws, path: Path) -> MuseumImportReport:
    """Check the whole file, store the logos, then create or update one museum per row."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.archive.images import store_image
    from oralhist.records import Museum, museum_id
    from oralhist.text import slugify

    rows = read_museums(path)
    root = ws.root / "museums"
    stored = {}
    for d in rows:
        if d.get("logo") is not None and d["logo"] not in stored:
            try:
                stored[d["logo"]] = store_image(d["logo"], root / "originals", root / "derived")
            except BadInput as e:
                raise BadInput(Path(path), f"row {d['row']}: logo: {e.reason}") from None
    rep = MuseumImportReport()
    with db.session(ws) as s:
        taken = {m.slug: m.id for m in s.exec(select(Museum)).all() if m.slug}
        for d in rows:
            before = {m.id for m in s.exec(select(Museum)).all()}
            mid = museum_id(s, d["name"])
            m = s.get(Museum, mid)
            (rep.updated if mid in before else rep.created).append(m.name)
            if not m.slug:
                base = slugify(m.name, "musee")
                slug, k = base, 2
                while slug in taken and taken[slug] != m.id:
                    slug, k = f"{base}-{k}", k + 1
                m.slug = slug
                taken[slug] = m.id
            m.place = d.get("town") or m.place
            m.url = d.get("website") or m.url
            for f in ("address", "latitude", "longitude", "description"):
                if d.get(f) is not None:
                    setattr(m, f, d[f])
            if d.get("logo") is not None:
                st = stored[d["logo"]]
                m.logo_path, m.logo_sha256 = ws.rel(st.original), st.sha256
                rep.logos += 1
            s.add(m)
        s.commit()
    return rep


def logo_derivative(ws, museum, ext: str = "webp") -> Path:
    """The card-size derivative of a museum's logo (made at import)."""
    return ws.root / "museums" / "derived" / f"{museum.logo_sha256[:16]}-card.{ext}"


def museum_slug(museum) -> str:
    """The museum's page slug: the imported one, else one made from its name."""
    from oralhist.text import slugify

    return museum.slug or slugify(museum.name, "musee")
