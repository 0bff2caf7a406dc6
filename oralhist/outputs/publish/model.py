"""The site model: what is public (read through ``consent.public_view``) and how it reads.

Every file of the site is an ``OutFile`` in ``SiteModel.files``; ``validate`` finds what
would make a broken site before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Optional, Sequence

from oralhist.errors import BadInput, StageError
from oralhist.progress import NULL
from oralhist.outputs.publish.write import BUILD_VERSION, OutFile, cached_outputs_present, local_refs, shard_count
from oralhist.text import slugify

# The default link threshold, the audio suffixes and the local address: one place for the site,
# the OAI endpoint and the staff exports (outputs/exports/addresses.py).
from oralhist.outputs.exports.addresses import AUDIO_EXTS, DEFAULT_LINK_THRESHOLD, LOCAL_BASE, MIME  # noqa: F401

KIND_ORDER = ("trade", "object", "place", "subject")


@dataclass
class Clip:
    interview_id: str
    interview_title: str
    narrator: Optional[str]
    start_ms: int
    end_ms: int
    quote: str
    audio: Optional[str]
    status: str


@dataclass
class TermPage:
    term_id: int
    label: str
    kind: str
    uri: Optional[str]
    inventory_number: Optional[str]
    slug: str
    clips: list[Clip] = field(default_factory=list)
    # issue 25: equivalents in other vocabularies (schema.org sameAs) and where a place is (the map)
    same_as: tuple[str, ...] = ()
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    insee: Optional[str] = None


@dataclass
class InterviewEntry:
    view: object  # public InterviewView
    audio_path: Optional[str]  # relative to the site root
    audio_source: Optional[Path]
    audio_key: Optional[str]
    audio_recipe: str = "copy"
    links: tuple = ()
    decade: Optional[str] = None
    archive_id: str = ""
    fingerprint: str = ""
    # Set when the interview is unchanged since the last build: its outputs are reused.
    cached: Optional[dict] = None
    oai_dc: str = ""  # the oai_dc element of the OAI-PMH file, as XML text
    changed: str = ""  # YYYY-MM-DD of the record's last change (the OAI-PMH datestamp)
    rights: str = ""  # this interview's rights statement and licence: its consent record's, else [site]'s
    license: str = ""
    cached_out: Optional[dict] = None  # what the next build may reuse
    portrait: Optional[dict] = None  # issue 26: {"webp", "jpg": derivative paths, "w", "h"} when the consent allows it


@dataclass
class SiteModel:
    title: str
    language: str
    base_url: str
    interviews: list[InterviewEntry]
    terms: dict[int, TermPage]
    files: dict[str, OutFile] = field(default_factory=dict)
    # Search-only pages (path -> (sha256, HTML or None when unchanged)) that Pagefind indexes;
    # kept in a folder beside the site, never in site/.
    search_pages: dict[str, tuple] = field(default_factory=dict)
    language_index: str = "fr"  # language of the interviews (the search index's stemming)
    search_shards: int = 1
    rights: str = ""  # [site] rights: the rights statement, shown and exported with every interview
    license: str = ""  # [site] license: a URI (Creative Commons, rightsstatements.org)
    oai_repo: str = ""  # the OAI repository identifier (stable when base_url changes)
    intro: str = ""  # [site] intro: the home page's introduction to the archive
    funding: str = ""  # [site] funding: who funded the collection (OHMS <funding>)
    admin_email: str = ""  # [site] admin_email: the OAI-PMH contact (issue 25)
    # issue 26: the published exhibitions (slug, title, intro, museum, picture), for the front pages
    exhibitions: list = field(default_factory=list)

    def add(self, f: OutFile) -> None:
        if f.path in self.files:
            raise StageError(f.path, "two outputs of the site have the same path")
        self.files[f.path] = f

    def add_text(self, path: str, text: str) -> None:
        data = text.encode("utf-8")
        self.add(OutFile(path=path, key=hashlib.sha256(data).hexdigest(), content=data))


def _decade(d: Optional[str]) -> Optional[str]:
    m = re.match(r"(\d{4})", d or "")
    return f"{m.group(1)[:3]}0" if m else None


def _audio_source(ws, r):
    """(file, sha256) of the best listening source: access copy, else asr.wav, else a lone original."""
    from oralhist.outputs.exports.addresses import audio_source

    return audio_source(ws, r.derivatives, r.recordings)


class Card:
    """The few fields of a public view that the home page, sitemap and term pages need
    (rebuilt from the cache for unchanged interviews)."""

    FIELDS = ("id", "title", "narrator", "museum", "date", "place", "duration_ms", "summary", "language")

    def __init__(self, **kw):
        for k in self.FIELDS:
            setattr(self, k, kw.get(k))
        self.extra = {}

    @classmethod
    def of(cls, view) -> dict:
        return {k: getattr(view, k) for k in cls.FIELDS}


def link_dict(ln) -> dict:
    from dataclasses import asdict

    return asdict(ln)


def site_settings_key(ws, lang: str, scopes: Sequence[str]) -> str:
    """The part of every interview's fingerprint that comes from the settings (publish/status.py too)."""
    site_raw = ws.settings.raw.get("site", {}) if ws.settings.raw else {}
    threshold = float(site_raw.get("link_threshold", DEFAULT_LINK_THRESHOLD))
    try:
        import oralhist.outputs.exports.ohms  # noqa: F401
        has_ohms = True
    except ImportError:
        has_ohms = False
    return repr((BUILD_VERSION, threshold, lang, ws.settings.base_url.rstrip("/"), ws.settings.title, tuple(scopes),
                 has_ohms, str(site_raw.get("rights", "") or "").strip(), str(site_raw.get("license", "") or "").strip(),
                 str(site_raw.get("intro", "") or "").strip(),
                 str(site_raw.get("funding", "") or "").strip()))


