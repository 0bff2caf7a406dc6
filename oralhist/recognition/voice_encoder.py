"""A speaker (voice) encoder run with numpy alone: Resemblyzer's GE2E model.

The weights are those shipped in the PyPI wheel ``resemblyzer==0.1.4``
(``resemblyzer/pretrained.pt``, Apache-2.0), converted once to
``oralhist/data/voice_encoder/ge2e.npz`` by ``scripts/convert_voice_encoder.py``. The
network is small (a 3-layer LSTM of 256 units over 40 mel bands, then a linear layer), so
running it with numpy on the CPU is fast enough (well under a tenth of real time) and spares
the archive a PyTorch install.

``embed_windows(wav, starts)`` gives one L2-normalised 256-d vector per 1.6 s window.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "data" / "voice_encoder" / "ge2e.npz"
SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
WINDOW_SAMPLES = PARTIAL_FRAMES * HOP
TARGET_DBFS = -30.0


def _hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """Slaney-style mel filterbank (as librosa.filters.mel with its defaults), shape (40, 201)."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, len(fft_freqs)))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Power mel spectrogram (not log), frames x 40, centred frames every 10 ms."""
    wav = np.asarray(wav, dtype=np.float32)
    pad = N_FFT // 2
    y = np.pad(wav, pad, mode="reflect") if len(wav) > pad else np.pad(wav, pad)
    n_frames = 1 + (len(y) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spec = np.abs(np.fft.rfft(y[idx] * window, axis=1)) ** 2
    return (spec.astype(np.float32) @ mel_filters().T).astype(np.float32)


def normalise_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 1e-9:
        return wav
    gain = 10 ** ((target_dbfs - 20 * np.log10(rms)) / 20)
    return (wav * gain).astype(np.float32)


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it numpy keeps its default threads
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class VoiceEncoder:
    """GE2E speaker encoder (Resemblyzer weights) evaluated with numpy."""

    def __init__(self, weights: Path = WEIGHTS):
        if not Path(weights).is_file():
            from oralhist.errors import ModelError

            raise ModelError(weights, "voice encoder weights are missing; reinstall oralhist "
                             "(or run scripts/convert_voice_encoder.py)")
        with np.load(weights) as z:
            self.layers = []
            for i in range(3):
                w_ih = z[f"lstm.weight_ih_l{i}"].T.astype(np.float32)
                w_hh = z[f"lstm.weight_hh_l{i}"].T.astype(np.float32)
                bias = (z[f"lstm.bias_ih_l{i}"] + z[f"lstm.bias_hh_l{i}"]).astype(np.float32)
                # Gates i, f, g, o. sigmoid(x) = 0.5 + 0.5 tanh(x / 2): the i, f, o columns are
                # halved once here so that ONE tanh per step serves all four gates.
                hdim = w_hh.shape[0]
                scale = np.full(4 * hdim, 0.5, np.float32)
                scale[2 * hdim : 3 * hdim] = 1.0
                self.layers.append((np.ascontiguousarray(w_ih * scale), np.ascontiguousarray(w_hh * scale), bias * scale))
            self.linear_w = z["linear.weight"].T.copy()
            self.linear_b = z["linear.bias"].copy()

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) mel windows -> (batch, 256) L2-normalised embeddings."""
        x = np.asarray(mels, dtype=np.float32)
        b, t, _ = x.shape
        for w_ih, w_hh, bias in self.layers:
            hdim = w_hh.shape[0]
            xw = (x.reshape(b * t, -1) @ w_ih + bias).reshape(b, t, 4 * hdim)
            h = np.zeros((b, hdim), np.float32)
            c = np.zeros((b, hdim), np.float32)
            out = np.empty((b, t, hdim), np.float32)
            g = np.empty((b, 4 * hdim), np.float32)
            tmp = np.empty((b, hdim), np.float32)
            for step in range(t):
                np.matmul(h, w_hh, out=g)
                g += xw[:, step]
                np.tanh(g, out=g)
                gi, gf, gg, go = g[:, :hdim], g[:, hdim : 2 * hdim], g[:, 2 * hdim : 3 * hdim], g[:, 3 * hdim :]
                # c = sigmoid(f) * c + sigmoid(i) * tanh(g), with sigmoid = 0.5 + 0.5 tanh(x/2)
                np.multiply(gf, c, out=tmp)
                c += tmp
                c *= 0.5
                np.multiply(gi, gg, out=tmp)
                tmp += gg
                tmp *= 0.5
                c += tmp
                np.tanh(c, out=h)
                np.multiply(go, h, out=tmp)
                h += tmp
                h *= 0.5
                out[:, step] = h
            x = out
        e = np.maximum(h @ self.linear_w + self.linear_b, 0)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)

    def embed_windows(self, wav: np.ndarray, starts, batch: int = 256, frames: int = PARTIAL_FRAMES) -> np.ndarray:
        """One embedding per window of ``frames`` x 10 ms starting at each sample index in ``starts``."""
        starts = np.asarray(list(starts), dtype=np.int64)
        if len(starts) == 0:
            return np.zeros((0, self.linear_w.shape[1]), np.float32)
        mel = mel_spectrogram(wav)
        need = int(starts.max() // HOP) + frames
        if mel.shape[0] < need:
            mel = np.pad(mel, ((0, need - mel.shape[0]), (0, 0)))
        frame_starts = starts // HOP
        out = []
        # The LSTM's matrices are small: one BLAS thread does them faster than several
        # (threads spin and wait at every time step, badly so on a busy machine).
        with _one_blas_thread():
            for k in range(0, len(frame_starts), batch):
                fs = frame_starts[k : k + batch]
                out.append(self.embed_mels(np.stack([mel[s : s + frames] for s in fs])))
        return np.concatenate(out)


@lru_cache(maxsize=1)
def default_encoder() -> VoiceEncoder:
    return VoiceEncoder()
