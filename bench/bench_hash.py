"""Hashing throughput: oralhist's streamed SHA-256 against `sha256sum` on the same 1 GB file.

Usage: .venv/bin/python bench/bench_hash.py [--size-mb 1024] [--runs 3] [--dir /tmp]
Both read the file from the page cache (it is read once first); runs alternate; medians.
Target (issue 2): at least 0.8 of sha256sum's speed.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oralhist.archive.ingest import sha256_file  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    a = ap.parse_args()
    path = Path(a.dir) / "oralhist-bench-hash.bin"
    try:
        with open(path, "wb") as fh:
            block = os.urandom(16 * 1024 * 1024)
            for i in range(a.size_mb // 16):
                fh.write(block[i % 7:] + block[: i % 7])  # not all blocks identical
        size = path.stat().st_size
        with open(path, "rb") as fh:  # warm the page cache for both contenders
            while fh.read(64 * 1024 * 1024):
                pass
        ours, theirs = [], []
        for _ in range(a.runs):
            t = time.perf_counter()
            d1 = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
            theirs.append(time.perf_counter() - t)
            t = time.perf_counter()
            d2 = sha256_file(path)
            ours.append(time.perf_counter() - t)
            assert d1 == d2, "digests differ"
        mo, mt = statistics.median(ours), statistics.median(theirs)
        mb = size / 1e6
        print(f"file: {mb:.0f} MB, {a.runs} runs each, alternating, page cache warm")
        print(f"sha256sum        median {mt:.3f} s  ({mb / mt:.0f} MB/s)  runs {[round(x, 3) for x in theirs]}")
        print(f"oralhist sha256  median {mo:.3f} s  ({mb / mo:.0f} MB/s)  runs {[round(x, 3) for x in ours]}")
        print(f"ratio (our speed / sha256sum speed): {mt / mo:.2f}  (target >= 0.80)")
        return 0 if mt / mo >= 0.8 else 1
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
