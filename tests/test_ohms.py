"""OHMS XML and chapters WebVTT from the topic index."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from speakersdata import SUBJECTS, _pieces, ingest_clip, transcript_from_texts

NS = {"o": "https://www.weareavp.com/nunncenter/ohms"}


def _indexed(ws, cli, corpus):
    iid = ingest_clip(ws, corpus / "fr" / "fleurs_fr_002.ogg", narrator="Jeanne Martin", interviewer="Paul Leroy",
                      title="Souvenirs d'une fileuse", date="1998-06-14", museum="Musée de la laine")
    pieces, gold, total = _pieces(SUBJECTS * 3, seconds_per_sentence=50)
    transcript_from_texts(ws, iid, pieces)
    assert cli("speakers", iid, "rename", "SPEAKER_1", "Jeanne Martin").exit_code == 0
    assert cli("speakers", iid, "role", "SPEAKER_2", "interviewer").exit_code == 0
    assert cli("index", iid).exit_code == 0
    return iid, total


def test_ohms_xml_parses_with_index_points(ws, cli, corpus, tmp_path):
    iid, total = _indexed(ws, cli, corpus)
    out = tmp_path / "x.ohms.xml"
    res = cli("export", iid, "--format", "ohms", "--out", out)
    assert res.exit_code == 0, res.output
    root = ET.parse(out).getroot()
    assert root.tag == "{https://www.weareavp.com/nunncenter/ohms}ROOT"
    rec = root.find("o:record", NS)
    assert rec.get("id") == iid
    assert rec.findtext("o:title", namespaces=NS) == "Souvenirs d'une fileuse"
    assert rec.findtext("o:interviewee", namespaces=NS) == "Jeanne Martin"
    assert rec.findtext("o:interviewer", namespaces=NS) == "Paul Leroy"
    assert rec.find("o:date", NS).get("value") == "1998-06-14"
    points = rec.findall("o:index/o:point", NS)
    assert len(points) >= 8
    times = [int(p.findtext("o:time", namespaces=NS)) for p in points]
    assert times[0] == 0 and times == sorted(times) and times[-1] < total / 1000
    for p in points:
        for field in ("title", "partial_transcript", "synopsis", "keywords"):
            assert (p.findtext(f"o:{field}", namespaces=NS) or "").strip(), field
        assert ";" in p.findtext("o:keywords", namespaces=NS)
    transcript = rec.findtext("o:transcript", namespaces=NS)
    assert "JEANNE MARTIN:" in transcript
    sync = rec.findtext("o:sync", namespaces=NS)
    assert sync.startswith("1:|")
    lines = transcript.split("\n")
    marks = sync[3:].split("|")
    assert len(marks) == total // 60_000
    for m in marks:  # every mark names an existing line (from 0, as the viewer counts) and word (from 1)
        line, word = int(m.split("(")[0]), int(m.split("(")[1].rstrip(")"))
        assert 0 <= line < len(lines) and 1 <= word <= len(lines[line].split())
    # The OHMS viewer's reading (app/Ohms/Transcript.php, formatTranscript): the transcript
    # exploded on newlines, the sync's "(word)" parts dropped, minute 0 on line 0, minute n's
    # anchor put at the start of line chunklines[n]. The line it names is the one being spoken
    # at that minute (or, in a pause, the next one): never a line late.
    from oralhist import db
    from oralhist.editorial.view import load_interview

    with db.session(ws) as s:
        segs = [sg for sg in load_interview(s, iid).segments]
    size, rest = sync.split(":", 1)
    chunklines = re.sub(r"\(.*?\)", "", rest).split("|")
    chunklines[0] = "0"
    assert len(segs) == len(lines)
    for n, li in enumerate(map(int, chunklines)):
        t = n * int(size) * 60_000
        if n == 0:
            continue
        # a word of that line starts at or after the minute, and none of the line before does
        assert segs[li].words[-1].start_ms >= t, (n, li)
        assert li == 0 or segs[li - 1].words[-1].start_ms < t, (n, li)
    # Speaker names: the viewer styles a line as a speaker's when it matches [A-Z-.' ]+: at the start.
    turns = [ln for ln in lines if ":" in ln.split(" ")[0] or re.match(r"^[^a-z]+:", ln)]
    assert turns and all(re.match(r"^[A-Z\-.' ]+:", ln) for ln in turns)
    assert {ln.split(":")[0] for ln in turns} == {"JEANNE MARTIN", "ENQUETEUR-RICE"}
    assert "SPEAKER_" not in out.read_text(encoding="utf-8")


def test_chapters_vtt(ws, cli, corpus, tmp_path):
    import webvtt

    iid, total = _indexed(ws, cli, corpus)
    out = tmp_path / "c.vtt"
    res = cli("export", iid, "--format", "chapters", "--out", out)
    assert res.exit_code == 0, res.output
    caps = webvtt.read(str(out)).captions
    assert len(caps) >= 8 and caps[0].start == "00:00:00.000"
    assert all(c.text.strip() for c in caps)
    assert all(a.end <= b.start for a, b in zip(caps, caps[1:]))
    assert out.read_text().startswith("WEBVTT\n\n")


def test_ohms_without_index_is_still_valid(ws, cli, corpus, tmp_path):
    iid = ingest_clip(ws, corpus / "fr" / "fleurs_fr_003.ogg")
    out = tmp_path / "e.xml"
    assert cli("export", iid, "--format", "ohms", "--out", out).exit_code == 0
    rec = ET.parse(out).getroot().find("o:record", NS)
    assert rec.findall("o:index/o:point", NS) == []
