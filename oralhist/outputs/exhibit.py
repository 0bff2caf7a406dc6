"""Exhibitions (issue 14): a title, an introduction, ordered sections of narrative, clips,
objects and terms, written as a Markdown file (docs/exhibitions.md) and kept in the archive.

The library reads and validates a file (``parse_exhibition``, ``validate``), stores it
(``import_exhibition``: ``<archive>/exhibitions/<slug>.json``, written atomically), lists and
loads it, and re-checks consent for every clip at publish time (``public_exhibition``),
returning the French notes for the curator. Narrative Markdown is rendered by markdown-it-py
with raw HTML disabled and then sanitised by nh3, so no markup of the file reaches a page.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Optional

from oralhist.errors import BadInput, NotFound

WITHDRAWN_NOTE = "extrait retiré : consentement modifié"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DIRECTIVE = re.compile(r"^\[\[\s*(clip|object|term)\s+(.+?)\s*\]\]\s*$")
_CLIP = re.compile(r"^(\S+)\s+([0-9:.,]+)\s*-\s*([0-9:.,]+)$")
_RAW_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!]")


@dataclass(frozen=True)
class Clip:
    interview_id: str
    start_ms: int
    end_ms: int
    line: int = 0


@dataclass(frozen=True)
class Section:
    title: str
    narrative_md: str = ""
    narrative_html: str = ""
    clips: tuple[Clip, ...] = ()
    objects: tuple[str, ...] = ()  # inventory numbers
    terms: tuple[str, ...] = ()  # labels


@dataclass(frozen=True)
class Exhibition:
    slug: str
    title: str
    intro_md: str = ""
    intro_html: str = ""
    sections: tuple[Section, ...] = ()
    source: Optional[str] = None
    warnings: tuple[str, ...] = ()
    museum: Optional[str] = None  # the museum whose curators edit it in the workbench (None: federation)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Exhibition":
        secs = tuple(
            Section(**{**sec, "clips": tuple(Clip(**c) for c in sec["clips"]),
                       "objects": tuple(sec["objects"]), "terms": tuple(sec["terms"])})
            for sec in d["sections"]
        )
        return cls(**{**d, "sections": secs, "warnings": tuple(d.get("warnings", ()))})

    @property
    def clips(self) -> list[Clip]:
        return [c for sec in self.sections for c in sec.clips]


def render_markdown(text: str) -> str:
    """CommonMark without raw HTML, then sanitised (links get rel=noopener)."""
    import nh3
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": False}).render(text or "")
    return nh3.clean(html, tags={"p", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code",
                                 "br", "h3", "h4"}, url_schemes={"http", "https", "mailto"})


def _front_matter(lines: list[str], path: Path) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        raise BadInput(path, "line 1: the file must start with a front matter (--- title: … slug: … ---)")
    meta = {}
    for i in range(1, len(lines)):
        ln = lines[i].strip()
        if ln == "---":
            return meta, i + 1
        if not ln or ln.startswith("#"):
            continue
        if ":" not in ln:
            raise BadInput(path, f"line {i + 1}: front matter lines are 'key: value'")
        k, v = ln.split(":", 1)
        meta[k.strip().lower()] = v.strip().strip('"').strip("'")
    raise BadInput(path, "the front matter is not closed by a line '---'")


def parse_exhibition(path: Path) -> Exhibition:
    """Read an exhibition file (format: docs/exhibitions.md). Raises BadInput with a line number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(path, f"cannot read the file as UTF-8 text ({e})") from None
    return parse_exhibition_text(text, path)


