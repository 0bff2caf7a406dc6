"""The public site on a phone (issue 26): publish times, home page weight, Lighthouse scores.

    (cd bench/lighthouse && npm install)          # once: Lighthouse in a bench-local node_modules
    CHROME_PATH=/usr/bin/chromium .venv/bin/python bench/bench_site.py [--interviews 1000] [--runs 3]

The archive: 3 interviews with real audio, topics and links (tests/publish_helpers.make_interview,
FLEURS clips), 1,000 generated ones (make_many), 20 objects with pictures, 3 exhibitions and a
museums file with coordinates and logos. Measured:

* a full publish (wall and CPU seconds, this process and its children: Pagefind) and an
  incremental one after one interview's title changed;
* the home page at 390 x 844 in Chromium: bytes transferred before images and with the images
  shown above the fold (nothing scrolled; lazy images below the fold are not fetched);
* Lighthouse (mobile emulation, the default) on home, interview, exhibition, object, museum, map
  and search pages: the four category scores, median of ``--runs`` runs per page.

Results go to bench/out/site.json; bench/RESULTS-site.md says what they were.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
CORPUS = REPO / "tests" / "data" / "corpus"
LH = REPO / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"


def cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def build(root: Path, n: int):
    """The archive described in the module's docstring."""
    import imageio_ffmpeg
    from PIL import Image
    from publish_helpers import clip_durations, make_audio, make_interview, make_many

    from oralhist.archive.workspace import init, open_workspace
    from oralhist.editorial.vocab import import_vocab
    from oralhist.outputs.exhibit import import_exhibition
    from oralhist.outputs.museums import import_museums
    from oralhist.outputs.objects import import_objects

    ws = init(root / "archive", title="Mémoires du travail")
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\nintro = "Mineurs, fileuses, verriers : les voix du travail en Hauts-de-France."\n'
                    'languages = ["fr", "en"]\n'), encoding="utf-8")
    ws = open_workspace(ws.root)
    audio = root / "a.mp3"
    total = make_audio(imageio_ffmpeg.get_ffmpeg_exe(), CORPUS, audio)
    (root / "img").mkdir()
    rows = []
    for i in range(20):
        col = (40 + 10 * i, 200 - 8 * i, 90)
        Image.blend(Image.linear_gradient("L").resize((1600, 1200)).convert("RGB"),
                    Image.new("RGB", (1600, 1200), col), 0.5).save(root / "img" / f"o{i}.jpg", quality=90)
        rows.append(f"OBJ-{i};Objet {i};Musée {i % 5};img/o{i}.jpg;Photographie de l'objet {i};Don")
    (root / "objets.csv").write_text("inventaire;designation;musee;image;alt;credit\n" + "\n".join(rows) + "\n",
                                     encoding="utf-8")
    import_objects(ws, root / "objets.csv")
    Image.new("RGB", (200, 200), (30, 60, 90)).save(root / "img" / "logo.png")
    (root / "musees.csv").write_text("nom;ville;latitude;longitude;logo;description\n" + "".join(
        f"Musée {i};Ville {i};{50.0 + i * 0.15:.3f};{2.0 + i * 0.3:.3f};img/logo.png;Le musée {i}.\n"
        for i in range(5)), encoding="utf-8")
    import_museums(ws, root / "musees.csv")
    (root / "metiers.csv").write_text("label\nmineur\n", encoding="utf-8")
    import_vocab(ws, root / "metiers.csv", "trade")
    durs = clip_durations(CORPUS)
    for k in range(3):
        make_interview(ws, f"real-{k}", corpus=CORPUS, audio=audio, title=f"À la fosse {k}", museum=f"Musée {k}",
                       topics=[(0, total, f"La grève de 196{k}", "", ["grève"])],
                       links=[("object", f"Objet {k} (OBJ-{k})", 500, durs[0], "l'objet", "accepted", 1.0),
                              ("trade", "mineur", 500, durs[0], "mineur", "accepted", 1.0)])
    for k in range(3):
        (root / f"expo{k}.md").write_text(
            f"---\ntitle: Exposition {k}\nslug: expo-{k}\n---\nUne exposition.\n\n## Partie\n"
            f"[[clip real-{k} 00:01-00:04]]\n[[object OBJ-{k}]]\n[[object OBJ-{k + 3}]]\n", encoding="utf-8")
        import_exhibition(ws, root / f"expo{k}.md")
    make_many(ws, n)
    return ws


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """The site's files, with HTTP range requests (206) like any web host (nginx, Apache, GitHub
    Pages, S3): without them the interview player fetches the whole recording at load to be able
    to seek (static/player.js), which is what `python -m http.server` gets, not a web host."""

    def log_message(self, *a):
        pass

    def send_head(self):
        import re

        rng = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        start = int(rng.group(1))
        end = min(int(rng.group(2)) if rng.group(2) else size - 1, size - 1)
        if start > end:
            self.send_error(416)
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._left = end - start + 1
        return f

    def copyfile(self, source, outputfile):
        left = getattr(self, "_left", None)
        if left is None:
            return super().copyfile(source, outputfile)
        while left > 0:
            chunk = source.read(min(65536, left))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)


