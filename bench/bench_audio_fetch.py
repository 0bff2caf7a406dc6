"""Audio requests on a server without byte ranges (issue 13 item 5), before and after.

    .venv/bin/python bench/bench_audio_fetch.py [--nocache]

Builds a one-interview site (a 15-minute MP3), serves it with a http.server that sends
64 KB every 30 ms (a slow link, no ranges), loads the page in Chromium, plays, clicks a word,
and counts the GETs of the audio file, for the current player and for the player of commit
fffec4f (preload="metadata", then a fetch when not seekable), plain load and a #t=20 link.
``--nocache`` turns Chromium's HTTP cache off (as DevTools' "Disable cache" does).
"""
import functools, http.server, threading, sys, shutil, tempfile, subprocess
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[1]))
from pathlib import Path
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests"))
from publish_helpers import make_audio, make_interview
from oralhist.archive.workspace import init
from oralhist.outputs.publish import publish_site
corpus = Path(__file__).resolve().parents[1] / "tests/data/corpus"
import imageio_ffmpeg
ff = imageio_ffmpeg.get_ffmpeg_exe()
d = Path(tempfile.mkdtemp())
ws = init(d / "a", title="x")
make_audio(ff, corpus, d / "a.mp3", clips=("fleurs_fr_000", "fleurs_fr_001", "fleurs_fr_003") * 20)
make_interview(ws, "iv", corpus=corpus, audio=d / "a.mp3")
publish_site(ws)
NOCACHE = "--nocache" in sys.argv
def count(site, hash=""):
    reqs = []
    class H(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            reqs.append(self.path); super().do_GET()
        def copyfile(self, src, dst):
            import time as _t
            while True:
                b = src.read(65536)
                if not b: break
                dst.write(b); _t.sleep(0.03)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--autoplay-policy=no-user-gesture-required"])
        pg = b.new_page()
        if NOCACHE:
            cdp = pg.context.new_cdp_session(pg); cdp.send("Network.enable"); cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        pg.goto(f"http://127.0.0.1:{httpd.server_address[1]}/i/iv.html{hash}")
        seekable = pg.evaluate("() => new Promise(r => setTimeout(() => { const a = document.getElementById('player'); r([a.seekable.length, a.seekable.length ? a.seekable.end(0) : 0, a.duration]); }, 1500))"); print("seekable", seekable)
        pg.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=15000)
        pg.evaluate("() => document.getElementById('player').play()")
        pg.wait_for_function("() => document.getElementById('player').currentTime > 0.3", timeout=15000)
        w = pg.locator("#seg-2 .w").nth(3); w.click()
        pg.wait_for_timeout(1500)
        b.close()
    httpd.shutdown()
    return sum(1 for r in reqs if r.endswith("audio.mp3"))
new = count(ws.site); newh = count(ws.site, "#t=20")
old_site = d / "old"; shutil.copytree(ws.site, old_site)
(old_site / "static/player.js").write_text(subprocess.run(["git", "show", "fffec4f:oralhist/outputs/publish/static/player.js"], capture_output=True, text=True, check=True).stdout)
pg = old_site / "i/iv.html"; pg.write_text(pg.read_text().replace('preload="none"', 'preload="metadata"'))
old = count(old_site); oldh = count(old_site, "#t=20")
print("audio GETs on a no-range server: before", old, oldh, "after", new, newh)
