"""Transcription stage: asr.wav -> Transcript, Segments, Words (faster-whisper).

One model is loaded for the whole batch; each interview is recognised, passed through the
hallucination guard, and stored in ONE transaction (Transcript + Segments + Words +
DroppedSegments + the stage mark). A kill at any moment leaves the archive as it was before
that interview; the next run redoes it and writes exactly one version.

The voice detector (Silero, shipped with faster-whisper) runs here rather than inside
``WhisperModel.transcribe``: we cut the audio to the detected speech exactly as
faster-whisper's ``vad_filter=True`` does and restore the timestamps with its own function,
so the result is the same as the raw library's while the speech regions stay available to
the hallucination guard at no extra cost.
"""

from __future__ import annotations

import logging
import os
import time
import wave
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from oralhist import stage
from oralhist.errors import BadInput, OralhistError
from oralhist.recognition.hallucination import GuardOptions, GuardResult, Seg, W, guard
from oralhist.progress import NULL, Progress

log = logging.getLogger("oralhist.transcribe")

SAMPLE_RATE = 16000
STAGE = "transcribe"
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HINT_KINDS = ("trade", "object", "place")
MAX_HINT_CHARS = 600
BLOCK_S = 300.0  # seconds of speech per model call (memory bound for long interviews)  # faster-whisper keeps at most 223 hotword tokens; stay well under


@dataclass(frozen=True)
class DecodeOptions:
    """What is passed to faster-whisper (and recorded with each transcript)."""

    beam_size: int = 5
    vad: bool = True
    vad_parameters: dict = field(default_factory=dict)  # VadOptions fields; {} = faster-whisper's defaults
    word_timestamps: bool = True
    condition_on_previous_text: bool = True
    temperature: tuple[float, ...] = TEMPERATURES
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    hint_mode: str = "hotwords"  # hotwords | prompt | none
    recover_missed: bool = True  # hear again detected voice that no word covers
    recover_min_ms: int = 2000
    batch_size: int = 0  # 0: sequential (one 30 s window after another); N: batched, N pieces at once

    def whisper_kwargs(self, language: Optional[str], hints: str = "") -> dict:
        kw = dict(
            language=language,
            beam_size=self.beam_size,
            word_timestamps=self.word_timestamps,
            condition_on_previous_text=self.condition_on_previous_text,
            temperature=list(self.temperature),
            compression_ratio_threshold=self.compression_ratio_threshold,
            log_prob_threshold=self.log_prob_threshold,
            no_speech_threshold=self.no_speech_threshold,
        )
        if hints and self.hint_mode == "hotwords":
            kw["hotwords"] = hints
        elif hints and self.hint_mode == "prompt":
            kw["initial_prompt"] = hints
        return kw


@dataclass(frozen=True)
class Recognition:
    """One recording recognised: guarded segments, what was dropped, and figures."""

    language: Optional[str]
    language_probability: Optional[float]
    duration_ms: int
    speech: tuple[tuple[int, int], ...]  # voice regions (ms); () when the detector was off
    raw: tuple[Seg, ...]
    result: GuardResult
    kwargs: dict
    timing: dict


# --- audio ------------------------------------------------------------------------------


def asr_path(ws, interview_id: str) -> Path:
    return ws.derived_dir(interview_id) / "asr.wav"


def load_asr(ws, interview_id: str) -> np.ndarray:
    """The interview's 16 kHz mono samples as float32 in [-1, 1] (written by `normalise`)."""
    from oralhist.archive.audio import load_asr as read

    return np.asarray(read(ws, interview_id), dtype=np.float32)


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV as float32 (for tools that hold a path, e.g. bench/)."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != SAMPLE_RATE:
                raise BadInput(path, "not 16 kHz mono 16-bit PCM: run `oralhist normalise --force`")
            data = w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise BadInput(path, f"unreadable WAV ({exc}): run `oralhist normalise --force`") from None
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def wav_seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, wave.Error, EOFError):
        return 0.0


# --- recognition ------------------------------------------------------------------------


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _whole_words(words) -> tuple[W, ...]:
    """Whisper's word pieces back into words: a piece without a leading space continues the
    previous word (" d" + "'accord" -> " d'accord", " États" + "-Unis," -> " États-Unis,"),
    keeping the first piece's start, the last one's end and the lowest probability."""
    out: list[W] = []
    for w in words:
        piece = w.word
        if out and piece and not piece[0].isspace():
            prev = out[-1]
            out[-1] = W(prev.start_ms, max(prev.end_ms, _ms(w.end)), prev.text + piece,
                        min(prev.probability, float(w.probability)))
        else:
            out.append(W(_ms(w.start), _ms(w.end), piece, float(w.probability)))
    return tuple(out)


def _to_seg(s) -> Seg:
    words = _whole_words(s.words or ())
    return Seg(
        start_ms=_ms(s.start),
        end_ms=_ms(s.end),
        text=s.text.strip(),
        words=words,
        avg_logprob=float(s.avg_logprob),
        no_speech_prob=float(s.no_speech_prob),
        compression_ratio=float(s.compression_ratio),
        temperature=float(s.temperature) if s.temperature is not None else None,
    )


