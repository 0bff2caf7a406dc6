"""Peak memory (RSS) and time of each stage on long recordings, today's code against a baseline.

    .venv/bin/python bench/bench_memory.py --baseline /tmp/oralhist-e7fbbcc [--work DIR]
        [--hours 1 3 10] [--kinds speech silence] [--stages normalise transcribe diarize]
        [--cap 120] [--jobs 2] [--json bench/results-memory.json]

``--baseline`` is a folder holding the ``oralhist`` package of the code to compare with, e.g.
``git archive e7fbbcc oralhist | tar -x -C /tmp/oralhist-e7fbbcc``.

Recordings are BUILT: "speech" is every clip of the corpus (../shared/corpus: real French and
English recordings) decoded to 16 kHz mono, joined with pauses of 0.3-1.5 s into a block of a
few minutes, looped to the length by the bundled ffmpeg (``-stream_loop``, imageio-ffmpeg);
"silence" is digital silence of the same length. Each is ingested into its own archive, and
its ``derived/asr.wav`` is put in place (the signal is already 16 kHz mono 16-bit), so the
stages after normalisation can be measured without paying for normalisation each time.

Each stage runs in its own process (``oralhist.<stage>_interviews`` with ``force=True``,
``PYTHONPATH`` = the code measured), started by a fresh helper process; its peak resident
memory is the helper's ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest of the stage's
process and its own children: ffmpeg for the listening copy), its CPU time from the same. A run still
going after ``--cap`` seconds of wall time is killed: its figure is then the peak reached so
far, marked "capped" (on a shared 2-core machine full Whisper decoding of hours of speech is
out of reach; a capped run shows whether memory stays flat while the stage works).
``--jobs`` runs that many archives at once (the runs on one archive go one after the other).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, sys, time
from pathlib import Path
from oralhist.archive.workspace import open_workspace
stage, root, iid = sys.argv[1:4]
ws = open_workspace(Path(root))
t0 = time.perf_counter()
if stage == "normalise":
    from oralhist.archive.audio import normalise_interviews as run
    rep = run(ws, [iid], force=True)
elif stage == "transcribe":
    from oralhist.recognition.transcribe import transcribe_interviews as run
    rep = run(ws, [iid], force=True, exports=False)
else:
    from oralhist.recognition.diarize import diarize_interviews as run
    rep = run(ws, [iid], force=True)
print(json.dumps({"done": rep.done, "failed": [list(f) for f in rep.failed], "stage_s": round(time.perf_counter() - t0, 1)}))
"""


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode(path: Path) -> np.ndarray:
    out = subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "16000",
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(out, np.float32)


def write_wav(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).round().astype("<i2").tobytes())


def speech_block(corpus: Path, out: Path) -> Path:
    """Every corpus clip, 16 kHz mono, joined with pauses (seeded): a few minutes of real speech."""
    rng = np.random.default_rng(21)
    clips = sorted(p for p in corpus.rglob("*") if p.suffix in (".wav", ".ogg", ".flac", ".mp3") and ".orig." not in p.name)
    parts = []
    for c in clips:
        parts.append(decode(c))
        parts.append(np.zeros(int(rng.uniform(0.3, 1.5) * 16000), np.float32))
    write_wav(out, np.concatenate(parts))
    return out


def build(kind: str, seconds: int, folder: Path, block: Path) -> Path:
    out = folder / f"{kind}-{seconds}s.wav"
    if out.is_file():
        return out
    if kind == "silence":
        src = ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
    else:
        src = ["-stream_loop", "-1", "-i", str(block)]
    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", *src, "-t", str(seconds), "-ac", "1", "-ar", "16000",
                    "-c:a", "pcm_s16le", str(out)], check=True)
    return out


def archive(src: Path, folder: Path) -> tuple[Path, str]:
    """An archive holding ``src`` as one interview, with derived/asr.wav in place."""
    from oralhist.archive.ingest import IngestMeta, ingest_paths
    from oralhist.archive.workspace import init, open_workspace

    root = folder / f"archive-{src.stem}"
    ws = open_workspace(root) if root.is_dir() else init(root, title="bench")
    iid = f"2026-{src.stem}"
    if not ws.derived_dir(iid).joinpath("asr.wav").is_file():
        rep = ingest_paths(ws, [src], IngestMeta(interview=iid, narrator="Bench"))
        assert rep.done == [iid], (rep.done, rep.failed)
        d = ws.derived_dir(iid)
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, d / "asr.wav")
    return root, iid