def _last_change(r) -> str:
    """The day of the record's last change (interview, consent, current transcript), as the
    OAI-PMH endpoint dates it (oralhist/outputs/publish/oai.py); not the day of publishing."""
    stamps = [(r.interview or {}).get("updated_at"), (r.consent or {}).get("updated_at"),
              (r.transcript or {}).get("created_at")]
    days = [str(x)[:10] for x in stamps if x]
    return max(days) if days else ""


# Over 80 lines on purpose: one pass over the public views of every interview, gathering the pages,
# terms, places, media and search records that share its loop variables and cache look-ups.
def load_model(ws, *, language: Optional[str] = None, today: Optional[date] = None,
               scopes: Sequence[str] = ("public",), progress=NULL, cache: Optional[dict] = None,
               out: Optional[Path] = None) -> SiteModel:
    """Read every interview through ``public_view`` and gather the site's content.

    Interviews whose fingerprint (every row that can change their pages, the settings and
    whether they are public today) matches ``cache`` are not re-read: their outputs are kept.
    """
    from oralhist.editorial.consent import is_public, public_view
    from oralhist.editorial.view import LinkView, build_view, read_rows, read_words

    cache = cache or {}
    site_raw = ws.settings.raw.get("site", {}) if ws.settings.raw else {}
    threshold = float(site_raw.get("link_threshold", DEFAULT_LINK_THRESHOLD))
    lang = language or ws.settings.site_language or "fr"
    if lang not in ("fr", "en"):
        raise BadInput(lang, "site language must be fr or en")
    model = SiteModel(title=ws.settings.title, language=lang, base_url=ws.settings.base_url.rstrip("/"),
                      interviews=[], terms={})
    from oralhist.outputs.publish.oai import repository_identifier

    model.oai_repo = repository_identifier(ws)
    model.rights = str(site_raw.get("rights", "") or "").strip()
    model.intro = str(site_raw.get("intro", "") or "").strip()
    model.funding = str(site_raw.get("funding", "") or "").strip()
    model.admin_email = str(site_raw.get("admin_email", "") or "").strip()
    model.license = str(site_raw.get("license", "") or "").strip()
    if model.license and not re.match(r"^https?://", model.license):
        raise BadInput(ws.root / "oralhist.toml", f"[site] license must be a URI (e.g. https://creativecommons.org/licenses/by/4.0/), not {model.license!r}")
    settings_key = site_settings_key(ws, lang, scopes)
    from oralhist import db
    from oralhist.editorial.view import ConsentView, scope_value

    with db.session(ws) as s:  # the one read model, in bulk: rows of every interview, fingerprinted
        raws = read_rows(s, prefer_approved=True, fingerprints=True)
    task = progress.add("publish: reading", total=len(raws))
    todo = []  # (archive id, raw, fingerprint, cache hit or None)
    for iid, r in raws.items():
        c = r.consent
        cview = None
        if c is not None:
            cview = ConsentView(scope=scope_value(c["scope"]), embargo_until=str(c["embargo_until"]) if c["embargo_until"] else None)
        if not is_public(cview, today, scopes):
            continue
        fp = hashlib.sha256(f"{r.fingerprint}|{settings_key}".encode()).hexdigest()
        hit = cache.get(iid)
        todo.append((iid, r, fp, hit))
    model.search_shards = shard_count(ws, len(todo))
    for k, (iid, r, fp, hit) in enumerate(todo):
        ok = hit and hit.get("fp") == fp and out is not None and cached_outputs_present(hit, out, model.search_shards, ws)
        todo[k] = (iid, r, fp, hit if ok else None)
    with db.session(ws) as s:
        read_words(s, [r for _, r, _, hit in todo if hit is None])
    for iid, r, fp, hit in todo:
        progress.advance(task)
        if hit is not None:
            card = Card(**hit["card"])
            links = tuple(LinkView(**{**d, "same_as": tuple(d.get("same_as") or ())}) for d in hit["links"])
            entry = InterviewEntry(view=card, audio_path=hit.get("audio"), audio_source=None, audio_key=None,
                                   links=links, decade=hit.get("decade"), archive_id=iid, fingerprint=fp,
                                   cached=hit, oai_dc=hit["oai_dc"])
        else:
            full = build_view(r)
            view = public_view(full, today=today, scopes=scopes)
            if view is None:
                continue
            src, sha = _audio_source(ws, r)
            audio_path = audio_key = None
            recipe = "copy"
            silence = tuple((a, b) for a, b, _ in view.consent.redactions)
            if silence and _originals_present(ws, full):
                recipe, ext = "access", ".mp3"
                sha = ",".join(x.sha256 for x in full.recordings)
            elif src is not None:
                from oralhist.outputs.exports.addresses import audio_ext

                ext = audio_ext(src, bool(silence), False)
                recipe = "silence" if silence or src.suffix.lower() != ext else "copy"
            if recipe == "access" or src is not None:
                audio_path = f"media/{view.id}/audio{ext}"
                audio_key = hashlib.sha256(f"{sha}|{silence}|{ext}|{recipe}|v1".encode()).hexdigest()
            from oralhist.outputs.exports.addresses import published_links

            links = published_links(view.links, threshold)
            view = replace(view, links=links)  # every public output uses the same links
            entry = InterviewEntry(view=view, audio_path=audio_path, audio_source=src, audio_key=audio_key,
                                   audio_recipe=recipe, links=links, decade=_decade(view.date), archive_id=iid,
                                   fingerprint=fp)
            entry.portrait = portrait_files(ws, r.consent, view)  # issue 26 item 5
        from oralhist.editorial.rights import effective

        entry.rights, entry.license = effective(model.rights, model.license, r.consent)
        entry.changed = _last_change(r)
        model.interviews.append(entry)
        v = entry.view
        for ln in entry.links:
            tp = model.terms.get(ln.term_id)
            if tp is None:
                tp = model.terms[ln.term_id] = TermPage(
                    term_id=ln.term_id, label=ln.term_label, kind=ln.kind, uri=ln.uri,
                    inventory_number=ln.inventory_number, slug=f"{ln.term_id}-{slugify(ln.term_label)}",
                    same_as=tuple(ln.same_as or ()), latitude=ln.latitude, longitude=ln.longitude, insee=ln.insee)
            tp.clips.append(Clip(v.id, v.title, v.narrator, ln.start_ms, ln.end_ms, ln.quote, entry.audio_path,
                                 ln.status))
    for tp in model.terms.values():
        tp.clips.sort(key=lambda c: (c.interview_title, c.start_ms))
    return model


