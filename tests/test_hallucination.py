"""The hallucination guard: rules on plain segments, then the real model on generated
silence, noise and music (nothing phantom may survive)."""

from __future__ import annotations

import numpy as np
import pytest

from oralhist.recognition.hallucination import GuardOptions, Seg, W, collapse_loops, guard, phantom_kind, voice_overlap

SR = 16000


def seg(text, start=0, end=2000, words=None, **kw):
    if words is None:
        toks = text.split()
        step = max(1, (end - start) // max(1, len(toks)))
        words = tuple(W(start + i * step, start + (i + 1) * step, " " + t, 0.9) for i, t in enumerate(toks))
    return Seg(start, end, text, words, avg_logprob=kw.pop("avg_logprob", -0.3),
               no_speech_prob=kw.pop("no_speech_prob", 0.05), compression_ratio=kw.pop("compression_ratio", 1.3), **kw)


@pytest.mark.parametrize("text", [
    "Sous-titres réalisés par la communauté d'Amara.org",
    "Sous-titres réalisés para la communauté d'Amara.org",
    "Merci d'avoir regardé cette vidéo !",
    "Sous-titrage ST' 501",
    "Abonnez-vous !",
    "Thanks for watching!",
    "MERCI D'AVOIR REGARDÉ",
])
def test_known_phantoms_are_dropped(text):
    r = guard([seg("Alors je suis entré à la filature en 1952."), seg(text, 3000, 5000)])
    assert [s.text for s in r.kept] == ["Alors je suis entré à la filature en 1952."]
    assert r.dropped[0].reason == "known phantom phrase"
    assert phantom_kind(text) == "strong"


def test_weak_phantom_needs_other_evidence():
    kept = guard([seg("Merci.", avg_logprob=-0.2, no_speech_prob=0.1)])
    assert kept.kept and kept.kept[0].flag == "possible phantom phrase"
    dropped = guard([seg("Merci.", avg_logprob=-0.9, no_speech_prob=0.5)])
    assert not dropped.kept and "phantom" in dropped.dropped[0].reason
    # outside the detected voice: dropped as well
    r = guard([seg("Merci.", 10_000, 11_000)], speech=[(0, 5000)])
    assert not r.kept


def test_real_speech_mentioning_a_word_is_kept():
    r = guard([seg("On regardait les métiers et on disait merci au contremaître.")])
    assert r.kept and r.kept[0].flag is None and not r.dropped


def test_loop_inside_a_segment_is_collapsed_and_flagged():
    text = "je ne sais pas " * 7 + "voilà"
    r = guard([seg(text.strip(), 0, 8000)])
    assert len(r.kept) == 1
    s = r.kept[0]
    assert s.text == "je ne sais pas voilà"
    assert s.flag.startswith("loop collapsed")
    assert s.words[-1].text.strip() == "voilà"
    assert s.end_ms == s.words[-1].end_ms


def test_short_repetitions_of_speech_are_kept():
    words, removed = collapse_loops([W(i * 100, i * 100 + 90, " non") for i in range(3)] + [W(400, 500, " merci")])
    assert removed == 0 and len(words) == 4
    words, removed = collapse_loops([W(i * 100, i * 100 + 90, " non") for i in range(9)])
    assert removed == 8


def test_repeated_segments_are_dropped():
    same = "et puis on rentrait à la maison"
    r = guard([seg(same, 0, 2000), seg(same, 2000, 4000), seg(same, 4000, 6000), seg(same, 6000, 8000),
               seg("Fin.", 8000, 9000)])
    assert [s.text for s in r.kept] == [same, same, "Fin."]
    assert len(r.dropped) == 2 and all("repeats the previous segment" in d.reason for d in r.dropped)
    # a doubtful second copy goes at once
    r = guard([seg(same, 0, 2000), seg(same, 2000, 4000, avg_logprob=-0.95)])
    assert [s.text for s in r.kept] == [same] and "copy 2" in r.dropped[0].reason
    # two short identical answers in a row are speech
    r = guard([seg("Oui.", 0, 500), seg("Oui.", 600, 1000)])
    assert len(r.kept) == 2


@pytest.mark.parametrize("text", ["[Musique]", "(applaudissements)", "♪ ♪", "...", "*rires*"])
def test_annotations_and_symbols_are_dropped(text):
    r = guard([seg(text, words=())])
    assert not r.kept and r.dropped


def test_model_doubts():
    r = guard([seg("bla bla", no_speech_prob=0.9, avg_logprob=-1.4)])
    assert not r.kept and "probably not speech" in r.dropped[0].reason
    r = guard([seg("une phrase étrange", compression_ratio=3.4)])
    assert not r.kept and "compression" in r.dropped[0].reason
    r = guard([seg("une phrase un peu répétée", compression_ratio=2.6)])
    assert r.kept and "compression" in r.kept[0].flag
    r = guard([seg("une phrase mal entendue", avg_logprob=-1.2)])
    assert r.kept and "low confidence" in r.kept[0].flag


def test_voice_overlap_and_outside_voice():
    assert voice_overlap(0, 1000, [(500, 2000)]) == 0.5
    assert voice_overlap(0, 1000, []) == 0.0
    r = guard([seg("texte inventé dans le silence", 20_000, 23_000)], speech=[(0, 10_000)])
    assert not r.kept and "outside detected voice" in r.dropped[0].reason
    r = guard([seg("début de phrase entendu", 9_000, 12_000)], speech=[(0, 10_000)])
    assert r.kept and "mostly outside" in r.kept[0].flag


# --- the real model on generated non-speech ------------------------------------------------


def _chords(seconds: float) -> np.ndarray:
    out = []
    progression = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    n = max(1, int(seconds / 1.25))
    for k in range(n):
        t = np.arange(int(1.25 * SR)) / SR
        env = np.minimum(1, t / 0.05) * np.exp(-t * 0.8)
        x = sum(np.sin(2 * np.pi * f * t) + 0.5 * np.sin(4 * np.pi * f * t) + 0.25 * np.sin(6 * np.pi * f * t)
                for f in progression[k % 4])
        out.append(x * env)
    x = np.concatenate(out)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _signals(seconds: float) -> dict:
    rng = np.random.default_rng(7)
    n = int(seconds * SR)
    pink = np.cumsum(rng.standard_normal(n)).astype(np.float32)
    pink -= np.convolve(pink, np.ones(400) / 400, mode="same").astype(np.float32)
    return {
        "silence": np.zeros(n, dtype=np.float32),
        "white noise": (0.1 * rng.standard_normal(n)).astype(np.float32),
        "low hum and hiss": (0.02 * np.sin(2 * np.pi * 50 * np.arange(n) / SR) + 0.003 * rng.standard_normal(n)).astype(np.float32),
        "brown noise": (0.2 * pink / np.abs(pink).max()).astype(np.float32),
        "music (chords)": _chords(seconds),
    }


@pytest.fixture(scope="module")
def whisper():
    from oralhist.recognition import models

    return models.load(models.resolve())


def _phantom_free(rec):
    for s in rec.result.kept:
        assert phantom_kind(s.text) not in ("strong", "weak"), s.text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["silence", "white noise", "low hum and hiss", "brown noise", "music (chords)"])
