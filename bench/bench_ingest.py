"""Ingest + normalise of a one-hour recording: wall time / audio length, and peak memory.

Usage: .venv/bin/python bench/bench_ingest.py [--format wav|mp3|ogg ...] [--runs 3] [--minutes 60]

The one-hour recording is made by concatenating the French clips of the shared corpus
(../shared/corpus/fr, resampled to 48 kHz stereo) and looping them to the length asked,
then encoded as a recorder would write it (WAV 48 kHz/16-bit stereo, MP3 128 kb/s, Ogg
Opus 32 kb/s). CPU time (user+sys of the command and its ffmpeg child) is reported beside the wall time:
on a shared machine it is the figure that does not depend on the neighbours' load.
Each run is `oralhist ingest FILE` (ingest then normalise, as a user runs
it) in a fresh archive, in a child process; its peak memory (max RSS of the largest
process, from getrusage(RUSAGE_CHILDREN)) and wall time are measured. Median of the runs.
Targets (issue 2): under 1/60 of the audio length, under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))
OH = Path(sys.executable).parent / "oralhist"
ENCODE = {
    "wav": ["-c:a", "pcm_s16le"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "ogg": ["-c:a", "libopus", "-b:a", "32k"],
    "flac": ["-c:a", "flac"],
}


def make_recording(ffmpeg: str, out: Path, minutes: float, fmt: str) -> Path:
    clips = sorted((CORPUS / "fr").glob("*.*"))
    clips = [c for c in clips if c.suffix in (".wav", ".mp3", ".flac", ".ogg")]
    round_wav = out.parent / "round.wav"
    if not round_wav.exists():
        cmd = [ffmpeg, "-nostdin", "-v", "error", "-y"]
        for c in clips:
            cmd += ["-i", str(c)]
        chains = "".join(f"[{i}:a:0]aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo[a{i}];" for i in range(len(clips)))
        graph = chains + "".join(f"[a{i}]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=0:a=1[out]"
        subprocess.run(cmd + ["-filter_complex", graph, "-map", "[out]", str(round_wav)], check=True)
    subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(round_wav),
                    "-t", str(minutes * 60), *ENCODE[fmt], str(out)], check=True)
    return out


def run_once(src: Path, work: Path) -> dict:
    ws = work / "archive"
    subprocess.run(["rm", "-rf", str(ws)], check=True)
    subprocess.run([str(OH), "init", str(ws)], check=True, capture_output=True)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = ru0.ru_maxrss
    t = time.perf_counter()
    p = subprocess.run([str(OH), "-w", str(ws), "ingest", str(src), "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = ru1.ru_maxrss
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"ingest failed: {p.stdout}\n{p.stderr}")
    out = json.loads(p.stdout)
    assert out["normalise"]["done"], out
    return {"wall": wall, "cpu": cpu, "peak_mb": peak_kb / 1024, "peak_grew": peak_kb > before}


def stage_breakdown(src: Path, work: Path) -> dict:
    ws = work / "archive"
    subprocess.run(["rm", "-rf", str(ws)], check=True)
    subprocess.run([str(OH), "init", str(ws)], check=True, capture_output=True)
    t = time.perf_counter()
    p = subprocess.run([str(OH), "-w", str(ws), "ingest", str(src), "--no-normalise", "--json"],
                       capture_output=True, text=True, check=True)
    t_ingest = time.perf_counter() - t
    iid = json.loads(p.stdout)["done"][0]
    t = time.perf_counter()
    p = subprocess.run([str(OH), "-w", str(ws), "normalise", iid, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"normalise failed: {p.stdout}\n{p.stderr}")
    t_norm = time.perf_counter() - t
    return {"ingest": t_ingest, "normalise": t_norm}


def main() -> int:
    import imageio_ffmpeg

    ap = argparse.ArgumentParser()
    ap.add_argument("--format", nargs="+", default=["wav", "mp3", "ogg"], choices=sorted(ENCODE))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    a = ap.parse_args()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    Path(a.dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="oralhist-bench-ingest-", dir=a.dir))
    ok = True
    try:
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        for fmt in a.format:
            src = make_recording(ffmpeg, work / f"one-hour.{fmt}", a.minutes, fmt)
            audio_s = a.minutes * 60
            runs = [run_once(src, work) for _ in range(a.runs)]
            walls = [r["wall"] for r in runs]
            peaks = [r["peak_mb"] for r in runs]
            med = statistics.median(walls)
            bd = stage_breakdown(src, work)
            print(f"{fmt}: {src.stat().st_size / 1e6:.0f} MB, {audio_s / 60:.0f} min of audio")
            print(f"  ingest+normalise wall: median {med:.1f} s of {a.runs} runs {[round(w, 1) for w in walls]}"
                  f" -> ratio {med / audio_s:.4f} (1/{audio_s / med:.0f}; target < 1/60 = 0.0167)")
            cpus = [r["cpu"] for r in runs]
            print(f"  CPU time (user+sys, all processes): median {statistics.median(cpus):.1f} s"
                  f" -> {statistics.median(cpus) / audio_s:.4f} of the audio length")
            print(f"  peak memory (largest process, max RSS): {max(peaks):.0f} MB (target < 300 MB)")
            print(f"  breakdown (one run): ingest {bd['ingest']:.1f} s, normalise {bd['normalise']:.1f} s")
            print(f"  load average now {os.getloadavg()[0]:.1f}")
            ok &= med / audio_s < 1 / 60 and max(peaks) < 300
            src.unlink()
    finally:
        subprocess.run(["rm", "-rf", str(work)])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