def _monotonic(segs: Sequence[Seg]) -> tuple[Seg, ...]:
    """Times never go backwards; words lie inside their segment; start <= end everywhere."""
    out: list[Seg] = []
    last = 0
    for sg in segs:
        start = max(sg.start_ms, last)
        words = []
        t = start
        for w in sg.words:
            ws_ = max(w.start_ms, t)
            we = max(w.end_ms, ws_)
            words.append(replace(w, start_ms=ws_, end_ms=we))
            t = ws_
        end = max(sg.end_ms, start, words[-1].end_ms if words else start)
        out.append(replace(sg, start_ms=start, end_ms=end, words=tuple(words)))
        last = start
    return tuple(out)


def _blocks(chunks: list[dict], max_samples: int) -> list[list[dict]]:
    """Group voice chunks into blocks of at most ``max_samples`` (cutting any longer chunk)."""
    pieces: list[dict] = []
    for c in chunks:
        a = c["start"]
        while c["end"] - a > max_samples:
            pieces.append({"start": a, "end": a + max_samples})
            a += max_samples
        pieces.append({"start": a, "end": c["end"]})
    groups: list[list[dict]] = []
    cur: list[dict] = []
    size = 0
    for c in pieces:
        n = c["end"] - c["start"]
        if cur and size + n > max_samples:
            groups.append(cur)
            cur, size = [], 0
        cur.append(c)
        size += n
    if cur:
        groups.append(cur)
    return groups


def _uncovered(chunks: list[dict], segs: Sequence[Seg], min_ms: int, margin_ms: int = 300) -> list[tuple[int, int]]:
    """Stretches of detected voice (ms) of at least ``min_ms`` that no recognised word covers."""
    spans = sorted(
        (w.start_ms - margin_ms, w.end_ms + margin_ms) for sg in segs for w in (sg.words or (W(sg.start_ms, sg.end_ms, ""),))
    )
    out = []
    for c in chunks:
        a, b = c["start"] * 1000 // SAMPLE_RATE, c["end"] * 1000 // SAMPLE_RATE
        cur = a
        for s0, s1 in spans:
            if s1 <= cur or s0 >= b:
                continue
            if s0 - cur >= min_ms:
                out.append((cur, s0))
            cur = max(cur, s1)
        if b - cur >= min_ms:
            out.append((cur, b))
    return out


def _shift(sg: Seg, ms: int) -> Seg:
    return replace(sg, start_ms=sg.start_ms + ms, end_ms=sg.end_ms + ms,
                   words=tuple(replace(w, start_ms=w.start_ms + ms, end_ms=w.end_ms + ms) for w in sg.words))


def _progress(segments, on_progress, duration_s):
    for x in segments:
        on_progress(min(x.end, duration_s))
        yield x


CHECKPOINT = "transcribe-blocks.json"  # in derived/: the blocks already heard by a run not yet stored


class BlockCheckpoint:
    """The blocks of one recognition already heard, kept in ``derived/transcribe-blocks.json``
    (rewritten atomically after each block) so a killed run resumes where it stopped. It is
    keyed by the audio's SHA-256, the model, the decoding options, the hints and the block
    length: a change to any of them starts afresh. Removed once the transcript is stored."""

    def __init__(self, path: Path, key: str):
        import json

        self.path, self.key, self.reused = path, key, 0
        self.blocks: dict[str, dict] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") == key:
                self.blocks = dict(data.get("blocks", {}))
        except (OSError, ValueError):
            pass

    def get(self, n: int) -> Optional[tuple[list[Seg], Optional[str], Optional[float]]]:
        b = self.blocks.get(str(n))
        if b is None:
            return None
        self.reused += 1
        segs = [Seg(**{**x, "words": tuple(W(**w) for w in x["words"])}) for x in b["segs"]]
        return segs, b["language"], b["probability"]

    def put(self, n: int, segs: Sequence[Seg], language: Optional[str], probability: Optional[float]) -> None:
        self.blocks[str(n)] = {"segs": [asdict(x) for x in segs], "language": language, "probability": probability}
        self.blocks.pop(f"p{n}", None)  # the block is whole now
        self._write()

    def get_partial(self, n: int) -> Optional[tuple[list[Seg], float]]:
        """What a stopped run had heard of block ``n`` before finishing it: (segments, the
        block-local second where it stopped), or None."""
        b = self.blocks.get(f"p{n}")
        if b is None:
            return None
        self.reused += 1
        segs = [Seg(**{**x, "words": tuple(W(**w) for w in x["words"])}) for x in b["segs"]]
        return segs, float(b["heard_s"])

    def put_partial(self, n: int, segs: Sequence[Seg], heard_s: float, language: Optional[str],
                    probability: Optional[float]) -> None:
        self.blocks[f"p{n}"] = {"segs": [asdict(x) for x in segs], "heard_s": heard_s, "language": language,
                                "probability": probability}
        self._write()

    def _write(self) -> None:
        import json
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".transcribe-blocks.", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": self.key, "blocks": self.blocks}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


