"""The published site in headless Chromium, served on 127.0.0.1 by Python's http.server."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from publish_helpers import clip_durations, make_audio, make_interview

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def served(tmp_path_factory, corpus, ffmpeg):
    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import init

    root = tmp_path_factory.mktemp("browser")
    ws = init(root / "archive", title="Archive navigateur")
    # Split the search index in two, as large archives do, so the browser merges shards.
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[site]\n", "[site]\nsearch_shards = 3\n"), encoding="utf-8")
    from oralhist.archive.workspace import open_workspace

    ws = open_workspace(ws.root)
    assert ws.settings.raw["site"]["search_shards"] == 3
    audio = root / "clip.mp3"
    make_audio(ffmpeg, corpus, audio)
    durs = clip_durations(corpus)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, durs[0], "L'accident", "", []), (durs[0], sum(durs), "Le comité", "", [])],
                   links=[("trade", "Mineur", 500, 3000, "terrain montagneux", "accepted", 1.0)])
    make_interview(ws, "2001-xss", corpus=corpus, audio=audio, title=XSS, narrator=XSS, museum="Musée du textile",
                   date="1975", texts=[f"bonjour {XSS}", "deuxième", "troisième"])
    publish_site(ws)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ws.site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "durs": durs, "ws": ws}
    httpd.shutdown()


def _no_dialogs(page):
    seen = []
    page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


def _wait_time(page, target, tol=0.6):
    page.wait_for_function(
        f"() => {{ const a = document.getElementById('player'); return a && Math.abs(a.currentTime - {target}) < {tol}; }}",
        timeout=10000)


def test_interview_page_plays_and_shows_subtitles(served, page):
    dialogs = _no_dialogs(page)
    page.goto(f"{served['url']}/i/1998-marcel-dupont.html")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=10000)
    # Subtitles: the captions track (not downloaded until asked: the page draws captions from
    # its transcript) parses in Chromium and holds one cue per segment.
    page.evaluate("() => { [...document.getElementById('player').textTracks].find(t => t.kind === 'captions').mode = 'showing'; }")
    page.wait_for_function(
        "() => { const t = [...document.getElementById('player').textTracks].find(t => t.kind === 'captions');"
        " return t && t.mode === 'showing' && t.cues && t.cues.length === 3; }", timeout=10000)
    first = page.evaluate("() => [...document.getElementById('player').textTracks].find(t => t.kind === 'captions').cues[0].text")
    assert "accident" in first
    chapters = page.evaluate("() => { const t = [...document.getElementById('player').textTracks].find(t => t.kind === 'chapters');"
                             " t.mode = 'hidden'; return t.kind; }")
    assert chapters == "chapters"
    # It plays: time moves forward.
    page.evaluate("() => document.getElementById('player').play()")
    page.wait_for_function("() => document.getElementById('player').currentTime > 0.5", timeout=10000)
    page.wait_for_function("() => document.querySelector('.w.cur') !== null", timeout=5000)
    page.evaluate("() => document.getElementById('player').pause()")
    assert not dialogs


def test_word_click_seeks_and_highlights(served, page):
    page.goto(f"{served['url']}/i/1998-marcel-dupont.html")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=10000)
    word = page.locator("#seg-2 .w").nth(5)
    t = int(word.get_attribute("data-t")) / 1000
    assert t > served["durs"][0] / 1000 + 5
    word.click()
    _wait_time(page, t, tol=1.0)
    page.evaluate("() => document.getElementById('player').pause()")
    assert page.evaluate("() => document.querySelector('#seg-2').classList.contains('cur')")


def test_deep_link_lands_at_the_moment(served, page):
    page.goto(f"{served['url']}/i/1998-marcel-dupont.html#t=20")
    _wait_time(page, 20)


def test_search_finds_a_word_and_lands_at_its_moment(served, page):
    page.goto(f"{served['url']}/search.html?q=rugissement")
    link = page.locator("#results a.moment").first
    link.wait_for(timeout=15000)
    href = link.get_attribute("href")
    assert "i/1998-marcel-dupont.html#t=" in href
    link.click()
    page.wait_for_url("**/i/1998-marcel-dupont.html#t=*")
    seg_start = (served["durs"][0] + served["durs"][1]) / 1000
    _wait_time(page, seg_start, tol=0.8)


def test_keyboard_reaches_the_player_and_times(served, page):
    page.goto(f"{served['url']}/i/1998-marcel-dupont.html")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1", timeout=10000)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('#seg-1 a.ts')"):
            break
    else:
        pytest.fail("the segment's time link is not reachable with the keyboard")
    page.keyboard.press("Enter")
    _wait_time(page, served["durs"][0] / 1000, tol=0.8)
    page.evaluate("() => document.getElementById('player').pause()")
    labels = page.evaluate("() => [...document.querySelectorAll('input, select')].every(e => e.labels && e.labels.length)")
    assert labels


def test_home_filters_and_xss_page(served, page):
    dialogs = _no_dialogs(page)
    page.goto(f"{served['url']}/temoignages.html")
    assert page.locator("#cards .card:not([hidden])").count() == 2
    page.select_option("select[data-filter=museum]", "Musée du textile")
    assert page.locator("#cards .card:not([hidden])").count() == 1
    page.select_option("select[data-filter=decade]", "1990")
    assert page.locator("#cards .card:not([hidden])").count() == 0
    page.goto(f"{served['url']}/i/2001-xss.html")
    assert page.locator("h1").inner_text() == XSS
    page.goto(f"{served['url']}/search.html?q=bonjour")
    page.locator("#results a").first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    assert not dialogs
    assert page.evaluate("() => document.querySelectorAll('#results img, #results script').length") == 0
