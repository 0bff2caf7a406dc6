"""Issue 23 items 1 and 2 in headless Chromium with real keys: Alt+N lands on the next doubtful
word and plays it from one second before, Alt+P goes back, Alt+Entrée confirms (for good), the
counter « N mots douteux restants »; « remplacer partout » across two interviews with one
occurrence unticked, its play button, undo; axe-core on both pages. Real audio (FLEURS clips),
real recogniser words, a real server on a free port; one walk, one server."""

from __future__ import annotations

import re
import shutil

import pytest
from sqlmodel import select

from editdata import ASR, join_clips, make_interview
from oralhist import db
from oralhist.records import Transcript, WordCheck

IIDS = ("a-lecteurs", "b-lecteurs")


def _build(ws, audio):
    import hashlib

    from oralhist.records import Derivative

    for iid in IIDS:
        make_interview(ws, iid, narrator=f"Lectrice {iid}")
        d = ws.derived_dir(iid)
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(audio, d / "access.mp3")
        with db.session(ws) as s:
            s.add(Derivative(interview_id=iid, kind="access", path=ws.rel(d / "access.mp3"),
                             sha256=hashlib.sha256(audio.read_bytes()).hexdigest(), duration_ms=ASR["duration_ms"]))
            s.commit()


@pytest.fixture(scope="module")
def server(tmp_path_factory, prepared_archives, corpus, ffmpeg):
    from oralhist.web.server import start_in_thread

    tmp = tmp_path_factory.mktemp("doubts-web")
    audio = join_clips(corpus, tmp / "access.mp3", ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])
    ws = prepared_archives("doubts-web", lambda w: _build(w, audio), tmp)
    srv, cfg, url = start_in_thread(ws, who="Camille")
    yield url.split("?")[0], url, ws
    srv.should_exit = True
    srv._thread.join(5)


def _versions(ws, iid):
    with db.session(ws) as s:
        return sorted(s.exec(select(Transcript.version).where(Transcript.interview_id == iid)).all())


def _axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def _playing(page):
    page.wait_for_function("!document.getElementById('audio').paused && document.getElementById('audio').currentTime > 0")


def test_doubtful_words_keys_counter_and_replace_everywhere(page, server):
    base, url, ws = server
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)  # the token cookie
    page.goto(f"{base}i/{IIDS[0]}")
    page.wait_for_selector("#segments span.w")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    starts = page.eval_on_selector_all("#segments span.w.low", "els => els.map(e => parseInt(e.dataset.s))")
    assert 3 <= len(starts) < page.locator("#segments span.w").count() * 0.4
    n = len(starts)
    assert page.text_content("#doubt-count") == f"{n} mots douteux restants"
    _axe_clean(page)

    # Alt+N from the start: the first doubtful word, played from one second before
    page.locator("#segments .text").first.click()
    page.evaluate("document.getElementById('audio').currentTime = 0")
    page.keyboard.press("Alt+KeyN")
    page.wait_for_selector("#segments span.w.doubt-cur")
    assert page.eval_on_selector("span.doubt-cur", "e => parseInt(e.dataset.s)") == starts[0]
    _playing(page)
    t = page.evaluate("document.getElementById('audio').currentTime")
    assert max(0, starts[0] - 1000) / 1000 - 0.05 <= t <= starts[0] / 1000 + 1.0, (t, starts[0])
    page.keyboard.press("Alt+KeyN")
    page.wait_for_function(f"document.querySelector('span.doubt-cur').dataset.s == '{starts[1]}'")
    page.keyboard.press("Alt+KeyN")
    page.keyboard.press("Alt+KeyP")
    page.wait_for_function(f"document.querySelector('span.doubt-cur').dataset.s == '{starts[1]}'")
    # Alt+Entrée confirms the word without changing it; the counter follows (French plural)
    page.keyboard.press("Alt+Enter")
    page.wait_for_function(f"document.getElementById('doubt-count').textContent === '{n - 1} mots douteux restants'")
    assert page.locator("span.doubt-cur.low").count() == 0
    with db.session(ws) as s:
        assert len(s.exec(select(WordCheck).where(WordCheck.interview_id == IIDS[0])).all()) >= 1
    assert _versions(ws, IIDS[0]) == [1]  # confirming is not an edit
    page.reload()
    page.wait_for_selector("#segments span.w")
    assert page.locator("#segments span.w.low").count() == n - 1  # it lasts
    assert str(starts[1]) not in page.eval_on_selector_all("#segments span.w.low", "els => els.map(e => e.dataset.s)")

    # « remplacer partout » across both interviews, one occurrence unticked
    page.goto(f"{base}remplacer")
    page.fill("#find", "DE NOS")
    page.fill("#repl", "de leurs")
    page.click("#preview")
    page.wait_for_selector("#occ-list li")
    items = page.locator("#occ-list li")
    total = items.count()
    assert total >= 4 and re.match(rf"{total} occurrences dans 2 entretiens", page.text_content("#occ-summary"))
    assert "intérêts" in items.first.text_content()  # the context around it
    items.first.locator("button.play").click()
    page.wait_for_function("!document.getElementById('occ-audio').paused")
    _axe_clean(page)
    unticked_iid = items.nth(1).text_content().split(" ·")[0]
    items.nth(1).locator("input[type=checkbox]").uncheck()
    page.click("#apply")
    page.wait_for_function("document.getElementById('occ-summary').textContent.includes('remplacées')")
    assert f"{total - 1} occurrences remplacées dans 2 entretiens" in page.text_content("#occ-summary")
    assert _versions(ws, IIDS[0]) == [1, 2] and _versions(ws, IIDS[1]) == [1, 2]
    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == unticked_iid, Transcript.version == 2)).one()
        from oralhist.records import Segment

        text = " ".join(s.exec(select(Segment.text).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all())
    assert "de nos" in text and "de leurs" in text  # the unticked one left as it was
    # undo in one step
    page.click("#undo")
    page.wait_for_function("document.getElementById('occ-summary').textContent.startsWith('Remplacement annulé')")
    assert _versions(ws, IIDS[0]) == [1, 2, 3] and _versions(ws, IIDS[1]) == [1, 2, 3]
    # bad input: a French message, nothing written
    page.fill("#find", "  ;; ")
    page.click("#preview")
    page.wait_for_function("document.getElementById('status').textContent.includes('ponctuation')")
    assert _versions(ws, IIDS[0]) == [1, 2, 3]
    assert errors == []
