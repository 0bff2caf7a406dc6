"""Test recordings BUILT from the bundled clips (tests/data/corpus, CC BY 4.0 / public domain)
with the bundled ffmpeg (imageio-ffmpeg): other formats and rates, two-microphone stereo
(one FLEURS reader per channel, overlapping, with cross-talk), so that no test needs a clip
under another licence. Speaker turns are known by construction."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

SR = 16000


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode(path: Path, rate: int = SR) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``rate`` (decoded by the bundled ffmpeg)."""
    out = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, np.float32).copy()


def write(path: Path, x: np.ndarray, rate: int = SR, *, out_rate: int | None = None, extra: list[str] | None = None) -> Path:
    """Write samples ((n,) or (channels, n)) to ``path``; the format follows the suffix."""
    x = np.atleast_2d(np.asarray(x, np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    codec = ["-c:a", "pcm_s16le"] if path.suffix == ".wav" else []
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(rate), "-ac", str(x.shape[0]),
                    "-i", "-", "-ar", str(out_rate or rate), *codec, *(extra or []), str(path)],
                   input=np.ascontiguousarray(x.T).tobytes(), check=True)
    return path


def speech_span(x: np.ndarray, rate: int = SR, below_peak_db: float = 35.0) -> tuple[int, int]:
    """First and last sample of the 10 ms frames within ``below_peak_db`` of the loudest frame."""
    f = rate // 100
    n = len(x) // f
    db = 10 * np.log10(np.mean(x[: n * f].reshape(n, f) ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(db > db.max() - below_peak_db)
    return int(on[0] * f), int((on[-1] + 1) * f)


def trimmed(path: Path, rate: int = SR) -> np.ndarray:
    """The clip without its leading and trailing silence, its peak at 0.5 (the FLEURS clips are
    stored very quietly, about -64 dBFS RMS: a recorder's gain is applied here)."""
    x = decode(path, rate)
    a, b = speech_span(x, rate)
    return x[a:b] * (0.5 / float(np.abs(x[a:b]).max()))


def two_mic_stereo(corpus: Path, out: Path, *, rate: int = SR, right_gain_db: float = 0.0,
                   bleed_db: float = -24.0) -> tuple[Path, list[tuple[int, int, str]]]:
    """Two readers, one close microphone each: left = FLEURS en_003 from 0.30 s, right = en_004
    starting 1 s before the left one ends (they overlap); each microphone also hears the other voice ``bleed_db`` lower.
    Returns the file and the reference turns [(start_ms, end_ms, "L"/"R")]."""
    a, b = trimmed(corpus / "en" / "fleurs_en_003.ogg", rate), trimmed(corpus / "en" / "fleurs_en_004.ogg", rate)
    sa = int(0.30 * rate)
    sb = sa + len(a) - rate  # the second reader starts one second before the first one ends
    n = max(sa + len(a), sb + len(b)) + rate // 2
    left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
    left[sa: sa + len(a)] += a
    right[sb: sb + len(b)] += b
    g = 10 ** (bleed_db / 20)
    mix_l, mix_r = left + g * right, right + g * left
    noise = np.random.default_rng(0).normal(0, 10 ** (-65 / 20), (2, n)).astype(np.float32)  # microphone hiss
    st = np.stack([mix_l, mix_r * 10 ** (right_gain_db / 20)]) + noise
    st /= max(1.0, float(np.abs(st).max()) / 0.9)
    ref = [(sa * 1000 // rate, (sa + len(a)) * 1000 // rate, "L"), (sb * 1000 // rate, (sb + len(b)) * 1000 // rate, "R")]
    return write(out, st, rate), ref


def formats(corpus: Path, folder: Path) -> dict[str, Path]:
    """The corpus' FLEURS clips re-encoded in the formats archives receive."""
    x = decode(corpus / "fr" / "fleurs_fr_000.ogg", 44100)
    st, _ = two_mic_stereo(corpus, folder / "_stereo.wav", rate=16000, right_gain_db=-12)
    out = {
        "wav-44k": write(folder / "entretien_44k.wav", x, 44100),
        "wav-8k-stereo": write(folder / "entretien_8k_stereo.wav", decode_channels(st), 16000, out_rate=8000),
        "mp3-stereo": write(folder / "entretien_stereo.mp3", decode_channels(st), 16000, out_rate=44100,
                            extra=["-c:a", "libmp3lame", "-b:a", "96k"]),
    }
    st.unlink()
    return out


def decode_channels(path: Path, rate: int = SR) -> np.ndarray:
    """Every channel of a stereo file: (2, n) float32."""
    out = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-ac", "2", "-ar", str(rate),
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, np.float32).reshape(-1, 2).T.copy()


def _halves(x: np.ndarray, rate: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """The clip cut in two at its quietest 200 ms in the middle third (a pause between words)."""
    f, w = rate // 100, 20
    n = len(x) // f
    db = 10 * np.log10(np.mean(x[: n * f].reshape(n, f) ** 2, axis=1) + 1e-12)
    smooth = np.convolve(db, np.ones(w) / w, mode="same")
    lo, hi = n // 3, 2 * n // 3
    cut = (lo + int(np.argmin(smooth[lo:hi]))) * f
    return x[:cut], x[cut:]


def conversation(corpus: Path, out: Path, *, rate: int = SR, gap_ms: int = 500):
    """A mono two-person conversation: reader "Ann" (FLEURS en_000) and reader "Bob" (en_002),
    each clip cut in two at a pause, alternating Ann, Bob, Ann, Bob with ``gap_ms`` between turns.
    Returns (file, reference turns [(start_ms, end_ms, name)], utterances [(name, start_ms,
    end_ms, words)] whose words are the reader's text shared between the two halves by length)."""
    readers = {"Ann": "fleurs_en_000", "Bob": "fleurs_en_002"}
    pieces = {}
    for name, clip in readers.items():
        x = trimmed(corpus / "en" / f"{clip}.ogg", rate)
        words = (corpus / "en" / f"{clip}.txt").read_text(encoding="utf-8").split()
        h1, h2 = _halves(x, rate)
        k = round(len(words) * len(h1) / len(x))
        pieces[name] = [(h1, words[:k]), (h2, words[k:])]
    order = [("Ann", 0), ("Bob", 0), ("Ann", 1), ("Bob", 1)]
    gap = np.zeros(rate * gap_ms // 1000, np.float32)
    sig, turns, utts, t = [gap], [], [], len(gap)
    for name, i in order:
        x, words = pieces[name][i]
        a, b = speech_span(x, rate)
        turns.append(((t + a) * 1000 // rate, (t + b) * 1000 // rate, name))
        utts.append((name, (t + a) * 1000 // rate, (t + b) * 1000 // rate, words))
        sig += [x, gap]
        t += len(x) + len(gap)
    mono = np.concatenate(sig) + np.random.default_rng(1).normal(0, 10 ** (-65 / 20), t).astype(np.float32)
    return write(out, mono, rate), turns, utts
