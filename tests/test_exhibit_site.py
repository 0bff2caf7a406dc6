"""Done-when of issue 14: a published exhibition in Chromium, then a consent withdrawal."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path

from PIL import Image
from publish_helpers import clip_durations, make_audio, make_interview

from oralhist.editorial.consent import set_consent
from oralhist.outputs.exhibit import import_exhibition
from oralhist.outputs.objects import import_objects
from oralhist.outputs.publish import publish_site
from oralhist.editorial.vocab import import_vocab
from oralhist.archive.workspace import open_workspace

EXPO = """---
title: Gestes et outils
slug: gestes-et-outils
---
Une exposition sur les **gestes** du travail.

## Le matin
On descend au fond.
[[clip iv-a 00:01-00:04]]
[[clip iv-b 00:02-00:05]]
[[object OBJ-1]]
[[object OBJ-2]]

## Les outils
[[clip iv-c 00:01-00:03]]
[[clip iv-a 00:09-00:12]]
[[object OBJ-3]]
[[term outil]]

## Le soir
Fin de la journée.
[[clip iv-b 00:10-00:13]]
[[object OBJ-4]]
"""


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Byte ranges, as any real web server serves audio (seeking to a clip's start needs them)."""

    def send_head(self):
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        a, _, b = rng.replace("bytes=", "").partition("-")
        a, b = int(a or 0), int(b) if b else len(data) - 1
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {a}-{b}/{len(data)}")
        self.send_header("Content-Length", str(b - a + 1))
        self.end_headers()
        import io
        return io.BytesIO(data[a:b + 1])


def _serve(root: Path):
    handler = functools.partial(_RangeHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _all_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="ignore") for p in root.rglob("*") if p.is_file() and p.suffix in
                     (".html", ".json", ".xml", ".vtt", ".txt", ".js"))