def validate(model: SiteModel) -> list[str]:
    """Problems that would make a broken site: paths escaping the site, dangling relative links."""
    problems = []
    paths = set(model.files)
    for p, f in model.files.items():
        if p.startswith("/") or ".." in Path(p).parts or "\\" in p:
            problems.append(f"{p}: path escapes the site folder")
        if not p.endswith(".html") or f.content is None:
            continue
        for ref, target in local_refs(p, f.content):
            if target not in paths:
                problems.append(f"{p}: link to missing {ref}")
    return problems


def portrait_files(ws, consent: Optional[dict], view) -> Optional[dict]:
    """The narrator's portrait derivatives, only with the consent's ``portrait`` permission and
    never for an anonymised interview (whatever the order the two were set in)."""
    from oralhist.editorial.portrait import portrait_derivative

    c = consent or {}
    if not c.get("portrait") or not c.get("portrait_sha256") or c.get("anonymise") or \
            (view.consent is not None and view.consent.anonymise):
        return None
    out = {ext: portrait_derivative(ws, c["portrait_sha256"], ext) for ext in ("webp", "jpg")}
    if not all(p.is_file() for p in out.values()):
        return None
    from PIL import Image

    with Image.open(out["jpg"]) as im:
        out["w"], out["h"] = im.size
    return out


def _originals_present(ws, full_view) -> bool:
    try:
        from oralhist.archive.audio import write_access_copy  # noqa: F401  (area 1)
    except ImportError:
        return False
    return bool(full_view.recordings) and all((ws.root / r.path).is_file() for r in full_view.recordings)

