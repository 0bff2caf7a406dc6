"""Bench (issue 14): derivatives of 12-megapixel JPEGs, images/s and peak RSS, on 2 cores.

Usage: python bench/bench_objects.py [N=50]   (the issue's target is 1,000 images at >= 5/s;
we run N through ``images.store_images`` — the code ``objects import`` runs: two spawned worker
processes, JPEG draft decoding, one decode per image — median of 3 runs. Baseline in the same
run: the same N images through the first version (full-size decode, copy+thumbnail per size,
one process), so a busy machine shows in both figures; ``uptime`` is printed with them.)
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _baseline_one(src: Path, out: Path) -> None:
    """The first version's work for one image: full decode, copy + LANCZOS thumbnail per size."""
    from PIL import Image, ImageOps

    out.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        im.load()
        base = ImageOps.exif_transpose(im).convert("RGB")
    for name, longest in (("page", 1600), ("card", 480)):
        t = base.copy()
        t.thumbnail((longest, longest), Image.Resampling.LANCZOS)
        t.save(out / f"{src.stem}-{name}.webp", "WEBP", quality=80, method=4)
        t.save(out / f"{src.stem}-{name}.jpg", "JPEG", quality=82, optimize=True, progressive=True)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(n: int = 50) -> None:
    from PIL import Image

    from oralhist.archive.images import store_images

    tmp = Path(tempfile.mkdtemp())
    srcs = []
    base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")  # 12 MP
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")  # photo-like detail for the encoders
    for i in range(n):
        p = tmp / f"img{i}.jpg"
        im = Image.blend(Image.blend(base, Image.new("RGB", base.size, (i * 5 % 255, 90, 160)), 0.3), noise, 0.2)
        ex = Image.Exif()
        ex[0x0112] = 6 if i % 2 else 1  # half of them rotated by EXIF, as camera pictures are
        im.save(p, quality=90, exif=ex.tobytes())
        srcs.append(p)
    k = min(n, 10)
    t0, c0 = time.perf_counter(), time.process_time()
    for s in srcs[:k]:
        _baseline_one(s, tmp / "baseline")
    baseline = k / (time.perf_counter() - t0)
    baseline_cpu = (time.process_time() - c0) / k
    rates, rss, cpu = [], [], []
    for run in range(3):
        out = tmp / f"run{run}"
        stats = {}
        c0 = _children_cpu()
        t0 = time.perf_counter()
        store_images(srcs, out / "o", out / "d", workers=2, stats=stats)
        rates.append(n / (time.perf_counter() - t0))
        cpu.append((_children_cpu() - c0) / n)  # CPU seconds per image, the workers' own (pool joined)
        rss.append(stats["peak_rss_mb"])
    c = statistics.median(cpu)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{n} images of 12 MP, 2 processes: {statistics.median(rates):.1f} images/s (median of 3: "
          f"{', '.join(f'{r:.1f}' for r in rates)}), peak RSS per worker {max(rss):.0f} MB; baseline (first "
          f"version, one process, {k} images) {baseline:.2f} images/s; ratio {statistics.median(rates) / baseline:.1f}x; "
          f"load: {load}; cores: {os.cpu_count()}")
    print(f"CPU per image (workers' user+sys, median of 3): {c * 1000:.0f} ms -> {2 / c:.1f} images/s on 2 idle "
          f"cores (baseline, first version: {baseline_cpu * 1000:.0f} ms CPU per image -> {2 / baseline_cpu:.1f} images/s "
          f"on 2 idle cores if it were run 2 at a time)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