def serve(site: Path):
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def home_weight(url: str) -> dict:
    """Bytes the home page transfers at 390 x 844, before images and with the visible ones."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium")
        ctx = b.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
        page = ctx.new_page()
        got = []
        page.on("requestfinished", lambda r: got.append((r.resource_type, r.url, r.sizes()["responseBodySize"])))
        page.goto(url + "index.html", wait_until="networkidle")
        b.close()
    other = sum(n for kind, _, n in got if kind != "image")
    images = sum(n for kind, _, n in got if kind == "image")
    return {"before_images": other, "with_visible_images": other + images,
            "requests": [(k, u.rsplit("/", 1)[-1], n) for k, u, n in got]}


AUDITS = ("total-blocking-time", "first-contentful-paint", "largest-contentful-paint", "cumulative-layout-shift",
          "speed-index", "bootup-time", "mainthread-work-breakdown")


def lighthouse(url: str, runs: int, out: Path) -> dict:
    """Lighthouse's default mobile run (its own throttling untouched), ``runs`` times; each run's
    scores beside the load average and Lighthouse's benchmarkIndex of that run (the machine is shared)."""
    scores, each = {}, []
    for _ in range(runs):
        out.unlink(missing_ok=True)
        load = os.getloadavg()[0]
        subprocess.run([str(LH), url, "--quiet", "--output=json", f"--output-path={out}",
                        "--chrome-flags=--headless=new --no-sandbox"], check=True, timeout=300,
                       env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")})
        rep = json.loads(out.read_text())
        run = {"load": round(load, 2), "benchmark_index": rep["environment"]["benchmarkIndex"]}
        for k, v in rep["categories"].items():
            scores.setdefault(k, []).append(round(v["score"] * 100))
            run[k] = round(v["score"] * 100)
        for a in AUDITS:
            run[a] = rep["audits"][a].get("numericValue")
        each.append(run)
    res = {k: {"median": statistics.median(v), "runs": v} for k, v in scores.items()}
    res["each_run"] = each
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interviews", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-lighthouse", action="store_true")
    ap.add_argument("--pages", default="", help="only these Lighthouse pages (comma-separated names)")
    ap.add_argument("--archive", default="", help="build the archive in this folder once and reuse it (kept)")
    args = ap.parse_args()
    from oralhist.archive.workspace import open_workspace
    from oralhist.outputs.publish import publish_site

    res = {"load_before": os.getloadavg(), "interviews": args.interviews}
    with tempfile.TemporaryDirectory() as d:
        root = Path(args.archive) if args.archive else Path(d)
        if args.archive and (root / "archive" / "oralhist.toml").exists():
            ws = open_workspace(root / "archive")
        else:
            root.mkdir(parents=True, exist_ok=True)
            ws = build(root, args.interviews)
        c0, t0 = cpu(), time.perf_counter()
        publish_site(ws)
        res["full_publish"] = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(cpu() - c0, 2)}
        from sqlmodel import select

        from oralhist import db
        from oralhist.records import Interview

        with db.session(ws) as s:
            iv = s.exec(select(Interview).where(Interview.id == "gen-0005")).first()
            iv.title = "Titre changé"
            s.add(iv)
            s.commit()
        c0, t0 = cpu(), time.perf_counter()
        publish_site(open_workspace(ws.root))
        res["incremental_publish"] = {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(cpu() - c0, 2)}
        site = ws.site
        httpd = serve(site)
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        try:
            res["home"] = home_weight(url)
            obj = next(site.glob("objets/*-objet-1/index.html")).relative_to(site)
            pages = {"home": "index.html", "interview": "i/real-0.html", "exhibition": "expositions/expo-0/index.html",
                     "object": str(obj), "museum": "musees/musee-0/index.html", "map": "carte/index.html",
                     "search": "search.html?q=fosse"}
            if args.pages:
                pages = {k: v for k, v in pages.items() if k in args.pages.split(",")}
            if not args.no_lighthouse:
                res["lighthouse"] = {}
                for name, path in pages.items():
                    c0, t0 = cpu(), time.perf_counter()
                    keep = REPO / "bench" / "out" / f"lighthouse-{name}.json"  # the last run's report, to read
                    keep.parent.mkdir(exist_ok=True)
                    res["lighthouse"][name] = lighthouse(url + path, args.runs, keep)
                    res["lighthouse"][name]["cpu_s"] = round(cpu() - c0, 1)
                    res["lighthouse"][name]["wall_s"] = round(time.perf_counter() - t0, 1)
                    print(name, json.dumps({k: v["median"] for k, v in res["lighthouse"][name].items()
                                            if isinstance(v, dict)}), flush=True)
                    for run in res["lighthouse"][name]["each_run"]:
                        print("   ", json.dumps(run), flush=True)
        finally:
            httpd.shutdown()
    res["load_after"] = os.getloadavg()
    (REPO / "bench" / "out").mkdir(exist_ok=True)
    (REPO / "bench" / "out" / "site.json").write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != "lighthouse"}, indent=1)[:3000])


if __name__ == "__main__":
    main()