def test_non_speech_gives_no_transcript_with_voice_detection(whisper, name):
    from oralhist.recognition.transcribe import recognise

    rec = recognise(whisper, _signals(12)[name], language="fr")
    assert rec.result.kept == ()
    assert rec.speech == ()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["white noise", "music (chords)", "low hum and hiss"])
def test_guard_catches_what_whisper_writes_without_voice_detection(whisper, name):
    """Voice detection off: the model sees the raw noise/music; the guard must leave nothing."""
    from oralhist.recognition.transcribe import DecodeOptions, recognise

    rec = recognise(whisper, _signals(6)[name], language="fr", options=DecodeOptions(vad=False))
    _phantom_free(rec)
    assert rec.result.kept == (), [(s.text, s.flag) for s in rec.result.kept]
    assert len(rec.result.dropped) == len(rec.raw)


@pytest.mark.slow
def test_speech_then_long_silence_keeps_speech_only(whisper, corpus):
    from oralhist.archive.audio import decode_mono

    from oralhist.recognition.transcribe import DecodeOptions, recognise

    speech = decode_mono(corpus / "fr" / "fleurs_fr_005.ogg", rate=SR)
    tail = _signals(20)["low hum and hiss"]
    audio = np.concatenate([speech, tail])
    for opts in (DecodeOptions(), DecodeOptions(vad=False)):
        rec = recognise(whisper, audio, language="fr", options=opts)
        _phantom_free(rec)
        text = " ".join(s.text for s in rec.result.kept).lower()
        assert "voiture" in text
        assert all(s.start_ms < len(speech) * 1000 // SR + 1000 for s in rec.result.kept), rec.result.kept