CHECKPOINT_S = 60.0  # seconds of speech heard between two checkpoints inside a block ([transcribe] checkpoint_s)


def _heard_with_checkpoints(segments, block, n, checkpoint, checkpoint_s, before, detected, probability,
                            on_progress, duration_s) -> list[Seg]:
    """The block's segments as they come out of the decoder, with a checkpoint every
    ``checkpoint_s`` seconds of speech heard (issue 22: a kill or an outage loses at most that)."""
    from faster_whisper.transcribe import restore_speech_timestamps

    every = checkpoint_s or CHECKPOINT_S
    out: list[Seg] = []
    last = None
    for x in segments:
        heard_end = float(x.end)  # block-local, before the speech map moves it back to the recording
        sg = _to_seg(next(iter(restore_speech_timestamps([x], block, SAMPLE_RATE))))
        out.append(sg)
        on_progress(min(sg.end_ms / 1000, duration_s))
        if last is None:
            last = float(x.start)
        if checkpoint is not None and heard_end - last >= every:
            checkpoint.put_partial(n, [*before, *out], heard_end, detected, probability)
            last = heard_end
    return out


RECOVER_BATCH = 2  # missed-speech stretches decoded at once in the sequential mode (memory: ~70 MB each)
BATCH_PIECE_S = 30  # the batched mode hears pieces of at most Whisper's window, as faster-whisper's pipeline


def batch_vad_options(options: DecodeOptions):
    """The voice detector's rules for the batched mode's pieces: faster-whisper's
    ``BatchedInferencePipeline`` defaults (no chunk over 30 s, 160 ms pauses), or the archive's
    ``vad_parameters`` with the 30 s limit."""
    from faster_whisper.vad import VadOptions

    given = {k: v for k, v in options.vad_parameters.items() if k != "max_speech_duration_s"}
    return VadOptions(**{"min_silence_duration_ms": 160, **given, "max_speech_duration_s": BATCH_PIECE_S})


def _batched_kwargs(kw: dict, options: DecodeOptions) -> dict:
    """What ``BatchedInferencePipeline.transcribe`` is given: the sequential arguments, with
    timestamp tokens so that a piece comes back as Whisper's own segments (sentences), not one
    30 s block. The context of the previous text is not carried (each piece is heard alone)."""
    out = {k: v for k, v in kw.items() if k != "condition_on_previous_text"}
    if options.hint_mode != "prompt":
        out.pop("initial_prompt", None)
    return {**out, "without_timestamps": False, "batch_size": options.batch_size}


def _needs_fallback(segments, options: DecodeOptions) -> bool:
    """A batched piece that faster-whisper's sequential decoder would have heard again at a
    higher temperature: a loop (compression ratio over the threshold) or a low log-probability
    that is not silence (the same tests as its ``generate_with_fallback``)."""
    if not segments:
        return False
    if any(x.compression_ratio > options.compression_ratio_threshold for x in segments):
        return True
    low = min(x.avg_logprob for x in segments) < options.log_prob_threshold
    return low and not max(x.no_speech_prob for x in segments) > options.no_speech_threshold


def _hear_batched(pipeline, src, chunks: list[dict], kw: dict, options: DecodeOptions,
                  fallback_kw: Optional[dict] = None, join: bool = True):
    """Hear voice ``chunks`` (samples, in recording order) with faster-whisper's batched
    pipeline: joined as ``collect_chunks`` joins them (``join``; else each chunk alone), in
    pieces of at most 30 s that are decoded ``batch_size`` at a time; times are brought back to
    the recording. A piece the batched decoder got wrong (:func:`_needs_fallback`: it has no
    temperature fallback) is heard again alone with ``fallback_kw`` (the sequential decoder's
    arguments, fallback included). Returns the segments, faster-whisper's info (language) and
    how many pieces were heard again."""
    from faster_whisper.transcribe import restore_speech_timestamps

    limit = BATCH_PIECE_S * SAMPLE_RATE
    pieces = _blocks(chunks, limit) if join else [g for c in chunks for g in _blocks([c], limit)]
    audio = [[src.read(c["start"], c["end"]) for c in g] for g in pieces]
    clips, at = [], 0
    for g in pieces:
        size = sum(c["end"] - c["start"] for c in g)
        clips.append({"start": at / SAMPLE_RATE, "end": (at + size) / SAMPLE_RATE})
        at += size
    heard = np.concatenate([np.array([], dtype=np.float32)] + [x for g in audio for x in g])
    segments, info = pipeline.transcribe(heard, clip_timestamps=clips, vad_filter=False, **kw)
    by_piece: list[list] = [[] for _ in pieces]
    for x in segments:  # each comes back inside its own piece's clip
        k = min(range(len(clips)), key=lambda j: (not clips[j]["start"] <= x.start < clips[j]["end"],
                                                  abs(x.start - clips[j]["start"])))
        by_piece[k].append(x)
    out: list[Seg] = []
    again = 0
    flat = [c for g in pieces for c in g]
    for k, segs in enumerate(by_piece):
        if fallback_kw is not None and _needs_fallback(segs, options):
            again += 1
            alone, _ = pipeline.model.transcribe(np.concatenate(audio[k]), vad_filter=False,
                                                 **{**fallback_kw, "language": info.language})
            out.extend(_to_seg(x) for x in restore_speech_timestamps(alone, pieces[k], SAMPLE_RATE))
        else:
            out.extend(_to_seg(next(iter(restore_speech_timestamps([x], flat, SAMPLE_RATE)))) for x in segs)
    return out, info, again


