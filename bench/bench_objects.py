"""Bench (issue 14): derivatives of 12-megapixel JPEGs, images/s and peak RSS, on 2 cores.

Usage: python bench/bench_objects.py [N=50]   (the issue's target is 1,000 images at >= 5/s;
we run N, two worker processes, median of 3 runs; baseline: one plain Pillow decode+save of
the same image in the same run, so a busy machine shows in both figures).
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _one(args):
    src, out = args
    from oralhist.images import store_image

    store_image(Path(src), Path(out) / "o", Path(out) / "d")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(n: int = 50) -> None:
    from PIL import Image

    tmp = Path(tempfile.mkdtemp())
    srcs = []
    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")  # 12 MP
    for i in range(n):
        p = tmp / f"img{i}.jpg"
        Image.blend(base, Image.new("RGB", base.size, (i * 5 % 255, 90, 160)), 0.3).save(p, quality=90)
        srcs.append(p)
    t0 = time.perf_counter()
    with Image.open(srcs[0]) as im:
        im.convert("RGB").resize((1600, 1200)).save(tmp / "baseline.jpg")
    baseline = time.perf_counter() - t0
    rates, rss = [], []
    for run in range(3):
        out = tmp / f"run{run}"
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2) as ex:
            peaks = list(ex.map(_one, [(str(s), str(out)) for s in srcs]))
        rates.append(n / (time.perf_counter() - t0))
        rss.append(max(peaks) / 1024)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    page = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    print(f"{n} images of 12 MP, 2 processes: {statistics.median(rates):.1f} images/s (median of 3: "
          f"{', '.join(f'{r:.1f}' for r in rates)}), peak RSS per worker {max(rss):.0f} MB; baseline plain "
          f"decode+resize+save of one image {baseline * 1000:.0f} ms; load: {load}")
    if page:
        print(f"exhibition page {page}: {page.stat().st_size / 1024:.1f} KB before media")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
