"""Workbench figures (issue 11): the archive page with 1,000 interviews (time to the full HTML,
bytes transferred gzip'd), and a multipart upload through POST /api/interviews over loopback
(throughput, server RSS growth). Median of 3; the baseline of the same run is a GET of a static
file (/static/common.js) for the page and a plain local file copy for the upload.

Usage: python bench/bench_workbench.py [--upload-mb 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upload-mb", type=int, default=200)
    args = ap.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_workbench import PW, Client, multipart  # noqa: F401

    from oralhist import db
    from oralhist.records import Interview, Person
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.workspace import init

    root = Path(tempfile.mkdtemp(prefix="bench-wb-"))
    ws = init(root / "a", title="Bench")
    with db.session(ws) as s:
        for i in range(1000):
            p = Person(name=f"Narratrice {i}")
            s.add(p)
            s.flush()
            s.add(Interview(id=f"1998-narratrice-{i}", title=f"Entretien {i}", narrator_id=p.id, date="1998-06-14",
                            status="transcribed"))
        s.commit()
    set_account(ws, "admin", PW, role="admin")
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    base = url.rstrip("/")
    c = Client(base)
    c.login("admin")
    load = os.getloadavg()[0]

    def timed(path):
        req = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})
        t = time.perf_counter()
        r = c.opener.open(req)
        body = r.read()
        return time.perf_counter() - t, len(body)

    page = [timed("/") for _ in range(3)]
    static = [timed("/static/common.js") for _ in range(3)]
    print(f"archive page, 1,000 interviews: {statistics.median(t for t, _ in page):.3f} s, "
          f"{page[0][1] / 1024:.0f} KB gzip'd (baseline static file {statistics.median(t for t, _ in static) * 1000:.1f} ms); "
          f"load {load:.2f}")

    # upload: a WAV-sized blob of bytes (refused by ingest as not audio after it is all on disk: the
    # figure is the transfer and the spooling, the part that must be streamed)
    size = args.upload_mb * 1024 * 1024
    blob = root / "big.bin"
    with open(blob, "wb") as f:
        for _ in range(args.upload_mb):
            f.write(os.urandom(1024 * 1024))
    import http.client
    import uuid
    from urllib.parse import urlsplit

    u = urlsplit(base)
    times, growth = [], []
    for _ in range(3):
        b = uuid.uuid4().hex
        head = (f'--{b}\r\nContent-Disposition: form-data; name="narrator"\r\n\r\nX\r\n'
                f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{b}--\r\n".encode()
        r0 = rss_mb()
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        conn.putrequest("POST", "/api/interviews")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={b}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("X-CSRF-Token", c.csrf)
        conn.putheader("Cookie", "; ".join(f"{k.name}={k.value}" for k in c.jar))
        conn.endheaders()
        t = time.perf_counter()
        conn.send(head)
        with open(blob, "rb") as f:
            while chunk := f.read(1024 * 1024):
                conn.send(chunk)
        conn.send(tail)
        resp = conn.getresponse()
        resp.read()
        times.append(time.perf_counter() - t)
        growth.append(rss_mb() - r0)
        conn.close()
    t = time.perf_counter()
    shutil.copyfile(blob, root / "copy.bin")
    base_copy = time.perf_counter() - t
    mbps = args.upload_mb / statistics.median(times)
    print(f"upload {args.upload_mb} MB multipart over loopback: {mbps:.0f} MB/s (median of 3; status {resp.status}), "
          f"RSS growth {max(growth):.0f} MB (client and server share this process); baseline local copy "
          f"{args.upload_mb / base_copy:.0f} MB/s; load {os.getloadavg()[0]:.2f}")
    server.should_exit = True
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
