"""Workbench figures (issue 11): the archive page with 1,000 interviews (time to the full HTML,
bytes transferred gzip'd), and a multipart upload through POST /api/interviews over loopback
(throughput, server RSS growth). Median of 3; the baseline of the same run is a GET of a static
file (/static/common.js) for the page and a plain local file copy for the upload.

Uploads (issue 11, item 3): a 1 GB WAV sent (a) as multipart to POST /api/interviews, (b) with
the tus protocol to /api/uploads/ in 128 MB PATCHes as the import page does, then handed to
ingest with POST /api/imports (timed apart: ingest copies and hashes in the archive). Throughput is
the bytes over the time until the server answered the last byte; RSS growth is this process's
(server thread and client together; the client reads the file 1 MB at a time).

Usage: python bench/bench_workbench.py [--upload-mb 1024] [--chunk-mb 128]
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


def rss_mb(pid="self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


SERVER = r"""
import sys, time
from pathlib import Path
mode, root = sys.argv[1], Path(sys.argv[2])
if mode == "sink":  # the baseline: the same stack (uvicorn + Starlette) writing the body to a file, nothing else
    import socket, threading, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def sink(request):
        with open(root / "sink.bin", "wb", buffering=4 * 1024 * 1024) as f:
            async for chunk in request.stream():
                f.write(chunk)
        return Response("ok")

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/sink", sink, methods=["POST"])]),
                                           log_level="warning"))
    s = socket.socket(); s.bind(("127.0.0.1", 0))
    threading.Thread(target=server.run, kwargs={"sockets": [s]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    print(f"http://127.0.0.1:{s.getsockname()[1]}/", flush=True)
else:
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.workspace import init
    ws = init(root / "up", title="Bench")
    set_account(ws, "vol", "correct horse battery", role="volunteer")
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    print(url, flush=True)
sys.stdin.read()
"""


def start_server(mode: str, root: Path):
    """(process, base url) of a server in its own process: its RSS is measured alone."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", SERVER, mode, str(root)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip().rstrip("/")


def write_wav(path: Path, mb: int) -> None:
    """A real WAV (16-bit mono 48 kHz PCM, noise) of ``mb`` MiB: ingest accepts it."""
    import struct

    data = mb * 1024 * 1024 - 44
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 48000, 96000, 2, 16)
                + b"data" + struct.pack("<I", data))
        block = os.urandom(1024 * 1024)
        left = data
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n


def _send_file(conn, path: Path, start: int = 0, length: int | None = None) -> None:
    with open(path, "rb") as f:
        f.seek(start)
        left = length if length is not None else os.path.getsize(path) - start
        while left:
            chunk = f.read(min(left, 1024 * 1024))
            conn.send(chunk)
            left -= len(chunk)


