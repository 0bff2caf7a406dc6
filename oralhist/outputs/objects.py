"""Museum objects with their pictures and inventory fields (issue 14).

``import_objects(ws, csv, images_dir=None)`` imports the object vocabulary (``vocab.import_vocab``)
and, for each row, its picture and inventory record: the picture is named by an ``image`` /
*Photo* / *Fichier image* column (a path relative to the CSV file; nothing outside its folder),
or found in ``images_dir`` by inventory number (``<inventory>.jpg``…). Every picture is checked
before anything is written; then originals are stored (hashed, read-only) and derivatives made
(oralhist.archive.images, two worker processes); only then are rows written. ``missing_alt`` lists the objects that cannot be published yet.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from oralhist.errors import BadInput

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")

_FIELDS = {
    "image": ["image", "photo", "fichier_image", "fichier", "image_file", "visuel"],
    "alt": ["alt", "texte_alternatif", "alt_text", "description_image"],
    "dates": ["dates", "date", "datation", "periode"],
    "materials": ["materials", "materiaux", "matieres", "materiau", "matiere"],
    "dimensions": ["dimensions", "mesures"],
    "credit_line": ["credit_line", "credit", "credits", "ligne_de_credit", "credit_photo"],
    "rights": ["rights", "droits", "licence", "license"],
}


@dataclass
class ObjectImportReport:
    terms: dict = field(default_factory=dict)
    images: int = 0
    without_image: list = field(default_factory=list)
    without_alt: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"terms": self.terms, "images": self.images, "without_image": self.without_image,
                "without_alt": self.without_alt}


def _rows(path: Path) -> list[dict]:
    from oralhist.editorial.vocab import HEADERS, decode_csv
    from oralhist.text import header_key

    text = decode_csv(path, path.read_bytes(), None)
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delim = max(";,\t", key=first.count) if first else ","
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delim))
    if not rows:
        raise BadInput(path, "the file is empty; nothing imported")
    names = {}
    for f, alts in _FIELDS.items():
        for a in alts:
            names[header_key(a)] = f
    cols = {}
    for i, h in enumerate(rows[0]):
        k = header_key(h)
        f = names.get(k) or ("inventory_number" if HEADERS.get(k) == "inventory_number" else None)
        if f and f not in cols.values():
            cols[i] = f
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        d = {f: (r[i].strip() if i < len(r) and r[i].strip() else None) for i, f in cols.items()}
        d["line"] = n
        out.append(d)
    return out


def import_objects(ws, path: Path, images_dir: Optional[Path] = None, *, workers: int = 2) -> ObjectImportReport:
    from sqlmodel import select

    from oralhist import db
    from oralhist.archive.images import check_image, resolve_inside
    from oralhist.records import ObjectRecord, Term, TermKind
    from oralhist.editorial.vocab import import_vocab, read_vocab

    path = Path(path)
    read_vocab(path, "object")  # the vocabulary itself is valid (raises BadInput otherwise)
    rows = _rows(path)
    # 1. Check every picture first: a bad one rejects the file before anything is written.
    plan = []
    for r in rows:
        img = None
        if r.get("image"):
            img = resolve_inside(path.parent, r["image"], f"{path}: line {r['line']}")
        elif images_dir and r.get("inventory_number"):
            base = Path(images_dir)
            for ext in IMAGE_EXTS:
                for cand in (base / f"{r['inventory_number']}{ext}", base / f"{r['inventory_number']}{ext.upper()}"):
                    if cand.is_file():
                        img = resolve_inside(base, cand.name, base)
                        break
                if img:
                    break
        if img is not None:
            try:
                check_image(img)
            except BadInput as e:
                raise BadInput(path, f"line {r['line']}: {e.message}") from None
        plan.append((r, img))
    # 2. The pictures (originals + derivatives, two worker processes), before any row: a picture
    #    that fails to decode (truncated…) removes what this run wrote and rejects the file.
    todo = list(dict.fromkeys(img for _, img in plan if img is not None))  # one worker per file
    try:
        stored = dict(zip(todo, store_pictures(ws, todo, workers=workers)))
    except BadInput as e:
        raise BadInput(path, f"{Path(e.path).name if e.path else ''}: {e.reason}") from None
    # 3. The terms, then the records.
    rep = ObjectImportReport(terms=import_vocab(ws, path, "object").to_dict())
    with db.session(ws) as s:
        for r, img in plan:
            inv = r.get("inventory_number")
            term = s.exec(select(Term).where(Term.kind == TermKind.object, Term.inventory_number == inv)).first() \
                if inv else None
            if term is None:
                continue
            rec = s.get(ObjectRecord, term.id) or ObjectRecord(term_id=term.id)
            for f in ("alt", "dates", "materials", "dimensions", "credit_line", "rights"):
                if r.get(f) is not None:
                    setattr(rec, f, r[f])
            if img is not None:
                st = stored[img]
                rec.image_sha256, rec.image_path = st.sha256, ws.rel(st.original)
                rec.width, rec.height = st.width, st.height
                rep.images += 1
            else:
                rep.without_image.append(inv)
            if rec.image_path and not (rec.alt or "").strip():
                rep.without_alt.append(inv)
            s.add(rec)
        s.commit()
    return rep


def store_pictures(ws, srcs: list, *, workers: int = 2) -> list:
    """Originals (hashed, read-only) and derivatives of ``srcs`` under ``<archive>/objects/``
    (``images.store_images``); when one fails to decode, what this call wrote is removed and
    its BadInput raised: nothing half-stored."""
    from oralhist.archive.images import store_images

    root = ws.root / "objects"
    originals, derived = root / "originals", root / "derived"
    existed = root.exists()
    before = {q for q in root.rglob("*")} if existed else set()
    try:
        return store_images(srcs, originals, derived, workers=workers)
    except BadInput:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for q in sorted(set(root.rglob("*")) - before, reverse=True):
                if q.is_file():
                    q.chmod(0o644)
                    q.unlink()
        raise


#: a picture sent from the workbench (issue 21): a phone's photograph is 12 to 50 megapixels;
#: beyond this, reduce the scan first (the CLI keeps the import bound, ``images.MAX_PIXELS``)
WEB_MAX_PIXELS = 50_000_000


def _object_term(s, term_id: int):
    from oralhist.errors import NotFound
    from oralhist.records import Term, TermKind

    t = s.get(Term, int(term_id))
    if t is None or (t.kind.value if hasattr(t.kind, "value") else t.kind) != TermKind.object.value:
        raise NotFound(str(term_id), "objet inconnu")
    return t


def set_picture(ws, term_id: int, src: Path, alt: str, *, max_pixels: int = WEB_MAX_PIXELS) -> dict:
    """Add or replace an object's picture with its alt text, in one step (the workbench's
    « Objets » page). The checks of ``import_objects`` apply (``images.check_image``, then a
    full decode); a picture over ``max_pixels`` is refused. Nothing is stored when anything is
    wrong. The previous original stays in the archive (originals are never deleted)."""
    from oralhist import db
    from oralhist.archive.images import check_image
    from oralhist.records import ObjectRecord

    text = " ".join(str(alt or "").split())
    if not text:
        raise BadInput(None, "texte alternatif : champ requis (décrivez ce que montre la photographie)")
    if len(text) > MAX_ALT:
        raise BadInput(None, f"texte alternatif : trop long (au plus {MAX_ALT} caractères)")
    with db.session(ws) as s:
        _object_term(s, term_id)
    fmt, w, h = check_image(Path(src))
    if w * h > max_pixels:
        raise BadInput(src, f"image too large ({w}×{h}, over {max_pixels // 1_000_000} megapixels for {fmt}): refused")
    st = store_pictures(ws, [Path(src)], workers=1)[0]
    with db.session(ws) as s:
        t = _object_term(s, term_id)
        rec = s.get(ObjectRecord, t.id) or ObjectRecord(term_id=t.id)
        rec.image_sha256, rec.image_path = st.sha256, ws.rel(st.original)
        rec.width, rec.height, rec.alt = st.width, st.height, text
        s.add(rec)
        s.commit()
    return {"id": int(term_id), "image": True, "alt": text, "width": st.width, "height": st.height}


def remove_picture(ws, term_id: int) -> dict:
    """The object has no picture any more (its original stays in the archive's objects/originals)."""
    from oralhist import db
    from oralhist.records import ObjectRecord

    with db.session(ws) as s:
        t = _object_term(s, term_id)
        rec = s.get(ObjectRecord, t.id)
        if rec is not None and rec.image_path:
            rec.image_sha256 = rec.image_path = rec.width = rec.height = None
            s.add(rec)
            s.commit()
    return {"id": int(term_id), "image": False}


def derivative(ws, rec, size: str = "card", ext: str = "webp") -> Path:
    return ws.root / "objects" / "derived" / f"{rec.image_sha256[:16]}-{size}.{ext}"


def missing_alt(s, inventory_numbers) -> list[str]:
    """Objects with a picture but no alt text: they may not be published (warning + left out)."""
    from sqlmodel import select

    from oralhist.records import ObjectRecord, Term, TermKind

    out = []
    for inv in inventory_numbers:
        t = s.exec(select(Term).where(Term.kind == TermKind.object, Term.inventory_number == inv)).first()
        rec = s.get(ObjectRecord, t.id) if t else None
        if rec is not None and rec.image_path and not (rec.alt or "").strip():
            out.append(inv)
    return out


def find_object(s, ref: str):
    """An object term by inventory number (else by label), or None."""
    from sqlmodel import select

    from oralhist.records import Term

    row = s.exec(select(Term).where(Term.kind == "object", Term.inventory_number == ref)).first()
    return row or s.exec(select(Term).where(Term.kind == "object", Term.label == ref)).first()


def find_object_record(s, ref: str):
    """(object term, ObjectRecord or None) by inventory number or label; (None, None) if unknown."""
    from oralhist.records import ObjectRecord

    t = find_object(s, ref)
    return (t, s.get(ObjectRecord, t.id)) if t else (None, None)


MAX_ALT = 1000


def set_alt(ws, term_id: int, alt: str) -> str:
    """Give an object's picture its alt text (the workbench asks for it before publication)."""
    from oralhist import db
    from oralhist.errors import NotFound
    from oralhist.records import ObjectRecord, Term, TermKind

    text = " ".join(str(alt or "").split())
    if not text:
        raise BadInput(None, "texte alternatif : champ requis (décrivez ce que montre la photographie)")
    if len(text) > MAX_ALT:
        raise BadInput(None, f"texte alternatif : trop long (au plus {MAX_ALT} caractères)")
    with db.session(ws) as s:
        t = s.get(Term, int(term_id))
        if t is None or (t.kind.value if hasattr(t.kind, "value") else t.kind) != TermKind.object.value:
            raise NotFound(str(term_id), "objet inconnu")
        rec = s.get(ObjectRecord, t.id) or ObjectRecord(term_id=t.id)
        rec.alt = text
        s.add(rec)
        s.commit()
    return text


def list_objects(s, museum_id: Optional[int] = None, *, every_museum: bool = True) -> list[dict]:
    """The object terms with their record, for the workbench's objects page (one museum's, or all)."""
    from sqlmodel import select

    from oralhist.records import Museum, ObjectRecord, Term, TermKind

    q = select(Term).where(Term.kind == TermKind.object)
    if not every_museum:
        q = q.where(Term.museum_id == museum_id)
    museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
    records = {r.term_id: r for r in s.exec(select(ObjectRecord)).all()}  # one query, not one per object
    out = []
    for t in s.exec(q.order_by(Term.inventory_number, Term.label)).all():
        rec = records.get(t.id)
        has_image = bool(rec and rec.image_path)
        out.append({"id": t.id, "label": t.label, "designation": t.designation, "inventory": t.inventory_number,
                    "ref": t.inventory_number or t.label, "museum": museums.get(t.museum_id),
                    "museum_id": t.museum_id, "image": has_image, "alt": (rec.alt if rec else None) or "",
                    "image_version": (rec.image_sha256 or "")[:12] if has_image else "",
                    "needs_alt": has_image and not (rec.alt or "").strip(),
                    "dates": rec.dates if rec else None, "materials": rec.materials if rec else None})
    return out
