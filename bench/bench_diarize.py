"""Diarization benchmark: DER (0.25 s collar) on every corpus clip with an .rttm and on the
stereo clip, and the real-time factor of diarization.

    .venv/bin/python bench/bench_diarize.py [--runs 3] [--corpus ../shared/corpus] [--json out.json]

DER is computed by ``oralhist.recognition.diarize.diarization_error_rate`` (tested in
tests/test_diarize.py): 10 ms grid, frames within 250 ms of a reference boundary not
scored, overlapping speech scored, one-to-one speaker mapping (Hungarian). The baseline in
the same run is "every speech frame (Silero VAD) is one speaker". The number of speakers is
found automatically (no --speakers) unless stated. RTF = diarization wall time / audio time
(decoding excluded), median of --runs runs, on this machine's cores (the load average is
printed: on a shared machine wall time includes waiting; ``cpu_s_per_audio_s`` is the CPU
time used, all threads together, per second of audio); the long-audio RTF
uses the French corpus clips concatenated (about 4 min).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oralhist.recognition.diarize import (  # noqa: E402
    SR,
    decode_16k,
    diarization_error_rate,
    diarize_signal,
    speech_regions,
)

REPO = Path(__file__).resolve().parents[1]


def rttm(path: Path):
    out = []
    for line in path.read_text().splitlines():
        t = line.split()
        out.append((round(float(t[3]) * 1000), round((float(t[3]) + float(t[4])) * 1000), t[7]))
    return out


def clips(corpus: Path):
    for r in sorted(corpus.glob("*/*.rttm")):
        audio = next(p for p in r.parent.glob(r.stem + ".*") if p.suffix in (".wav", ".mp3", ".flac", ".ogg"))
        yield audio, rttm(r), len({x[2] for x in rttm(r)})
    # The stereo clip has no .rttm: the corpus notes give its per-channel speech by energy.
    yield corpus / "en" / "fasterwhisper_stereo_diarization.wav", [(310, 4640, "ch1"), (380, 2430, "ch2")], 2


def one_speaker_baseline(mono: np.ndarray):
    return [(s * 1000 // SR, e * 1000 // SR, "x") for s, e in speech_regions(mono)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    rows = []
    # warm-up: load the voice detector and the encoder once, outside the timings
    diarize_signal(decode_16k(args.corpus / "en" / "fasterwhisper_jfk.flac"))
    for audio, ref, n_ref in clips(args.corpus):
        ch = decode_16k(audio, keep_channels=True)
        secs = ch.shape[1] / SR
        times, cpu, d = [], [], None
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            d = diarize_signal(ch)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        hyp = [(t.start_ms, t.end_ms, t.speaker) for t in d.turns]
        r = diarization_error_rate(ref, hyp)
        given = diarize_signal(ch, speakers=n_ref)
        rg = diarization_error_rate(ref, [(t.start_ms, t.end_ms, t.speaker) for t in given.turns])
        base = diarization_error_rate(ref, one_speaker_baseline(ch.mean(0)))
        rows.append({
            "clip": f"{audio.parent.name}/{audio.name}", "seconds": round(secs, 1), "ref_speakers": n_ref,
            "method": d.method, "found_speakers": d.n_speakers, "der": round(r["der"], 4),
            "miss_s": round(r["miss"], 2), "fa_s": round(r["false_alarm"], 2), "conf_s": round(r["confusion"], 2),
            "der_with_count_given": round(rg["der"], 4), "der_one_speaker_baseline": round(base["der"], 4),
            "rtf_median": round(statistics.median(times) / secs, 4),
            "cpu_s_per_audio_s": round(statistics.median(cpu) / secs, 4),
        })
        print(json.dumps(rows[-1]), flush=True)

    # Long audio for RTF: the French clips end to end (mono, voices path).
    parts = [decode_16k(p)[0] for p in sorted((args.corpus / "fr").glob("*")) if p.suffix in (".wav", ".ogg", ".mp3")]
    long = np.concatenate(parts)
    times, cpu = [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        diarize_signal(long[None, :])
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    long_row = {"clip": "fr/* concatenated", "seconds": round(len(long) / SR, 1),
                "rtf_median": round(statistics.median(times) / (len(long) / SR), 4),
                "cpu_s_per_audio_s": round(statistics.median(cpu) / (len(long) / SR), 4),
                "runs_s": [round(t, 2) for t in times], "load_avg": os.getloadavg()}
    print(json.dumps(long_row), flush=True)
    env = {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
           "numpy": np.__version__}
    print(json.dumps(env))
    if args.json:
        args.json.write_text(json.dumps({"clips": rows, "long": long_row, "env": env}, indent=1))


if __name__ == "__main__":
    main()
