"""Build the public site: a typed model of every file first, validated, then written.

Only ``consent.public_view`` output reaches this module's pages, media and data files.
Writing is incremental (a content hash per output file in ``site/.oralhist-build.json``;
unchanged files are not rewritten, files no longer in the model are removed) and atomic per
file (temporary file + rename; the manifest is written last), so a killed publish leaves
every file either as it was or as it should be.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Optional, Sequence

from oralhist.errors import BadInput, StageError
from oralhist.progress import NULL
from oralhist.stage import StageReport

MANIFEST = ".oralhist-build.json"
BUILD_VERSION = 2  # 2: issue 13's interview pages (times, share, cite, find) and home-data.js
# Suggested (machine) links are published when at least this confident; accepted links always;
# rejected never. ``[site] link_threshold`` overrides it.
DEFAULT_LINK_THRESHOLD = 0.8
AUDIO_EXTS = (".mp3", ".m4a", ".ogg", ".opus", ".webm")
MIME = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".webm": "audio/webm"}
KIND_ORDER = ("trade", "object", "place", "subject")
LOCAL_BASE = "http://localhost:8000"


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class OutFile:
    """One file of the site. ``content`` for generated text; ``source`` for audio (re-encoded
    with ``silence`` ranges, or copied). ``key`` decides whether it must be rewritten."""

    path: str
    key: str
    content: Optional[bytes] = None
    source: Optional[Path] = None
    silence: tuple[tuple[int, int], ...] = ()
    # "copy" / "silence" (from ``source``) or "access" (area 1's write_access_copy from the
    # originals, sample-exact silences) — for audio only.
    recipe: str = ""
    archive_id: str = ""
    keep: bool = False  # unchanged since the last build (not re-rendered)


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

    def add(self, f: OutFile) -> None:
        if f.path in self.files:
            raise StageError(f.path, "two outputs of the site have the same path")
        self.files[f.path] = f

    def add_text(self, path: str, text: str) -> None:
        data = text.encode("utf-8")
        self.add(OutFile(path=path, key=hashlib.sha256(data).hexdigest(), content=data))


# --------------------------------------------------------------------------- helpers


def slugify(text: str, fallback: str = "x") -> str:
    t = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    t = re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()
    return t[:60] or fallback


def clock(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def iso_duration(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S"


def seconds(ms: int) -> str:
    v = f"{max(0, int(ms)) / 1000:.3f}".rstrip("0").rstrip(".")
    return v or "0"


def vtt_escape(text: str) -> str:
    t = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s*\n\s*", " ", t).replace("-->", "--&gt;").strip()


def _ts(ms: int) -> str:
    from oralhist.outputs.exports import ms_to_timestamp

    return ms_to_timestamp(ms)


def captions_vtt(view) -> str:
    """WebVTT captions: one cue per segment, speaker as a voice span."""
    out = ["WEBVTT", ""]
    n = 0
    for sg in view.segments:
        if sg.end_ms <= sg.start_ms or not sg.text.strip():
            continue
        n += 1
        who = sg.speaker_name or ""
        text = vtt_escape(sg.text)
        if who:
            text = f"<v {vtt_escape(who)}>{text}"
        out += [str(n), f"{_ts(sg.start_ms)} --> {_ts(sg.end_ms)}", text, ""]
    return "\n".join(out) + "\n"


def chapters_vtt(view) -> str:
    out = ["WEBVTT", ""]
    for n, t in enumerate(view.topics, 1):
        if t.end_ms <= t.start_ms:
            continue
        out += [f"ch{n}", f"{_ts(t.start_ms)} --> {_ts(t.end_ms)}", vtt_escape(t.title or clock(t.start_ms)), ""]
    return "\n".join(out) + "\n"


def json_for_script(data) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' that could close the element."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _join_word_texts(words) -> tuple[str, str]:
    """Displayed text of a segment's words: a space before a word that starts with one, a
    zero-width space where the recogniser glued two words (``l'`` + ``avant``), so the page's
    script can split the text back into exactly one span per word."""
    spaced = any(w.text[:1].isspace() for w in words)
    out = []
    for i, w in enumerate(words):
        t = re.sub(r"\s+", "\u00a0", w.text.strip()) or "\u00a0"
        if i:
            out.append(" " if (not spaced or w.text[:1].isspace()) else "\u200b")
        out.append(t)
    return "".join(out), ""


def _decade(d: Optional[str]) -> Optional[str]:
    m = re.match(r"(\d{4})", d or "")
    return f"{m.group(1)[:3]}0" if m else None


# --------------------------------------------------------------------------- loading


def _audio_source(ws, r):
    """(file, sha256) of the best listening source: access copy, else asr.wav, else a lone original."""
    rows = {d["kind"]: d for d in r.derivatives}
    for kind in ("access", "asr"):
        d = rows.get(kind)
        if d is not None:
            p = ws.root / d["path"]
            if p.is_file():
                return p, d["sha256"]
    if len(r.recordings) == 1 and (ws.root / r.recordings[0]["path"]).is_file():
        return ws.root / r.recordings[0]["path"], r.recordings[0]["sha256"]
    return None, None


class _Card:
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


def _link_dict(ln) -> dict:
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
    model.license = str(site_raw.get("license", "") or "").strip()
    if model.license and not re.match(r"^https?://", model.license):
        raise BadInput(ws.root / "oralhist.toml", f"[site] license must be a URI (e.g. https://creativecommons.org/licenses/by/4.0/), not {model.license!r}")
    settings_key = site_settings_key(ws, lang, scopes)
    from oralhist import db
    from oralhist.editorial.view import ConsentView, scope_value as _scope

    with db.session(ws) as s:  # the one read model, in bulk: rows of every interview, fingerprinted
        raws = read_rows(s, prefer_approved=True, fingerprints=True)
    task = progress.add("publish: reading", total=len(raws))
    todo = []  # (archive id, raw, fingerprint, cache hit or None)
    for iid, r in raws.items():
        c = r.consent
        cview = None
        if c is not None:
            cview = ConsentView(scope=_scope(c["scope"]), embargo_until=str(c["embargo_until"]) if c["embargo_until"] else None)
        if not is_public(cview, today, scopes):
            continue
        fp = hashlib.sha256(f"{r.fingerprint}|{settings_key}".encode()).hexdigest()
        hit = cache.get(iid)
        todo.append((iid, r, fp, hit))
    model.search_shards = shard_count(ws, len(todo))
    for k, (iid, r, fp, hit) in enumerate(todo):
        ok = (hit and hit.get("fp") == fp and out is not None and all((out / p).is_file() for p in hit["files"])
              and all(search_page_path(out, p, model.search_shards, ws).is_file() for p in hit["search"]))
        todo[k] = (iid, r, fp, hit if ok else None)
    with db.session(ws) as s:
        read_words(s, [r for _, r, _, hit in todo if hit is None])
    for iid, r, fp, hit in todo:
        progress.advance(task)
        if hit is not None:
            card = _Card(**hit["card"])
            links = tuple(LinkView(**d) for d in hit["links"])
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
                ext = src.suffix.lower() if src.suffix.lower() in AUDIO_EXTS else ".mp3"
                if silence and ext not in (".mp3", ".m4a"):
                    ext = ".mp3"
                recipe = "silence" if silence or src.suffix.lower() != ext else "copy"
            if recipe == "access" or src is not None:
                audio_path = f"media/{view.id}/audio{ext}"
                audio_key = hashlib.sha256(f"{sha}|{silence}|{ext}|{recipe}|v1".encode()).hexdigest()
            links = tuple(
                ln for ln in view.links
                if ln.status == "accepted" or (ln.status == "suggested" and ln.confidence >= threshold)
            )
            view = replace(view, links=links)  # every public output uses the same links
            entry = InterviewEntry(view=view, audio_path=audio_path, audio_source=src, audio_key=audio_key,
                                   audio_recipe=recipe, links=links, decade=_decade(view.date), archive_id=iid,
                                   fingerprint=fp)
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
                    inventory_number=ln.inventory_number, slug=f"{ln.term_id}-{slugify(ln.term_label)}")
            tp.clips.append(Clip(v.id, v.title, v.narrator, ln.start_ms, ln.end_ms, ln.quote, entry.audio_path,
                                 ln.status))
    for tp in model.terms.values():
        tp.clips.sort(key=lambda c: (c.interview_title, c.start_ms))
    return model


# --------------------------------------------------------------------------- rendering


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("oralhist.outputs.publish", "templates"),
                      autoescape=select_autoescape(["html", "xml"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["clock"] = clock
    env.filters["seconds"] = seconds
    env.filters["iso_duration"] = iso_duration
    from oralhist.outputs.publish import typography

    env.filters["long_date"] = typography.long_date
    env.filters["duration"] = typography.duration
    env.filters["decade"] = typography.decade
    env.globals["plural"] = typography.plural
    env.filters["number"] = typography.number
    env.filters["position"] = typography.position
    env.filters["time_dt"] = typography.time_datetime
    return env


def _page_segments(view):
    out = []
    for n, sg in enumerate(view.segments):
        text, offsets = sg.text, ""
        if sg.words:
            joined, _ = _join_word_texts(sg.words)
            # Read-along only when the words say what the segment says (an edit may have
            # changed the text without new word timings).
            if re.sub(r"[\s\u200b]+", "", joined) == re.sub(r"\s+", "", sg.text):
                text = joined
                # centiseconds after the previous word's start (the first: after the segment's):
                # small numbers, compact, precise enough to follow words (player.js adds them up)
                cs = [max(0, w.start_ms - sg.start_ms) // 10 for w in sg.words]
                offsets = " ".join(str(c - p) for c, p in zip(cs, [0] + cs[:-1]))
        else:
            text, offsets = sg.text, ""
        out.append({"n": n, "start": sg.start_ms, "end": sg.end_ms, "speaker": sg.speaker_name or sg.speaker or "",
                    "text": text, "w": offsets, "red": False})
    for a, b, _ in view.consent.redactions if view.consent else ():
        out.append({"start": a, "end": b, "red": True})
    out.sort(key=lambda x: (x["start"], not x["red"]))
    return out


def _jsonld(entry: InterviewEntry, model: SiteModel, page_url: str) -> dict:
    v = entry.view
    base = model.base_url
    absu = (lambda p: f"{base}/{p}") if base else (lambda p: p)
    d = {
        "@context": "https://schema.org",
        "@type": "AudioObject",
        "@id": absu(page_url),
        "name": v.title or v.id,
        "inLanguage": v.language,
        "duration": iso_duration(v.duration_ms),
        "genre": "oral history",
    }
    if v.summary:
        d["description"] = v.summary
    if v.date:
        d["dateCreated"] = v.date
    if v.narrator:
        d["creator"] = {"@type": "Person", "name": v.narrator}
    if v.interviewer:
        d["contributor"] = {"@type": "Person", "name": v.interviewer}
    if v.museum:
        # schema.org's Museum is a Place; the publisher is an organisation.
        d["publisher"] = {"@type": "Organization", "name": v.museum}
    if entry.license:
        d["license"] = entry.license
    if entry.rights:
        d["copyrightNotice"] = entry.rights
    text = " ".join(sg.text.strip() for sg in getattr(v, "segments", ()) if sg.text.strip())
    if text:
        d["transcript"] = text
    if v.place:
        d["contentLocation"] = {"@type": "Place", "name": v.place}
    if entry.audio_path:
        d["contentUrl"] = absu(entry.audio_path)
        d["encodingFormat"] = MIME.get(Path(entry.audio_path).suffix, "audio/mpeg")
    about, seen = [], set()
    for ln in entry.links:
        if ln.term_id in seen:
            continue
        seen.add(ln.term_id)
        a = {"@type": "DefinedTerm", "name": ln.term_label}
        if ln.uri:
            a["sameAs"] = ln.uri
        about.append(a)
    if about:
        d["about"] = about
    if v.topics:
        d["hasPart"] = [{"@type": "Clip", "name": t.title or clock(t.start_ms), "startOffset": t.start_ms / 1000,
                         "endOffset": t.end_ms / 1000, "url": absu(f"{page_url}#t={seconds(t.start_ms)}")}
                        for t in v.topics]
    return d


def render_model(model: SiteModel) -> SiteModel:
    """Render every page, media and data file into ``model.files``."""
    from oralhist.outputs.exports import dublincore, iiif
    from oralhist.outputs.publish.i18n import messages

    env = _env()
    m = messages(model.language)
    common = {"site_title": model.title, "lang": model.language, "m": m}
    static_dir = Path(__file__).parent / "static"
    for f in sorted(static_dir.iterdir()):
        if f.is_file():
            data = f.read_bytes()
            model.add(OutFile(path=f"static/{f.name}", key=hashlib.sha256(data).hexdigest(), content=data))

    terms_by_kind: dict[str, list[TermPage]] = {}
    for tp in sorted(model.terms.values(), key=lambda t: (t.kind, t.label.casefold())):
        terms_by_kind.setdefault(tp.kind, []).append(tp)

    interview_tpl = env.get_template("interview.html")
    search_tpl = env.get_template("search_source.html")
    ohms = None
    try:
        from oralhist.outputs.exports import ohms  # area 3 writes it
    except ImportError:
        ohms = None

    for e in model.interviews:
        v = e.view
        page = f"i/{v.id}.html"
        media = f"media/{v.id}"
        absu = (lambda p: f"{model.base_url}/{p}") if model.base_url else (lambda p: p)
        if e.cached is not None:
            for path, key in e.cached["files"].items():
                model.add(OutFile(path=path, key=key, keep=True))
            for path, sha in e.cached["search"].items():
                model.search_pages[path] = (sha, None)
            continue
        before = set(model.files)
        model.add_text(f"{media}/captions.vtt", captions_vtt(v))
        if v.topics:
            model.add_text(f"{media}/chapters.vtt", chapters_vtt(v))
        if e.audio_path:
            model.add(OutFile(path=e.audio_path, key=e.audio_key, source=e.audio_source,
                              silence=tuple((a, b) for a, b, _ in v.consent.redactions),
                              recipe=e.audio_recipe, archive_id=v.extra.get("archive_id", v.id)))
        # IIIF needs absolute URLs: [site] base_url, else the local server that `run` suggests.
        iiif_base = model.base_url or LOCAL_BASE
        man = iiif.build_manifest(
            v, base=f"{iiif_base}/{media}", audio_url=f"{iiif_base}/{e.audio_path or media + '/audio.mp3'}",
            audio_format=MIME.get(Path(e.audio_path or "a.mp3").suffix, "audio/mpeg"),
            vtt_url=f"{iiif_base}/{media}/captions.vtt", homepage=f"{iiif_base}/{page}")
        from oralhist.editorial.rights import dc_rights as _dc_rights, iiif_rights

        iiif_rights(man, model, v, iiif_base, rights=e.rights, license=e.license)
        model.add_text(f"{media}/manifest.json", man.json(indent=2))
        dc_rights = _dc_rights(e.rights, e.license)
        model.add_text(f"{media}/dc.xml", dublincore.to_xml(v, identifier=absu(page), rights=dc_rights,
                                                            audio_url=absu(e.audio_path) if e.audio_path else None))
        if ohms is not None:
            model.add_text(f"{media}/ohms.xml", ohms.to_text(
                v, media_url=absu(e.audio_path) if e.audio_path and model.base_url else "",
                file_name=Path(e.audio_path).name if e.audio_path else "", repository=model.title,
                repository_url=f"{model.base_url}/" if model.base_url else "", rights=e.rights, usage=e.license,
                funding=model.funding, page_url=absu(page) if model.base_url else "",
                xml_url=absu(f"{media}/ohms.xml") if model.base_url else "", xml_filename="ohms.xml"))
        terms = []
        for ln in e.links:
            tp = model.terms[ln.term_id]
            terms.append({"label": ln.term_label, "kind": ln.kind, "slug": tp.slug, "start": ln.start_ms,
                          "end": ln.end_ms, "quote": ln.quote})
        html = interview_tpl.render(
            **common, root="../", v=v, page=page, media=f"../{media}",
            audio=f"../{e.audio_path}" if e.audio_path else None,
            audio_type=MIME.get(Path(e.audio_path).suffix, "audio/mpeg") if e.audio_path else None,
            segments=_page_segments(v), terms=terms, has_ohms=ohms is not None,
            jsonld=json_for_script(_jsonld(e, model, page)),
            rights=e.rights, license=e.license,
            **interview_extras(model, v, page),
        )
        model.add_text(page, html)
        shtml = search_tpl.render(lang=model.language, v=v, terms=terms, m=m)
        ssha = hashlib.sha256(shtml.encode()).hexdigest()
        model.search_pages[page] = (ssha, shtml)
        from xml.etree import ElementTree as ET

        e.oai_dc = ET.tostring(dublincore.element(v, identifier=absu(page), rights=dc_rights), encoding="unicode")
        e.cached_out = {
            "fp": e.fingerprint,
            "files": {p: model.files[p].key for p in sorted(set(model.files) - before)},
            "search": {page: ssha},
            "card": _Card.of(v),
            "links": [_link_dict(ln) for ln in e.links],
            "audio": e.audio_path,
            "decade": e.decade,
            "oai_dc": e.oai_dc,
        }

    term_tpl = env.get_template("term.html")
    for tp in model.terms.values():
        html = term_tpl.render(**common, root="../", t=tp)
        model.add_text(f"t/{tp.slug}.html", html)
        model.search_pages[f"t/{tp.slug}.html"] = (hashlib.sha256(html.encode()).hexdigest(), html)

    from oralhist.outputs.publish.home import add_home  # issue 13 item 2: filters, sorting, pages for 1,000 interviews

    add_home(model, env, common, terms_by_kind)
    model.add_text("donnees.html", env.get_template("open_data.html").render(
        **common, root="", rights=model.rights, license=model.license, sitemap=bool(model.base_url)))
    # The shards that hold pages (none when nothing is public: the search then says "no result").
    live = sorted({shard_of(p, model.search_shards) for p in model.search_pages})
    model.add_text("search.html", env.get_template("search.html").render(
        **common, root="", shards=" ".join(map(str, live))))
    if model.base_url:  # a local build has no web addresses: no sitemap (relative ones are invalid)
        model.add_text("sitemap.xml", _sitemap(model))
    model.add_text("oai-pmh.xml", _oai_static(model))
    model.add_text("robots.txt", "User-agent: *\nAllow: /\n" + (f"Sitemap: {model.base_url}/sitemap.xml\n" if model.base_url else ""))
    return model


def citation(model: SiteModel, view, page: str) -> str:
    """A citation of the interview: narrator, « title », interviewer, museum, date, and the
    stable address (absolute with ``base_url``). The page's script adds the moment (#t=…)."""
    from oralhist.outputs.publish import typography

    lang = model.language
    parts = []
    if view.narrator:
        parts.append(view.narrator)
    parts.append(typography.quote(view.title or view.id, lang))
    if view.interviewer:
        parts.append(("entretien avec " if lang == "fr" else "interviewed by ") + view.interviewer)
    if view.museum:
        parts.append(view.museum)
    if view.date:
        parts.append(typography.long_date(view.date, lang))
    url = f"{model.base_url}/{page}" if model.base_url else page
    return ", ".join(parts) + ". " + ("En ligne\u00a0: " if lang == "fr" else "Online: ") + url


def interview_extras(model: SiteModel, view, page: str) -> dict:
    """What the interview page adds for visitors (issue 13 item 3 and 6): the citation, the
    stable address, topic keywords as links (to the term page when a term this interview links
    to has that label, else to the search), and whether the index is still the machine's."""
    # Only the terms this interview links to: they are part of its fingerprint, so a page kept
    # from an earlier build never points at a term page that has gone.
    slugs = {ln.term_label.casefold(): model.terms[ln.term_id].slug for ln in view.links if ln.term_id in model.terms}

    def keyword_href(k: str) -> str:
        from urllib.parse import quote

        slug = slugs.get((k or "").casefold())
        return f"../t/{slug}.html" if slug else f"../search.html?q={quote(k)}"

    return {"citation": citation(model, view, page),
            "page_url": f"{model.base_url}/{page}" if model.base_url else "",
            "keyword_href": keyword_href,
            "auto_index": any(getattr(t, "source", "machine") != "editor" for t in view.topics)}


def _sitemap(model: SiteModel) -> str:
    from xml.sax.saxutils import escape

    base = model.base_url
    urls = ["index.html"] + [f"i/{e.view.id}.html" for e in model.interviews] + [f"t/{t.slug}.html" for t in model.terms.values()]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for u in urls:
        lines.append(f"  <url><loc>{escape(f'{base}/{u}' if base else u)}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def _oai_static(model: SiteModel) -> str:
    """OAI-PMH Static Repository file (Identify, ListMetadataFormats, ListRecords in oai_dc)."""
    from xml.etree import ElementTree as ET

    from oralhist.outputs.exports import dublincore

    SR = "http://www.openarchives.org/OAI/2.0/static-repository"
    OAI = "http://www.openarchives.org/OAI/2.0/"
    ET.register_namespace("", SR)
    ET.register_namespace("oai", OAI)
    base = model.base_url or "file:"
    root = ET.Element(f"{{{SR}}}Repository", {
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
            f"{SR} http://www.openarchives.org/OAI/2.0/static-repository.xsd"})
    ident = ET.SubElement(root, f"{{{SR}}}Identify")
    host = re.sub(r"^[a-z]+://", "", base).split("/")[0] or "localhost"
    for tag, val in (("repositoryName", model.title), ("baseURL", f"{base}/oai-pmh.xml"),
                     ("protocolVersion", "2.0"), ("adminEmail", "archive@example.invalid"),
                     ("earliestDatestamp", min((e.changed for e in model.interviews if e.changed), default="2000-01-01")),
                     ("deletedRecord", "no"), ("granularity", "YYYY-MM-DD")):
        ET.SubElement(ident, f"{{{OAI}}}{tag}").text = val
    fmts = ET.SubElement(root, f"{{{SR}}}ListMetadataFormats")
    fmt = ET.SubElement(fmts, f"{{{OAI}}}metadataFormat")
    ET.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = "oai_dc"
    ET.SubElement(fmt, f"{{{OAI}}}schema").text = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    ET.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = dublincore.OAI_DC
    recs = ET.SubElement(root, f"{{{SR}}}ListRecords", {"metadataPrefix": "oai_dc"})
    today = date.today().isoformat()
    for e in model.interviews:
        stamp = e.changed or today
        v = e.view
        rec = ET.SubElement(recs, f"{{{OAI}}}record")
        header = ET.SubElement(rec, f"{{{OAI}}}header")
        # The same stable identifiers as the OAI-PMH endpoint (oralhist/outputs/publish/oai.py).
        ET.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:{model.oai_repo or host}:{v.id}"
        ET.SubElement(header, f"{{{OAI}}}datestamp").text = stamp
        md = ET.SubElement(rec, f"{{{OAI}}}metadata")
        md.append(ET.fromstring(e.oai_dc))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- validation


_REF = re.compile(r'(?:href|src)="([^"#?:]+)(?:[#?][^"]*)?"')


def validate(model: SiteModel) -> list[str]:
    """Problems that would make a broken site: paths escaping the site, dangling relative links."""
    problems = []
    paths = set(model.files)
    for p, f in model.files.items():
        if p.startswith("/") or ".." in Path(p).parts or "\\" in p:
            problems.append(f"{p}: path escapes the site folder")
        if not p.endswith(".html") or f.content is None:
            continue
        here = Path(p).parent
        for ref in _REF.findall(f.content.decode("utf-8")):
            if ref.startswith("pagefind/") or "/pagefind/" in ref or not ref:
                continue
            target = os.path.normpath((here / ref).as_posix()).replace("\\", "/")
            if target not in paths:
                problems.append(f"{p}: link to missing {ref}")
    return problems


# --------------------------------------------------------------------------- writing


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _originals_present(ws, full_view) -> bool:
    try:
        from oralhist.archive.audio import write_access_copy  # noqa: F401  (area 1)
    except ImportError:
        return False
    return bool(full_view.recordings) and all((ws.root / r.path).is_file() for r in full_view.recordings)


def _write_audio(ws, f: OutFile, dest: Path) -> None:
    from oralhist.editorial.consent import silence_ranges

    if f.recipe == "access":
        from oralhist.archive.audio import write_access_copy

        dest.parent.mkdir(parents=True, exist_ok=True)
        write_access_copy(ws, f.archive_id, dest, silences=f.silence)
    elif f.recipe == "copy":
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.copyfile(f.source, tmp)
        os.replace(tmp, dest)
    else:
        silence_ranges(f.source, dest, f.silence)


def cache_dir(out: Path, ws=None) -> Path:
    """The publisher's private cache for the site at ``out``: the search-only pages and what
    unchanged interviews produced last time. It is keyed by archive ids, so it lives inside the
    archive (``.oralhist-cache/site-<hash of out>/``), never beside or inside the published
    output (a web root). Without ``ws`` (old callers) the archive is not known: a folder in
    the system's temporary space, never next to ``out``."""
    key = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]
    if ws is not None:
        return ws.root / ".oralhist-cache" / f"site-{key}"
    import tempfile

    return Path(tempfile.gettempdir()) / "oralhist-site-cache" / key


def search_source_dir(out: Path, ws=None) -> Path:
    return cache_dir(out, ws) / "search-src"


def shard_count(ws, n_interviews: int) -> int:
    """How many Pagefind indexes the search is split into (merged in the browser).

    One index for small archives; for large ones several, so that changing one interview
    re-indexes only its shard (Pagefind cannot update an index in place).
    ``[site] search_shards`` overrides it."""
    raw = (ws.settings.raw or {}).get("site", {})
    if raw.get("search_shards"):
        return max(1, min(64, int(raw["search_shards"])))
    return 1 if n_interviews < 100 else min(16, n_interviews // 60)


def shard_of(path: str, n: int) -> int:
    return int(hashlib.sha1(path.encode()).hexdigest()[:8], 16) % n


def search_page_path(out: Path, path: str, n: int, ws=None) -> Path:
    return search_source_dir(out, ws) / str(shard_of(path, n)) / path


def read_cache(out: Path, ws=None) -> dict:
    try:
        data = json.loads((cache_dir(out, ws) / "interviews.json").read_text(encoding="utf-8"))
        if data.get("version") == BUILD_VERSION and search_source_dir(out, ws).is_dir():
            return data.get("interviews", {})
    except (OSError, ValueError):
        pass
    return {}


def read_manifest(out: Path) -> dict:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if data.get("version") == BUILD_VERSION:
            return data
    except (OSError, ValueError):
        pass
    return {"version": BUILD_VERSION, "files": {}}


def write_site(ws, model: SiteModel, out: Path, *, progress=NULL) -> dict:
    """Write what changed; remove what is gone; re-index search when needed. Returns figures."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MANIFEST).is_file():
        # Mark the folder as ours before anything else is written, so that a publish killed
        # during the first build is finished by the next one (the full manifest comes last).
        _atomic_bytes(out / MANIFEST, json.dumps({"version": BUILD_VERSION, "files": {}, "incomplete": True}).encode())
    old = read_manifest(out)
    old_files: dict = old.get("files", {})
    written, kept = [], 0
    task = progress.add("publish: writing", total=len(model.files))
    for p, f in sorted(model.files.items()):
        progress.advance(task)
        dest = out / p
        if (old_files.get(p) == f.key or f.keep) and dest.is_file():
            kept += 1  # (a kept file was written by a build whose cache was saved after it)
            continue
        if f.content is not None:
            _atomic_bytes(dest, f.content)
        else:
            _write_audio(ws, f, dest)
        written.append(p)
    removed = []
    for p in sorted(set(old_files) - set(model.files)):
        dest = out / p
        if dest.is_file():
            dest.unlink()
        removed.append(p)
        d = dest.parent
        while d != out and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent
    # Files in site/ that no build of ours wrote (e.g. an old site, or a file from a previous
    # build whose manifest was lost) are removed too: site/ is fully generated.
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith("pagefind/") and rel not in model.files:
            path.unlink()
            removed.append(rel)
    # The search-only pages live beside the site, one folder per shard, kept up to date like the site.
    src = search_source_dir(out, ws)
    n = model.search_shards
    old_search: dict = old.get("search_pages", {})
    shard_pages: dict[int, list] = {k: [] for k in range(n)}
    for p, (sha, html) in sorted(model.search_pages.items()):
        k = shard_of(p, n)
        shard_pages[k].append((p, sha))
        dest = src / str(k) / p
        if html is not None and (old_search.get(p) != sha or not dest.is_file() or old.get("shards") != n):
            _atomic_bytes(dest, html.encode("utf-8"))
    wanted = {f"{shard_of(p, n)}/{p}" for p in model.search_pages}
    if src.is_dir():
        for path in sorted(src.rglob("*")):
            if path.is_file() and path.relative_to(src).as_posix() not in wanted:
                path.unlink()
    from oralhist.outputs.publish.search import build_index

    pf = out / "pagefind"
    old_keys = old.get("search_keys", {}) if old.get("shards") == n else {}
    if pf.exists() and old.get("shards") != n:
        shutil.rmtree(pf)  # a different number of shards: start the index afresh
    keys, indexed = {}, []
    for k in range(n):
        keys[str(k)] = hashlib.sha256(json.dumps([shard_pages[k], model.language_index]).encode()).hexdigest()
        if not shard_pages[k]:
            # Pagefind refuses an empty folder; an empty shard has no index (search.html
            # lists only the shards that hold pages).
            del keys[str(k)]
            continue
        if old_keys.get(str(k)) != keys[str(k)] or not (pf / str(k) / "pagefind.js").is_file():
            indexed.append(k)
    if indexed:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1, len(indexed)))) as pool:
            for fut in [pool.submit(build_index, src / str(k), pf / str(k), language=model.language_index)
                        for k in indexed]:
                fut.result()
    if pf.is_dir():
        for d in pf.iterdir():
            if d.name not in keys:
                shutil.rmtree(d) if d.is_dir() else d.unlink()
    manifest = {"version": BUILD_VERSION, "files": {p: f.key for p, f in sorted(model.files.items())},
                "shards": n, "search_keys": keys,
                "search_pages": {p: sha for p, (sha, _) in sorted(model.search_pages.items())}}
    cache = {"version": BUILD_VERSION, "interviews": {e.archive_id: (e.cached_out or e.cached) for e in model.interviews}}
    cdata = json.dumps(cache, sort_keys=True, ensure_ascii=False).encode()
    cpath = cache_dir(out, ws) / "interviews.json"
    if not cpath.is_file() or cpath.read_bytes() != cdata:
        _atomic_bytes(cpath, cdata)
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    mpath = out / MANIFEST
    if not mpath.is_file() or mpath.read_bytes() != data:
        _atomic_bytes(mpath, data)
    return {"written": written, "kept": kept, "removed": removed, "indexed": bool(indexed), "shards_indexed": indexed}


def _refuse_kiosk_in_public_site(ws, out: Path) -> None:
    """A kiosk build (on-site-only interviews) never goes in or under the public site folder,
    nor in a folder that holds it (the build would then own, and rewrite, the public site)."""
    o, pub = Path(out).resolve(), ws.site.resolve()
    if o == pub or pub in o.parents or o in pub.parents:
        raise BadInput(out, f"a kiosk build (--on-site) must not be written in or around the public site {ws.site}; "
                            "choose a folder outside it")


def publish_site(ws, out: Optional[Path] = None, *, progress=NULL, language: Optional[str] = None,
                 today: Optional[date] = None, on_site: bool = False, strict: bool = True) -> StageReport:
    """Build the static site into ``out`` (default ``site/`` of the archive)."""
    from oralhist import db
    from oralhist.outputs.exports.staff import refresh_staff_exports

    refresh_staff_exports(ws)  # staff copies made before a killed stage run follow the data again
    from oralhist.stage import mark_done

    t0 = time.perf_counter()
    out = Path(out) if out is not None else ws.site
    if out.exists() and not out.is_dir():
        raise BadInput(out, "exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BadInput(out, f"folder is not empty and is not a site built by oralhist (no {MANIFEST}); choose another --out")
    if on_site:
        _refuse_kiosk_in_public_site(ws, out)
    scopes = ("public", "on-site") if on_site else ("public",)
    cache = read_cache(out, ws)
    model = load_model(ws, language=language, today=today, scopes=scopes, progress=progress, cache=cache, out=out)
    model.language_index = (ws.settings.language if ws.settings.language not in ("", "auto") else model.language)[:2]
    render_model(model)
    from oralhist.outputs.publish.exhibits import add_exhibitions  # issue 14: exhibition pages
    from oralhist.outputs.publish.objects import add_objects  # issue 14: object and trade pages

    object_notes, object_pages = add_objects(ws, model, today=today)
    exhibit_notes = add_exhibitions(ws, model, today=today, objects_pages=object_pages)
    problems = validate(model)
    if problems and strict:
        raise StageError(out, "the site model is not valid: " + "; ".join(problems[:5]))
    figures = write_site(ws, model, out, progress=progress)
    rep = StageReport(stage="publish")
    rep.done = [e.archive_id for e in model.interviews]
    rep.details = {
        "site": str(out),
        "interviews": len(model.interviews),
        "terms": len(model.terms),
        "files": len(model.files),
        "written": len(figures["written"]),
        "kept": figures["kept"],
        "removed": len(figures["removed"]),
        "search_reindexed": figures["indexed"],
        "search_shards": model.search_shards,
        "search_shards_reindexed": figures["shards_indexed"],
        "seconds": round(time.perf_counter() - t0, 3),
        "warnings": problems,
        "exhibitions": exhibit_notes,
        "objects": object_notes,
    }
    if out.resolve() == ws.site.resolve() and not on_site:
        fresh = [(e.archive_id, e.view.transcript_version) for e in model.interviews if e.cached is None]
        if fresh:
            with db.session(ws) as s:
                for iid, tv in fresh:
                    # the version published, for status.site_notes ("a newer approved version waits")
                    mark_done(s, iid, "publish", {"site": str(out), "transcript_version": tv})
                s.commit()
    return rep
