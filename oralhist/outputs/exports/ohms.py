"""OHMS XML, as the OHMS viewer and Aviary import it (``<ROOT><record>...``).

The record follows the element order of OHMS's own exports (a 5.4 and a 6.0 export are the
test fixtures in tests/data/ohms/): the interview's metadata; ``media_url`` (absolute, from
``[site] base_url``: the viewer plays it) with the ``mediafile`` host fields; the index (one
``<point>`` per topic segment: ``time`` in seconds, ``title``, ``partial_transcript``,
``synopsis``, ``keywords`` separated by semicolons, ``gpspoints`` and ``hyperlinks``: the
linked terms of the segment that have a URI); rights and usage; and the transcript twice:

- ``vtt_transcript`` (OHMS 6, which the viewer prefers): WebVTT between ``NOTE TRANSCRIPTION
  BEGIN``/``END``, one cue per transcript line, no cue identifiers (the viewer reads cues as
  pairs of lines), ``<v Name>`` with the name as readers see it.
- the legacy ``transcript`` with its ``<sync>`` line: ``"1:|line(word)|..."`` giving, for every
  minute of the recording, the transcript line and the word being spoken at that minute.
  Lines count from 0, as the viewer does (``app/Ohms/Transcript.php``: it explodes the
  transcript on newlines and puts minute *n*'s anchor on line ``chunklines[n]``); words count
  from 1. Speaker names open a line in capitals followed by a colon, in the characters the
  viewer's pattern ``[A-Z-.' ]+:`` recognises: accents folded, ``·`` as ``-``, numbers in
  Roman numerals ("Intervenant·e 2" is written ``INTERVENANT-E II:``).
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date as _date
from pathlib import Path

from oralhist.outputs.exports import atomic_write, ms_to_timestamp

NS = "https://www.weareavp.com/nunncenter/ohms"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "https://www.weareavp.com/nunncenter/ohms/ohms.xsd"
SYNC_MINUTES = 1
# The OHMS viewer's speaker pattern (app/Ohms/Transcript.php): upper-case ASCII letters,
# hyphen, period, apostrophe and space, then a colon.
VIEWER_SPEAKER = re.compile(r"^[A-Z\-.' ]+:")


def _sub(parent, tag: str, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                 (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out += s
            n -= v
    return out


def speaker_label(name: str) -> str:
    """``Intervenant·e 2`` -> ``INTERVENANT-E II``; ``Hélène Dupont`` -> ``HELENE DUPONT``: a name
    the OHMS viewer recognises as a speaker (empty when nothing of it can be written so)."""
    t = name.replace("·", "-").replace("’", "'")
    t = re.sub(r"\d+", lambda m: _roman(int(m.group())) or "ZERO", t)
    t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode().upper()
    t = re.sub(r"[^A-Z\-.' ]+", " ", t)
    return " ".join(t.split())


def _token_times(toks: list[str], sg) -> list[tuple[int, str]]:
    """(start_ms, token) for each whitespace token of the segment text, from its words
    (the recogniser's words may split a token, as in ``d`` + ``'accord``)."""
    if not sg.words:
        step = (sg.end_ms - sg.start_ms) / max(1, len(toks))
        return [(int(sg.start_ms + k * step), t) for k, t in enumerate(toks)]
    words = [w for w in sg.words if w.text.strip()]
    out, p = [], 0
    for t in toks:
        at = words[min(p, len(words) - 1)].start_ms if words else sg.start_ms
        out.append((at, t))
        acc = ""
        while p < len(words) and len(acc) < len(t):
            acc += words[p].text.strip()
            p += 1
    return out


def _who(sg) -> str:
    return sg.speaker_name or ""  # the name readers see (never a SPEAKER_n label)


def transcript_lines(view) -> tuple[list[str], list[list[tuple[int, str]]]]:
    """Transcript lines (one per segment, ``NAME: text`` at speaker changes) and, per line,
    the (start_ms, text) of its words (estimated evenly when a segment has no word times)."""
    lines: list[str] = []
    timed: list[list[tuple[int, str]]] = []
    prev = None
    for sg in view.segments:
        who = _who(sg)
        label = speaker_label(who) if who else ""
        prefix = f"{label}: " if label and who != prev else ""
        prev = who or prev
        toks = sg.text.split()
        words = _token_times(toks, sg)
        lines.append(prefix + " ".join(toks))
        # the prefix's words come first on the line: count them so word numbers match
        pad = [(sg.start_ms, p) for p in prefix.split()]
        timed.append(pad + words)
    return lines, timed


def sync_string(timed: list[list[tuple[int, str]]], duration_ms: int, minutes: int = SYNC_MINUTES) -> str:
    """``"1:|3(5)|9(2)"``: at minute 1 line 3 word 5, at minute 2 line 9 word 2 ... (lines
    from 0, words from 1)."""
    marks = []
    flat = [(ms, li, wi + 1) for li, ws in enumerate(timed) for wi, (ms, _) in enumerate(ws)]
    flat.sort()
    k = 0
    t = minutes * 60_000
    while t <= duration_ms and flat:
        while k < len(flat) and flat[k][0] < t:
            k += 1
        if k >= len(flat):
            break
        marks.append(f"{flat[k][1]}({flat[k][2]})")
        t += minutes * 60_000
    return f"{minutes}:|" + "|".join(marks) if marks else ""


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")


def vtt_transcript(view) -> str:
    """The OHMS 6 transcript: WebVTT as OHMS writes it (``NOTE TRANSCRIPTION BEGIN``/``END``),
    one cue per segment, no cue identifiers, ``<v Name>`` with the reader's name."""
    out = ["WEBVTT", "", "NOTE", "TRANSCRIPTION BEGIN", ""]
    for sg in view.segments:
        text = " ".join(sg.text.split())
        if not text:
            continue
        who = " ".join(_vtt_escape(_who(sg)).split())
        out.append(f"{ms_to_timestamp(sg.start_ms)} --> {ms_to_timestamp(max(sg.end_ms, sg.start_ms + 1))}")
        out.append((f"<v {who}>" if who else "") + _vtt_escape(text))
        out.append("")
    out += ["NOTE", "TRANSCRIPTION END", ""]
    return "\n".join(out)


