"""Workbench figures (issue 11): the archive page with 1,000 interviews (time to the full HTML,
bytes transferred gzip'd), and a multipart upload through POST /api/interviews over loopback
(throughput, server RSS growth). Median of 3; the baseline of the same run is a GET of a static
file (/static/common.js) for the page and a plain local file copy for the upload.

Uploads (issue 11, item 3): a 1 GB WAV sent (a) as multipart to POST /api/interviews, (b) with
the tus protocol to /api/uploads/ in 128 MB PATCHes as the import page does, then handed to
ingest with POST /api/imports (timed apart: ingest copies and hashes in the archive). Throughput is
the bytes over the time until the server answered the last byte; RSS growth is this process's
(server thread and client together; the client reads the file 1 MB at a time).

Usage: python bench/bench_workbench.py [--upload-mb 1024] [--chunk-mb 128] | --progress
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
    from oralhist.archive.workspace import init
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
    """Three rounds, each: the bare sink (baseline), multipart, tus; ratios taken within a round."""
    import base64
    import http.client
    import sys
    import uuid
    from urllib.parse import urlsplit

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_workbench import Client

    proc, base = start_server("workbench", root)
    sink_proc, sink = start_server("sink", root)
    c = Client(base)
    assert c.login("vol", "correct horse battery")[0] == 200
    pid = proc.pid
    u, su = urlsplit(base), urlsplit(sink)
    cookie = "; ".join(f"{k.name}={k.value}" for k in c.jar)
    wav = root / "big.wav"
    write_wav(wav, mb)
    size = wav.stat().st_size
    # multipart: the WAV made non-audio by its first bytes, so that ingest refuses it at once (the
    # figure is the transfer and its streaming to disk); tus: the real WAV, then ingested once
    blob = root / "big.bin"
    shutil.copyfile(wav, blob)
    with open(blob, "r+b") as f:
        f.write(b"NOTAUDIO")

    def post(host, port, method, path, headers, parts):
        conn = http.client.HTTPConnection(host, port, timeout=900)
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        for part in parts:
            if isinstance(part, bytes):
                conn.send(part)
            else:
                _send_file(conn, *part)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    auth = {"X-CSRF-Token": c.csrf, "Cookie": cookie}
    md = f"filename {base64.b64encode(b'big.wav').decode()},filetype {base64.b64encode(b'audio/wav').decode()}"
    chunk = chunk_mb * 1024 * 1024
    rows = []  # (sink s, multipart s, tus s, multipart RSS growth, tus RSS growth, load)
    ingest_s = None
    for rnd in range(3):
        t = time.perf_counter()
        st, _, _ = post(su.hostname, su.port, "POST", "/sink", {"Content-Length": str(size)}, [(wav,)])
        t_sink = time.perf_counter() - t
        (root / "sink.bin").unlink(missing_ok=True)

        b = uuid.uuid4().hex
        head = (f'--{b}\r\nContent-Disposition: form-data; name="narrator"\r\n\r\nX\r\n'
                f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="big.wav"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{b}--\r\n".encode()
        r0 = rss_mb(pid)
        t = time.perf_counter()
        st, _, body = post(u.hostname, u.port, "POST", "/api/interviews",
                           {"Content-Type": f"multipart/form-data; boundary={b}",
                            "Content-Length": str(len(head) + size + len(tail)), **auth}, [head, (blob,), tail])
        t_mp = time.perf_counter() - t
        g_mp = rss_mb(pid) - r0
        assert st == 400 and b"audio" in body, body[:200]

        r0 = rss_mb(pid)
        t = time.perf_counter()
        st, h, _ = post(u.hostname, u.port, "POST", "/api/uploads/", {"Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                                                                      "Upload-Metadata": md, "Content-Length": "0", **auth}, [])
        assert st == 201, st
        loc = urlsplit(h["location"]).path
        off = 0
        while off < size:
            n = min(chunk, size - off)
            st, h, _ = post(u.hostname, u.port, "PATCH", loc, {"Tus-Resumable": "1.0.0", "Upload-Offset": str(off),
                                                               "Content-Type": "application/offset+octet-stream",
                                                               "Content-Length": str(n), **auth}, [(wav, off, n)])
            assert st == 204, st
            off = int(h["upload-offset"])
        t_tus = time.perf_counter() - t
        g_tus = rss_mb(pid) - r0
        if rnd == 0:
            t = time.perf_counter()
            st, res = c.call("POST", "/api/imports", {"uploads": [loc.rsplit("/", 1)[1]], "narrator": "Bench", "scope": "none"})
            ingest_s = time.perf_counter() - t
            assert st == 202, res
        else:
            assert post(u.hostname, u.port, "DELETE", loc, {"Tus-Resumable": "1.0.0", **auth}, [])[0] == 204
        rows.append((t_sink, t_mp, t_tus, g_mp, g_tus, os.getloadavg()[0]))
        print(f"round {rnd + 1}: bare sink {size / 1e6 / t_sink:.0f} MB/s, multipart {size / 1e6 / t_mp:.0f} MB/s "
              f"({t_sink / t_mp:.2f} x sink), tus {size / 1e6 / t_tus:.0f} MB/s ({t_sink / t_tus:.2f} x sink); "
              f"server RSS growth multipart {g_mp:.0f} MB, tus {g_tus:.0f} MB; load {rows[-1][5]:.2f}", flush=True)
    med = lambda i: statistics.median(r[i] for r in rows)  # noqa: E731
    print(f"upload of a {mb} MB WAV over loopback, median of 3 rounds: bare uvicorn+Starlette sink {size / 1e6 / med(0):.0f} MB/s; "
          f"multipart POST /api/interviews {size / 1e6 / med(1):.0f} MB/s ({statistics.median(r[0] / r[1] for r in rows):.2f} x sink), "
          f"server RSS growth at most {max(r[3] for r in rows):.0f} MB; tus /api/uploads/ ({chunk_mb} MB PATCHes) "
          f"{size / 1e6 / med(2):.0f} MB/s ({statistics.median(r[0] / r[2] for r in rows):.2f} x sink), RSS growth at most "
          f"{max(r[4] for r in rows):.0f} MB; then POST /api/imports (ingest copies, hashes, reads back) {ingest_s:.1f} s; "
          f"load {min(r[5] for r in rows):.1f}-{max(r[5] for r in rows):.1f}")
    for p_ in (sink_proc, proc):
        p_.stdin.close()
        p_.wait()


def page_figures(root: Path) -> None:
    from test_workbench import PW, Client

    from oralhist import db
    from oralhist.records import Interview, Person
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.archive.workspace import init

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


def progress_figures(root: Path, runs: int = 3) -> None:
    """Issue 11: "job progress visible within 2 s of a stage starting". A real import (a FLEURS
    clip from tests/data/corpus) through POST /api/interviews with the real embedded runner; the
    client polls GET /api/interviews/{id} every 50 ms and notes, for each stage, when the API
    first shows it running, against the job's own started_at. The archive page asks the same
    API every second while a stage is queued or running, so what a person sees lags the API by
    at most one more second. Baseline of the same run: the time of one GET of the record."""
    import sys
    from datetime import datetime

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_workbench import Client, multipart

    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.archive.workspace import init

    clips = sorted((Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus" / "fr").glob("*.ogg"))
    lags, gets = [], []
    for r in range(runs):
        ws = init(root / f"progress-{r}", title="Bench")
        set_account(ws, "vol", "correct horse battery", role="volunteer")
        server, cfg, url, runner = start_workbench_in_thread(ws)
        try:
            c = Client(url.rstrip("/"))
            assert c.login("vol", "correct horse battery")[0] == 200
            clip = clips[r % len(clips)]
            data, ctype = multipart({"narrator": f"Bench {r}", "scope": "public"},
                                    [("files", clip.name, clip.read_bytes())])
            st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
            assert st == 202, body
            iid = body["id"]
            seen: dict = {}
            deadline = time.time() + 600
            while time.time() < deadline:
                t0 = time.perf_counter()
                one = c.call("GET", f"/api/interviews/{iid}")[1]
                gets.append(time.perf_counter() - t0)
                now = time.time()
                for j in one["jobs"]:  # the API's job summary: stage, status, progress, message
                    if j["status"] in ("running", "done") and j["stage"] not in seen:
                        seen[j["stage"]] = now
                if one["jobs"] and all(j["status"] in ("done", "failed") for j in one["jobs"]):
                    break
                time.sleep(0.05)
            from oralhist import jobs

            started = {j["stage"]: datetime.fromisoformat(j["started_at"].replace("Z", "+00:00")).timestamp()
                       for j in jobs.list_jobs(ws, [iid]) if j.get("started_at")}
            seen = {k: v - started[k] for k, v in seen.items() if k in started}
            lags += list(seen.values())
            print(f"run {r + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in seen.items()), flush=True)
        finally:
            if runner:
                runner.stop()
            server.should_exit = True
    load = os.getloadavg()[0]
    print(f"job progress: a stage shows as running in the API {statistics.median(lags):.2f} s (median of {len(lags)} "
          f"stages), at most {max(lags):.2f} s after it started; baseline one GET {statistics.median(gets) * 1000:.0f} ms; "
          f"the archive page polls every 1 s, so a person sees it within {max(lags) + 1:.2f} s; load {load:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upload-mb", type=int, default=1024, help="size of the WAV sent (0: no upload figures)")
    ap.add_argument("--no-page", action="store_true", help="upload figures only")
    ap.add_argument("--progress", action="store_true", help="only the job-progress figure (a real import, real stages)")
    ap.add_argument("--chunk-mb", type=int, default=128, help="tus PATCH size (the page sends 128 MB)")
    args = ap.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    root = Path(tempfile.mkdtemp(prefix="bench-wb-"))
    if args.progress:
        progress_figures(root)
        shutil.rmtree(root, ignore_errors=True)
        return
    if not args.no_page:
        page_figures(root)
    if args.upload_mb:
        upload_figures(root, args.upload_mb, args.chunk_mb)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
