"""Vocabularies of trades, objects, places and subjects (Term rows).

``import_vocab(ws, file, kind)`` reads a CSV (as exported by museum inventory software:
``;`` or ``,``, UTF-8 with or without BOM, French or English headers) or a SKOS thesaurus
(Turtle, RDF/XML, N-Triples, JSON-LD via rdflib). The whole file is validated before anything
is written: a bad file gives one ``BadInput`` naming the file (and line) and the problem, and
the archive is left untouched. A re-import updates terms in place (matched on URI, else on
kind + label + museum); it never duplicates them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from sqlmodel import Session, select

from oralhist.errors import BadInput, NotFound
from oralhist.links import check_http
from oralhist.records import Museum, Term, TermKind
from oralhist.records import museum_id as records_museum_id
from oralhist.text import fold, header_key

DATA = Path(__file__).parent.parent / "data" / "vocab"
STARTER = DATA / "metiers-hauts-de-france.csv"
KINDS = tuple(k.value for k in TermKind)


# Accepted headers (folded: lower case, no accents, '_' for anything else) -> field.
HEADERS: dict[str, str] = {}
for _field, _names in {
    "label": ["label", "preflabel", "pref_label", "libelle", "terme", "intitule", "nom", "appellation", "titre"],
    "alt_labels": ["alt_labels", "altlabels", "altlabel", "alt_label", "alternative_labels", "synonymes", "synonyme",
                   "variantes", "variante", "formes_alternatives", "autres_libelles", "autres_noms", "termes_associes",
                   "employe_pour", "ep"],
    "uri": ["uri", "url", "lien", "ark", "identifiant_uri", "identifiant_pérenne", "concept"],
    "broader": ["broader", "generique", "terme_generique", "tg", "parent", "categorie", "domaine"],
    "inventory_number": ["inventory_number", "inventory", "numero_d_inventaire", "numero_inventaire", "n_inventaire",
                         "no_inventaire", "n_d_inventaire", "num_inventaire", "inventaire", "numero_inv", "n_inv",
                         "numero"],
    "museum": ["museum", "musee", "etablissement", "institution", "collection", "musee_de_france"],
    "designation": ["designation", "denomination", "objet", "nom_de_l_objet"],
    "kind": ["kind", "type", "genre_de_terme", "sorte"],
    # issue 25: equivalents in other vocabularies (several separated by | or ;), and where a place is
    "same_as": ["same_as", "sameas", "exact_match", "exactmatch", "equivalent", "equivalents", "wikidata",
                "aat", "rameau", "alignement", "alignements"],
    "latitude": ["latitude", "lat"],
    "longitude": ["longitude", "lon", "long", "lng"],
    "insee": ["insee", "code_insee", "code_commune", "cog", "code_officiel_geographique"],
}.items():
    for _n in _names:
        HEADERS[header_key(_n)] = _field


@dataclass(frozen=True)
class TermData:
    """One term as read from a file, before it is written."""

    kind: str
    label: str
    alt_labels: tuple[str, ...] = ()
    uri: Optional[str] = None
    broader: Optional[str] = None
    inventory_number: Optional[str] = None
    designation: Optional[str] = None
    museum: Optional[str] = None
    line: Optional[int] = None
    same_as: tuple[str, ...] = ()
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    insee: Optional[str] = None


@dataclass
class ImportReport:
    file: str
    format: str  # csv | skos
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def to_dict(self) -> dict:
        return {"file": self.file, "format": self.format, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "warnings": self.warnings}


# --------------------------------------------------------------------------- reading files


def _split_alt(cell: str) -> tuple[str, ...]:
    out = []
    for part in re.split(r"[|;]", cell or ""):
        part = " ".join(part.split())
        if part and part not in out:
            out.append(part)
    return tuple(out)


def _clean(cell: Optional[str]) -> Optional[str]:
    cell = " ".join((cell or "").split())
    return cell or None


def decode_csv(path: Path, data: bytes, encoding: Optional[str]) -> str:
    """The text of a CSV file: ``encoding`` if given, else UTF-8 (BOM or not); else BadInput naming the first bad line."""
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise BadInput(path, f"cannot be read as {encoding} ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("cp1252")
            guess = "it looks like Windows-1252 (Latin-1), as older inventory software exports"
        except UnicodeDecodeError:
            guess = "its encoding is unknown"
        raise BadInput(
            path,
            f"line {line}: not UTF-8 ({guess}); re-save it as UTF-8, or pass --encoding cp1252; nothing imported",
        ) from None


def read_csv(path: Path, kind: Optional[str], encoding: Optional[str] = None) -> tuple[list[TermData], list[str]]:
    """Parse and validate a CSV vocabulary. Returns the terms and warnings; raises BadInput."""
    path = Path(path)
    from oralhist.textsafe import clean_text

    text = clean_text(decode_csv(path, path.read_bytes(), encoding))  # no control characters (issue 19)
    if not text.strip():
        raise BadInput(path, "the file is empty; nothing imported")
    first = text.lstrip("\ufeff").splitlines()[0]
    delim = max(";,\t", key=first.count)
    if first.count(delim) == 0:
        delim = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    header = rows[0]
    mapping: dict[int, str] = {}
    ignored = []
    for i, h in enumerate(header):
        f = HEADERS.get(header_key(h))
        if f and f not in mapping.values():
            mapping[i] = f
        elif h.strip():
            ignored.append(h.strip())
    fields = set(mapping.values())
    expected = "label, alt_labels, uri, broader (objects: inventory_number, museum, designation)"
    if "label" not in fields and not ("designation" in fields and kind in (None, "object")):
        raise BadInput(
            path, f"line 1: no label column (found: {', '.join(h for h in header if h.strip()) or 'nothing'}; "
                  f"expected: {expected}); nothing imported")
    if kind is None and "kind" not in fields:
        raise BadInput(path, "no --kind given and the file has no kind column; nothing imported")
    warnings = []
    if ignored:
        warnings.append(f"columns ignored: {', '.join(ignored)}")

    terms: list[TermData] = []
    seen: dict[tuple, int] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header):
            raise BadInput(path, f"line {n}: {len(row)} cells for {len(header)} columns "
                                 f"(is the delimiter '{delim}' right, or a cell unquoted?); nothing imported")
        cell = {f: (row[i] if i < len(row) else "") for i, f in mapping.items()}
        row_kind = fold(cell.get("kind") or "") or kind
        row_kind = {"metier": "trade", "objet": "object", "lieu": "place", "sujet": "subject",
                    "theme": "subject"}.get(row_kind, row_kind)
        if row_kind not in KINDS:
            raise BadInput(path, f"line {n}: unknown kind '{row_kind}' (use one of {', '.join(KINDS)}); nothing imported")
        label = _clean(cell.get("label"))
        designation = _clean(cell.get("designation"))
        inventory = _clean(cell.get("inventory_number"))
        alts = _split_alt(cell.get("alt_labels", ""))
        if not label and designation:
            # Inventory exports have no "label": the object is its designation + inventory number.
            label = f"{designation} ({inventory})" if inventory else designation
            if inventory and designation not in alts:
                alts = (designation, *alts)
        if not label:
            raise BadInput(path, f"line {n}: empty label; nothing imported")
        museum = _clean(cell.get("museum"))
        key = (row_kind, fold(label), fold(museum or ""))
        if key in seen:
            raise BadInput(path, f"line {n}: duplicate label '{label}' (first at line {seen[key]}); nothing imported")
        seen[key] = n
        if row_kind != "object" and (inventory or designation):
            warnings.append(f"line {n}: inventory number/designation ignored for a {row_kind}")
            inventory = designation = None
        uri = check_http(_clean(cell.get("uri")), path, f"line {n}: the URI", "; nothing imported")
        same = tuple(check_http(u, path, f"line {n}: the same_as URI", "; nothing imported")
                     for u in re.split(r"[|;\s]+", cell.get("same_as") or "") if u.strip())
        lat, lon, insee = _place(path, n, cell.get("latitude"), cell.get("longitude"), cell.get("insee"))
        terms.append(TermData(kind=row_kind, label=label, alt_labels=tuple(a for a in alts if a != label),
                              uri=uri, broader=_clean(cell.get("broader")),
                              inventory_number=inventory, designation=designation, museum=museum, line=n,
                              same_as=same, latitude=lat, longitude=lon, insee=insee))
    if not terms:
        raise BadInput(path, "no terms below the header; nothing imported")
    uris: dict[str, int] = {}
    for t in terms:
        if t.uri:
            if t.uri in uris:
                raise BadInput(path, f"line {t.line}: duplicate URI {t.uri} (first at line {uris[t.uri]}); nothing imported")
            uris[t.uri] = t.line
    return terms, warnings


def _place(path: Path, n, lat, lon, insee) -> tuple[Optional[float], Optional[float], Optional[str]]:
    """(latitude, longitude, INSEE code) of a row, checked: WGS 84 degrees, both or neither; a
    commune code of five characters (2A/2B for Corsica)."""
    where = f"line {n}: " if isinstance(n, int) else f"{n}: "
    lat, lon, insee = (_clean(str(x)) if x is not None else None for x in (lat, lon, insee))
    if bool(lat) != bool(lon):
        raise BadInput(path, f"{where}latitude and longitude go together; nothing imported")
    out = []
    for name, v, lim in (("latitude", lat, 90), ("longitude", lon, 180)):
        if v is None:
            out.append(None)
            continue
        try:
            f = float(v.replace(",", "."))
        except ValueError:
            raise BadInput(path, f"{where}{name} '{v}' is not a number in degrees; nothing imported") from None
        if not -lim <= f <= lim:
            raise BadInput(path, f"{where}{name} {v} is out of range (-{lim} to {lim}); nothing imported")
        out.append(f)
    if insee and not re.fullmatch(r"(?:\d{2}|2[AB])\d{3}", insee):
        raise BadInput(path, f"{where}INSEE code '{insee}' is not a commune code (5 characters, e.g. 59328); nothing imported")
    return out[0], out[1], insee


SKOS_FORMATS = {".ttl": "turtle", ".turtle": "turtle", ".rdf": "xml", ".xml": "xml", ".owl": "xml",
                ".nt": "nt", ".n3": "n3", ".jsonld": "json-ld", ".json": "json-ld"}


def _norm(value) -> str:
    """A SKOS label on one line, without control characters."""
    from oralhist.textsafe import clean_line

    return " ".join(clean_line(str(value)).split())


def _pick_label(values, lang: str = "fr") -> Optional[str]:
    by_lang = {}
    for v in values:
        by_lang.setdefault(getattr(v, "language", None), str(v))
    for key in (lang, None):
        if key in by_lang:
            return _norm(by_lang[key])
    return _norm(next(iter(by_lang.values()))) if by_lang else None


def read_skos(path: Path, kind: str, lang: str = "fr") -> tuple[list[TermData], list[str]]:
    """Parse a SKOS thesaurus: prefLabel (French first), altLabel/hiddenLabel, broader."""
    import logging

    from rdflib import Graph
    from rdflib.namespace import RDF, SKOS, Namespace

    WGS84 = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")

    path = Path(path)
    fmt = SKOS_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(path, f"unknown thesaurus format '{path.suffix}' (use .csv, .ttl, .rdf/.xml, .nt or .jsonld)")
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(path, f"not UTF-8 (byte {exc.start}); nothing imported") from None
    if fmt == "xml":
        from oralhist.textsafe import check_xml

        check_xml(data, path)  # nested entities (billion laughs) ran for 10 minutes inside rdflib
    g = Graph()
    logging.getLogger("rdflib").setLevel(logging.CRITICAL)
    try:
        g.parse(path, format=fmt)
    except Exception as exc:  # rdflib raises many kinds (BadSyntax, SAXParseException, ...)
        msg = " ".join(str(exc).split()).split(" at ^ in:")[0].replace(" of <>", "")
        if len(msg) > 300:
            msg = msg[:300] + "…"
        raise BadInput(path, f"broken {fmt} syntax: {msg}; nothing imported") from None
    subjects = set(g.subjects(RDF.type, SKOS.Concept)) | set(g.subjects(SKOS.prefLabel, None))
    terms = []
    warnings = []
    seen: dict[str, str] = {}
    pref = {s: _pick_label(list(g.objects(s, SKOS.prefLabel)), lang) for s in subjects}
    for s in sorted(subjects, key=str):
        label = pref.get(s)
        if not label:
            warnings.append(f"{s}: concept without prefLabel skipped")
            continue
        key = fold(label)
        if key in seen:
            raise BadInput(path, f"duplicate prefLabel '{label}' ({seen[key]} and {s}); nothing imported")
        seen[key] = str(s)
        alts = []
        for pred in (SKOS.altLabel, SKOS.hiddenLabel):
            for v in g.objects(s, pred):
                if getattr(v, "language", None) in (lang, None):
                    a = _norm(v)
                    if a and a != label and a not in alts:
                        alts.append(a)
        # Labels of the concept in other languages are useful variants too (e.g. Picard).
        for v in g.objects(s, SKOS.prefLabel):
            a = _norm(v)
            if a and a != label and a not in alts:
                alts.append(a)
        broader = None
        for b in g.objects(s, SKOS.broader):
            broader = pref.get(b) or str(b)
            break
        uri = str(s) if not str(s).startswith("file:") and not s.__class__.__name__ == "BNode" else None
        uri = check_http(uri, path, f"concept '{label}': the URI", "; nothing imported")
        same = tuple(check_http(str(m), path, f"concept '{label}': skos:exactMatch", "; nothing imported")
                     for m in sorted(g.objects(s, SKOS.exactMatch), key=str))
        lat = next(iter(g.objects(s, WGS84.lat)), None)
        lon = next(iter(g.objects(s, WGS84.long)), None)
        lat, lon, _ = _place(path, f"concept '{label}'", lat, lon, None)
        terms.append(TermData(kind=kind, label=label, alt_labels=tuple(alts), uri=uri, broader=broader,
                              same_as=same, latitude=lat, longitude=lon))
    if not terms:
        raise BadInput(path, "no skos:Concept with a skos:prefLabel found; nothing imported")
    return terms, warnings


def read_vocab(file: Path, kind: Optional[str], encoding: Optional[str] = None) -> tuple[str, list[TermData], list[str]]:
    file = Path(file)
    if not file.is_file():
        raise BadInput(file, "no such file")
    if kind is not None and kind not in KINDS:
        raise BadInput(file, f"unknown kind '{kind}' (use one of {', '.join(KINDS)})")
    if file.suffix.lower() in (".csv", ".tsv", ".txt"):
        terms, warnings = read_csv(file, kind, encoding)
        return "csv", terms, warnings
    if kind is None:
        raise BadInput(file, "a SKOS thesaurus needs --kind (trade, object, place or subject)")
    terms, warnings = read_skos(file, kind)
    return "skos", terms, warnings


# --------------------------------------------------------------------------- writing


def _find_existing(s: Session, t: TermData, museum_id: Optional[int]) -> Optional[Term]:
    if t.uri:
        row = s.exec(select(Term).where(Term.kind == t.kind, Term.uri == t.uri)).first()
        if row:
            return row
    for row in s.exec(select(Term).where(Term.kind == t.kind, Term.museum_id == museum_id)).all():
        if fold(row.label) == fold(t.label):
            return row
    return None


def write_terms(s: Session, terms: list[TermData], source: str, report: ImportReport) -> None:
    """Create or update the terms (caller commits)."""
    for t in terms:
        museum_id = records_museum_id(s, t.museum)
        row = _find_existing(s, t, museum_id)
        values = dict(kind=TermKind(t.kind), label=t.label, alt_labels=list(t.alt_labels), uri=t.uri,
                      broader=t.broader, inventory_number=t.inventory_number, designation=t.designation,
                      museum_id=museum_id, source=source, same_as=list(t.same_as) or None,
                      latitude=t.latitude, longitude=t.longitude, insee=t.insee)
        if row is None:
            s.add(Term(**values))
            report.created.append(t.label)
            continue
        changed = False
        for k, v in values.items():
            if k in ("uri", "same_as", "latitude", "longitude", "insee") and v is None:
                continue  # keep a URI (or place) that an earlier import gave
            if getattr(row, k) != v:
                setattr(row, k, v)
                changed = True
        if changed:
            s.add(row)
            report.updated.append(t.label)
        else:
            report.unchanged.append(t.label)


def import_vocab(ws, file: Path, kind: Optional[str] = None, *, encoding: Optional[str] = None) -> ImportReport:
    """Validate the whole file, then create/update its terms in one transaction."""
    from oralhist import db

    file = Path(file)
    fmt, terms, warnings = read_vocab(file, kind, encoding)
    report = ImportReport(file=str(file), format=fmt, warnings=list(warnings))
    with db.session(ws) as s:
        write_terms(s, terms, file.name, report)
        s.commit()
    return report


def ensure_starter(ws, manifest: Optional[Path] = None) -> list[ImportReport]:
    """Load the bundled starter vocabulary of trades (once) and, when ``manifest`` is given, any
    ``vocabulaire*.csv`` beside it (the bundled sample ships ``interviews/vocabulaire-demo.csv``).

    Idempotent: re-importing updates in place. The starter is only loaded when none of its terms
    are in the archive yet, so that edits made to them are kept.
    """
    from oralhist import db

    reports = []
    with db.session(ws) as s:
        have = s.exec(select(Term.id).where(Term.source == STARTER.name)).first() is not None
    if not have:
        reports.append(import_vocab(ws, STARTER, "trade"))
    if manifest is not None:
        for f in sorted(Path(manifest).parent.glob("vocabulaire*.csv")):
            reports.append(import_vocab(ws, f, "subject"))
    return reports


# --------------------------------------------------------------------------- reading terms


@dataclass(frozen=True)
class TermView:
    id: int
    kind: str
    label: str
    alt_labels: tuple[str, ...]
    uri: Optional[str]
    broader: Optional[str]
    inventory_number: Optional[str]
    designation: Optional[str]
    museum: Optional[str]
    source: Optional[str]
    links: int = 0
    same_as: tuple[str, ...] = ()
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    insee: Optional[str] = None

    def to_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        d["alt_labels"] = list(self.alt_labels)
        d["same_as"] = list(self.same_as)
        return d


def list_terms(s: Session, kind: Optional[str] = None) -> list[TermView]:
    from sqlalchemy import func

    from oralhist.records import Link

    if kind is not None and kind not in KINDS:
        raise BadInput(kind, f"unknown kind (use one of {', '.join(KINDS)})")
    q = select(Term)
    if kind:
        q = q.where(Term.kind == TermKind(kind))
    museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
    counts = dict(s.exec(select(Link.term_id, func.count()).group_by(Link.term_id)).all())
    rows = sorted(s.exec(q).all(), key=lambda t: (t.kind.value, fold(t.label)))
    return [
        TermView(id=t.id, kind=t.kind.value, label=t.label, alt_labels=tuple(t.alt_labels or ()), uri=t.uri,
                 broader=t.broader, inventory_number=t.inventory_number, designation=t.designation,
                 museum=museums.get(t.museum_id), source=t.source, links=counts.get(t.id, 0),
                 same_as=tuple(t.same_as or ()), latitude=t.latitude, longitude=t.longitude, insee=t.insee)
        for t in rows
    ]


def find_term(s: Session, label: str, kind: Optional[str] = None) -> Term:
    """A term by id, label, alternative label, URI or inventory number (accent/case-insensitive)."""
    if label.isdigit():
        t = s.get(Term, int(label))
        if t is not None:
            return t
    q = select(Term)
    if kind:
        q = q.where(Term.kind == TermKind(kind))
    rows = s.exec(q).all()
    key = fold(label)
    for test in (lambda t: fold(t.label) == key, lambda t: t.uri == label or t.inventory_number == label,
                 lambda t: any(fold(a) == key for a in (t.alt_labels or []))):
        hits = [t for t in rows if test(t)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise BadInput(label, "several terms have this label: " + ", ".join(
                f"#{t.id} {t.kind.value} {t.label}" for t in hits) + " (give the id)")
    raise NotFound(label, "no such term (see `oralhist vocab list`)")