def upload_figures(root: Path, mb: int, chunk_mb: int) -> None:
    import base64
    import http.client
    import uuid
    import sys
    from urllib.parse import urlsplit

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_workbench import Client

    proc, base = start_server("workbench", root)
    sink_proc, sink = start_server("sink", root)
    c = Client(base)
    assert c.login("vol", "correct horse battery")[0] == 200
    pid = proc.pid
    u = urlsplit(base)
    cookie = "; ".join(f"{k.name}={k.value}" for k in c.jar)
    wav = root / "big.wav"
    write_wav(wav, mb)
    size = wav.stat().st_size

    t = time.perf_counter()
    shutil.copyfile(wav, root / "copy.bin")
    base_copy = size / 1e6 / (time.perf_counter() - t)
    (root / "copy.bin").unlink()
    # baseline: the same bytes POSTed to a bare uvicorn + Starlette sink in the same conditions
    su = urlsplit(sink)
    sink_times = []
    for _ in range(3):
        conn = http.client.HTTPConnection(su.hostname, su.port, timeout=600)
        conn.putrequest("POST", "/sink")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        t = time.perf_counter()
        _send_file(conn, wav)
        conn.getresponse().read()
        sink_times.append(time.perf_counter() - t)
        conn.close()
    base_sink = size / 1e6 / statistics.median(sink_times)
    (root / "sink.bin").unlink(missing_ok=True)
    sink_proc.stdin.close()
    sink_proc.wait()
    print(f"baseline: {mb} MB POSTed to a bare uvicorn + Starlette sink over loopback: {base_sink:.0f} MB/s "
          f"(median of 3); local file copy {base_copy:.0f} MB/s; load {os.getloadavg()[0]:.2f}")

    # (a) multipart, POST /api/interviews. The WAV made non-audio by its first bytes, so that ingest
    # refuses it at once: the figure is the transfer and its streaming to disk.
    blob = root / "big.bin"
    shutil.copyfile(wav, blob)
    with open(blob, "r+b") as f:
        f.write(b"NOTAUDIO")
    times, growth = [], []
    for _ in range(3):
        b = uuid.uuid4().hex
        head = (f'--{b}\r\nContent-Disposition: form-data; name="narrator"\r\n\r\nX\r\n'
                f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{b}--\r\n".encode()
        r0 = rss_mb(pid)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        conn.putrequest("POST", "/api/interviews")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={b}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("X-CSRF-Token", c.csrf)
        conn.putheader("Cookie", cookie)
        conn.endheaders()
        t = time.perf_counter()
        conn.send(head)
        _send_file(conn, blob)
        conn.send(tail)
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - t)
        growth.append(rss_mb(pid) - r0)
        conn.close()
        assert resp.status == 400 and b"audio" in body, body[:200]
    blob.unlink()
    print(f"upload {mb} MB multipart over loopback: {size / 1e6 / statistics.median(times):.0f} MB/s (median of 3: "
          f"{', '.join(f'{x:.2f}' for x in times)} s; {size / 1e6 / statistics.median(times) / base_sink:.2f} x the bare sink), "
          f"server RSS growth {max(growth):.0f} MB; load {os.getloadavg()[0]:.2f}")

    # (b) tus: create, PATCH in chunk_mb pieces (as the page), then POST /api/imports (ingest)
    def tus(method, path, headers, body_path=None, start=0, length=0):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        conn.putrequest(method, path)
        for k, v in {"Tus-Resumable": "1.0.0", "X-CSRF-Token": c.csrf, "Cookie": cookie, **headers}.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body_path is not None:
            _send_file(conn, body_path, start, length)
        r = conn.getresponse()
        r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}

    md = f"filename {base64.b64encode(b'big.wav').decode()},filetype {base64.b64encode(b'audio/wav').decode()}"
    chunk = chunk_mb * 1024 * 1024
    times, growth, ingest_times = [], [], []
    for i in range(3):
        r0 = rss_mb(pid)
        t = time.perf_counter()
        st, h = tus("POST", "/api/uploads/", {"Upload-Length": str(size), "Upload-Metadata": md, "Content-Length": "0"})
        assert st == 201, st
        loc = urlsplit(h["location"]).path
        off = 0
        while off < size:
            n = min(chunk, size - off)
            st, h = tus("PATCH", loc, {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(off),
                                       "Content-Length": str(n)}, wav, off, n)
            assert st == 204, st
            off = int(h["upload-offset"])
        times.append(time.perf_counter() - t)
        growth.append(rss_mb(pid) - r0)
        t = time.perf_counter()
        st, res = c.call("POST", "/api/imports", {"uploads": [loc.rsplit("/", 1)[1]], "narrator": f"Bench {i}",
                                                   "scope": "none"})
        ingest_times.append(time.perf_counter() - t)
        assert st in (200, 202), res  # 202 the first time; then the same bytes: a duplicate, nothing added
    print(f"upload {mb} MB WAV with tus ({chunk_mb} MB PATCHes) over loopback: {size / 1e6 / statistics.median(times):.0f} MB/s "
          f"(median of 3: {', '.join(f'{x:.2f}' for x in times)} s; "
          f"{size / 1e6 / statistics.median(times) / base_sink:.2f} x the bare sink), server RSS growth {max(growth):.0f} MB; "
          f"then POST /api/imports (ingest: copy, hash, read back) {statistics.median(ingest_times):.1f} s; "
          f"load {os.getloadavg()[0]:.2f}")
    proc.stdin.close()
    proc.wait()


def page_figures(root: Path) -> None:
    from test_workbench import PW, Client

    from oralhist import db
    from oralhist.records import Interview, Person
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.workspace import init

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

    server.should_exit = True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upload-mb", type=int, default=1024, help="size of the WAV sent (0: no upload figures)")
    ap.add_argument("--no-page", action="store_true", help="upload figures only")
    ap.add_argument("--chunk-mb", type=int, default=128, help="tus PATCH size (the page sends 128 MB)")
    args = ap.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    root = Path(tempfile.mkdtemp(prefix="bench-wb-"))
    if not args.no_page:
        page_figures(root)
    if args.upload_mb:
        upload_figures(root, args.upload_mb, args.chunk_mb)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
