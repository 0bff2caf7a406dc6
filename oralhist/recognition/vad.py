"""Voice detection over a stream of blocks: Silero VAD (the copy shipped with faster-whisper)
without ever holding the whole recording.

faster-whisper's ``get_speech_timestamps`` takes the whole signal as one array and copies it
three times on the way (padding, 512-sample windows, the 64-sample context of each window):
about 16 bytes of memory per sample, 9 GB for 10 hours. ``SpeechDetector`` is fed blocks of
any size and runs the same model on the same batches (10,000 windows, the recurrent state
carried from one batch to the next, the context of each window taken from the one before),
so its speech probabilities are those of the whole-array call, bit for bit; it keeps one
batch of samples (20 MB) and one probability per 32 ms (125 bytes per second of audio).
``timestamps`` then turns the probabilities into speech chunks with faster-whisper's own
rules (the code below follows ``faster_whisper.vad.get_speech_timestamps`` 1.2.1, MIT).
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import numpy as np

WINDOW = 512  # samples per Silero window (32 ms at 16 kHz)
CONTEXT = 64  # samples of the previous window the model sees
BATCH = 10000  # windows per model call (as faster-whisper's SileroVADModel)


class SpeechDetector:
    """Silero speech probability of every 512-sample window of a signal fed block by block."""

    def __init__(self):
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._tail = np.zeros(CONTEXT, np.float32)  # last samples of the previous window
        self._pending: list[np.ndarray] = []
        self._have = 0
        self._probs: list[np.ndarray] = []
        self.samples = 0

    def feed(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float32).reshape(-1)
        if not len(x):
            return
        self.samples += len(x)
        self._pending.append(x)
        self._have += len(x)
        full = BATCH * WINDOW
        while self._have >= full:
            buf = np.concatenate(self._pending)
            self._run(buf[:full])
            rest = buf[full:]
            self._pending = [rest] if len(rest) else []
            self._have = len(rest)

    def _run(self, samples: np.ndarray) -> None:
        windows = samples.reshape(-1, WINDOW)
        ctx = np.empty((len(windows), CONTEXT), np.float32)
        ctx[0] = self._tail
        ctx[1:] = windows[:-1, -CONTEXT:]
        self._tail = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([ctx, windows], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._probs.append(np.asarray(out, np.float32).reshape(-1))

    def finish(self) -> np.ndarray:
        """The probabilities of every window (the signal padded with zeros as faster-whisper pads it)."""
        rest = np.concatenate(self._pending) if self._pending else np.zeros(0, np.float32)
        self._pending, self._have = [], 0
        rest = np.pad(rest, (0, WINDOW - self.samples % WINDOW))
        for k in range(0, len(rest), BATCH * WINDOW):
            self._run(rest[k : k + BATCH * WINDOW])
        return np.concatenate(self._probs) if self._probs else np.zeros(0, np.float32)


def _blocks_of(source, block: int) -> Iterable[np.ndarray]:
    if isinstance(source, np.ndarray):
        for k in range(0, len(source), block):
            yield source[k : k + block]
    else:
        yield from source


def speech_timestamps(source: Union[np.ndarray, Iterable[np.ndarray]], options=None,
                      sampling_rate: int = 16000) -> list[dict]:
    """faster-whisper's ``get_speech_timestamps`` (same chunks, ``{"start", "end"}`` in
    samples) for a 16 kHz mono signal given whole or as an iterable of float32 blocks."""
    from faster_whisper.vad import VadOptions

    probs, samples = speech_probabilities(source)
    return timestamps(probs, samples, options or VadOptions(), sampling_rate)


def speech_probabilities(source: Union[np.ndarray, Iterable[np.ndarray]]) -> tuple[np.ndarray, int]:
    """The speech probability of every window of a signal (whole or in blocks), and its length in
    samples: one pass of the model, from which ``timestamps`` draws chunks under any rules."""
    det = SpeechDetector()
    for b in _blocks_of(source, BATCH * WINDOW):
        det.feed(b)
    return det.finish(), det.samples


# Over 80 lines on purpose: faster-whisper 1.2.1's get_speech_timestamps rules, copied unchanged so the
# chunks stay identical to its own (a rewrite would have to be proved equal again).
def timestamps(speech_probs: np.ndarray, audio_length_samples: int, vad_options,
               sampling_rate: int = 16000) -> list[dict]:
    """Speech chunks from window probabilities (faster-whisper 1.2.1's rules, unchanged)."""
    threshold = vad_options.threshold
    neg_threshold: Optional[float] = vad_options.neg_threshold
    min_speech_duration_ms = vad_options.min_speech_duration_ms
    max_speech_duration_s = vad_options.max_speech_duration_s
    min_silence_duration_ms = vad_options.min_silence_duration_ms
    window_size_samples = WINDOW
    speech_pad_ms = vad_options.speech_pad_ms
    min_speech_samples = sampling_rate * min_speech_duration_ms / 1000
    speech_pad_samples = sampling_rate * speech_pad_ms / 1000
    max_speech_samples = sampling_rate * max_speech_duration_s - window_size_samples - 2 * speech_pad_samples
    min_silence_samples = sampling_rate * min_silence_duration_ms / 1000
    min_silence_samples_at_max_speech = sampling_rate * 98 / 1000

    triggered = False
    speeches = []
    current_speech: dict = {}
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    temp_end = 0
    prev_end = next_start = 0

    # compared as numpy compares them (float32 probabilities against the thresholds)
    above = (np.asarray(speech_probs) >= threshold).tolist()
    below = (np.asarray(speech_probs) < neg_threshold).tolist()
    for i in range(len(above)):
        if above[i] and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = window_size_samples * i

        if above[i] and not triggered:
            triggered = True
            current_speech["start"] = window_size_samples * i
            continue

        if triggered and (window_size_samples * i) - current_speech["start"] > max_speech_samples:
            if prev_end:
                current_speech["end"] = prev_end
                speeches.append(current_speech)
                current_speech = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    current_speech["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current_speech["end"] = window_size_samples * i
                speeches.append(current_speech)
                current_speech = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue

        if below[i] and triggered:
            if not temp_end:
                temp_end = window_size_samples * i
            if (window_size_samples * i) - temp_end > min_silence_samples_at_max_speech:
                prev_end = temp_end
            if (window_size_samples * i) - temp_end < min_silence_samples:
                continue
            current_speech["end"] = temp_end
            if (current_speech["end"] - current_speech["start"]) > min_speech_samples:
                speeches.append(current_speech)
            current_speech = {}
            prev_end = next_start = temp_end = 0
            triggered = False
            continue

    if current_speech and (audio_length_samples - current_speech["start"]) > min_speech_samples:
        current_speech["end"] = audio_length_samples
        speeches.append(current_speech)

    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - speech_pad_samples))
        if i != len(speeches) - 1:
            silence_duration = speeches[i + 1]["start"] - speech["end"]
            if silence_duration < 2 * speech_pad_samples:
                speech["end"] += int(silence_duration // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence_duration // 2))
            else:
                speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - speech_pad_samples))
        else:
            speech["end"] = int(min(audio_length_samples, speech["end"] + speech_pad_samples))

    return speeches