def parse_exhibition_text(text: str, path: Path) -> Exhibition:
    """``parse_exhibition`` of a text already read (the workbench's saves); ``path`` names it in messages."""
    from oralhist.editorial.consent import parse_time

    lines = text.lstrip("\ufeff").splitlines()
    meta, i = _front_matter(lines, path)
    title, slug = meta.get("title", ""), meta.get("slug", "")
    if not title:
        raise BadInput(path, "front matter: 'title:' is missing")
    if not _SLUG.match(slug):
        raise BadInput(path, f"front matter: slug {slug!r} must be lowercase ASCII words joined by '-'")
    warnings = []
    intro: list[str] = []
    sections: list[dict] = []
    cur = None
    for n in range(i, len(lines)):
        ln, lineno = lines[n], n + 1
        if ln.startswith("## "):
            cur = {"title": ln[3:].strip(), "md": [], "clips": [], "objects": [], "terms": []}
            sections.append(cur)
            continue
        m = _DIRECTIVE.match(ln.strip())
        if m:
            if cur is None:
                raise BadInput(path, f"line {lineno}: [[{m.group(1)} …]] must be inside a section (after a '## ' heading)")
            kind, arg = m.group(1), m.group(2)
            if kind == "clip":
                cm = _CLIP.match(arg)
                if not cm:
                    raise BadInput(path, f"line {lineno}: a clip reads [[clip INTERVIEW_ID MM:SS-MM:SS]]")
                try:
                    a, b = parse_time(cm.group(2)), parse_time(cm.group(3))
                except BadInput as e:
                    raise BadInput(path, f"line {lineno}: {e.reason}") from None
                if b <= a:
                    raise BadInput(path, f"line {lineno}: the clip ends before it starts")
                cur["clips"].append(Clip(cm.group(1), a, b, lineno))
            elif kind == "object":
                cur["objects"].append(arg)
            else:
                cur["terms"].append(arg)
            continue
        if ln.lstrip().startswith("[[") and ln.rstrip().endswith("]]"):
            raise BadInput(path, f"line {lineno}: unknown directive {ln.strip()!r} (clip, object or term)")
        if _RAW_HTML.search(ln):
            warnings.append(f"line {lineno}: raw HTML is not allowed; shown as text")
        (cur["md"] if cur is not None else intro).append(ln)
    if not sections:
        raise BadInput(path, "no section: each '## ' heading starts one")
    secs = tuple(
        Section(title=sc["title"], narrative_md="\n".join(sc["md"]).strip(),
                narrative_html=render_markdown("\n".join(sc["md"])), clips=tuple(sc["clips"]),
                objects=tuple(sc["objects"]), terms=tuple(sc["terms"]))
        for sc in sections
    )
    intro_md = "\n".join(intro).strip()
    return Exhibition(slug=slug, title=title, intro_md=intro_md, intro_html=render_markdown(intro_md),
                      sections=secs, source=str(path), warnings=tuple(warnings), museum=meta.get("museum") or None)


def validate(s, exh: Exhibition) -> list[str]:
    """Problems that reject the file: unknown interviews, clips outside the interview,
    unknown objects or terms. Returns one line per problem (empty = fine)."""
    from oralhist.records import Interview

    problems = []
    for c in exh.clips:
        iv = s.get(Interview, c.interview_id)
        if iv is None:
            problems.append(f"line {c.line}: clip of unknown interview {c.interview_id!r}")
        elif iv.duration_ms and c.end_ms > iv.duration_ms:
            problems.append(f"line {c.line}: clip range ends at {c.end_ms / 1000:.1f} s, after the end of "
                            f"{c.interview_id} ({iv.duration_ms / 1000:.1f} s)")
    for sec in exh.sections:
        for inv in sec.objects:
            if find_object(s, inv) is None:
                problems.append(f"section {sec.title!r}: unknown object {inv!r}")
        for label in sec.terms:
            from oralhist.editorial.vocab import find_term
            try:
                find_term(s, label)
            except (NotFound, BadInput):
                problems.append(f"section {sec.title!r}: unknown term {label!r}")
    return problems


def find_object(s, ref: str):
    """An object term by inventory number (else by label), or None."""
    from sqlmodel import select

    from oralhist.records import Term

    row = s.exec(select(Term).where(Term.kind == "object", Term.inventory_number == ref)).first()
    return row or s.exec(select(Term).where(Term.kind == "object", Term.label == ref)).first()


def store_dir(ws) -> Path:
    return ws.root / "exhibitions"


def import_exhibition(ws, path: Path) -> Exhibition:
    """Parse, validate against the archive, then write ``exhibitions/<slug>.json`` atomically.
    Nothing is written when the file is rejected."""
    from oralhist.db import session

    exh = parse_exhibition(path)
    with session(ws) as s:
        problems = validate(s, exh)
    if problems:
        raise BadInput(path, "; ".join(problems))
    _store(ws, exh)
    return exh


