"""Home page for large archives (issue 13 item 2): what a visitor downloads, and how long a
generated archive of N interviews takes to make and publish.

    .venv/bin/python bench/bench_home.py [--interviews 1000]

Interviews are inserted directly through records.py (tests/publish_helpers.make_many: one
short segment, one trade link, no audio), so generating 1,000 takes seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interviews", type=int, default=1000)
    args = ap.parse_args()
    from publish_helpers import make_many

    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import init

    gen = []
    with tempfile.TemporaryDirectory() as d:
        for k in range(3):
            ws = init(Path(d) / f"a{k}", title="Banc d'essai")
            t0 = time.perf_counter()
            make_many(ws, args.interviews)
            gen.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        publish_site(ws)
        pub = time.perf_counter() - t0
        site = ws.site
        size = {p: os.path.getsize(site / p) for p in ("index.html", "home-data.js", "p/2.html", "static/home.js",
                                                        "static/site.css")}
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"generate {args.interviews}: median {statistics.median(gen):.2f} s of {', '.join(f'{g:.2f}' for g in gen)}")
    print(f"publish (one run): {pub:.1f} s")
    for p, n in size.items():
        print(f"{p}: {n / 1024:.1f} KB")
    print(f"home-data.js per interview: {size['home-data.js'] / args.interviews:.0f} bytes")


if __name__ == "__main__":
    main()
