"""Issue 13 item 1: the current caption is shown in the page (an <audio> shows none), with a
toggle, also when the site is opened from files (file:// blocks the .vtt fetch)."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from publish_helpers import make_audio, make_interview


@pytest.fixture(scope="module")
def site(tmp_path_factory, corpus, ffmpeg):
    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import init

    root = tmp_path_factory.mktemp("captions")
    ws = init(root / "archive", title="Archive sous-titres")
    audio = root / "clip.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse")
    publish_site(ws)
    return ws


def test_caption_visible_while_playing_and_toggle_hides_it(site, page, corpus):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site.site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/i/1998-marcel-dupont.html")
        page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=10000)
        page.evaluate("() => document.getElementById('player').play()")
        page.wait_for_function("() => document.getElementById('player').currentTime > 0.3", timeout=10000)
        page.wait_for_function("() => document.getElementById('caption').textContent.length > 5", timeout=5000)
        assert page.is_visible("#caption")
        shown = page.inner_text("#caption")
        first_words = (corpus / "fr" / "fleurs_fr_000.txt").read_text(encoding="utf-8").split()[:3]
        assert all(w in shown for w in first_words), shown
        box = page.eval_on_selector("#caption", "e => parseFloat(getComputedStyle(e).fontSize)")
        assert box >= 20  # large and readable
        page.click("#show-captions")
        assert not page.is_visible("#caption")
        page.click("#show-captions")
        page.wait_for_function("() => document.getElementById('caption').textContent.length > 5", timeout=5000)
        page.evaluate("() => document.getElementById('player').pause()")
    finally:
        httpd.shutdown()


def test_captions_work_from_file_urls(site, page):
    page.goto((site.site / "i" / "1998-marcel-dupont.html").as_uri())
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=10000)
    # The captions track cannot load from file://, yet the page shows the caption of the moment.
    page.evaluate("() => { const a = document.getElementById('player'); a.currentTime = 1.0; }")
    page.wait_for_function("() => document.getElementById('caption').textContent.length > 5", timeout=5000)
    # the cues come from the transcript in the page: one per segment, as in captions.vtt
    cues = page.evaluate("() => document.querySelectorAll('.seg[data-e]').length")
    assert cues == 3
