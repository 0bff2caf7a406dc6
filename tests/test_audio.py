"""Normalisation: asr.wav, loudness figures (BS.1770), the listening copy, and the helpers
later stages reuse (load_asr, load_channels, write_access_copy with silences)."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from oralhist import db
from oralhist.records import Derivative, Recording

from _built_audio import formats, two_mic_stereo


def _ingest(ws, *paths, **meta):
    from oralhist.archive.ingest import IngestMeta, ingest_paths

    rep = ingest_paths(ws, list(paths), IngestMeta(**meta))
    assert not rep.failed, rep.failed
    return rep.done


def _decode(path: Path, rate: int) -> np.ndarray:
    from oralhist.archive.audio import iter_pcm

    return np.concatenate(list(iter_pcm(path, rate=rate, mono=True)), axis=1)[0]


def test_loudness_meter_matches_pyloudnorm(corpus, tmp_path):
    import pyloudnorm

    from oralhist.archive.audio import LoudnessMeter, iter_pcm

    wav, _ = two_mic_stereo(corpus, tmp_path / "two-mic.wav", right_gain_db=-12)
    chunks = list(iter_pcm(wav, rate=16000))
    full = np.concatenate(chunks, axis=1).astype(np.float64)
    meter = LoudnessMeter(16000, 2)
    for c in chunks:  # fed chunk by chunk, as in normalisation
        meter.feed(c)
    ref = pyloudnorm.Meter(16000)
    for ch in range(2):
        assert meter.channel_lufs()[ch] == pytest.approx(ref.integrated_loudness(full[ch]), abs=0.1)
    assert meter.lufs() == pytest.approx(ref.integrated_loudness(full.T), abs=0.1)


def test_silence_has_no_loudness():
    from oralhist.archive.audio import LoudnessMeter

    m = LoudnessMeter(16000, 1)
    m.feed(np.zeros((1, 32000), np.float32))
    assert m.lufs() is None


def test_normalise_multi_part_interview(ws, corpus, tmp_path):
    built = formats(corpus, tmp_path / "built")  # 44.1 kHz WAV; two-mic stereo MP3, right mic 12 dB lower
    parts = [corpus / "fr" / "fleurs_fr_003.ogg", built["wav-44k"], built["mp3-stereo"]]
    [iid] = _ingest(ws, *parts, interview="2020-trois-parties", narrator="Trois")
    from oralhist.archive.audio import load_asr, load_channels, normalise_interviews

    rep = normalise_interviews(ws, [iid])
    assert rep.done == [iid] and not rep.failed
    asr = ws.derived_dir(iid) / "asr.wav"
    with wave.open(str(asr)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        frames = w.getnframes()
    with db.session(ws) as s:
        recs = s.exec(select(Recording).where(Recording.interview_id == iid).order_by(Recording.part)).all()
        ders = {d.kind: d for d in s.exec(select(Derivative).where(Derivative.interview_id == iid)).all()}
    # Parts concatenated in order; offsets on the 16 kHz timeline.
    assert recs[0].offset_ms == 0
    for a, b in zip(recs, recs[1:]):
        assert abs(b.offset_ms - (a.offset_ms + a.duration_ms)) <= 1
    total_ms = recs[-1].offset_ms + recs[-1].duration_ms
    assert abs(frames / 16 - total_ms) <= 2
    # The two-microphone stereo part has two different channel figures; mono parts one.
    assert len(recs[0].channel_lufs) == 1 and len(recs[2].channel_lufs) == 2
    assert abs(recs[2].channel_lufs[0] - recs[2].channel_lufs[1]) > 10
    # asr.wav content equals the parts decoded one by one.
    x = load_asr(ws, iid)
    assert x.dtype == np.float32 and len(x) == frames
    off = recs[1].offset_ms * 16
    part2 = _decode(ws.root / recs[1].path, 16000)
    assert np.abs(x[off: off + len(part2)] - part2).max() < 2e-4
    assert len(load_asr(ws, iid, start_ms=1000, end_ms=1500)) == 8000
    # Per-channel audio for diarization: stereo interview -> 2 channels, full length.
    ch = load_channels(ws, iid)
    assert ch.shape[0] == 2 and abs(ch.shape[1] - frames) <= 16
    # Listening copy: mono, about -16 LUFS as measured on the file, recorded.
    acc = ws.root / ders["access"].path
    assert acc.name == "access.mp3" and ders["asr"].path.endswith("derived/asr.wav")
    assert ders["access"].loudness_lufs == pytest.approx(-16.0, abs=1.5)
    from oralhist.archive.audio import measure_loudness

    assert measure_loudness(acc) == pytest.approx(ders["access"].loudness_lufs, abs=0.05)
    assert abs(ders["access"].duration_ms - total_ms) < 150
    from oralhist.archive.ingest import sha256_file

    assert sha256_file(acc) == ders["access"].sha256 and sha256_file(asr) == ders["asr"].sha256


def test_normalise_skips_done_unless_forced(ws, corpus, cli):
    [iid] = _ingest(ws, corpus / "fr" / "fleurs_fr_000.ogg", narrator="A")
    res = cli("normalise", iid, "--json")
    assert res.exit_code == 0 and json.loads(res.output)["done"] == [iid]
    res = cli("normalise", "--all", "--json")
    assert json.loads(res.output)["skipped"] == [iid]
    res = cli("normalise", iid, "--force", "--json")
    assert json.loads(res.output)["done"] == [iid]
    assert cli("normalise", "nope").exit_code == 2


def test_two_mic_stereo_vs_mono_copied_to_two_channels(ws, corpus, ffmpeg, tmp_path):
    dual = tmp_path / "dual-mono.wav"  # the same mono signal on both channels
    subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(corpus / "fr" / "fleurs_fr_000.ogg"),
                    "-ac", "2", str(dual)], check=True)
    two_mic, _ = two_mic_stereo(corpus, tmp_path / "two-mic.wav")
    ids = _ingest(ws, two_mic, dual)
    from oralhist.archive.audio import normalise_interviews

    assert normalise_interviews(ws, ids).done == ids
    with db.session(ws) as s:
        two_mic, mono2 = (s.exec(select(Recording).where(Recording.interview_id == i)).one() for i in ids)
    assert two_mic.channel_lufs[0] != two_mic.channel_lufs[1]
    assert mono2.channel_lufs[0] == pytest.approx(mono2.channel_lufs[1], abs=0.01)


def test_redacted_access_copy_is_silent_in_the_ranges(ws, corpus, tmp_path):
    [iid] = _ingest(ws, corpus / "fr" / "fleurs_fr_001.ogg", narrator="R")
    from oralhist.archive.audio import normalise_interviews, write_access_copy

    normalise_interviews(ws, [iid])
    out = tmp_path / "public" / "redacted.mp3"
    acc = write_access_copy(ws, iid, out, silences=[(2000, 5000), (10000, 12500)])
    assert acc.path == out and out.is_file() and acc.silences == ((2000, 5000), (10000, 12500))
    x = _decode(out, 22050)

    def rms(a_ms, b_ms):
        seg = x[int(a_ms * 22.05): int(b_ms * 22.05)]
        return float(np.sqrt(np.mean(seg ** 2)))

    # Inside the ranges (minus the MP3 codec's smearing at the edges): silence.
    assert rms(2100, 4900) < 1e-3 and rms(10100, 12400) < 1e-3
    assert rms(5500, 9500) > 1e-2  # outside: speech
    assert not list(out.parent.glob(".*"))  # no temporary left


def test_pydub_uses_bundled_ffmpeg():
    import imageio_ffmpeg

    from oralhist.archive.audio import configure_pydub

    seg_cls = configure_pydub()
    assert seg_cls.converter == imageio_ffmpeg.get_ffmpeg_exe()


def test_load_asr_before_normalise_is_a_clear_error(ws, corpus):
    from oralhist.archive.audio import load_asr
    from oralhist.errors import NotFound

    [iid] = _ingest(ws, corpus / "fr" / "fleurs_fr_000.ogg")
    with pytest.raises(NotFound, match="run `oralhist normalise` first"):
        load_asr(ws, iid)


def test_missing_original_fails_that_interview_only(ws, corpus):
    import os

    ids = _ingest(ws, corpus / "fr" / "fleurs_fr_000.ogg", corpus / "fr" / "fleurs_fr_002.ogg")
    with db.session(ws) as s:
        rec = s.exec(select(Recording).where(Recording.interview_id == ids[0])).one()
    p = ws.root / rec.path
    os.chmod(p, 0o644)
    p.unlink()
    from oralhist.archive.audio import normalise_interviews

    rep = normalise_interviews(ws, ids)
    assert rep.done == [ids[1]]
    assert rep.failed[0][0] == ids[0] and "original file is missing" in rep.failed[0][1]
    assert not (ws.derived_dir(ids[0]) / "asr.wav").exists()
    assert not [p for p in ws.derived_dir(ids[0]).glob("*")]  # no temporary left
