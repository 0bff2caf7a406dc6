"""Issue 15, items 4-6: a site that never gets stuck, no kiosk build in the public site,
no cache beside the published output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from publish_helpers import make_audio, make_interview


def test_publish_with_nothing_public_writes_a_valid_empty_site(ws, cli):
    from xml.etree import ElementTree as ET

    r = cli("publish", "--local", "--json")
    assert r.exit_code == 0, r.output
    site = ws.site
    assert (site / "index.html").is_file() and (site / "search.html").is_file()
    assert (site / ".oralhist-build.json").is_file()
    assert 'data-shards=""' in (site / "search.html").read_text(encoding="utf-8")
    root = ET.parse(site / "oai-pmh.xml").getroot()
    assert root.tag.endswith("Repository")
    assert not (site / "sitemap.xml").exists()  # --local: no web addresses, so no sitemap
    # ...and the next publish (with something public now) is not refused.
    r = cli("publish", "--local", "--json")
    assert r.exit_code == 0, r.output


def test_interrupted_first_publish_is_finished_by_the_next(ws, corpus, ffmpeg, tmp_path):
    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    for k in range(3):
        make_interview(ws, f"199{k}-temoin-{k}", corpus=corpus, audio=audio, title=f"Témoignage {k}")
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "publish", "--local", "--json"]
    killed = False
    for _ in range(5):
        if ws.site.exists():
            import shutil

            shutil.rmtree(ws.site)
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill as soon as the first build has started writing (before its final manifest).
        while p.poll() is None and not (ws.site.is_dir() and len(list(ws.site.iterdir())) >= 2):
            time.sleep(0.005)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            killed = True
            break
        p.wait()
    assert killed, "publish finished before it could be killed"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["details"]["interviews"] == 3
    assert (ws.site / "i" / "1990-temoin-0.html").is_file()


def test_kiosk_build_never_lands_in_the_public_site(ws, cli, corpus, ffmpeg, tmp_path):
    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1990-kiosque", corpus=corpus, audio=audio, scope="on-site", title="Seulement au musée")
    for out in (ws.site, ws.site / "kiosk", ws.root):
        r = cli("publish", "--on-site", "--local", "--out", str(out))
        assert r.exit_code == 2, (out, r.output)
        assert "kiosk" in r.output
    assert not (ws.site / "kiosk").exists()
    assert not any(ws.site.rglob("*.html")) if ws.site.exists() else True
    r = cli("publish", "--on-site", "--local", "--out", str(tmp_path / "kiosque"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "kiosque" / "i" / "1990-kiosque.html").is_file()


def test_cache_lives_in_the_archive_not_beside_the_output(ws, cli, corpus, ffmpeg, tmp_path):
    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1990-odette-martel", corpus=corpus, audio=audio, narrator="Odette Martel", anonymise=True)
    web = tmp_path / "www" / "site"
    for _ in range(2):
        r = cli("publish", "--local", "--out", str(web))
        assert r.exit_code == 0, r.output
    beside = [p for p in web.parent.iterdir() if p != web]
    assert beside == [], beside
    for p in web.rglob("*"):
        if p.is_file() and p.suffix in (".json", ".html", ".xml", ".vtt", ".txt", ".js"):
            assert "martel" not in p.read_text(encoding="utf-8", errors="replace").lower(), p
    caches = list((ws.root / ".oralhist-cache").glob("site-*/interviews.json"))
    assert len(caches) == 1