def measure(code: Path, stage: str, root: Path, iid: str, cap: float, limit_gb: float = 0) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}

    def limit():  # a safety net for the baseline on a shared machine (address space, not RSS)
        if limit_gb:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30), int(limit_gb * 2**30)))

    t0 = time.perf_counter()
    # cwd = the code measured: ``python -c`` puts the working folder first on sys.path
    proc = subprocess.Popen([sys.executable, "-c", CHILD, stage, str(root), iid], env=env, cwd=str(code),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=limit)
    capped = False
    try:
        out, err = proc.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        capped = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    # Popen already reaped the child: its rusage is folded into RUSAGE_CHILDREN; read it per
    # child by running each measurement in a fresh helper process (see run_one).
    return {"wall_s": round(wall, 1), "capped": capped, "out": (out or "").strip()[-400:], "err": (err or "")[-400:]}


def run_one(args_json: str) -> dict:
    """One measurement in a fresh helper process, so that RUSAGE_CHILDREN is this stage's alone."""
    p = subprocess.run([sys.executable, __file__, "--_one", args_json], capture_output=True, text=True)
    try:
        r = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        r = {**json.loads(args_json), "error": p.stderr[-1000:]}
    print("RUN", json.dumps(r), flush=True)  # as each run ends (a long bench can be read while it runs)
    return r


def _one(spec: dict) -> None:
    import resource

    r = measure(Path(spec["code"]), spec["stage"], Path(spec["root"]), spec["iid"], spec["cap"], spec.get("limit_gb", 0))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    r.update(spec, peak_rss_mb=round(ru.ru_maxrss / 1024, 1), cpu_s=round(ru.ru_utime + ru.ru_stime, 1))
    try:
        child = json.loads(r["out"].splitlines()[-1])
        r["done"] = bool(child.get("done"))
        r["stage_s"] = child.get("stage_s")
        r["failed"] = child.get("failed")
    except (IndexError, ValueError):
        r["done"] = False
    r.pop("out", None)
    if r["done"] or r["capped"]:
        r.pop("err", None)
    print(json.dumps(r))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--_one":
        _one(json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", type=Path, help="folder holding the baseline's oralhist package")
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus") if not (REPO.parent / "shared").is_dir()
                    else REPO.parent / "shared" / "corpus")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "oralhist-bench-memory")
    ap.add_argument("--minutes", type=float, nargs="+", default=[60, 180, 600])
    ap.add_argument("--kinds", nargs="+", default=["speech", "silence"])
    ap.add_argument("--stages", nargs="+", default=["normalise", "transcribe", "diarize"])
    ap.add_argument("--codes", nargs="+", default=["new", "baseline"], help="which code to measure")
    ap.add_argument("--baseline-max-minutes", type=float, default=180.0,
                    help="longest recording the baseline runs on (it needs about 1 GB per hour and stage)")
    ap.add_argument("--cap", type=float, default=120.0, help="wall seconds after which a run is killed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip", nargs="*", default=[], help="runs not to do, as code:stage:kind:minutes")
    ap.add_argument("--baseline-limit-gb", type=float, default=8.0,
                    help="address-space limit of baseline runs (a run over it fails and is reported so)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    block = args.work / "speech-block.wav"
    if not block.is_file():
        speech_block(args.corpus, block)
    with wave.open(str(block)) as w:
        block_s = w.getnframes() / 16000
    codes = {"new": REPO, "baseline": args.baseline}
    specs = []
    for kind in args.kinds:
        for minutes in args.minutes:
            src = build(kind, int(minutes * 60), args.work, block)
            root, iid = archive(src, args.work)
            for stage in args.stages:
                for name in args.codes:
                    if name == "baseline" and (args.baseline is None or stage == "normalise"
                                               or minutes > args.baseline_max_minutes):
                        continue  # normalisation was already streaming: one code, measured once
                    if f"{name}:{stage}:{kind}:{minutes:g}" in args.skip:
                        continue
                    specs.append({"kind": kind, "minutes": minutes, "stage": stage, "code_name": name,
                                  "code": str(codes[name]), "root": str(root), "iid": iid, "cap": args.cap,
                                  "limit_gb": args.baseline_limit_gb if name == "baseline" else 0})
    load_before = os.getloadavg()
    t0 = time.time()
    # Runs on one archive one after the other (they share its database); archives in parallel.
    groups: dict[str, list[dict]] = {}
    for sp in specs:
        groups.setdefault(sp["root"], []).append(sp)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        done = list(pool.map(lambda g: [run_one(json.dumps(sp)) for sp in g], groups.values()))
    results = [r for g in done for r in g]
    for r in results:
        print(json.dumps({k: r.get(k) for k in ("kind", "minutes", "stage", "code_name", "peak_rss_mb", "cpu_s",
                                                "wall_s", "stage_s", "capped", "done", "error", "err")}))
    report = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_before": load_before,
              "load_after": os.getloadavg(), "wall_s": round(time.time() - t0), "speech_block_s": round(block_s, 1),
              "cap_s": args.cap, "jobs": args.jobs, "results": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