def _heard_batched_with_checkpoints(pipeline, src, block, n, kw, fallback_kw, options, checkpoint, checkpoint_s,
                                    before, heard_s, detected, probability, on_progress, duration_s, counts):
    """A block heard by the batched pipeline, ``batch_size`` pieces per call, with a checkpoint
    after a call once ``checkpoint_s`` seconds of speech were heard since the last one (a kill
    loses at most that, or one call's pieces). ``before``, ``heard_s``: what a stopped run had
    heard of the block, and how many seconds of its speech. Returns (segments, language,
    probability); ``counts["again"]`` counts the pieces heard again (:func:`_hear_batched`)."""
    every = checkpoint_s or CHECKPOINT_S
    pieces = _blocks(block, BATCH_PIECE_S * SAMPLE_RATE)
    out = list(before)
    done_s = since = 0.0
    step = max(1, int(kw["batch_size"]))
    for k in range(0, len(pieces), step):
        group = [c for g in pieces[k:k + step] for c in g]
        size_s = sum(c["end"] - c["start"] for c in group) / SAMPLE_RATE
        if done_s + size_s <= heard_s + 1e-3:  # heard by the stopped run (same pieces: same key)
            done_s += size_s
            continue
        segs, info, again = _hear_batched(pipeline, src, group, kw, options, fallback_kw)
        counts["again"] += again
        if detected is None:
            detected, probability = info.language, float(info.language_probability)
            kw["language"] = detected
        out.extend(segs)
        if segs:
            on_progress(min(segs[-1].end_ms / 1000, duration_s))
        done_s += size_s
        since += size_s
        if checkpoint is not None and since >= every and k + step < len(pieces):
            checkpoint.put_partial(n, out, done_s, detected, probability)
            since = 0.0
    return out, detected, probability


