"""OHMS XML, as the OHMS viewer and Aviary import it (``<ROOT><record>...``).

The record carries the interview's metadata, the index (one ``<point>`` per topic segment:
``time`` in seconds, ``title``, ``partial_transcript``, ``synopsis``, ``keywords`` separated
by semicolons) and the transcript with its ``<sync>`` line: OHMS's legacy synchronisation,
``"1:|line(word)|..."`` giving, for every minute of the recording, the transcript line and
the word in that line being spoken at that minute (from the word timings).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date as _date
from pathlib import Path

from oralhist.exports import atomic_write

NS = "https://www.weareavp.com/nunncenter/ohms"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "https://www.weareavp.com/nunncenter/ohms/ohms.xsd"
SYNC_MINUTES = 1


def _sub(parent, tag: str, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


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


def transcript_lines(view) -> tuple[list[str], list[list[tuple[int, str]]]]:
    """Transcript lines (one per segment, ``NAME: text`` at speaker changes) and, per line,
    the (start_ms, text) of its words (estimated evenly when a segment has no word times)."""
    lines: list[str] = []
    timed: list[list[tuple[int, str]]] = []
    prev = None
    for sg in view.segments:
        who = sg.speaker_name or sg.speaker
        prefix = f"{who.upper()}: " if who and who != prev else ""
        prev = who or prev
        toks = sg.text.split()
        words = _token_times(toks, sg)
        lines.append(prefix + " ".join(toks))
        # the prefix's words come first on the line: count them so word numbers match
        pad = [(sg.start_ms, p) for p in prefix.split()]
        timed.append(pad + words)
    return lines, timed


def sync_string(timed: list[list[tuple[int, str]]], duration_ms: int, minutes: int = SYNC_MINUTES) -> str:
    """``"1:|3(5)|9(2)"``: at minute 1 line 3 word 5, at minute 2 line 9 word 2 ..."""
    marks = []
    flat = [(ms, li + 1, wi + 1) for li, ws in enumerate(timed) for wi, (ms, _) in enumerate(ws)]
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


def build(view) -> ET.ElementTree:
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}ROOT", {f"{{{XSI}}}schemaLocation": f"{NS} {SCHEMA}"})
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731
    rec = ET.SubElement(root, q("record"), {"id": view.id, "dt": _date.today().isoformat()})

    def sub(parent, tag, text=None, **attrs):
        return _sub(parent, q(tag), text, **attrs)

    sub(rec, "version", "5.4")
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
    sub(rec, "repository", view.museum or "")
    keywords = []
    for t in view.topics:
        for k in t.keywords:
            if k not in keywords:
                keywords.append(k)
    for k in keywords[:20]:
        sub(rec, "keyword", k)
    if view.narrator:
        sub(rec, "interviewee", view.narrator)
    if view.interviewer:
        sub(rec, "interviewer", view.interviewer)
    sub(rec, "file_name", view.recordings[0].original_name if view.recordings else "")
    lines, timed = transcript_lines(view)
    sub(rec, "sync", sync_string(timed, duration_ms))
    sub(rec, "sync_alt", "")
    sub(rec, "transcript_alt_lang", "")
    sub(rec, "translate", "0")
    sub(rec, "media_id", "")
    sub(rec, "media_url", "")
    mf = sub(rec, "mediafile")
    sub(mf, "host", "Other")
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
    sub(rec, "type", "interview")
    sub(rec, "description", view.summary or "")
    sub(rec, "transcript", "\n".join(lines))
    sub(rec, "transcript_alt", "")
    sub(rec, "rights", "")
    sub(rec, "fmt", "audio")
    sub(rec, "usage", "")
    sub(rec, "userestrict", "0")
    return ET.ElementTree(root)


def write(view, out: Path) -> Path:
    tree = build(view)
    ET.indent(tree, space="  ")
    data = ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=False)
    ET.fromstring(data)  # well-formed before it replaces anything
    with atomic_write(Path(out)) as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(data + "\n")
    return Path(out)
