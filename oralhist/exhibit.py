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
    from oralhist.consent import parse_time

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(path, f"cannot read the file as UTF-8 text ({e})") from None
    lines = text.splitlines()
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
                      sections=secs, source=str(path), warnings=tuple(warnings))


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
            from oralhist.vocab import find_term
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
    d = store_dir(ws)
    d.mkdir(parents=True, exist_ok=True)
    dest = d / f"{exh.slug}.json"
    tmp = dest.with_suffix(".json.part")
    tmp.write_text(json.dumps(exh.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, dest)
    return exh


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
    from oralhist.consent import is_public

    c = view.consent
    if not is_public(c, today) or c.anonymise:
        return False
    return not any(a < clip.end_ms and clip.start_ms < b for a, b, _ in c.redactions)


def public_exhibition(s, exh: Exhibition, today: Optional[date] = None) -> tuple[Exhibition, list[str]]:
    """The exhibition as it may be published now, and the curator's notes (French)."""
    from oralhist.consent import load_for_public

    notes = []
    views = {}
    secs = []
    for sec in exh.sections:
        kept = []
        for c in sec.clips:
            if c.interview_id not in views:
                try:
                    views[c.interview_id] = load_for_public(s, c.interview_id)
                except NotFound:
                    views[c.interview_id] = None
            v = views[c.interview_id]
            if v is not None and clip_is_public(v, c, today):
                kept.append(c)
            else:
                notes.append(f"{exh.slug} › {sec.title} : {WITHDRAWN_NOTE} (ligne {c.line})")
        secs.append(replace(sec, clips=tuple(kept)))
    return replace(exh, sections=tuple(secs)), notes
