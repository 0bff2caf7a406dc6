"""Who speaks when: diarization, then a speaker on every word and segment.

Two ways, chosen per interview:

- **channels**: a two-microphone stereo recording (each voice much louder on its own
  channel) is split by channel energy. Every 50 ms frame of speech goes to the louder
  channel; both channels count as speaking when their levels are within a few dB (overlap).
  Decided from the inter-channel level difference over speech frames, which is near zero
  for a mono recording stored as stereo and large for two close microphones.
- **voices**: otherwise, 1 s windows of speech (Silero voice detection, shipped with
  faster-whisper) are turned into GE2E voice embeddings (``oralhist.recognition.voice_encoder``, numpy
  only) and clustered (average-linkage agglomerative clustering on cosine distance, the
  number of speakers found by a distance threshold unless ``speakers=N`` is given).

``diarize_interviews`` then gives each Word of the current machine transcript the speaker
who talks most during it, splits Segments where the speaker changes (word times are kept),
and writes Speaker rows ``SPEAKER_1``, ``SPEAKER_2``... in order of first appearance, all in
one transaction per interview.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from oralhist.progress import NULL, Progress
from oralhist.stage import StageReport

SR = 16000
STAGE = "diarize"
FRAME_MS = 50  # resolution of channel energies and of speaker turns
# Voice-embedding windows: 1.0 s every 0.25 s (the encoder was trained on 1.6 s; shorter
# windows follow quick exchanges better, see bench/RESULTS-speakers.md).
WINDOW_S = 1.0
STEP_S = 0.25
# Average-linkage cosine distance above which two clusters are different voices.
CLUSTER_THRESHOLD = 0.35
MAX_LINKAGE = 2500  # windows clustered directly (about 10 min of speech); more are sampled
VAD_THRESHOLD = 0.35  # Silero speech probability (lower than faster-whisper's 0.5: speech under music)
TWO_MIC_ILD_DB = 6.0  # median |level difference| over speech frames for a two-mic recording
OVERLAP_DB = 6.0  # in a two-mic recording, both speak when levels are within this many dB


@dataclass(frozen=True)
class Turn:
    start_ms: int
    end_ms: int
    speaker: int  # 0-based, in order of first appearance
    channel: Optional[int] = None


@dataclass(frozen=True)
class Diarization:
    turns: tuple[Turn, ...]
    n_speakers: int
    method: str  # "channels" | "voices" | "none"
    details: dict = field(default_factory=dict, compare=False)

    def speaker_channels(self) -> dict[int, Optional[int]]:
        out: dict[int, Optional[int]] = {}
        for t in self.turns:
            out.setdefault(t.speaker, t.channel)
        return out


# ---------------------------------------------------------------- voice activity


def speech_regions(wav: np.ndarray, *, min_silence_ms: int = 300, pad_ms: int = 80,
                   threshold: Optional[float] = None) -> list[tuple[int, int]]:
    """Speech stretches (sample indices) found by Silero VAD (faster-whisper's copy)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(wav) < SR // 10:
        return []
    opts = VadOptions(threshold=VAD_THRESHOLD if threshold is None else threshold, min_speech_duration_ms=150, min_silence_duration_ms=min_silence_ms,
                      speech_pad_ms=pad_ms)
    return [(int(c["start"]), int(c["end"])) for c in get_speech_timestamps(np.asarray(wav, np.float32), opts)]


def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    if n == 0:
        return np.zeros(0)
    e = np.mean(np.square(x[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    return 10 * np.log10(e + 1e-12)


def _mask_from_regions(regions, n_frames: int, frame: int) -> np.ndarray:
    m = np.zeros(n_frames, bool)
    for s, e in regions:
        m[s // frame : min(n_frames, -(-e // frame))] = True
    return m


def _runs(labels: np.ndarray):
    """(start, end, value) runs of equal values in a 1-d array."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(labels)]])
    return [(int(s), int(e), labels[s]) for s, e in zip(starts, ends)]


def _smooth_labels(labels: np.ndarray, min_frames: int) -> np.ndarray:
    """Absorb runs shorter than ``min_frames`` into their longer neighbour (speech only, -1 = none)."""
    labels = labels.copy()
    for _ in range(3):
        changed = False
        runs = _runs(labels)
        for k, (s, e, v) in enumerate(runs):
            if v < 0 or e - s >= min_frames:
                continue
            prev = runs[k - 1] if k > 0 else None
            nxt = runs[k + 1] if k + 1 < len(runs) else None
            cands = [r for r in (prev, nxt) if r is not None and r[2] >= 0]
            if not cands:
                continue
            best = max(cands, key=lambda r: r[1] - r[0])
            labels[s:e] = best[2]
            changed = True
        if not changed:
            break
    return labels


def _renumber(turns: list[Turn]) -> list[Turn]:
    """Speakers numbered in order of first appearance; turns sorted by start."""
    turns = sorted(turns, key=lambda t: (t.start_ms, t.end_ms))
    order: dict[int, int] = {}
    for t in turns:
        order.setdefault(t.speaker, len(order))
    return [Turn(t.start_ms, t.end_ms, order[t.speaker], t.channel) for t in turns]


# ---------------------------------------------------------------- two microphones


def channel_levels(channels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel frame levels in dB (C, F), per-channel voice masks (C, F), and their union."""
    frame = SR * FRAME_MS // 1000
    levels = np.stack([_frame_db(c, frame) for c in channels])
    n = levels.shape[1]
    vad = np.stack([_mask_from_regions(speech_regions(c), n, frame) for c in channels])
    return levels, vad, vad.any(axis=0)


def two_mic_evidence(channels: np.ndarray, channel_lufs: Optional[Sequence[float]] = None) -> dict:
    """Figures deciding whether a stereo recording holds one voice per microphone."""
    if channels.ndim != 2 or channels.shape[0] != 2:
        return {"two_mic": False, "reason": "not stereo"}
    levels, _, speech = channel_levels(channels)
    if speech.sum() < 10:
        return {"two_mic": False, "reason": "too little speech"}
    ild = levels[0, speech] - levels[1, speech]
    med_abs = float(np.median(np.abs(ild)))
    left = float(np.mean(ild > TWO_MIC_ILD_DB))
    right = float(np.mean(ild < -TWO_MIC_ILD_DB))
    # Two close microphones: most speech is clearly louder on one side. A mono recording
    # copied to both channels (or one stereo microphone) has level differences near zero.
    two_mic = med_abs >= TWO_MIC_ILD_DB and (left + right) >= 0.6
    out = {"two_mic": bool(two_mic), "median_abs_ild_db": round(med_abs, 1),
           "louder_left": round(left, 3), "louder_right": round(right, 3)}
    if channel_lufs:
        out["channel_lufs"] = [None if v is None else round(float(v), 1) for v in channel_lufs]
    return out


def diarize_channels(channels: np.ndarray) -> Diarization:
    """One speaker per channel, from the per-frame level difference (two-mic recordings)."""
    levels, vad, speech = channel_levels(channels)
    n_ch, n_frames = levels.shape
    min_frames = max(1, 200 // FRAME_MS)
    # How much quieter a voice is on the other microphone (cross-talk): half the typical level
    # difference is the margin above which a channel counts as speaking in its own right.
    ild = np.abs(levels[0] - levels[1])[speech] if n_ch == 2 and speech.any() else np.array([OVERLAP_DB * 2])
    margin = float(np.clip(np.median(ild) / 2, 3.0, 15.0))
    turns: list[Turn] = []
    for c in range(n_ch):
        others = np.max(np.delete(levels, c, axis=0), axis=0)
        active = vad[c] & (levels[c] >= others - margin)
        lab = _smooth_labels(np.where(active, 0, -1), min_frames)
        # close short gaps (<300 ms) inside one channel's talk
        for s, e, v in _runs(lab):
            if v < 0 and 0 < s and e < n_frames and (e - s) * FRAME_MS < 300:
                lab[s:e] = 0
        for s, e, v in _runs(lab):
            if v == 0:
                turns.append(Turn(s * FRAME_MS, e * FRAME_MS, c, c))
    turns = _renumber(turns)
    return Diarization(tuple(turns), len({t.speaker for t in turns}), "channels")


# ---------------------------------------------------------------- voices


def _window_starts(regions, n_samples: int) -> list[int]:
    win, step = int(WINDOW_S * SR), int(STEP_S * SR)
    starts: list[int] = []
    for s, e in regions:
        if e - s <= win:
            c = (s + e) // 2
            starts.append(int(min(max(0, c - win // 2), max(0, n_samples - win))))
            continue
        pos = list(range(s, e - win + 1, step))
        if pos[-1] + win < e:
            pos.append(e - win)
        starts.extend(pos)
    return starts


def cluster_embeddings(emb: np.ndarray, speakers: Optional[int] = None,
                       threshold: Optional[float] = None) -> np.ndarray:
    """Cluster labels (0..k-1) of L2-normalised embeddings; k given or found by threshold."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    threshold = CLUSTER_THRESHOLD if threshold is None else threshold
    n = len(emb)
    if n == 0:
        return np.zeros(0, int)
    if n == 1 or speakers == 1:
        return np.zeros(n, int)
    # Long recordings: the linkage (quadratic in memory) runs on an even sample of windows,
    # then every window joins its nearest cluster centre.
    sample = np.linspace(0, n - 1, MAX_LINKAGE).astype(int) if n > MAX_LINKAGE else np.arange(n)
    z = linkage(pdist(emb[sample], metric="cosine"), method="average")
    if speakers:
        sub = fcluster(z, t=min(speakers, len(sample)), criterion="maxclust")
    else:
        sub = fcluster(z, t=threshold, criterion="distance")
    if len(sample) < n:
        ids = np.unique(sub)
        cents = np.stack([emb[sample][sub == i].mean(0) for i in ids])
        lab = ids[np.argmax(emb @ cents.T, axis=1)]
    else:
        lab = sub
    if not speakers:
        # tiny clusters (a cough, a door) join the nearest big one
        lab = _absorb_small(emb, lab, min_size=max(2, int(0.02 * n)))
    _, lab = np.unique(lab, return_inverse=True)
    return lab


def _absorb_small(emb, lab, min_size: int):
    lab = lab.copy()
    while True:
        ids, counts = np.unique(lab, return_counts=True)
        if len(ids) <= 1 or counts.min() >= min_size:
            return lab
        small = ids[np.argmin(counts)]
        big = [i for i in ids if i != small]
        cents = np.stack([emb[lab == i].mean(0) for i in big])
        sims = emb[lab == small].mean(0) @ cents.T
        lab[lab == small] = big[int(np.argmax(sims))]


def diarize_voices(wav: np.ndarray, *, speakers: Optional[int] = None, encoder=None) -> Diarization:
    """Voice embeddings over speech windows, clustered; turns at 50 ms resolution."""
    from oralhist.recognition.voice_encoder import default_encoder

    wav = np.asarray(wav, np.float32)
    regions = speech_regions(wav)
    if not regions:
        return Diarization((), 0, "none", {"speech_s": 0.0})
    speech_samples = np.concatenate([wav[s:e] for s, e in regions])
    rms = float(np.sqrt(np.mean(np.square(speech_samples, dtype=np.float64))))
    gain = 10 ** ((-30.0 - 20 * np.log10(max(rms, 1e-9))) / 20)
    wav_n = (wav * gain).astype(np.float32)
    starts = _window_starts(regions, len(wav))
    enc = encoder or default_encoder()
    emb = enc.embed_windows(wav_n, starts, frames=int(round(WINDOW_S * 100)))
    lab = cluster_embeddings(emb, speakers)
    k = int(lab.max()) + 1 if len(lab) else 0
    frame = SR * FRAME_MS // 1000
    n_frames = -(-len(wav) // frame)
    speech = _mask_from_regions(regions, n_frames, frame)
    labels = np.full(n_frames, -1)
    if k <= 1:
        labels[speech] = 0
    else:
        cents = np.stack([emb[lab == i].mean(0) for i in range(k)])
        cents /= np.linalg.norm(cents, axis=1, keepdims=True)
        sims = emb @ cents.T  # (windows, k)
        score = np.zeros((n_frames, k))
        count = np.zeros(n_frames)
        win_frames = int(WINDOW_S * 1000) // FRAME_MS
        for st, row in zip(starts, sims):
            f0 = st // frame
            score[f0 : f0 + win_frames] += row
            count[f0 : f0 + win_frames] += 1
        has = count > 0
        best = np.argmax(score, axis=1)
        labels[speech & has] = best[speech & has]
        # speech frames no window covers: nearest covered frame's label
        missing = np.flatnonzero(speech & ~has)
        covered = np.flatnonzero(has)
        if len(missing) and len(covered):
            near = covered[np.clip(np.searchsorted(covered, missing), 0, len(covered) - 1)]
            labels[missing] = best[near]
        labels = _smooth_labels(labels, max(1, 300 // FRAME_MS))
    turns = [Turn(s * FRAME_MS, min(e * FRAME_MS, len(wav) * 1000 // SR), int(v)) for s, e, v in _runs(labels) if v >= 0]
    turns = _renumber(turns)
    return Diarization(tuple(turns), len({t.speaker for t in turns}), "voices",
                       {"windows": len(starts), "speech_s": round(float(speech.sum()) * FRAME_MS / 1000, 1)})


def diarize_signal(channels: np.ndarray, *, speakers: Optional[int] = None,
                   channel_lufs: Optional[Sequence[float]] = None) -> Diarization:
    """Diarize audio given as (channels, samples) at 16 kHz: by channel when two-mic, else by voice."""
    channels = np.atleast_2d(np.asarray(channels, np.float32))
    evidence = two_mic_evidence(channels, channel_lufs) if channels.shape[0] == 2 else {"two_mic": False}
    if evidence.get("two_mic") and speakers in (None, 2):
        d = diarize_channels(channels)
    else:
        d = diarize_voices(channels.mean(axis=0), speakers=speakers)
    return Diarization(d.turns, d.n_speakers, d.method, {**d.details, "stereo": evidence})


# ---------------------------------------------------------------- words and segments


def assign_words(turns: Sequence[Turn], words: Sequence[tuple[int, int]]) -> list[Optional[int]]:
    """For each (start_ms, end_ms) word, the speaker talking most during it (nearest turn if none)."""
    if not turns:
        return [None] * len(words)
    ts = sorted(turns, key=lambda t: t.start_ms)
    starts = np.array([t.start_ms for t in ts])
    out: list[Optional[int]] = []
    for ws, we in words:
        we = max(we, ws + 1)
        lo = max(0, int(np.searchsorted(starts, ws, side="right")) - 50)
        overlap: dict[int, int] = {}
        for t in ts[lo:]:
            if t.start_ms >= we:
                break
            ov = min(we, t.end_ms) - max(ws, t.start_ms)
            if ov > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0) + ov
        if overlap:
            out.append(max(overlap, key=lambda k: (overlap[k], -k)))
            continue
        mid = (ws + we) / 2
        k = int(np.searchsorted(starts, mid))
        near = ts[max(0, k - 50) : k + 2]
        nearest = min(near, key=lambda t: 0 if t.start_ms <= mid <= t.end_ms else min(abs(t.start_ms - mid), abs(t.end_ms - mid)))
        out.append(nearest.speaker)
    return out


_GLUE_BEFORE = ("'", "’", "-", ",", ".", "?", "!", ":", ";", ")", "…", "»")


def join_words(texts: Sequence[str]) -> str:
    """Segment text from its words: no space before an elided or hyphenated part or punctuation."""
    if any(t.startswith(" ") for t in texts):  # faster-whisper's raw words carry their space
        return "".join(texts).strip()
    out = ""
    for t in (t.strip() for t in texts):
        if not t:
            continue
        if out and not t.startswith(_GLUE_BEFORE) and not out.endswith(("'", "’", "-", "(", "«")):
            out += " "
        out += t
    return out


def cut_text(text: str, pieces: Sequence[Sequence[str]]) -> list[str]:
    """Cut a segment's text where its words are split into ``pieces`` (lists of word texts),
    keeping the original spacing and punctuation; falls back to joining the words."""
    pos, starts = 0, []
    low = text.lower()
    for piece in pieces:
        first = True
        for w in piece:
            w = w.strip().lower()
            if not w:
                continue
            at = low.find(w, pos)
            if at < 0:
                return [join_words(p) for p in pieces]
            if first:
                starts.append(at)
                first = False
            pos = at + len(w)
        if first:
            starts.append(pos)
    starts[0] = 0
    bounds = starts + [len(text)]
    return [text[bounds[i] : bounds[i + 1]].strip() for i in range(len(pieces))]


def _smooth_word_speakers(words, spks: list, min_ms: int = 700, min_words: int = 3) -> list:
    """Inside one segment, a short run of words (< min_ms and < min_words) takes the speaker
    of its longer neighbouring run: speaker changes are rarely that brief mid-sentence."""
    spks = list(spks)
    for _ in range(3):
        runs = []
        start = 0
        for i in range(1, len(spks) + 1):
            if i == len(spks) or spks[i] != spks[start]:
                runs.append((start, i))
                start = i
        if len(runs) <= 1:
            break
        changed = False
        for k, (a, b) in enumerate(runs):
            dur = words[b - 1].end_ms - words[a].start_ms
            if dur >= min_ms or b - a >= min_words:
                continue
            nb = [r for r in (runs[k - 1] if k else None, runs[k + 1] if k + 1 < len(runs) else None) if r]
            best = max(nb, key=lambda r: words[r[1] - 1].end_ms - words[r[0]].start_ms)
            for i in range(a, b):
                spks[i] = spks[best[0]]
            changed = True
            break
        if not changed:
            break
    return spks


# ---------------------------------------------------------------- audio of an interview


def load_interview_audio(ws, interview_id: str) -> tuple[np.ndarray, Optional[list]]:
    """(channels x samples at 16 kHz on the interview timeline, per-channel loudness or None).

    Two channels only when every part of the interview is stereo (area 1's
    ``oralhist.archive.audio.load_channels`` when present, else the originals decoded with PyAV, each
    placed at its ``Recording.offset_ms``); otherwise the mono ``derived/asr.wav`` that the
    words were recognised from (or the originals mixed down when it is missing).
    """
    from sqlmodel import select

    from oralhist import db
    from oralhist.errors import StageError
    from oralhist.records import Recording

    with db.session(ws) as s:
        recs = s.exec(select(Recording).where(Recording.interview_id == interview_id).order_by(Recording.part)).all()
    if not recs:
        raise StageError(interview_id, "no recording to diarize")
    lufs = list(recs[0].channel_lufs) if len(recs) == 1 and recs[0].channel_lufs else None
    stereo = all(r.channels == 2 for r in recs)
    try:
        from oralhist.archive import audio as area_audio  # area 1 (ingest/normalise)
    except ImportError:
        area_audio = None
    if stereo:
        if area_audio is not None and hasattr(area_audio, "load_channels"):
            ch = np.atleast_2d(np.asarray(area_audio.load_channels(ws, interview_id), np.float32))
            if ch.shape[0] > ch.shape[1]:
                ch = ch.T
            if ch.shape[0] == 2:
                return ch, lufs
        return _decode_parts(ws, recs, keep_channels=True), lufs
    asr = ws.derived_dir(interview_id) / "asr.wav"
    if area_audio is not None and hasattr(area_audio, "load_asr") and asr.is_file():
        return np.atleast_2d(np.asarray(area_audio.load_asr(ws, interview_id), np.float32)), lufs
    if asr.is_file():
        return decode_16k(asr), lufs
    return _decode_parts(ws, recs, keep_channels=False), lufs


def _decode_parts(ws, recs, keep_channels: bool) -> np.ndarray:
    parts = [(r.offset_ms, decode_16k(ws.abs(r.path), keep_channels=keep_channels)) for r in recs]
    width = 2 if keep_channels else 1
    total = max(off * SR // 1000 + p.shape[1] for off, p in parts)
    out = np.zeros((width, total), np.float32)
    for off, p in parts:
        a = off * SR // 1000
        if p.shape[0] < width:
            p = np.repeat(p, width, axis=0)
        out[:, a : a + p.shape[1]] = p[:width]
    return out


def decode_16k(path, keep_channels: bool = False) -> np.ndarray:
    """Decode any audio file to float32 16 kHz, (channels, samples): mono mix or every channel."""
    import av

    from oralhist.errors import NotAudio

    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - PyAV raises many kinds
        raise NotAudio(path, f"cannot be decoded ({exc})") from None
    with container:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise NotAudio(path, "has no audio stream")
        n_ch = stream.codec_context.channels or 1
        layout = "stereo" if keep_channels and n_ch >= 2 else "mono"
        res = av.AudioResampler(format="flt", layout=layout, rate=SR)
        chunks = []
        for frame in container.decode(stream):
            frame.pts = None
            for f in res.resample(frame):
                chunks.append(f.to_ndarray())
        for f in res.resample(None):
            chunks.append(f.to_ndarray())
    width = 2 if layout == "stereo" else 1
    if not chunks:
        return np.zeros((width, 0), np.float32)
    data = np.concatenate([c.reshape(-1) for c in chunks])  # packed (interleaved) samples
    return data.reshape(-1, width).T.astype(np.float32)


# ---------------------------------------------------------------- the stage


def _apply(s, interview_id: str, d: Diarization) -> dict:
    """Write Speaker rows, put a speaker on every word and split segments (caller commits)."""
    from sqlmodel import select

    from oralhist.records import Interview, Segment, Speaker, SpeakerRole, Transcript, TranscriptStatus, Word

    # Which transcript: the newest machine version (editors' versions are never re-cut).
    tr = s.exec(
        select(Transcript).where(Transcript.interview_id == interview_id,
                                 Transcript.status == TranscriptStatus.machine).order_by(Transcript.version.desc())
    ).first()

    speaker_ids = sorted({t.speaker for t in d.turns})
    words_by_seg: dict[int, list] = {}
    segs = []
    if tr is not None:
        segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
        for w in s.exec(select(Word).where(Word.transcript_id == tr.id).order_by(Word.idx)).all():
            words_by_seg.setdefault(w.segment_id, []).append(w)

    # Speaker of every word; segments without words take the speaker of their time span.
    pieces = []  # (segment row or None, [words], speaker index or None, text)
    for sg in segs:
        ws_ = words_by_seg.get(sg.id, [])
        if not ws_:
            spk = assign_words(d.turns, [(sg.start_ms, sg.end_ms)])[0]
            pieces.append((sg, [], spk, sg.text))
            continue
        spks = _smooth_word_speakers(ws_, assign_words(d.turns, [(w.start_ms, w.end_ms) for w in ws_]))
        runs, run_start = [], 0
        for i in range(1, len(ws_) + 1):
            if i == len(ws_) or spks[i] != spks[run_start]:
                runs.append((ws_[run_start:i], spks[run_start]))
                run_start = i
        texts = cut_text(sg.text, [[w.text for w in r] for r, _ in runs]) if len(runs) > 1 else [sg.text]
        for k, ((r, spk), text) in enumerate(zip(runs, texts)):
            pieces.append((sg if k == 0 else None, r, spk, text))

    first_seen: list[int] = []
    for p in pieces:
        if p[2] is not None and p[2] not in first_seen:
            first_seen.append(p[2])
    used = first_seen if segs else speaker_ids
    # Labels in order of first speech in the transcript (else of the diarization).
    label_of = {k: f"SPEAKER_{i + 1}" for i, k in enumerate(used)}
    channels = d.speaker_channels()

    existing = {sp.label: sp for sp in s.exec(select(Speaker).where(Speaker.interview_id == interview_id)).all()}
    row_of: dict[int, Speaker] = {}
    for k, label in label_of.items():
        sp = existing.pop(label, None) or Speaker(interview_id=interview_id, label=label)
        sp.channel = channels.get(k)
        s.add(sp)
        row_of[k] = sp
    s.flush()
    # Speakers no longer found: keep those an editor named, drop the others.
    for sp in existing.values():
        if sp.person_id is None and not sp.name and sp.role is None:
            for sg in s.exec(select(Segment).where(Segment.speaker_id == sp.id)).all():
                sg.speaker_id = None
                s.add(sg)
            s.flush()
            s.delete(sp)

    # Rewrite the segments of that transcript: split where the speaker changes.
    n_split = 0
    for sg, ws_, k, text in pieces:
        spk_id = row_of[k].id if k is not None and k in row_of else None
        if sg is None:
            n_split += 1
            sg = Segment(transcript_id=tr.id, idx=0, start_ms=ws_[0].start_ms, end_ms=ws_[-1].end_ms,
                         text=text, flag=None)
        elif ws_ and len(ws_) != len(words_by_seg.get(sg.id, [])):
            sg.start_ms = min(sg.start_ms, ws_[0].start_ms)
            sg.end_ms = ws_[-1].end_ms
            sg.text = text
        sg.speaker_id = spk_id
        s.add(sg)
        s.flush()
        for w in ws_:
            if w.segment_id != sg.id:
                w.segment_id = sg.id
                s.add(w)
    # Renumber idx in time order (two passes: avoid transient duplicates if ever unique).
    if tr is not None:
        rows = s.exec(select(Segment).where(Segment.transcript_id == tr.id)).all()
        for i, sg in enumerate(sorted(rows, key=lambda r: (r.start_ms, r.idx, r.id))):
            sg.idx = i
            s.add(sg)

    # Newer editor versions keep their text; their segments without a speaker get one.
    newer = s.exec(select(Transcript).where(Transcript.interview_id == interview_id,
                                            Transcript.version > (tr.version if tr else 0))).all()
    for t2 in newer:
        for sg in s.exec(select(Segment).where(Segment.transcript_id == t2.id, Segment.speaker_id == None)).all():  # noqa: E711
            k = assign_words(d.turns, [(sg.start_ms, sg.end_ms)])[0]
            if k is not None and k in row_of:
                sg.speaker_id = row_of[k].id
                s.add(sg)

    # Talk time per speaker (from the turns) and a first guess of who is who.
    talk = {k: sum(t.end_ms - t.start_ms for t in d.turns if t.speaker == k) for k in row_of}
    iv = s.get(Interview, interview_id)
    named = any(sp.person_id or sp.name or sp.role for sp in row_of.values())
    if iv is not None and row_of and not named:
        by_talk = sorted(row_of, key=lambda k: -talk[k])
        narrator = row_of[by_talk[0]]
        narrator.role = SpeakerRole.narrator
        narrator.person_id = iv.narrator_id
        s.add(narrator)
        if len(by_talk) == 2:
            other = row_of[by_talk[1]]
            other.role = SpeakerRole.interviewer
            other.person_id = iv.interviewer_id
            s.add(other)
    return {
        "method": d.method,
        "speakers": {row_of[k].label: {"talk_ms": talk[k], "channel": channels.get(k)} for k in row_of},
        "segments_split": n_split,
        "transcript_version": tr.version if tr else None,
    }


def diarize_interviews(ws, ids: Sequence[str], *, force: bool = False, speakers: Optional[int] = None,
                       progress: Progress = NULL) -> StageReport:
    """Diarize each interview (own transaction each); skip done ones unless ``force``."""
    from oralhist import db, stage
    from oralhist.errors import BadInput, OralhistError

    if speakers is not None and speakers < 1:
        raise BadInput("--speakers", "must be 1 or more")
    rep = StageReport(stage=STAGE)
    task = progress.add("diarize", total=len(ids))
    for interview_id in ids:
        try:
            with db.session(ws) as s:
                if not force and stage.is_done(s, interview_id, STAGE):
                    rep.skipped.append(interview_id)
                    progress.advance(task)
                    continue
            t0 = time.perf_counter()
            channels, lufs = load_interview_audio(ws, interview_id)
            d = diarize_signal(channels, speakers=speakers, channel_lufs=lufs)
            elapsed = time.perf_counter() - t0
            audio_s = channels.shape[1] / SR
            with db.session(ws) as s:
                info = _apply(s, interview_id, d)
                from oralhist.editorial.indexing import reindex_machine

                # new speaker turns move topic boundaries: machine-made segments are made again
                info["topics_version"] = reindex_machine(s, interview_id)
                options = {"speakers": speakers, "method": d.method, "encoder": "resemblyzer-ge2e-0.1.4 (numpy)",
                           "cluster_threshold": CLUSTER_THRESHOLD,
                           "elapsed_s": round(elapsed, 2), "rtf": round(elapsed / audio_s, 4) if audio_s else None}
                stage.mark_done(s, interview_id, STAGE, options)
                s.commit()
            rep.done.append(interview_id)
            rep.details[interview_id] = {**info, "rtf": options["rtf"], "stereo": d.details.get("stereo")}
        except OralhistError as exc:
            rep.failed.append((interview_id, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad interview must not stop the others
            rep.failed.append((interview_id, f"diarization failed: {type(exc).__name__}: {exc}"))
        progress.advance(task)
    return rep


# ---------------------------------------------------------------- scoring (bench and tests)


def diarization_error_rate(reference: Sequence[tuple[int, int, str]], hypothesis: Sequence[tuple[int, int, object]],
                           *, collar_ms: int = 250, step_ms: int = 10) -> dict:
    """DER as NIST md-eval / pyannote.metrics compute it, on a 10 ms grid.

    ``reference`` and ``hypothesis`` are (start_ms, end_ms, speaker) turns. Frames within
    ``collar_ms`` of a reference turn boundary are not scored; overlapping speech is scored.
    Speakers are mapped one-to-one to maximise agreement (Hungarian). Returns the rate and
    its parts (seconds): total, miss, false_alarm, confusion.
    """
    from scipy.optimize import linear_sum_assignment

    end = max([e for _, e, _ in reference] + [e for _, e, _ in hypothesis] + [0])
    n = end // step_ms + 1
    rl = sorted({str(x) for _, _, x in reference})
    hl = sorted({str(x) for _, _, x in hypothesis})
    R = np.zeros((len(rl), n), bool)
    H = np.zeros((len(hl), n), bool)
    scored = np.ones(n, bool)
    for s, e, x in reference:
        R[rl.index(str(x)), s // step_ms : e // step_ms] = True
        if collar_ms:
            for b in (s, e):
                scored[max(0, (b - collar_ms) // step_ms) : (b + collar_ms) // step_ms] = False
    for s, e, x in hypothesis:
        H[hl.index(str(x)), s // step_ms : e // step_ms] = True
    R, H = R[:, scored], H[:, scored]
    nr, nh = R.sum(0), H.sum(0)
    total = float(nr.sum())
    miss = float(np.maximum(nr - nh, 0).sum())
    fa = float(np.maximum(nh - nr, 0).sum())
    correct = 0.0
    if len(rl) and len(hl):
        overlap = R.astype(np.int32) @ H.T.astype(np.int32)
        ri, hi = linear_sum_assignment(-overlap)
        correct = float(overlap[ri, hi].sum())
    conf = float(np.minimum(nr, nh).sum()) - correct
    sec = step_ms / 1000
    return {"der": (miss + fa + conf) / total if total else 0.0, "total": total * sec, "miss": miss * sec,
            "false_alarm": fa * sec, "confusion": conf * sec}


# ---------------------------------------------------------------- naming speakers


@dataclass(frozen=True)
class SpeakerInfo:
    label: str
    name: Optional[str]
    role: Optional[str]
    channel: Optional[int]
    talk_ms: int
    segments: int
    quote: str  # a sample of what they say (their longest segment, shortened)

    def to_dict(self) -> dict:
        return {"label": self.label, "name": self.name, "role": self.role, "channel": self.channel,
                "talk_ms": self.talk_ms, "segments": self.segments, "quote": self.quote}


def _shorten(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def list_speakers(s, interview_id: str) -> list[SpeakerInfo]:
    """Speakers of an interview with talk time (current transcript) and a sample quote."""
    from sqlmodel import select

    from oralhist.errors import NotFound
    from oralhist.records import Interview, Person, Segment, Speaker
    from oralhist.editorial.view import current_transcript

    if s.get(Interview, interview_id) is None:
        raise NotFound(interview_id, "no such interview (see `oralhist list`)")
    speakers = s.exec(select(Speaker).where(Speaker.interview_id == interview_id).order_by(Speaker.id)).all()
    tr = current_transcript(s, interview_id)
    segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id)).all() if tr else []
    out = []
    for sp in sorted(speakers, key=lambda r: (len(r.label), r.label)):
        mine = [g for g in segs if g.speaker_id == sp.id]
        person = s.get(Person, sp.person_id) if sp.person_id else None
        quote = max(mine, key=lambda g: len(g.text)).text if mine else ""
        out.append(SpeakerInfo(
            label=sp.label,
            name=(person.name if person else sp.name),
            role=sp.role.value if hasattr(sp.role, "value") else sp.role,
            channel=sp.channel,
            talk_ms=sum(g.end_ms - g.start_ms for g in mine),
            segments=len(mine),
            quote=_shorten(quote),
        ))
    return out


def _speaker(s, interview_id: str, label: str):
    from sqlmodel import select

    from oralhist.errors import BadInput, NotFound
    from oralhist.records import Interview, Speaker

    if s.get(Interview, interview_id) is None:
        raise NotFound(interview_id, "no such interview (see `oralhist list`)")
    sp = s.exec(select(Speaker).where(Speaker.interview_id == interview_id, Speaker.label == label)).first()
    if sp is None:
        labels = s.exec(select(Speaker.label).where(Speaker.interview_id == interview_id)).all()
        hint = f" (speakers: {', '.join(sorted(labels))})" if labels else " (run `oralhist diarize` first)"
        raise BadInput(label, f"no such speaker in {interview_id}{hint}")
    return sp


def _snapshot(sp) -> dict:
    return {"label": sp.label, "person_id": sp.person_id, "name": sp.name,
            "role": sp.role.value if hasattr(sp.role, "value") else sp.role}


def rename_speaker(ws, interview_id: str, label: str, name: str, *, who: str = "oralhist speakers") -> SpeakerInfo:
    """Attach a Person (found by exact name, else created) to a speaker; recorded as a Revision."""
    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.records import Revision, person_id

    name = " ".join((name or "").split())
    if not name:
        raise BadInput(label, "the new name is empty")
    with db.session(ws) as s:
        sp = _speaker(s, interview_id, label)
        before = _snapshot(sp)
        sp.person_id = person_id(s, name)
        sp.name = name
        s.add(sp)
        s.add(Revision(interview_id=interview_id, kind="speaker", who=who, before=before, after=_snapshot(sp),
                       note=f"{label} renamed"))
        s.commit()
        return next(i for i in list_speakers(s, interview_id) if i.label == label)


def set_speaker_role(ws, interview_id: str, label: str, role: str, *, who: str = "oralhist speakers") -> SpeakerInfo:
    """Set a speaker's role: interviewer, narrator or other."""
    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.records import Revision, SpeakerRole

    try:
        value = SpeakerRole(role.strip().lower())
    except ValueError:
        raise BadInput(role, "unknown role; choose interviewer, narrator or other") from None
    with db.session(ws) as s:
        sp = _speaker(s, interview_id, label)
        before = _snapshot(sp)
        sp.role = value
        s.add(sp)
        s.add(Revision(interview_id=interview_id, kind="speaker", who=who, before=before, after=_snapshot(sp),
                       note=f"{label} role set"))
        s.commit()
        return next(i for i in list_speakers(s, interview_id) if i.label == label)