# Over 80 lines on purpose: one pass over the audio block by block with a checkpoint per block (resumed after
# a kill); the loop's offset, checkpoint and progress stay local.
def recognise(
    model,
    audio,
    *,
    language: Optional[str],
    options: DecodeOptions = DecodeOptions(),
    hints: str = "",
    guard_options: Optional[GuardOptions] = GuardOptions(),
    on_progress: Callable[[float], None] = lambda s: None,
    block_s: float = None,
    checkpoint: Optional[BlockCheckpoint] = None,
    checkpoint_s: Optional[float] = None,
) -> Recognition:
    """Recognise one recording with a loaded ``WhisperModel`` (language None = detect).

    Long recordings are heard in blocks of at most ``block_s`` seconds of speech (cut at
    the voice detector's pauses) so memory stays flat whatever the length: faster-whisper
    computes the spectrogram of everything it is given at once. A recording shorter than a
    block is decoded exactly as ``WhisperModel.transcribe(..., vad_filter=True)`` would.

    ``audio``: the samples (float32, 16 kHz mono), or the recording read from disk in pieces
    (``oralhist.archive.audio.AsrWav``): then the voice detector reads it block by block
    (``oralhist.recognition.vad``) and only the speech of the block being heard is in memory.
    """
    block_s = block_s or BLOCK_S
    from faster_whisper.transcribe import restore_speech_timestamps
    from faster_whisper.vad import VadOptions

    from oralhist.archive.audio import ArrayAudio
    from oralhist.recognition.vad import speech_probabilities, timestamps

    src = audio if hasattr(audio, "read") else ArrayAudio(audio)
    n_samples = len(src)
    t0, c0 = time.perf_counter(), time.process_time()
    duration_s = n_samples / SAMPLE_RATE
    kwargs = options.whisper_kwargs(language, hints)
    speech: tuple[tuple[int, int], ...] = ()
    found: list[dict] = []
    to_hear = [{"start": 0, "end": n_samples}] if n_samples else []  # no voice detection: everything
    if n_samples and (options.vad or guard_options is not None):  # the guard needs the voice regions either way
        probs, total = speech_probabilities(src.blocks())  # one pass of the detector, whatever the rules
        found = timestamps(probs, total, VadOptions(**options.vad_parameters))
        speech = tuple((c["start"] * 1000 // SAMPLE_RATE, c["end"] * 1000 // SAMPLE_RATE) for c in found)
        if options.vad:  # what the model hears: the detected speech (as faster-whisper's vad_filter)
            to_hear = timestamps(probs, total, batch_vad_options(options)) if options.batch_size else found
    t_vad, c_vad = time.perf_counter(), time.process_time()

    raw: list[Seg] = []
    detected, probability = language, 1.0 if language else None
    kw = dict(kwargs)
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(model)  # the batched mode's, and the missed-speech pass's
    if options.batch_size:
        kw_b = _batched_kwargs(kw, options)
    counts = {"again": 0}  # batched pieces heard again with the fallback
    for n, block in enumerate(_blocks(to_hear, int(block_s * SAMPLE_RATE))):
        kept = checkpoint.get(n) if checkpoint is not None else None
        if kept is not None:  # heard by a run that was stopped: reuse it as it was
            block_segs, lang_n, prob_n = kept
            if n == 0:
                detected, probability = lang_n, prob_n
                kw["language"] = detected
                kw.pop("initial_prompt", None)
                if options.batch_size:
                    kw_b["language"] = detected
            raw.extend(block_segs)
            if block_segs:
                on_progress(block_segs[-1].end_ms / 1000)
        elif options.batch_size:  # batched: the block's pieces of <= 30 s, batch_size at a time
            partial = checkpoint.get_partial(n) if checkpoint is not None else None
            before, heard_s = partial if partial is not None else ([], 0.0)
            if partial is not None and n == 0:
                detected = kw_b["language"] = checkpoint.blocks["p0"]["language"]
                probability = checkpoint.blocks["p0"]["probability"]
            block_segs, detected, probability = _heard_batched_with_checkpoints(
                pipeline, src, block, n, kw_b, kw, options, checkpoint, checkpoint_s, before, heard_s, detected,
                probability, on_progress, duration_s, counts)
            kw["language"] = detected
            raw.extend(block_segs)
            if checkpoint is not None:
                checkpoint.put(n, block_segs, detected, probability)
            continue
        else:
            # the block's speech read from disk, joined as faster-whisper's collect_chunks joins it
            heard = np.concatenate([np.array([], dtype=np.float32)] + [src.read(c["start"], c["end"]) for c in block])
            partial = checkpoint.get_partial(n) if checkpoint is not None else None
            block_segs, kw_n = [], kw
            if partial is not None:  # a stopped run heard this block up to heard_s: go on from there
                block_segs, heard_s = partial
                kw_n = {**kw, "clip_timestamps": [heard_s]}
                if n == 0:
                    kw_n["language"] = detected = checkpoint.blocks[f"p{n}"]["language"]
                    probability = checkpoint.blocks[f"p{n}"]["probability"]
                    kw_n.pop("initial_prompt", None)
                if options.condition_on_previous_text and block_segs:
                    kw_n["initial_prompt"] = " ".join(" ".join(x.text for x in block_segs[-3:]).split()[-40:])
            segments, info = model.transcribe(heard, vad_filter=False, **kw_n)
            if n == 0 and partial is None:
                detected, probability = info.language, float(info.language_probability)
            if n == 0:
                kw["language"] = detected  # later blocks: same language
                kw.pop("initial_prompt", None)
            block_segs += _heard_with_checkpoints(segments, block, n, checkpoint, checkpoint_s, block_segs,
                                                  detected, probability, on_progress, duration_s)
            raw.extend(block_segs)
            del heard
            if checkpoint is not None:
                checkpoint.put(n, block_segs, detected, probability)
        if options.condition_on_previous_text and block_segs:  # carry the context across blocks
            kw["initial_prompt"] = " ".join(" ".join(x.text for x in block_segs[-3:]).split()[-40:])
    recovered = 0
    c_dec = time.process_time()
    if options.recover_missed and found:
        # Whisper sometimes skips a whole stretch of speech at the start of a 30 s window
        # (a first sentence followed by more speech). Voice the detector heard but no word
        # covers is heard again on its own; the guard then judges what comes back. Every
        # stretch is its own piece, all in one batched call (one encoder pass per batch, not
        # a sequential decode per stretch); a piece the batched decoder gets wrong is heard
        # again with the sequential decoder's fallback (issue 22: this pass cost 4 % of the
        # CPU per stretch).
        regions = [{"start": a * SAMPLE_RATE // 1000, "end": b * SAMPLE_RATE // 1000}
                   for a, b in _uncovered(found, raw, options.recover_min_ms)]
        if regions:
            kw_again = {k: v for k, v in kw.items() if k != "initial_prompt"}
            kw_again["language"] = detected
            kw_r = _batched_kwargs(kw_again, replace(options, batch_size=options.batch_size or RECOVER_BATCH))
            extra, _, again = _hear_batched(pipeline, src, regions, kw_r, options,
                                            kw_again, join=False)
            counts["again"] += again
            extra = [x for x in extra if x.text]
            recovered = sum(any(r["start"] * 1000 // SAMPLE_RATE <= x.start_ms < r["end"] * 1000 // SAMPLE_RATE
                                for x in extra) for r in regions)
            raw.extend(extra)
            raw.sort(key=lambda x: x.start_ms)
    t_dec, c_rec = time.perf_counter(), time.process_time()
    raw_t = _monotonic(raw)
    if guard_options is None:
        result = GuardResult(kept=raw_t, dropped=(), stats={"guard": "off"})
    else:
        result = guard(raw_t, speech, guard_options)
    t_end, c_end = time.perf_counter(), time.process_time()
    on_progress(duration_s)
    return Recognition(
        language=detected,
        language_probability=probability,
        duration_ms=_ms(duration_s),
        speech=speech,
        raw=raw_t,
        result=result,
        kwargs=kwargs,
        timing={
            "audio_s": round(duration_s, 3),
            "speech_s": round(sum(b - a for a, b in speech) / 1000, 3),
            "vad_s": round(t_vad - t0, 3),
            "decode_s": round(t_dec - t_vad, 3),
            "guard_s": round(t_end - t_dec, 3),
            "recovered_regions": recovered,
            "heard_again": counts["again"],
            "elapsed_s": round(t_end - t0, 3),
            "mode": f"batched ({options.batch_size})" if options.batch_size else "sequential",
            # CPU seconds (every thread of this process) of each part: where the time goes
            "cpu_s": {"vad": round(c_vad - c0, 3), "decode": round(c_dec - c_vad, 3),
                      "recover": round(c_rec - c_dec, 3), "guard": round(c_end - c_rec, 3)},
            "rtf": round((t_end - t0) / duration_s, 4) if duration_s else None,
        },
    )


# --- vocabulary hints -------------------------------------------------------------------


def vocabulary_hints(s, interview_id: str, limit_chars: int = MAX_HINT_CHARS) -> str:
    """Names of the interview (narrator, interviewer, place, museum) then vocabulary terms.

    Terms of the interview's museum come before the network's shared ones; the list is cut
    at ``limit_chars`` (the recogniser only reads about 220 tokens of hints).
    """
    from sqlmodel import or_, select

    from oralhist.records import Interview, Museum, Person, Term

    iv = s.get(Interview, interview_id)
    if iv is None:
        return ""
    names: list[str] = []
    for pid in (iv.narrator_id, iv.interviewer_id):
        p = s.get(Person, pid) if pid else None
        if p and p.name:
            names.append(p.name)
    if iv.place:
        names.append(iv.place)
    museum = s.get(Museum, iv.museum_id) if iv.museum_id else None
    if museum:
        names.append(museum.name)
    q = select(Term).where(Term.kind.in_(HINT_KINDS))
    if iv.museum_id:
        q = q.where(or_(Term.museum_id == iv.museum_id, Term.museum_id.is_(None)))
    else:
        q = q.where(Term.museum_id.is_(None))
    terms = sorted(s.exec(q).all(), key=lambda t: (t.museum_id is None, HINT_KINDS.index(_kind(t)), t.label))
    seen: set[str] = set()
    out: list[str] = []
    size = 0
    for label in [*names, *(t.label for t in terms)]:
        label = " ".join(str(label).split())
        if not label or label.lower() in seen:
            continue
        if size + len(label) + 2 > limit_chars:
            break
        seen.add(label.lower())
        out.append(label)
        size += len(label) + 2
    return ", ".join(out)


def _kind(t) -> str:
    return t.kind.value if hasattr(t.kind, "value") else str(t.kind)


# --- the stage --------------------------------------------------------------------------


def _whisper_language(code: str) -> Optional[str]:
    """'fr', 'fr-BE', 'FR' -> 'fr'; 'auto' -> 'auto'; unknown -> None."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    c = str(code).strip().lower().replace("_", "-").split("-")[0]
    return c if c == "auto" or c in _LANGUAGE_CODES else None


def _settings_default(ws, name: str, value):
    return value if value is not None else getattr(ws.settings, name)


BATCH_SIZE = 4  # [transcribe] batch_size when the settings leave it out: batched, 4 pieces at a time (bench/RESULTS-transcribe.md)


def batch_size_setting(ws) -> int:
    """``[transcribe] batch_size`` (its range is checked when the settings are read)."""
    return int((ws.settings.raw.get("transcribe") or {}).get("batch_size", BATCH_SIZE))


# Over 80 lines on purpose: its settings, one model load, then the loop over interviews; the choice of
# interviews is _todo, the storage _store.
def transcribe_interviews(
    ws,
    ids: Sequence[str],
    *,
    force: bool = False,
    progress: Progress = NULL,
    model: Optional[str] = None,
    language: Optional[str] = None,
    device: Optional[str] = None,
    compute_type: Optional[str] = None,
    beam_size: Optional[int] = None,
    options: Optional[DecodeOptions] = None,
    guard_options: Optional[GuardOptions] = GuardOptions(),
    hints: bool = False,
    exports: Optional[Callable[..., object]] = None,
    block_s: Optional[float] = None,
) -> stage.StageReport:
    """Transcribe interviews (their derived/asr.wav), one transaction each; see the module doc.

    ``language`` overrides each interview's language ("auto" detects). ``model``,
    ``device``, ``compute_type`` and ``beam_size`` default to the archive's settings.
    ``hints`` passes names and vocabulary terms as hotwords: off by default, because it
    was measured to make Whisper base worse (bench/RESULTS-transcribe.md).
    ``block_s`` is the longest stretch of speech heard at once (default 300 s); what is heard
    is kept in a checkpoint every ``[transcribe] checkpoint_s`` seconds of speech (default 60)
    and at each block's end, so a killed run resumes where it stopped.
    ``exports(ws, id, only_missing=False)`` writes the staff exports of a stored transcript; the
    pipeline passes ``outputs.exports.staff.write_transcript_exports`` (jobs/stages.py), None
    writes none.
    """
    from oralhist import db
    from oralhist.recognition import models

    report = stage.StageReport(stage=STAGE)
    model_name = _settings_default(ws, "model", model)
    device = _settings_default(ws, "device", device)
    compute_type = _settings_default(ws, "compute_type", compute_type)
    opts = options or DecodeOptions(beam_size=_settings_default(ws, "beam_size", beam_size),
                                    batch_size=batch_size_setting(ws))
    if beam_size is not None:
        opts = replace(opts, beam_size=beam_size)

    if language is not None and _whisper_language(language) is None:
        raise BadInput(language, "unknown language code for --language (use an ISO 639-1 code such as fr, en, or auto)")
    todo = _todo(ws, ids, language=language, force=force, report=report)
    if exports:  # a kill between the commit and the files leaves exports missing: redo them
        for iid in report.skipped:
            try:
                exports(ws, iid, only_missing=True)
            except OralhistError as exc:
                report.failed.append((iid, f"exports failed: {exc.message}"))
    if not todo:
        return report

    t0 = time.perf_counter()
    spec = models.resolve(model_name, log=progress.log)
    threads = models.threads_for(os.cpu_count() or 1)  # what models.load gives the model, recorded below
    whisper = models.load(spec, device=device, compute_type=compute_type, cpu_threads=threads)
    load_s = round(time.perf_counter() - t0, 3)
    report.details.update(model=spec.label, load_s=load_s, interviews={})

    total = sum(sec for _, _, sec in todo)
    task = progress.add("transcribe", total=round(total, 1))
    done_before = 0.0
    for iid, lang, seconds in todo:
        progress.update(task, description=f"transcribe {iid}")
        base = done_before
        try:
            from oralhist.archive.audio import AsrWav

            with db.session(ws) as s:
                hint_text = vocabulary_hints(s, iid) if hints and opts.hint_mode != "none" else ""
            checkpoint = _checkpoint(ws, iid, spec, opts, lang, hint_text, block_s or BLOCK_S, guard_options)
            with AsrWav(asr_path(ws, iid)) as audio:  # read from disk block by block, never whole
                rec = recognise(
                    whisper,
                    audio,
                    language=None if lang == "auto" else lang,
                    options=opts,
                    hints=hint_text,
                    guard_options=guard_options,
                    on_progress=lambda sec, base=base: progress.update(task, completed=base + sec),
                    block_s=block_s,
                    checkpoint=checkpoint,
                    checkpoint_s=float((ws.settings.raw.get("transcribe") or {}).get("checkpoint_s", CHECKPOINT_S)),
                )
            version = _store_when_reachable(ws, iid, rec, spec, opts, device, compute_type, threads, load_s,
                                            guard_options)
            checkpoint.clear()
        except OralhistError as exc:  # unreadable audio and the like: the others go on
            report.failed.append((iid, exc.message))
            continue
        except (RuntimeError, ValueError, OSError) as exc:
            report.failed.append((iid, f"recognition failed: {type(exc).__name__}: {exc}"))
            continue
        done_before += seconds
        progress.update(task, completed=done_before)
        if exports:
            try:
                exports(ws, iid)
            except OralhistError as exc:  # the transcript is stored; `oralhist export` can retry
                report.failed.append((iid, f"transcribed, but exports failed: {exc.message}"))
        report.done.append(iid)
        report.details["interviews"][iid] = {
            "version": version,
            "language": rec.language,
            "segments": len(rec.result.kept),
            "words": sum(len(sg.words) for sg in rec.result.kept),
            "dropped": len(rec.result.dropped),
            "flagged": rec.result.stats.get("flagged", 0),
            "blocks_reused": checkpoint.reused,
            **rec.timing,
        }
    return report


def _todo(ws, ids: Sequence[str], *, language: Optional[str], force: bool,
          report: stage.StageReport) -> list[tuple[str, str, float]]:
    """The interviews to transcribe now, as (id, Whisper language, seconds); the others go to
    ``report`` (skipped: done already; failed: unknown, not normalised, language Whisper lacks)."""
    from oralhist import db
    from oralhist.records import Interview

    todo: list[tuple[str, str, float]] = []  # (id, language, seconds)
    with db.session(ws) as s:
        for iid in ids:
            iv = s.get(Interview, iid)
            if iv is None:
                report.failed.append((iid, "no such interview"))
                continue
            if not force and stage.is_done(s, iid, STAGE):
                report.skipped.append(iid)
                continue
            path = asr_path(ws, iid)
            if not path.is_file():
                report.failed.append((iid, f"{ws.rel(path) if path.parent.exists() else path}: missing; run `oralhist normalise {iid}` first"))
                continue
            lang = _whisper_language(language or iv.language or ws.settings.language or "fr")
            if lang is None:
                report.failed.append((iid, f"language {iv.language!r} is not one Whisper knows; fix it or pass --language"))
                continue
            todo.append((iid, lang, wav_seconds(path)))
    return todo


def _checkpoint(ws, iid: str, spec, opts: DecodeOptions, lang: str, hints: str, block_s: float,
                guard_options) -> BlockCheckpoint:
    import hashlib
    import json

    from oralhist.archive.ingest import sha256_file

    key = hashlib.sha256(json.dumps({
        "audio": sha256_file(asr_path(ws, iid)), "model": spec.label, "options": asdict(opts), "language": lang,
        "hints": hints, "block_s": block_s, "guard": asdict(guard_options) if guard_options is not None else None,
    }, sort_keys=True, default=str).encode()).hexdigest()
    return BlockCheckpoint(ws.derived_dir(iid) / CHECKPOINT, key)


STORE_WAIT_S = float(os.environ.get("ORALHIST_STORE_WAIT_S", "180"))


def _store_when_reachable(ws, iid: str, *args) -> int:
    """:func:`_store`, tried again while the database cannot be reached (a link down, a server
    restarting) for up to :data:`STORE_WAIT_S`: the words heard are kept, not heard again.
    The transaction is all or nothing, so a try that failed wrote nothing."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    deadline = time.monotonic() + STORE_WAIT_S
    pause = 1.0
    while True:
        try:
            return _store(ws, iid, *args)
        except DBAPIError as exc:
            lost = isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated
            if not lost or time.monotonic() + pause > deadline:
                raise
            log.warning("%s: transcript not stored yet, database unreachable (%s); trying again", iid,
                        type(exc).__name__)
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


# Over 80 lines on purpose: one transcript and everything under it (segments, words, dropped segments,
# options) written in ONE transaction.
def _store(ws, iid: str, rec: Recognition, spec, opts: DecodeOptions, device, compute_type, threads, load_s, guard_options) -> int:
    """Write one transcript and everything under it in ONE transaction; return its version."""
    import ctranslate2
    import faster_whisper
    from sqlalchemy import func, insert
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import DroppedSegment, Segment, Transcript, TranscriptStatus, Word

    used = {
        **{k: v for k, v in rec.kwargs.items() if k != "language"},
        "vad_filter": opts.vad,
        "vad_parameters": opts.vad_parameters,
        "hint_mode": opts.hint_mode,
        "recover_missed": opts.recover_missed,
        "recover_min_ms": opts.recover_min_ms,
        "mode": "batched" if opts.batch_size else "sequential",
        "batch_size": opts.batch_size,
        "device": device,
        "compute_type": compute_type,
        "cpu_threads": threads,
        "guard": asdict(guard_options) if guard_options is not None else None,
        "language_requested": rec.kwargs.get("language") or "auto",
        "language_probability": rec.language_probability,
        "faster_whisper": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "model_path": str(spec.path),
        "model_sha256": spec.sha256,
    }
    timing = {**rec.timing, "model_load_s": load_s, "segments_dropped": len(rec.result.dropped)}
    with db.session(ws) as s:
        newest = s.exec(select(func.max(Transcript.version)).where(Transcript.interview_id == iid)).one()
        version = (newest or 0) + 1
        tr = Transcript(
            interview_id=iid,
            version=version,
            status=TranscriptStatus.machine,
            source="machine",
            model=spec.label,
            language=rec.language,
            options=used,
            timing=timing,
            duration_ms=rec.duration_ms,
            created_by="oralhist transcribe",
        )
        s.add(tr)
        s.flush()
        seg_rows = [
            Segment(
                transcript_id=tr.id,
                idx=i,
                start_ms=sg.start_ms,
                end_ms=sg.end_ms,
                text=sg.text,
                avg_logprob=sg.avg_logprob,
                no_speech_prob=sg.no_speech_prob,
                compression_ratio=sg.compression_ratio,
                flag=sg.flag,
            )
            for i, sg in enumerate(rec.result.kept)
        ]
        s.add_all(seg_rows)
        s.flush()
        word_rows = []
        n = 0
        for row, sg in zip(seg_rows, rec.result.kept):
            for w in sg.words:
                text = w.text.strip()
                if not text:
                    continue
                word_rows.append(
                    dict(transcript_id=tr.id, segment_id=row.id, idx=n, start_ms=w.start_ms, end_ms=w.end_ms,
                         text=text, probability=w.probability)
                )
                n += 1
        if word_rows:
            s.execute(insert(Word), word_rows)
        if rec.result.dropped:
            s.execute(
                insert(DroppedSegment),
                [dict(transcript_id=tr.id, start_ms=d.seg.start_ms, end_ms=d.seg.end_ms, text=d.seg.text, reason=d.reason)
                 for d in rec.result.dropped],
            )
        stage.mark_done(s, iid, STAGE, {"version": version, "model": spec.label, "language": rec.language})
        s.commit()
    return version
