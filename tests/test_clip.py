"""Clips: audio cut from the listening copy, redactions silenced, transcript beside it."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from _link_helpers import corpus_text, make_interview
from oralhist import db
from oralhist.outputs.clip import parse_time
from oralhist.errors import BadInput


def test_parse_time():
    assert parse_time("754") == 754_000
    assert parse_time("754.5") == 754_500
    assert parse_time("12:34") == 754_000
    assert parse_time("00:12:34.5") == 754_500
    assert parse_time("1:00:00") == 3_600_000
    for bad in ("12:75", "abc", "-3", "1:2:3:4"):
        with pytest.raises(BadInput):
            parse_time(bad)


def _decode(path) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as c:
        frames = [f.to_ndarray().astype(np.float32).reshape(-1) for f in c.decode(audio=0)]
        rate = c.streams.audio[0].rate
    return np.concatenate(frames), rate


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def test_clip_cuts_the_listening_copy_and_silences_redactions(ws, corpus, ffmpeg, cli, tmp_path):
    from oralhist.records import Derivative, Redaction

    iid = "2022-lecteurs"
    text = corpus_text(corpus, "fleurs_fr_001")
    make_interview(ws, iid, [text], word_ms=400)
    access = ws.derived_dir(iid) / "access.m4a"
    access.parent.mkdir(parents=True)
    subprocess.run([ffmpeg, "-v", "error", "-i", str(corpus / "fr" / "fleurs_fr_001.ogg"), "-ac", "1", "-c:a", "aac",
                    str(access)], check=True)
    with db.session(ws) as s:
        s.add(Derivative(interview_id=iid, kind="access", path=ws.rel(access), sha256="x", duration_ms=23_410))
        s.add(Redaction(interview_id=iid, start_ms=6_000, end_ms=8_000, reason="nom d'un tiers"))
        s.commit()
    out = tmp_path / "extrait.wav"
    r = cli("clip", iid, "4", "0:10.5", "--out", out)
    assert r.exit_code == 0, r.output
    audio, rate = _decode(out)
    assert abs(len(audio) / rate - 6.5) < 0.1
    # 2-4 s into the clip is redacted (6-8 s of the interview): silent; around it speech
    assert _rms(audio[int(2.05 * rate):int(3.95 * rate)]) == 0.0
    assert _rms(audio[: int(1.9 * rate)]) > 0.001
    vtt = out.with_suffix(".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "[…]" in vtt and "00:00:00.000 -->" in vtt
    words = text.split()
    assert words[10] in vtt and words[15] not in vtt  # word 15 (6.0-6.4 s) is redacted
    assert words[2] not in vtt  # before the clip
    assert not list(tmp_path.glob(".*partial*"))


def test_clip_refuses_bad_requests(ws, corpus, cli, tmp_path):
    make_interview(ws, "i", [corpus_text(corpus, "fleurs_fr_000")])
    r = cli("clip", "i", "0", "5", "--out", tmp_path / "x.mp3")
    assert r.exit_code == 2 and "no listening copy" in r.output
    assert cli("clip", "i", "5", "2", "--out", tmp_path / "x.mp3").exit_code == 2
    assert cli("clip", "nobody", "0", "5", "--out", tmp_path / "x.mp3").exit_code == 2
    assert not (tmp_path / "x.mp3").exists()
