"""The batched transcription mode (issue 22 item 5): `[transcribe] batch_size`.

Each recording is heard once for the whole module: one short French clip through the stage
with the setting on, and four English readings in a row (two pieces of at most 30 s) through
``recognise`` with one piece per call, stopped after its first checkpoint and resumed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import select

from _asr_helpers import SR, add_clip, decode
from oralhist import db
from oralhist.records import Segment, Transcript, Word

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def staged(tmp_path_factory, corpus):
    """A French clip transcribed by the stage with `batch_size = 2` in oralhist.toml, one thread."""
    from oralhist.archive.workspace import init, open_workspace
    from oralhist.recognition.transcribe import transcribe_interviews

    ws = init(tmp_path_factory.mktemp("batched") / "archive")
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 5\nbatch_size = 2"),
                    encoding="utf-8")
    ws = open_workspace(ws.root)
    add_clip(ws, "fr", corpus / "fr" / "fleurs_fr_005.ogg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORALHIST_CPU_THREADS", "1")
        rep = transcribe_interviews(ws, ["fr"])
    return ws, rep


def test_the_setting_turns_batching_on_and_the_provenance_says_so(staged):
    ws, rep = staged
    assert rep.done == ["fr"] and not rep.failed
    assert rep.details["interviews"]["fr"]["mode"] == "batched (2)"
    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == "fr")).one()
        assert tr.options["mode"] == "batched" and tr.options["batch_size"] == 2
        # the threads the model was given, not the machine's cores (ORALHIST_CPU_THREADS)
        assert tr.options["cpu_threads"] == 1
        assert set(tr.timing["cpu_s"]) == {"vad", "decode", "recover", "guard"}


def test_batched_words_have_timings_inside_their_segments(staged, corpus):
    from oralhist.recognition.evaluate import normalise

    ws, _rep = staged
    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == "fr")).one()
        segs = {g.id: g for g in s.exec(select(Segment).where(Segment.transcript_id == tr.id))}
        words = s.exec(select(Word).where(Word.transcript_id == tr.id).order_by(Word.idx)).all()
    assert len(words) > 5
    heard = set(normalise(" ".join(w.text for w in words), "fr").split())
    ref = set(normalise((corpus / "fr" / "fleurs_fr_005.txt").read_text(encoding="utf-8"), "fr").split())
    assert len(heard & ref) >= len(ref) // 2, (heard, ref)
    last = 0
    for w in words:
        g = segs[w.segment_id]
        assert g.start_ms <= w.start_ms <= w.end_ms <= g.end_ms and w.start_ms >= last
        last = w.start_ms
    assert words[-1].end_ms <= 8_000  # the clip is 7.2 s


def test_bad_batch_size_is_refused_naming_the_setting(ws, cli):
    for bad in ("-1", "100", '"four"', "2.5"):
        (ws.root / "oralhist.toml").write_text(f"[transcribe]\nbatch_size = {bad}\n", encoding="utf-8")
        r = cli("transcribe", "--all")
        assert r.exit_code == 2, (bad, r.output)
        lines = [x for x in r.output.strip().splitlines() if x.strip()]
        assert len(lines) == 1 and "transcribe.batch_size" in lines[0], r.output


@pytest.fixture(scope="module")
def resumed(tmp_path_factory, corpus):
    """Four readings (about 40 s of speech: two pieces of at most 30 s), one piece per call, a
    checkpoint after each; stopped right after the first checkpoint, as a kill would, then run
    again."""
    from oralhist.recognition import models
    from oralhist.recognition.transcribe import BlockCheckpoint, DecodeOptions, recognise

    with pytest.MonkeyPatch.context() as mp:  # the staged fixture's model (one thread), not a second load
        mp.setenv("ORALHIST_CPU_THREADS", "1")
        whisper = models.load(models.resolve())
    gap = np.zeros(SR, dtype=np.float32)
    names = ("fasterwhisper_jfk.flac", "fleurs_en_000.ogg", "fleurs_en_002.ogg", "fleurs_en_001.ogg")
    audio = np.concatenate([x for n in names for x in (decode(corpus / "en" / n), gap)])
    path = tmp_path_factory.mktemp("ckpt") / "transcribe-blocks.json"
    opts = DecodeOptions(batch_size=1)

    class Stop(Exception):
        pass

    def stop_after_checkpoint(_sec):
        if path.is_file() and "p0" in json.loads(path.read_text())["blocks"]:
            raise Stop

    with pytest.raises(Stop):
        recognise(whisper, audio, language="en", options=opts, checkpoint=BlockCheckpoint(path, "k"),
                  checkpoint_s=10, on_progress=stop_after_checkpoint)
    saved = json.loads(path.read_text())["blocks"]["p0"]
    ckpt = BlockCheckpoint(path, "k")
    rec = recognise(whisper, audio, language="en", options=opts, checkpoint=ckpt, checkpoint_s=10)
    return rec, saved, ckpt


def test_a_killed_batched_run_resumes_from_its_checkpoint(resumed):
    from oralhist.recognition.evaluate import normalise

    rec, saved, ckpt = resumed
    assert 10 <= saved["heard_s"] <= 30 and saved["segs"]
    assert ckpt.reused == 1
    kept = [(g["start_ms"], g["text"]) for g in saved["segs"]]
    assert [(s.start_ms, s.text) for s in rec.raw[:len(kept)]] == kept  # what was heard is kept as it was
    assert rec.raw[len(kept)].start_ms >= kept[-1][0]  # and the rest is heard after it
    text = normalise(" ".join(s.text for s in rec.result.kept), "en")
    said = ("fellow america", "communication", "sintra", "capital letter")  # one of each reading
    assert sum(x in text for x in said) >= 3, text
    assert rec.timing["mode"] == "batched (1)"


def test_batched_words_are_timed_and_the_guard_judges_them(resumed):
    from oralhist.recognition.hallucination import GuardOptions, guard

    rec, _saved, _ckpt = resumed
    assert rec.result == guard(rec.raw, rec.speech, GuardOptions())  # the guard's verdict, not the raw output
    assert rec.result.stats.get("guard") != "off"
    words = [w for s in rec.result.kept for w in s.words]
    assert len(words) > 70
    assert all(s.start_ms <= w.start_ms <= w.end_ms <= s.end_ms for s in rec.result.kept for w in s.words)
    assert words[-1].end_ms > 35_000  # the last reading, in the second piece, is timed on the recording


def test_a_batched_piece_that_loops_or_is_unsure_is_heard_again():
    """The batched decoder has no temperature fallback: a piece it got wrong is heard again alone
    by the sequential one (figures from a real loop: the JFK line three times in one piece)."""
    from types import SimpleNamespace as S

    from oralhist.recognition.transcribe import DecodeOptions, _needs_fallback

    o = DecodeOptions()
    ok = S(compression_ratio=1.5, avg_logprob=-0.3, no_speech_prob=0.1)
    assert not _needs_fallback([ok], o) and not _needs_fallback([], o)
    assert _needs_fallback([ok, S(compression_ratio=11.03, avg_logprob=-0.06, no_speech_prob=0.12)], o)  # a loop
    assert _needs_fallback([S(compression_ratio=1.2, avg_logprob=-1.4, no_speech_prob=0.2)], o)  # unsure
    assert not _needs_fallback([S(compression_ratio=1.2, avg_logprob=-1.4, no_speech_prob=0.9)], o)  # silence