def _store(ws, exh: Exhibition) -> None:
    d = store_dir(ws)
    d.mkdir(parents=True, exist_ok=True)
    dest = d / f"{exh.slug}.json"
    tmp = dest.with_suffix(".json.part")
    tmp.write_text(json.dumps(exh.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, dest)


def list_exhibitions(ws) -> list[Exhibition]:
    d = store_dir(ws)
    return [load_exhibition(ws, p.stem) for p in sorted(d.glob("*.json"))] if d.exists() else []


def load_exhibition(ws, slug: str) -> Exhibition:
    p = store_dir(ws) / f"{slug}.json"
    if not p.exists():
        raise NotFound(slug, "no such exhibition")
    return Exhibition.from_dict(json.loads(p.read_text(encoding="utf-8")))


def clip_is_public(view, clip: Clip, today: Optional[date] = None) -> bool:
    """Consent re-check for one clip: the interview must be public (not withdrawn, embargoed or
    anonymised after the clip was chosen) and no redaction may overlap the clip."""
    from oralhist.editorial.consent import is_public

    c = view.consent
    if not is_public(c, today) or c.anonymise:
        return False
    return not any(a < clip.end_ms and clip.start_ms < b for a, b, _ in c.redactions)


def clip_flags(s, exh: Exhibition, today: Optional[date] = None) -> list[list[bool]]:
    """For each section, for each clip: may it be published now? (The one consent re-check,
    used by the publish step and by the workbench's exhibition page.)"""
    from oralhist.editorial.consent import load_for_public

    views: dict = {}
    out = []
    for sec in exh.sections:
        row = []
        for c in sec.clips:
            if c.interview_id not in views:
                try:
                    views[c.interview_id] = load_for_public(s, c.interview_id)
                except NotFound:
                    views[c.interview_id] = None
            v = views[c.interview_id]
            row.append(v is not None and clip_is_public(v, c, today))
        out.append(row)
    return out


def public_exhibition(s, exh: Exhibition, today: Optional[date] = None) -> tuple[Exhibition, list[str]]:
    """The exhibition as it may be published now, and the curator's notes (French)."""
    notes = []
    secs = []
    for sec, flags in zip(exh.sections, clip_flags(s, exh, today)):
        kept = []
        for c, ok in zip(sec.clips, flags):
            if ok:
                kept.append(c)
            else:
                notes.append(f"{exh.slug} › {sec.title} : {WITHDRAWN_NOTE} (ligne {c.line})")
        secs.append(replace(sec, clips=tuple(kept)))
    return replace(exh, sections=tuple(secs)), notes


# ------------------------------------------------------------------ the workbench (curators)
#
# The workbench edits an exhibition through these functions only. Every save goes through the
# file format: the exhibition is written back as Markdown (``to_markdown``), parsed and validated
# as ``exhibit import`` does, and stored in the same form; so « exporter en Markdown » then
# ``exhibit import`` gives the same stored exhibition back. Messages here are French (the
# workbench shows them as they are).

MAX_TEXT = 100_000  # characters of one narrative or introduction
_edit_lock = __import__("threading").Lock()  # one read-modify-write at a time (one server process)


def fmt_time(ms: int) -> str:
    """12_345 -> '00:12.345'; 3_723_000 -> '1:02:03' (what ``parse_time`` reads back exactly)."""
    ms = int(ms)
    whole, frac = divmod(ms, 1000)
    h, rest = divmod(whole, 3600)
    m, sec = divmod(rest, 60)
    tail = f".{frac:03d}".rstrip("0") if frac else ""
    return (f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}") + tail


def to_markdown(exh: Exhibition) -> str:
    """The exhibition as its Markdown file (docs/exhibitions.md): ``exhibit import`` reads it back."""
    out = ["---", f"title: {exh.title}", f"slug: {exh.slug}"]
    if exh.museum:
        out.append(f"museum: {exh.museum}")
    out.append("---")
    if exh.intro_md:
        out.append(exh.intro_md)
    for sec in exh.sections:
        out += ["", f"## {sec.title}"]
        if sec.narrative_md:
            out.append(sec.narrative_md)
        out += [f"[[clip {c.interview_id} {fmt_time(c.start_ms)}-{fmt_time(c.end_ms)}]]" for c in sec.clips]
        out += [f"[[object {o}]]" for o in sec.objects]
        out += [f"[[term {t}]]" for t in sec.terms]
    return "\n".join(out) + "\n"


def _one_line(value, what: str, limit: int = 300, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise BadInput(None, f"{what} : champ requis")
    if len(text) > limit:
        raise BadInput(None, f"{what} : trop long (au plus {limit} caractères)")
    return text


def _body_text(value, what: str) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT:
        raise BadInput(None, f"{what} : trop long (au plus {MAX_TEXT} caractères)")
    lines = text.split("\n")
    for n, ln in enumerate(lines, start=1):
        # these lines have a meaning in the file format: a narrative may not carry them
        if ln.startswith("## ") or (ln.lstrip().startswith("[[") and ln.rstrip().endswith("]]")):
            raise BadInput(None, f"{what}, ligne {n} : « {ln.strip()[:40]} » est réservé au format du fichier "
                                 "(titre de section ou [[…]]) ; utilisez les boutons de la page")
    return text


def check_clip(s, interview_id: str, start_ms: int, end_ms: int) -> None:
    """A clip range as the import checks it (the interview exists; the range is inside it), in French."""
    from oralhist.records import Interview

    iv = s.get(Interview, interview_id)
    if iv is None:
        raise NotFound(interview_id, f"entretien inconnu : {interview_id}")
    if start_ms < 0 or end_ms <= start_ms:
        raise BadInput(interview_id, "l’extrait doit finir après son début")
    if iv.duration_ms and end_ms > iv.duration_ms:
        raise BadInput(interview_id, f"l’extrait finit à {end_ms / 1000:.1f} s, après la fin de l’entretien "
                                     f"({iv.duration_ms / 1000:.1f} s)")


def check_object(s, ref: str):
    """The object term of ``ref``; refused without alt text when it has a picture (it could not be published)."""
    from oralhist.records import ObjectRecord

    t = find_object(s, ref)
    if t is None:
        raise NotFound(ref, f"objet inconnu : {ref}")
    rec = s.get(ObjectRecord, t.id)
    if rec is not None and rec.image_path and not (rec.alt or "").strip():
        raise BadInput(ref, f"l’objet {ref} n’a pas de texte alternatif : donnez-le d’abord (page Objets), "
                            "sans lui l’objet ne peut pas être publié")
    return t


def _check_term(s, label: str):
    from oralhist.editorial.vocab import find_term

    try:
        return find_term(s, label)
    except (NotFound, BadInput):
        raise NotFound(label, f"terme inconnu : {label}") from None


def exhibition_from_dict(d: dict, *, slug: str, museum: Optional[str] = None) -> Exhibition:
    """The workbench's document (title, intro_md, sections: title, narrative_md, clips
    [{interview_id, start_ms, end_ms}], objects, terms) as an Exhibition (not yet validated)."""
    if not isinstance(d, dict) or not isinstance(d.get("sections"), list):
        raise BadInput(None, "document invalide (titre, introduction, sections)")
    secs = []
    for i, sec in enumerate(d["sections"], start=1):
        if not isinstance(sec, dict):
            raise BadInput(None, f"section {i} invalide")
        clips = []
        for c in sec.get("clips") or []:
            try:
                clips.append(Clip(str(c["interview_id"]), int(c["start_ms"]), int(c["end_ms"])))
            except (KeyError, TypeError, ValueError, OverflowError):
                raise BadInput(None, f"section {i} : extrait invalide") from None
        objs = [_one_line(o, f"section {i} : objet") for o in sec.get("objects") or []]
        terms = [_one_line(t, f"section {i} : terme") for t in sec.get("terms") or []]
        secs.append(Section(title=_one_line(sec.get("title"), f"section {i} : titre"),
                            narrative_md=_body_text(sec.get("narrative_md"), f"section {i} : texte"),
                            clips=tuple(clips), objects=tuple(objs), terms=tuple(terms)))
    if not secs:
        raise BadInput(None, "une exposition a au moins une section")
    return Exhibition(slug=slug, title=_one_line(d.get("title"), "titre"),
                      intro_md=_body_text(d.get("intro_md"), "introduction"), sections=tuple(secs), museum=museum)


def save_exhibition(ws, exh: Exhibition, *, new_clips=None) -> Exhibition:
    """Check (French messages), then store through the file format, exactly as ``exhibit import``.
    ``new_clips``: only these clips are range-checked here (None: all); the import's own
    validation runs on the whole exhibition anyway."""
    from oralhist.db import session

    if not _SLUG.match(exh.slug or ""):
        raise BadInput(exh.slug, "adresse (slug) : des mots en minuscules sans accents reliés par « - »")
    with session(ws) as s:
        for c in (exh.clips if new_clips is None else new_clips):
            check_clip(s, c.interview_id, c.start_ms, c.end_ms)
        for sec in exh.sections:
            for o in sec.objects:
                if find_object(s, o) is None:
                    raise NotFound(o, f"objet inconnu : {o}")
            for t in sec.terms:
                _check_term(s, t)
    label = Path(f"exhibitions/{exh.slug}.md")
    parsed = parse_exhibition_text(to_markdown(exh), label)
    with session(ws) as s:
        problems = validate(s, parsed)
    if problems:
        raise BadInput(label, "; ".join(problems))
    parsed = replace(parsed, source="workbench")
    _store(ws, parsed)
    return parsed


def exhibition_version(ws, slug: str) -> str:
    """A short fingerprint of the stored file: the editor sends it back with a save (409 if changed)."""
    import hashlib

    p = store_dir(ws) / f"{slug}.json"
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16] if p.exists() else ""


def create_exhibition(ws, title: str, slug: str, intro_md: str = "", first_section: str = "Première partie",
                      museum: Optional[str] = None) -> Exhibition:
    from oralhist.errors import ConflictError

    slug = (slug or "").strip()
    if not _SLUG.match(slug):
        raise BadInput(slug, "adresse (slug) : des mots en minuscules sans accents reliés par « - », "
                             "par exemple voix-de-la-mine")
    exh = Exhibition(slug=slug, title=_one_line(title, "titre"), intro_md=_body_text(intro_md, "introduction"),
                     sections=(Section(title=_one_line(first_section or "Première partie", "première section")),),
                     museum=museum)
    with _edit_lock:
        if (store_dir(ws) / f"{slug}.json").exists():
            raise ConflictError(slug, f"une exposition a déjà l’adresse {slug}")
        return save_exhibition(ws, exh)


def update_exhibition(ws, slug: str, data: dict, base: Optional[str] = None) -> Exhibition:
    """The editor's whole document replaces the stored exhibition (sections added, moved, removed)."""
    from oralhist.errors import ConflictError

    with _edit_lock:
        cur = load_exhibition(ws, slug)
        if base is not None and base != exhibition_version(ws, slug):
            raise ConflictError(slug, "l’exposition a été modifiée entre-temps ; rechargez la page "
                                      "(vos changements ne sont pas enregistrés)")
        new = exhibition_from_dict(data, slug=slug, museum=cur.museum)
        known = {(c.interview_id, c.start_ms, c.end_ms) for c in cur.clips}
        return save_exhibition(ws, new, new_clips=[c for c in new.clips
                                                   if (c.interview_id, c.start_ms, c.end_ms) not in known])


def _section_index(exh: Exhibition, section) -> int:
    try:
        i = int(section)
    except (TypeError, ValueError):
        raise BadInput(None, "section invalide") from None
    if not 0 <= i < len(exh.sections):
        raise BadInput(None, f"section {i + 1} inexistante")
    return i


def _with_section(exh: Exhibition, i: int, sec: Section) -> Exhibition:
    return replace(exh, sections=exh.sections[:i] + (sec,) + exh.sections[i + 1:])


def add_clip(ws, slug: str, section, interview_id: str, start_ms: int, end_ms: int) -> Exhibition:
    """Add a clip (from search results, a term's passages, or the player's in/out points)."""
    with _edit_lock:
        exh = load_exhibition(ws, slug)
        i = _section_index(exh, section)
        clip = Clip(interview_id, int(start_ms), int(end_ms))
        sec = exh.sections[i]
        return save_exhibition(ws, _with_section(exh, i, replace(sec, clips=sec.clips + (clip,))), new_clips=[clip])


def add_object(ws, slug: str, section, ref: str) -> Exhibition:
    """Add an object to a section; refused when its picture has no alt text (it could not be published)."""
    from oralhist.db import session

    with _edit_lock:
        exh = load_exhibition(ws, slug)
        i = _section_index(exh, section)
        with session(ws) as s:
            t = check_object(s, ref)
        inv = t.inventory_number or t.label
        sec = exh.sections[i]
        if inv in sec.objects:
            return exh
        return save_exhibition(ws, _with_section(exh, i, replace(sec, objects=sec.objects + (inv,))), new_clips=[])


def add_term(ws, slug: str, section, label: str) -> Exhibition:
    from oralhist.db import session

    with _edit_lock:
        exh = load_exhibition(ws, slug)
        i = _section_index(exh, section)
        with session(ws) as s:
            t = _check_term(s, _one_line(label, "terme"))
        sec = exh.sections[i]
        if t.label in sec.terms:
            return exh
        return save_exhibition(ws, _with_section(exh, i, replace(sec, terms=sec.terms + (t.label,))), new_clips=[])


def curator_notes(s, exh: Exhibition, today: Optional[date] = None) -> dict:
    """What the workbench shows on an exhibition: per section, per clip, None or the French note
    (« extrait retiré : consentement modifié »); objects that cannot be published (no alt text)."""
    from oralhist.outputs.objects import find_object_record

    flags = clip_flags(s, exh, today)
    clips = [[None if ok else WITHDRAWN_NOTE for ok in row] for row in flags]
    no_alt = []
    for sec in exh.sections:
        recs = [(o, find_object_record(s, o)[1]) for o in sec.objects]
        no_alt.append([o for o, r in recs if r is not None and r.image_path and not (r.alt or "").strip()])
    return {"clips": clips, "objects_without_alt": no_alt,
            "withdrawn": sum(1 for row in flags for ok in row if not ok)}
