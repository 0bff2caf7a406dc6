"""The editor's correction memory, listening, review progress, assignment and comments (issue 23,
items 3-5) in headless Chromium with real keys: real audio (FLEURS clips), real recogniser
words, a real server; axe-core on every page changed. One walk, one server for the file."""

from __future__ import annotations

import pytest
from sqlmodel import select

from editdata import ASR, join_clips, make_interview
from oralhist import db

A, B = "2022-lecteurs-a", "2022-lecteurs-b"
MARKUP = "<b>Roubaix</b> ou Roubé ? <img src=x onerror=alert(1)>"


def axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def _build(ws, corpus, ffmpeg):
    """Two interviews of one museum; A's correction approved (the memory learns it); B has audio."""
    import hashlib

    from oralhist.editorial.corrections import approve, get_version, old_segments, save_version
    from oralhist.recognition.align import NewSegment
    from oralhist.records import Derivative, Interview, Museum

    with db.session(ws) as s:
        m = Museum(name="Musée du textile")
        s.add(m)
        s.commit()
        mid = m.id
    for iid in (A, B):
        make_interview(ws, iid)
        with db.session(ws) as s:
            iv = s.get(Interview, iid)
            iv.museum_id = mid
            s.add(iv)
            s.commit()
    with db.session(ws) as s:
        segs = old_segments(s, get_version(s, A))
    new = [NewSegment(text=sg.text.replace("Limpic", "Olympique").replace("atlettes", "athlètes"),
                      speaker_id=sg.speaker_id) for sg in segs]
    v = save_version(ws, A, new, base_version=1, who="Camille", source="editor").version
    approve(ws, A, v, who="Camille")
    from oralhist.editorial.memory import add_pair

    add_pair(ws, "ma chade", "Mâcon", museum_id=mid, who="Camille")  # taught by hand
    d = ws.derived_dir(B)
    d.mkdir(parents=True, exist_ok=True)
    out = join_clips(corpus, d / "access.mp3", ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])
    with db.session(ws) as s:
        s.add(Derivative(interview_id=B, kind="access", path=ws.rel(out), sha256=hashlib.sha256(out.read_bytes()).hexdigest(),
                         duration_ms=ASR["duration_ms"]))
        s.commit()


@pytest.fixture(scope="module")
def server(prepared_archives, tmp_path_factory, corpus, ffmpeg):
    from oralhist.web.server import start_in_thread

    ws = prepared_archives("corrections-browser", lambda w: _build(w, corpus, ffmpeg), tmp_path_factory.mktemp("cb"))
    srv, cfg, url = start_in_thread(ws, who="Camille")
    try:
        yield url.split("?")[0], url, ws
    finally:
        srv.should_exit = True
        srv._thread.join(5)


