"""Publishing before and after a change, in the same run (issue 10: derived text at read time).

Builds the same synthetic archive (bench/bench_publish.py's generator, seed 7) twice, once
with each code tree, then alternates the two trees' runs so both see the same machine load:
full build (empty site/), republish with nothing changed, one interview changed. Each run is
a fresh process (``python -c`` with the tree first on sys.path). Median of 3 each.

Usage: python bench/bench_publish_ab.py --baseline-tree /path/to/old/checkout [--interviews 100]
(make the old checkout with ``git worktree add --detach /tmp/base <commit>``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import os, shutil, sys, time
from pathlib import Path
tree, archive, action, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sys.path[:0] = [tree, tree + "/bench"]
import bench_publish as B
from oralhist.outputs.publish import publish_site
from oralhist.archive.workspace import open_workspace
if action == "gen":
    import subprocess, imageio_ffmpeg
    archive.parent.mkdir(parents=True, exist_ok=True)
    audio = archive.parent / "clip.mp3"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i",
                    str(B.CORPUS / "fr" / "fleurs_fr_000.ogg"), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k",
                    str(audio)], check=True)
    B.make_archive(archive, n, audio)
    print(0.0)
    raise SystemExit
ws = open_workspace(archive)
if action == "full" and ws.site.exists():
    shutil.rmtree(ws.site)
if action.startswith("inc"):
    B.touch_one(ws, int(action[3:]))
t = time.perf_counter()
publish_site(ws)
print(time.perf_counter() - t)
"""


def run(tree: str, archive: Path, action: str, n: int) -> float:
    env = dict(os.environ, ORALHIST_CORPUS=str(REPO / "tests" / "data" / "corpus"))
    out = subprocess.run([sys.executable, "-c", WORKER, tree, str(archive), action, str(n)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{tree} {action}: {out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline-tree", required=True)
    ap.add_argument("--interviews", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    trees = {"before": str(Path(args.baseline_tree).resolve()), "after": str(REPO)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-publish-ab-"))
    arch = {k: tmp / k / "archive" for k in trees}
    for k, tree in trees.items():
        run(tree, arch[k], "gen", args.interviews)
    res: dict = {(k, a): [] for k in trees for a in ("full", "noop", "inc")}
    load0 = os.getloadavg()[0]
    for r in range(args.runs):
        for k, tree in trees.items():
            res[(k, "full")].append(run(tree, arch[k], "full", args.interviews))
            print(k, "full", f"{res[(k, 'full')][-1]:.2f}", flush=True)
    for r in range(args.runs):
        for k, tree in trees.items():
            res[(k, "noop")].append(run(tree, arch[k], "noop", args.interviews))
            res[(k, "inc")].append(run(tree, arch[k], f"inc{r}", args.interviews))
            print(k, "noop/inc", f"{res[(k, 'noop')][-1]:.2f} {res[(k, 'inc')][-1]:.2f}", flush=True)
    load1 = os.getloadavg()[0]
    lines = [f"## Publishing before/after, same run (bench/bench_publish_ab.py --interviews {args.interviews}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load0:.1f} at start, "
             f"{load1:.1f} at end; 2 shared cores)", "",
             "| measure | before (baseline tree) | after | runs before | runs after |", "|---|---|---|---|---|"]
    for a, name in (("full", "full build (empty site/)"), ("noop", "republish, nothing changed"),
                    ("inc", "one interview changed")):
        b, c = res[("before", a)], res[("after", a)]
        lines.append(f"| {name} | {statistics.median(b):.2f} s | {statistics.median(c):.2f} s | "
                     f"{', '.join(f'{x:.2f}' for x in b)} | {', '.join(f'{x:.2f}' for x in c)} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