def _one(site: Path, pattern: str) -> Path:
    found = sorted(site.glob(pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def _play_clips(page, n: int) -> None:
    """Play every clip player of the page: each must stop within its range (±0.3 s)."""
    audios = page.locator("audio.range")
    assert audios.count() == n
    for k in range(n):
        a = audios.nth(k).element_handle()
        start, end = float(a.get_attribute("data-start")), float(a.get_attribute("data-end"))
        err = page.evaluate("(a) => { a.muted = true; return a.play().then(() => 'ok', (e) => String(e)); }", a)
        assert err == "ok", err
        for _ in range(75):
            page.wait_for_timeout(200)
            state = page.evaluate("(a) => [a.paused, a.currentTime, a.readyState, a.error && a.error.code]", a)
            if state[0] and state[1] > 0:
                break
        assert state[0] and state[1] > 0, (k, state)
        t = page.evaluate("(a) => a.currentTime", a)
        assert start - 0.3 <= t <= end + 0.3, (k, start, end, t)
        assert t >= end - 0.3, f"clip {k} stopped early at {t}"


def test_exhibition_published_played_and_withdrawn(ws, corpus, ffmpeg, tmp_path, page):
    from axe_playwright_python.sync_playwright import Axe

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    # Objects and trades first, so that the interviews' links name them.
    folder = tmp_path / "objets"
    rows = []
    for i, col in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)], start=1):
        (folder / "img").mkdir(parents=True, exist_ok=True)
        Image.blend(Image.linear_gradient("L").resize((1200, 900)).convert("RGB"),
                    Image.new("RGB", (1200, 900), col), 0.5).save(folder / "img" / f"o{i}.jpg")
        rows.append(f"OBJ-{i};Objet {i};Lewarde;img/o{i}.jpg;Photographie de l'objet {i};fer et bois;Don X")
    (folder / "objets.csv").write_text("inventaire;designation;musee;image;alt;materiaux;credit\n" + "\n".join(rows)
                                       + "\n", encoding="utf-8")
    import_objects(ws, folder / "objets.csv")
    (tmp_path / "metiers.csv").write_text("label;broader\nmétiers de la mine;\nmineur;métiers de la mine\n"
                                          "porion;mineur\n", encoding="utf-8")
    import_vocab(ws, tmp_path / "metiers.csv", "trade")
    lk = [("object", "outil", 1000, 3000, "outil", "accepted", 1.0),
          ("object", "Objet 1 (OBJ-1)", 1000, 3500, "la lampe du fond", "accepted", 1.0),
          ("trade", "mineur", 500, 4000, "le mineur", "accepted", 1.0)]
    make_interview(ws, "iv-a", corpus=corpus, audio=audio, title="Le fond", links=lk)
    make_interview(ws, "iv-b", corpus=corpus, audio=audio, title="Le jour", narrator="Jeanne Caron",
                   texts=["zygomatique retrait unique", "deuxième passage", "troisième passage"],
                   links=[("object", "Objet 2 (OBJ-2)", 0, 2500, "zygomatique retrait", "accepted", 1.0),
                          ("trade", "mineur", 0, 2500, "zygomatique", "accepted", 1.0)])
    make_interview(ws, "iv-c", corpus=corpus, audio=audio, title="La lampe", narrator="Paul Leroy")
    (tmp_path / "expo.md").write_text(EXPO, encoding="utf-8")
    exh = import_exhibition(ws, tmp_path / "expo.md")
    assert len(exh.sections) == 3 and len(exh.clips) == 5 and len({c.interview_id for c in exh.clips}) == 3

    rep = publish_site(ws)
    assert rep.details["exhibitions"] == [] and rep.details["objects"] == []
    site = ws.site
    assert "expositions/gestes-et-outils/index.html" in (site / "index.html").read_text()
    # a local build has no sitemap (no web addresses); a web build's lists the exhibition
    assert not (site / "sitemap.xml").exists()
    toml = ws.root / "oralhist.toml"
    toml.write_text(re.sub(r'base_url = ".*"', 'base_url = "https://musee.example.org"', toml.read_text(encoding="utf-8")),
                    encoding="utf-8")
    publish_site(open_workspace(ws.root), tmp_path / "web")
    assert "https://musee.example.org/expositions/gestes-et-outils/index.html" in (tmp_path / "web" / "sitemap.xml").read_text()
    size = (site / "expositions" / "gestes-et-outils" / "index.html").stat().st_size
    print(f"exhibition page: {size} bytes before media")
    assert size < 200_000
    assert '"type": "Collection"' in (site / "expositions" / "collection.json").read_text()
    # Object pages: the record, the passages, a IIIF manifest; linked from term pages and the exhibition.
    obj1 = _one(site, "objets/*-objet-1/index.html")
    obj2 = _one(site, "objets/*-objet-2/index.html")
    h1 = obj1.read_text()
    assert "fer et bois" in h1 and "Don X" in h1 and "OBJ-1" in h1 and "Lewarde" in h1
    assert h1.count('class="range"') == 1 and "<blockquote>" in h1 and 'srcset="' in h1
    assert "zygomatique" in obj2.read_text()
    from iiif_prezi3 import Manifest

    man = json.loads((obj1.parent / "manifest.json").read_text())
    Manifest(**man)  # validates against the IIIF Presentation 3 models
    body = man["items"][0]["items"][0]["items"][0]["body"]
    assert body["type"] == "Image" and (site / body["id"].split("/", 3)[3]).is_file()
    assert man["items"][0]["width"] == 1200 and man["items"][0]["height"] == 900
    expo = (site / "expositions" / "gestes-et-outils" / "index.html").read_text()
    assert f"objets/{obj1.parent.name}/index.html" in expo
    assert f"objets/{obj1.parent.name}/index.html" in (site / "objets" / "index.html").read_text()
    assert f"objets/{obj1.parent.name}/index.html" in _one(site, "t/*-objet-1-obj-1.html").read_text()
    trade = _one(site, "t/*-mineur.html").read_text()
    assert "métiers de la mine" in trade and "porion" in trade and "Lewarde (2 objets)" in trade
    assert f"objets/{obj1.parent.name}/index.html" in trade and f"objets/{obj2.parent.name}/index.html" in trade
    assert f"https://musee.example.org/objets/{obj1.parent.name}/index.html" in (tmp_path / "web" / "sitemap.xml").read_text()
    from oralhist.outputs.publish.build import search_page_path

    assert search_page_path(site, str(obj1.relative_to(site)), rep.details["search_shards"], ws).is_file()
    httpd = _serve(site)
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/expositions/gestes-et-outils/index.html"
        page.goto(url)
        imgs = page.locator("figure.object img")
        assert imgs.count() == 4
        for k in range(4):
            img = imgs.nth(k)
            img.scroll_into_view_if_needed()
            page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=10000)
            assert img.get_attribute("alt").startswith("Photographie de l'objet")
        _play_clips(page, 5)
        res = Axe().run(page)
        assert res.violations_count == 0, res.generate_report()
        root = f"http://127.0.0.1:{httpd.server_address[1]}/"
        page.goto(root + str(obj1.relative_to(site)))  # the object page: picture, record, clip in place
        img = page.locator(".object-picture img")
        page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=10000)
        assert img.get_attribute("alt") == "Photographie de l'objet 1"
        _play_clips(page, 1)
        assert Axe().run(page).violations_count == 0
        for path in (str(_one(site, "t/*-mineur.html").relative_to(site)), "objets/index.html"):
            page.goto(root + path)
            res = Axe().run(page)
            assert res.violations_count == 0, (path, res.generate_report())
    finally:
        httpd.shutdown()

    # Consent withdrawn for iv-b: its clips and words vanish, the rest stays.
    set_consent(ws, "iv-b", scope="none")
    rep = publish_site(ws)
    assert len(rep.details["exhibitions"]) == 2
    assert all("extrait retiré : consentement modifié" in n for n in rep.details["exhibitions"])
    text = _all_text(site)
    assert "zygomatique" not in text and "iv-b" not in text and "Jeanne Caron" not in text
    assert not (site / "media" / "iv-b").exists()
    html = (site / "expositions" / "gestes-et-outils" / "index.html").read_text()
    assert html.count('class="range"') == 3 and html.count("<img") == 4 and "Les outils" in html
    # the object pages stay, without the withdrawn passage; the trade page no longer names object 2
    assert obj2.is_file() and obj2.read_text().count('class="range"') == 0
    trade = _one(site, "t/*-mineur.html").read_text()
    assert obj1.parent.name in trade and obj2.parent.name not in trade and "Lewarde (1 objet)" in trade