def _hyperlinks(view, t) -> list[tuple[str, str]]:
    seen, out = set(), []
    for ln in getattr(view, "links", ()):
        if ln.uri and ln.status == "accepted" and not ln.review and t.start_ms <= ln.start_ms < max(t.end_ms, t.start_ms + 1):
            if ln.uri not in seen:
                seen.add(ln.uri)
                out.append((ln.uri, ln.term_label))
    return out


def build(view, *, media_url: str = "", file_name: str = "", repository: str = "", repository_url: str = "",
          rights: str = "", usage: str = "", funding: str = "", page_url: str = "", xml_url: str = "",
          xml_filename: str = "", collection_link: str = "") -> ET.ElementTree:
    """The OHMS record. ``media_url``: the recording's absolute address (the viewer plays it);
    ``rights``/``usage``: the rights statement and the licence; ``page_url``: the interview's
    public page (``rel``); ``xml_url``/``xml_filename``: where this file is published."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}ROOT", {f"{{{XSI}}}schemaLocation": f"{NS} {SCHEMA}"})
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731
    rec = ET.SubElement(root, q("record"), {"id": view.id, "dt": _date.today().isoformat()})

    def sub(parent, tag, text=None, **attrs):
        return _sub(parent, q(tag), text, **attrs)

    sub(rec, "version", "6.0")
    sub(rec, "date", None, value=view.date or "", format="yyyy-mm-dd")
    sub(rec, "date_nonpreferred_format", view.date or "")
    sub(rec, "cms_record_id", view.id)
    sub(rec, "title", view.title or view.id)
    sub(rec, "accession", view.id)
    duration_ms = max([view.duration_ms] + [sg.end_ms for sg in view.segments])
    seconds = max(0, duration_ms) // 1000
    sub(rec, "duration", f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}")
    sub(rec, "collection_id", "")
    sub(rec, "collection_name", view.museum or "")
    sub(rec, "series_id", "")
    sub(rec, "series_name", "")
    sub(rec, "repository", repository or view.museum or "")
    sub(rec, "funding", funding)
    sub(rec, "repository_url", repository_url)
    keywords = []
    for t in view.topics:
        for k in t.keywords:
            if k not in keywords:
                keywords.append(k)
    for k in keywords[:20]:
        sub(rec, "keyword", k)
    sub(rec, "interviewee", view.narrator or "")
    sub(rec, "interviewer", view.interviewer or "")
    sub(rec, "format", "audio")
    sub(rec, "file_name", file_name or (view.recordings[0].original_name if view.recordings else ""))
    lines, timed = transcript_lines(view)
    sub(rec, "sync", sync_string(timed, duration_ms))
    sub(rec, "sync_alt", "")
    sub(rec, "transcript_alt_lang", "")
    sub(rec, "translate", "0")
    sub(rec, "media_id", "")
    sub(rec, "media_url", media_url)
    mf = sub(rec, "mediafile")
    sub(mf, "host", "Other")
    for tag in ("avalon_target_domain", "host_account_id", "host_player_id", "host_clip_id"):
        sub(mf, tag, "")
    sub(mf, "clip_format", "audio")
    sub(rec, "kembed", "")
    sub(rec, "language", {"fr": "French", "en": "English"}.get((view.language or "").lower(), view.language or ""))
    sub(rec, "user_notes", "")
    idx = sub(rec, "index")
    for t in sorted(view.topics, key=lambda t: t.start_ms):
        p = sub(idx, "point")
        sub(p, "time", str(t.start_ms // 1000))
        sub(p, "title", t.title)
        sub(p, "title_alt", "")
        sub(p, "partial_transcript", t.partial_transcript)
        sub(p, "partial_transcript_alt", "")
        sub(p, "synopsis", t.synopsis)
        sub(p, "synopsis_alt", "")
        sub(p, "keywords", ";".join(t.keywords))
        sub(p, "keywords_alt", "")
        sub(p, "subjects", "")
        sub(p, "subjects_alt", "")
        gps = sub(p, "gpspoints")  # no coordinates are kept for places: empty, as OHMS writes it
        for tag in ("gps", "gps_zoom", "gps_text", "gps_text_alt"):
            sub(gps, tag, "")
        for uri, label in _hyperlinks(view, t) or [("", "")]:
            h = sub(p, "hyperlinks")
            sub(h, "hyperlink", uri)
            sub(h, "hyperlink_text", label)
            sub(h, "hyperlink_text_alt", "")
    sub(rec, "type", "interview")
    sub(rec, "description", view.summary or "")
    sub(rec, "rel", page_url)
    sub(rec, "vtt_transcript", vtt_transcript(view) if view.segments else "")
    sub(rec, "transcript", "\n".join(lines))
    sub(rec, "transcript_alt", "")
    sub(rec, "rights", rights)
    sub(rec, "fmt", "audio")
    sub(rec, "usage", usage)
    sub(rec, "userestrict", "0")
    sub(rec, "xmllocation", xml_url)
    sub(rec, "xmlfilename", xml_filename)
    sub(rec, "collection_link", collection_link)
    sub(rec, "series_link", "")
    return ET.ElementTree(root)


def to_text(view, **kw) -> str:
    tree = build(view, **kw)
    ET.indent(tree, space="  ")
    data = ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=False)
    ET.fromstring(data)  # well-formed before it replaces anything
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + data + "\n"


def write(view, out: Path, **kw) -> Path:
    out = Path(out)
    kw.setdefault("xml_filename", out.name)
    text = to_text(view, **kw)
    with atomic_write(out) as fh:
        fh.write(text)
    return out