def _poll(fn, what, timeout=20.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _texts(ws, iid):
    from oralhist.editorial.view import current_transcript
    from oralhist.records import Segment

    with db.session(ws) as s:
        tr = current_transcript(s, iid)
        return tr.version, " ".join(s.exec(select(Segment.text).where(Segment.transcript_id == tr.id)).all())


def _open(page, base, iid=B):
    page.goto(f"{base}i/{iid}")
    page.wait_for_selector("#segments span.w")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    page.wait_for_function("/\\d+ % relu/.test(document.getElementById('relu').textContent)")


def _suggestion_speed_rewind_loop(page, base, ws):
    # memory suggestions: one accepted with the keyboard, one ignored, the rest « Tout accepter »
    page.wait_for_selector("#sugg-list li.sugg")
    assert page.locator("#sugg-h").inner_text() == "Suggestions (3)"
    item = page.locator("#sugg-list li.sugg", has_text="Limpic")
    assert "mémoire du musée" in item.inner_text()
    item.locator("button.accept").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("[...document.querySelectorAll('#segments span.w')].some(s => s.textContent === 'Olympique')")
    assert page.locator("#sugg-h").inner_text() == "Suggestions (2)"
    assert _texts(ws, B)[1].count("Limpic") == 1  # nothing saved until the editor saves
    page.locator("#sugg-list li.sugg", has_text="atlettes").locator("button.dismiss").focus()
    page.keyboard.press("Enter")
    assert page.locator("#sugg-h").inner_text() == "Suggestions (1)"
    page.locator("#sugg-all").focus()
    page.keyboard.press("Enter")
    assert page.locator("#sugg-h").inner_text() == "Suggestions (0)"
    page.keyboard.press("Control+s")
    _poll(lambda: _texts(ws, B)[0] == 2, "the accepted suggestions saved as version 2")
    v, text = _texts(ws, B)
    assert "Olympique" in text and "Limpic" not in text and "à Mâcon et" in text and "ma chade" not in text
    assert "atlettes" in text  # ignored: left as it was

    # speed: pitch kept, the speed remembered for this person across a reload
    page.locator("#segments span.w").first.click()
    page.keyboard.press("Alt+u")
    page.keyboard.press("Alt+u")
    assert page.locator("#rate").inner_text() == "0.8"
    assert page.evaluate("document.getElementById('audio').preservesPitch") is True
    _open(page, base)
    assert page.locator("#rate").inner_text() == "0.8"
    assert page.evaluate("document.getElementById('audio').playbackRate") == pytest.approx(0.8)

    # rewind on pause: 2 s by default
    page.locator("#segments span.w", has_text="selon").first.click()  # plays from 7.3 s
    page.wait_for_function("!document.getElementById('audio').paused && document.getElementById('audio').currentTime > 8.5")
    t0 = page.evaluate("document.getElementById('audio').currentTime")
    page.keyboard.press("F4")  # the pedal's play/pause
    # the rewind runs in the « pause » event, a task queued after ``paused`` turns true
    page.wait_for_function(f"document.getElementById('audio').paused && document.getElementById('audio').currentTime < {t0} - 1",
                           timeout=5000)
    t1 = page.evaluate("document.getElementById('audio').currentTime")
    assert t0 - 2.6 < t1 < t0 - 1.4, (t0, t1)

    # « lecture en boucle » of the segment being heard (« de la créditation. », 20.08 s, the next at 23.96 s)
    page.evaluate("document.getElementById('audio').currentTime = 20.2")
    page.evaluate("""() => { const a = document.getElementById('audio'); window.__wrapped = false; let last = 0;
        a.addEventListener('timeupdate', () => { if (a.currentTime < last - 1) window.__wrapped = true; last = a.currentTime; }); }""")
    page.keyboard.press("Alt+b")
    assert page.locator("#loop").get_attribute("aria-pressed") == "true"
    page.wait_for_function("window.__wrapped === true", timeout=20000)
    t = page.evaluate("document.getElementById('audio').currentTime")
    assert 19.9 < t < 24.1, t
    page.keyboard.press("F9")
    assert page.locator("#loop").get_attribute("aria-pressed") == "false"
    page.keyboard.press("F4")


def _review_assign_comment(page, base, ws):
    from oralhist.records import Assignment, PassageComment, SegmentReview, Transcript

    box = page.locator("#segments .seg").first.locator("input.relu-check")
    box.focus()
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('relu').textContent.startsWith('9 % relu')")
    with db.session(ws) as s:
        assert len(s.exec(select(SegmentReview).where(SegmentReview.interview_id == B)).all()) == 1
    # marking is not editing: no unsaved change, no autosave pending
    assert page.evaluate("document.getElementById('status').textContent").startswith("Segment marqué relu")
    assert page.evaluate("""() => { const e = new Event('beforeunload', {cancelable: true});
        window.dispatchEvent(e); return e.defaultPrevented; }""") is False

    # approving with 9 % reviewed: a warning first, then approved on purpose
    page.locator("#approve").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#approve-warn:not([hidden])")
    assert "Seulement 9 %" in page.locator("#approve-warn-text").inner_text()
    with db.session(ws) as s:
        assert not s.exec(select(Transcript).where(Transcript.interview_id == B, Transcript.status == "approved")).all()
    axe_clean(page)  # the editor with its suggestions, comments and warning shown
    page.keyboard.press("Enter")  # « Approuver quand même » has the focus
    page.wait_for_function("document.getElementById('vstatus').textContent === 'approuvée'")

    # assignment, and « Mon travail »
    page.locator("#assignee").select_option("Camille")
    _poll(lambda: (lambda a: a is not None and a.assignee == "Camille")(_get(ws, Assignment, B)), "the assignment")

    # a comment on a selected passage, its markup shown as text
    page.evaluate("""() => { const sp = [...document.querySelectorAll('#segments span.w')].find(s => s.textContent.includes('Usoc'));
        const r = document.createRange(); r.selectNodeContents(sp); getSelection().removeAllRanges(); getSelection().addRange(r); }""")
    page.locator("#comment-sel").click()
    page.wait_for_selector("#comment-form:not([hidden])")
    page.keyboard.type(MARKUP)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#comment-list li.comment")
    li = page.locator("#comment-list li.comment").first
    assert MARKUP in li.inner_text() and li.locator("b, img").count() == 0
    with db.session(ws) as s:
        c = s.exec(select(PassageComment).where(PassageComment.interview_id == B)).one()
        assert c.body == MARKUP and "Usoc" in c.quote and c.start_ms >= 2720

    page.goto(f"{base}travail")
    row = page.locator("table.list tbody tr", has_text="Lecteurs FLEURS")
    assert "9 % relu" in row.inner_text() and row.locator("td").nth(2).inner_text() == "1"
    axe_clean(page)
    _fits_390(page)


def _fits_390(page):
    """The page fits a 390 px phone: nothing wider than the screen (wide tables scroll in their box)."""
    page.set_viewport_size({"width": 390, "height": 800})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def _get(ws, model, key):
    with db.session(ws) as s:
        return s.get(model, key)


def _memory_page(page, base, ws):
    from oralhist.records import CorrectionPair

    page.goto(f"{base}memoire")
    row = page.locator("#pairs tbody tr", has_text="atlettes")
    assert "athlètes" in row.inner_text() and "2022-lecteurs-a" in row.inner_text()
    limpic = page.locator("#pairs tbody tr", has_text="Limpic")
    assert "2 / 2" in limpic.inner_text()  # learned again when B was approved
    axe_clean(page)
    _fits_390(page)
    refused = page.evaluate("OH.api('POST', '/api/memory', {wrong: 'olympique', right: 'Limpic'})")
    assert refused["status"] == 400 and "boucle" in refused["body"]["error"]  # A→B, B→A: a French refusal
    row.locator("button.delete-pair").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("![...document.querySelectorAll('#pairs tbody tr')].some(r => r.textContent.includes('atlettes'))")
    with db.session(ws) as s:
        p = s.exec(select(CorrectionPair).where(CorrectionPair.wrong == "atlettes")).one()
        assert p.deleted


def test_memory_listening_review_in_the_editor(server, page):
    base, url, ws = server
    page.goto(url)  # the token cookie
    _open(page, base)
    _suggestion_speed_rewind_loop(page, base, ws)
    _review_assign_comment(page, base, ws)
    page.goto(f"{base}")
    row = page.locator("table.list tbody tr", has_text=B)
    assert "9 % relu" in row.inner_text()
    axe_clean(page)
    _memory_page(page, base, ws)
