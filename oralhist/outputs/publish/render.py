"""Rendering: the Jinja environment and templates that turn the site model into the site's files."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from oralhist.outputs.publish.feeds import jsonld, oai_static, sitemap
from oralhist.outputs.publish.model import LOCAL_BASE, MIME, Card, SiteModel, TermPage, link_dict
from oralhist.outputs.publish.seo import page_meta, term_meta
from oralhist.outputs.publish.typography import clock, iso_duration, seconds
from oralhist.outputs.publish.write import OutFile, shard_of


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



@functools.lru_cache(maxsize=1)
def jinja_env():
    """The Jinja environment of the site's templates (autoescaped, strict), with its filters."""
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



# Over 80 lines on purpose: every page family is rendered here in the order the site needs them
# (interviews, terms, list pages, then the data files that list them), read top to bottom.
def render_model(model: SiteModel) -> SiteModel:
    """Render every page, media and data file into ``model.files``."""
    from oralhist.outputs.exports import dublincore, iiif
    from oralhist.outputs.publish.i18n import messages

    env = jinja_env()
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
        portrait = None
        if e.portrait:  # issue 26 item 5: only with the consent's portrait permission (model.portrait_files)
            portrait = {"w": e.portrait["w"], "h": e.portrait["h"]}
            for ext in ("webp", "jpg"):
                src = e.portrait[ext]
                st = src.stat()
                model.add(OutFile(path=f"{media}/portrait.{ext}", key=f"{src.name}|{st.st_size}|{st.st_mtime_ns}",
                                  source=src, recipe="copy"))
                portrait[ext] = f"../{media}/portrait.{ext}"
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
            jsonld=json_for_script(jsonld(e, model, page)),
            rights=e.rights, license=e.license, portrait=portrait,
            meta=page_meta(model, page, f"{v.title or v.id} · {model.title}", v.summary or v.title or v.id,
                           kind="interview"),  # issue 25 item 6: OpenGraph / Twitter card
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
            "card": Card.of(v),
            "links": [link_dict(ln) for ln in e.links],
            "audio": e.audio_path,
            "decade": e.decade,
            "oai_dc": e.oai_dc,
        }

    term_tpl = env.get_template("term.html")
    for tp in model.terms.values():
        html = term_tpl.render(**common, root="../", t=tp, meta=term_meta(model, tp))
        model.add_text(f"t/{tp.slug}.html", html)
        model.search_pages[f"t/{tp.slug}.html"] = (hashlib.sha256(html.encode()).hexdigest(), html)

    from oralhist.outputs.publish.home import add_home  # issue 13 item 2: filters, sorting, pages for 1,000 interviews

    add_home(model, env, common, terms_by_kind)
    model.add_text("donnees.html", env.get_template("open_data.html").render(
        **common, root="", rights=model.rights, license=model.license, sitemap=bool(model.base_url),
        meta=page_meta(model, "donnees.html", f"{m['open_data']} · {model.title}", m["open_data_intro"])))
    # The shards that hold pages (none when nothing is public: the search then says "no result").
    live = sorted({shard_of(p, model.search_shards) for p in model.search_pages})
    model.add_text("search.html", env.get_template("search.html").render(
        **common, root="", shards=" ".join(map(str, live)),
        meta=page_meta(model, "search.html", f"{m['search']} · {model.title}", m["search_label"])))
    if model.base_url:  # a local build has no web addresses: no sitemap (relative ones are invalid)
        model.add_text("sitemap.xml", sitemap(model))
    model.add_text("oai-pmh.xml", oai_static(model))
    from oralhist.outputs.publish.feeds import headers_file, htaccess_file, iiif_collections  # issue 25

    for path, text in iiif_collections(model).items():
        model.add_text(path, text)
    model.add_text("_headers", headers_file())  # CORS for partners' viewers (docs/publish.md)
    model.add_text(".htaccess", htaccess_file())
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

