"""VTT, SRT, plain text and JSON exports from an InterviewView (no model needed)."""

from __future__ import annotations

import json

import pytest

from oralhist.errors import StageError
from oralhist.outputs.exports import exporter
from oralhist.editorial.view import InterviewView, SegmentView, SpeakerView, WordView


def _words(text: str, start: int, end: int) -> tuple[WordView, ...]:
    toks = text.split()
    step = (end - start) // len(toks)
    return tuple(WordView(start + i * step, start + (i + 1) * step, t, 0.9) for i, t in enumerate(toks))


LONG = ("Alors moi je suis entré à la filature Motte-Bossut en mille neuf cent cinquante-deux, "
        "j'avais quatorze ans, et mon père y travaillait déjà comme contremaître au tissage.")


def view(speakers: bool = True) -> InterviewView:
    segs = (
        SegmentView(1200, 3400, "Vous êtes entré à l'usine en quelle année ?", "SPEAKER_1" if speakers else None,
                    "Marie <Enquêtrice> & co" if speakers else None, _words("Vous êtes entré à l'usine en quelle année ?", 1200, 3400)),
        SegmentView(3900, 16_500, LONG, "SPEAKER_2" if speakers else None, "Jean Dupont" if speakers else None,
                    _words(LONG, 3900, 16_500)),
        SegmentView(3_725_000, 3_726_500, "Voilà.", "SPEAKER_2" if speakers else None, "Jean Dupont" if speakers else None, (),
                    flag="possible phantom phrase"),
    )
    return InterviewView(
        id="1998-jean-dupont", title="Jean Dupont, fileur", narrator="Jean Dupont", interviewer="Marie",
        date="1998-06-14", place="Roubaix", language="fr", museum=None, status="transcribed", duration_ms=3_727_000,
        speakers=(SpeakerView("SPEAKER_1", "Marie", "interviewer"), SpeakerView("SPEAKER_2", "Jean Dupont", "narrator")),
        transcript_version=1, transcript_status="machine", model="whisper-base", segments=segs,
    )


def test_vtt_with_voice_tags_reads_back(tmp_path):
    import webvtt

    out = exporter("vtt")(view(), tmp_path / "a.vtt")
    text = out.read_text()
    assert text.startswith("WEBVTT\n")
    assert "00:00:01.200 --> 00:00:03.400\n<v Marie &lt;Enquêtrice&gt; &amp; co>Vous êtes entré" in text
    assert "01:02:05.000 --> 01:02:06.500\n<v Jean Dupont>Voilà." in text
    caps = webvtt.read(str(out)).captions
    assert caps[0].voice == "Marie &lt;Enquêtrice&gt; &amp; co"
    # the 12.6 s segment is cut into subtitle-sized cues at word boundaries
    long_caps = [c for c in caps if c.voice == "Jean Dupont" and c.start < "01:"]
    assert len(long_caps) >= 2
    assert all(len(c.text.replace("<v Jean Dupont>", "")) <= 84 for c in long_caps)
    assert " ".join(c.text for c in long_caps).split() == LONG.split()
    starts = [c.start for c in caps]
    assert starts == sorted(starts)


def test_vtt_without_speakers_has_no_voice_tags(tmp_path):
    text = exporter("vtt")(view(speakers=False), tmp_path / "b.vtt").read_text()
    assert "<v " not in text and "Vous êtes entré" in text


def test_vtt_validation_catches_a_broken_file(tmp_path):
    from oralhist.outputs.exports import vtt

    text, cues = vtt.render(view())
    with pytest.raises(StageError, match="did not validate"):
        vtt.validate(text.replace("00:00:01.200 --> ", "00:00:01.200 -> ", 1), cues, tmp_path / "x.vtt")
    with pytest.raises(StageError, match="did not validate"):
        vtt.validate(text, cues[:-1], tmp_path / "x.vtt")


def test_srt(tmp_path):
    text = exporter("srt")(view(), tmp_path / "a.srt").read_text()
    blocks = text.strip().split("\n\n")
    assert blocks[0] == "1\n00:00:01,200 --> 00:00:03,400\nMarie <Enquêtrice> & co: Vous êtes entré à l'usine en quelle année ?"
    assert blocks[-1].split("\n")[1] == "01:02:05,000 --> 01:02:06,500"
    assert [b.split("\n")[0] for b in blocks] == [str(i) for i in range(1, len(blocks) + 1)]


def test_plain_text(tmp_path):
    text = exporter("txt")(view(), tmp_path / "a.txt").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Jean Dupont, fileur"
    assert "# narrator: Jean Dupont" in lines
    body = [l for l in lines if l.startswith("[")]
    assert body[0] == "[00:00:01] Marie <Enquêtrice> & co: Vous êtes entré à l'usine en quelle année ?"
    assert body[1].startswith("[00:00:03] Jean Dupont: Alors moi")
    assert body[2] == "[01:02:05] Jean Dupont: Voilà."
    # a blank line between turns, none inside one
    i = lines.index(body[1])
    assert lines[i - 1] == "" and lines[i + 1] == body[2]


def test_json_has_every_word(tmp_path):
    data = json.loads(exporter("json")(view(), tmp_path / "a.json").read_text())
    assert data["id"] == "1998-jean-dupont" and data["transcript"]["version"] == 1
    assert len(data["segments"]) == 3
    words = data["segments"][1]["words"]
    assert len(words) == len(LONG.split())
    assert words[0] == {"start_ms": 3900, "end_ms": words[0]["end_ms"], "text": "Alors", "probability": 0.9}
    assert all(isinstance(w["start_ms"], int) for w in words)
    assert data["segments"][2]["flag"] == "possible phantom phrase"


def test_exports_are_atomic(tmp_path):
    """A failing export leaves the previous file untouched and no temporary file behind."""
    from oralhist.outputs.exports import vtt

    out = tmp_path / "a.vtt"
    out.write_text("previous")
    bad = view()
    bad = InterviewView(**{**bad.__dict__, "segments": (SegmentView(0, 1000, "x", "S", "A>B"),)})
    vtt.write(bad, out)  # '>' in a voice name is escaped, so this one validates
    assert out.read_text().startswith("WEBVTT")
    assert [p.name for p in tmp_path.iterdir()] == ["a.vtt"]


def test_cue_text_glues_elisions_and_hyphens():
    from oralhist.outputs.exports._cues import join_words

    assert join_words(["Nous", "sommes", "d", "'accord", "avec", "les", "États", "-Unis", ",", "voilà", "."]) == \
        "Nous sommes d'accord avec les États-Unis, voilà."
    assert join_words(["l'", "usine"]) == "l'usine"
