"""The web editor driven in headless Chromium: real audio (FLEURS clips through the bundled
ffmpeg), real recogniser words, a real uvicorn server on a free port."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest
from sqlmodel import select

from editdata import ASR, join_clips, make_interview
from oralhist import db
from oralhist.records import Revision, Segment, Transcript, Word

IID = "2022-lecteurs-fleurs"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture()
def page(browser):
    """Like conftest's page, with the editor's Content-Security-Policy bypassed: Playwright's
    polling needs eval, and the XSS test must prove that escaping alone keeps markup inert."""
    ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def access_audio(tmp_path_factory, corpus, ffmpeg):
    """The listening copy (MP3, as `normalise` writes it), made once from the corpus clips."""
    out = tmp_path_factory.mktemp("audio") / "access.mp3"
    return join_clips(corpus, out, ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])


def _with_audio(ws, iid, audio):
    import hashlib

    from oralhist.records import Derivative

    d = ws.derived_dir(iid)
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(audio, d / "access.mp3")
    with db.session(ws) as s:
        s.add(Derivative(interview_id=iid, kind="access", path=ws.rel(d / "access.mp3"),
                         sha256=hashlib.sha256(audio.read_bytes()).hexdigest(), duration_ms=ASR["duration_ms"]))
        s.commit()


@pytest.fixture()
def editor(ws, access_audio):
    """(base url, token url, ws) of a running editor on an archive with one interview."""
    from oralhist.web.server import start_in_thread

    make_interview(ws, IID)
    _with_audio(ws, IID, access_audio)
    server, cfg, url = start_in_thread(ws, who="Camille")
    base = url.split("?")[0]
    yield base, url, ws
    server.should_exit = True
    server._thread.join(5)


def open_editor(page, editor, iid=IID):
    base, url, _ = editor
    page.goto(url)  # sets the token cookie
    page.goto(f"{base}i/{iid}")
    page.wait_for_selector("#segments span.w")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    return base


def _word_span(page, text):
    return page.locator("#segments span.w", has_text=text).first


def _versions(ws, iid=IID):
    with db.session(ws) as s:
        return s.exec(select(Transcript).where(Transcript.interview_id == iid).order_by(Transcript.version)).all()


def _words(ws, version, iid=IID):
    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == iid, Transcript.version == version)).one()
        return [(w.start_ms, w.end_ms, w.text) for w in s.exec(select(Word).where(Word.transcript_id == tr.id).order_by(Word.idx))]


def _replace_word(page, old, new):
    """Select a word's text inside the editable segment and type over it, like a person."""
    span = _word_span(page, old)
    span.click()
    page.evaluate(
        """(old) => { const sp = [...document.querySelectorAll('#segments span.w')].find(s => s.textContent === old);
        const r = document.createRange(); r.selectNodeContents(sp); const sel = getSelection();
        sel.removeAllRanges(); sel.addRange(r); }""",
        old,
    )
    page.keyboard.type(new)


def test_click_a_word_plays_from_it_and_highlights(page, editor):
    open_editor(page, editor)
    seg = ASR["segments"][2]
    start = next(w[0] for w in seg["words"] if w[2].strip() == "Cela")
    _word_span(page, "Cela").click()
    page.wait_for_function("!document.getElementById('audio').paused")
    t = page.evaluate("document.getElementById('audio').currentTime")
    assert start / 1000 - 0.05 <= t <= start / 1000 + 1.5
    page.wait_for_selector("#segments span.w.cur")
    cur = page.eval_on_selector("#segments span.w.cur", "e => parseInt(e.dataset.s)")
    assert cur >= start
    # low-confidence words are marked
    assert page.locator("#segments span.w.low").count() > 0


def test_correct_a_word_save_reload(page, editor):
    base = open_editor(page, editor)
    ws = editor[2]
    _replace_word(page, "atlettes", "athlètes")
    page.keyboard.press("Control+s")
    page.wait_for_function("document.getElementById('status').textContent.includes('version 2')")
    page.reload()
    page.wait_for_selector("#segments span.w")
    assert "athlètes" in page.inner_text("#segments")
    assert "atlettes" not in page.inner_text("#segments")
    assert page.inner_text("#version") == "v2"
    vs = _versions(ws)
    assert [(v.version, v.status.value, v.source, v.created_by) for v in vs] == [
        (1, "machine", "machine", None), (2, "corrected", "editor", "Camille")]
    assert vs[1].parent_id == vs[0].id
    before, after = _words(ws, 1), _words(ws, 2)
    untouched = [w for w in before if w[2].strip() != "atlettes"]
    assert set(untouched) <= set(after), "unchanged words keep their exact times"
    old = next(w for w in before if w[2].strip() == "atlettes")
    new = next(w for w in after if w[2].strip() == "athlètes")
    assert new[:2] == old[:2]
    with db.session(ws) as s:
        rev = s.exec(select(Revision).where(Revision.kind == "transcript")).one()
        assert rev.who == "Camille" and rev.after["changed"] == 1 and rev.before["version"] == 1
    # the history page shows the version, who, and the diff
    page.goto(f"{base}i/{IID}/history?diff=2")
    assert "Camille" in page.inner_text("table.versions")
    assert page.inner_text(".diff del") == "atlettes" and page.inner_text(".diff ins") == "athlètes"


def test_autosave_split_and_speaker_change(page, editor):
    open_editor(page, editor)
    ws = editor[2]
    # caret just before "Cela" in segment 3, then "Couper au curseur"
    page.evaluate(
        """() => { const sp = [...document.querySelectorAll('#segments span.w')].find(s => s.textContent === 'Cela');
        sp.parentElement.focus(); const r = document.createRange(); r.setStart(sp.firstChild, 0); r.collapse(true);
        const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); }"""
    )
    page.locator(".seg").nth(2).locator("button.split").click()
    assert page.locator(".seg").count() == len(ASR["segments"]) + 1
    # the new segment (index 3) is said by the interviewer
    page.locator(".seg").nth(3).locator("select.speaker").select_option(label="Enquêteur (enquêteur)")
    # autosave (no click on Enregistrer)
    page.wait_for_function("document.getElementById('status').textContent.includes('version 2')", timeout=15000)
    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.version == 2)).one()
        segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
        from oralhist.records import Speaker

        interviewer = s.exec(select(Speaker).where(Speaker.label == "SPEAKER_2")).one()
    cela = next(w for w in ASR["segments"][2]["words"] if w[2].strip() == "Cela")
    assert len(segs) == len(ASR["segments"]) + 1
    assert segs[3].text.startswith("Cela") and segs[3].start_ms == cela[0]
    assert segs[3].speaker_id == interviewer.id
    assert segs[2].text.endswith("servi.") and segs[2].end_ms <= cela[0]
    assert _words(ws, 1) == _words(ws, 2), "a split moves no word"
    # merge them back
    page.locator(".seg").nth(2).locator("button.merge").click()
    page.locator("#save").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('version 3')")
    assert len(_versions(ws)) == 3


def test_conflict_between_two_tabs(browser, editor):
    base, url, ws = editor
    # two browser windows (two editors, or two tabs brought to the front in turn)
    ctxs = [browser.new_context(locale="fr-FR", bypass_csp=True) for _ in range(2)]
    try:
        a, b = ctxs[0].new_page(), ctxs[1].new_page()
        for p in (a, b):
            p.goto(url)
            p.goto(f"{base}i/{IID}")
            p.wait_for_selector("#segments span.w")
            p.uncheck("#autosave")
        _replace_word(a, "atlettes", "athlètes")
        a.click("#save")
        a.wait_for_function("document.getElementById('status').textContent.includes('version 2')")
        _replace_word(b, "créditation.", "accréditation.")
        b.click("#save")
        b.wait_for_function("document.getElementById('status').textContent.includes('Conflit')")
        assert "v2" in b.inner_text("#status") and "Rien n’a été écrasé" in b.inner_text("#status")
        assert b.locator("#reload").is_visible()
        vs = _versions(ws)
        assert [v.version for v in vs] == [1, 2]
        texts = " ".join(w[2] for w in _words(ws, 2))
        assert "athlètes" in texts and "accréditation" not in texts
        # after reloading, B sees A's correction and can save its own
        b.click("#reload")
        b.wait_for_selector("#segments span.w")
        assert "athlètes" in b.inner_text("#segments")
    finally:
        for c in ctxs:
            c.close()


def test_keyboard_shortcuts(page, editor):
    open_editor(page, editor)
    audio = "document.getElementById('audio')"
    page.keyboard.press("Escape")
    page.wait_for_function(f"!{audio}.paused")
    page.keyboard.press("Escape")
    page.wait_for_function(f"{audio}.paused")
    page.keyboard.press("Control+Space")
    page.wait_for_function(f"!{audio}.paused")
    # the rewind on pause runs in the « pause » event, queued after ``paused`` turns true: wait for
    # it (this listener comes after the editor's) before placing the audio
    page.evaluate(f"window.__paused = false; {audio}.addEventListener('pause', () => {{ window.__paused = true; }}, {{once: true}})")
    page.keyboard.press("Control+Space")
    page.wait_for_function(f"{audio}.paused && window.__paused")
    page.evaluate(f"{audio}.currentTime = 20")
    page.keyboard.press("Alt+j")  # Ctrl+arrows are left to the text (test_editor_fixes.py)
    assert abs(page.evaluate(f"{audio}.currentTime") - 15) < 0.3
    page.keyboard.press("Alt+i")
    page.keyboard.press("Alt+i")
    assert page.evaluate(f"{audio}.playbackRate") == pytest.approx(1.2)
    page.keyboard.press("Alt+u")
    page.keyboard.press("Alt+u")
    page.keyboard.press("Alt+u")
    assert page.evaluate(f"{audio}.playbackRate") == pytest.approx(0.9)
    assert page.inner_text("#rate") == "0.9"
    # also while typing in a segment
    _word_span(page, "Cela").click()
    page.keyboard.press("Escape")
    page.wait_for_function(f"{audio}.paused")
    # the shortcuts are documented on the page
    help_text = page.inner_text("details.help")
    for key in ("Échap", "Ctrl", "Espace", "5 s", "plus vite"):
        assert key in help_text


def test_xss_in_transcript_and_metadata_is_shown_as_text(page, ws, access_audio):
    from oralhist.web.server import start_in_thread
    from oralhist.records import Link, Speaker, Term, TermKind, TopicSegment

    iid = make_interview(ws, "2022-xss", title=XSS, narrator=XSS, text_override={0: XSS + " Nous sommes"})
    with db.session(ws) as s:
        tr = s.exec(select(Transcript)).one()
        seg = s.exec(select(Segment).where(Segment.transcript_id == tr.id, Segment.idx == 0)).one()
        w = s.exec(select(Word).where(Word.segment_id == seg.id).order_by(Word.idx)).first()
        w.text = XSS  # a recognised "word" carrying markup
        s.add(w)
        sp = s.exec(select(Speaker).where(Speaker.label == "SPEAKER_2")).one()
        sp.name = XSS
        s.add(sp)
        term = Term(kind=TermKind.trade, label=XSS)
        s.add(term)
        s.flush()
        s.add(Link(interview_id=iid, term_id=term.id, start_ms=2720, end_ms=4000, quote=XSS))
        s.add(TopicSegment(interview_id=iid, start_ms=0, end_ms=20000, title=XSS, synopsis=XSS, keywords=[XSS]))
        s.commit()
    _with_audio(ws, iid, access_audio)
    server, cfg, url = start_in_thread(ws)
    base = url.split("?")[0]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(url)
        assert XSS in page.inner_text("table.list")
        for path in ("", "/index", "/links", "/speakers", "/history"):
            page.goto(f"{base}i/{iid}{path}")
            if not path:
                page.wait_for_selector("#segments span.w")
                assert XSS in page.inner_text("#segments")
                assert XSS in page.inner_text("h1")
                opts = page.locator("select.speaker").first.inner_text()
                assert XSS in opts
            page.wait_for_timeout(100)
            assert page.evaluate("window.__xss") is None, path
            assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
        page.goto(f"{base}i/{iid}/index")
        assert page.input_value("fieldset.topic .title") == XSS
        assert page.input_value("fieldset.topic .synopsis") == XSS
        assert not dialogs
    finally:
        server.should_exit = True


def test_token_is_required(editor):
    base, url, _ = editor
    token = url.split("token=")[1]
    for u in (base, f"{base}i/{IID}", f"{base}api/i/{IID}/transcript", f"{base}audio/{IID}", f"{base}static/editor.js",
              f"{base}?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(u)
        assert exc.value.code == 403, u
    # with the token: redirected, cookie set, pages served
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    r = opener.open(url)
    assert r.status == 200 and "token" not in r.url
    assert [c.name for c in jar] == ["oralhist_token"]
    assert json.loads(opener.open(f"{base}api/i/{IID}/transcript").read())["version"] == 1
    # a write without the editor's header (e.g. a cross-site form) is refused
    req = urllib.request.Request(f"{base}api/i/{IID}/approve", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        opener.open(req)
    assert exc.value.code == 403
    r = opener.open(f"{base}i/{IID}")
    assert token not in r.read().decode()
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"


def test_network_mode_needs_accounts_and_login(ws, page):
    from oralhist.web.auth import set_account
    from oralhist.web.server import config_for
    from oralhist.errors import BadInput

    make_interview(ws, IID)
    with pytest.raises(BadInput, match="editor accounts"):
        config_for(ws, "0.0.0.0", "x")
    set_account(ws, "camille", "correct horse battery")
    assert config_for(ws, "0.0.0.0", "x").mode == "accounts"
    # an account server (bound on loopback here, forced into accounts mode, to test the login)
    import uvicorn

    from oralhist.web.app import EditorConfig, make_app
    from oralhist.web.server import free_port
    import threading

    cfg = EditorConfig(ws=ws, mode="accounts")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        while not server.started:
            t.join(0.02)
        base = f"http://127.0.0.1:{port}/"
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(f"{base}api/i/{IID}/transcript")
        assert exc.value.code == 401  # the workbench: "connexion requise"
        page.goto(f"{base}i/{IID}")
        assert "/login" in page.url
        page.fill("input[name=name]", "camille")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        assert "incorrect" in page.inner_text("main")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_selector("#segments span.w")
        assert page.url.endswith(f"/i/{IID}")
        assert page.inner_text("header .user") == "camille"
    finally:
        server.should_exit = True


def test_index_links_speakers_and_restore(page, editor):
    from oralhist.records import Link, LinkStatus, Speaker, Term, TermKind, TopicSegment
    from oralhist.editorial.view import current_topics

    base, url, ws = editor
    with db.session(ws) as s:
        term = Term(kind=TermKind.trade, label="athlète")
        s.add(term)
        s.flush()
        s.add(Link(interview_id=IID, term_id=term.id, start_ms=8560, end_ms=9060, quote="atlettes", confidence=0.7))
        s.add(TopicSegment(interview_id=IID, start_ms=0, end_ms=23000, title="Le CIO", keywords=["sport"]))
        s.add(TopicSegment(interview_id=IID, start_ms=23000, end_ms=50000, title="Les obligations"))
        s.commit()
    page.goto(url)
    # index: move the boundary, rename a theme
    page.goto(f"{base}i/{IID}/index")
    page.locator("fieldset.topic").nth(1).locator(".start").fill("00:00:21")
    page.locator("fieldset.topic").nth(1).locator(".start").dispatch_event("change")
    assert page.locator("fieldset.topic").nth(0).locator(".end").input_value() == "00:00:21"
    page.locator("fieldset.topic").nth(0).locator(".title").fill("Le comité olympique")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('status').textContent.includes('version 2')")
    with db.session(ws) as s:
        topics = current_topics(s, IID)
    assert [(t.version, t.source, t.start_ms, t.end_ms, t.title) for t in topics] == [
        (2, "editor", 0, 21000, "Le comité olympique"), (2, "editor", 21000, 50000, "Les obligations")]
    assert topics[0].keywords == ["sport"]
    # links: reject the suggestion, add one on a selected passage
    page.goto(f"{base}i/{IID}/links")
    page.click("tr[data-link] button.reject")
    page.wait_for_function("document.querySelector('tr[data-link] .lstatus').textContent === 'rejeté'")
    page.goto(f"{base}i/{IID}")
    page.wait_for_selector("#segments span.w")
    page.evaluate(
        """() => { const ws = [...document.querySelectorAll('#segments span.w')];
        const a = ws.find(s => s.textContent === 'changements'), b = ws.find(s => s.textContent === 'significatifs');
        const r = document.createRange(); r.setStart(a.firstChild, 0); r.setEnd(b.firstChild, b.textContent.length);
        const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); }"""
    )
    page.click("#linksel")
    page.wait_for_url("**/links?*")
    assert page.input_value("textarea[name=quote]") == "changements significatifs"
    page.click("#term-input")
    page.keyboard.type("athl")
    page.keyboard.press("ArrowDown")  # issue 21: nothing is active until ↓
    page.keyboard.press("Enter")
    page.click("#add-link button[type=submit]")
    page.wait_for_selector("tr[data-link] >> nth=1")
    with db.session(ws) as s:
        links = s.exec(select(Link).order_by(Link.id)).all()
    assert [l.status for l in links] == [LinkStatus.rejected, LinkStatus.accepted]
    assert links[1].source == "manual" and links[1].quote == "changements significatifs"
    assert links[1].start_ms <= 16700 <= links[1].end_ms
    # speakers: rename and set a role
    page.goto(f"{base}i/{IID}/speakers")
    row = page.locator("tr[data-speaker]").nth(1)
    row.locator(".name").fill("Jean Dupuis")
    row.locator(".role").select_option("other")
    row.locator(".save-speaker").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('enregistré')")
    with db.session(ws) as s:
        sp = s.exec(select(Speaker).where(Speaker.label == "SPEAKER_2")).one()
    assert (sp.name, sp.role.value) == ("Jean Dupuis", "other")
    # history: make v2 through the API, then restore v1 as v3
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version

    save_version(ws, IID, [NewSegment("tout autre chose")], base_version=1, who="x")
    page.goto(f"{base}i/{IID}/history")
    page.click("tr[data-version='1'] button.restore")
    page.click("#restore-dialog button[value=ok]")
    page.wait_for_function("document.getElementById('status').textContent.includes('version 3')")
    assert _words(ws, 3) == _words(ws, 1)
    assert [v.version for v in _versions(ws)] == [1, 2, 3]
    # approve from the editor page
    page.goto(f"{base}i/{IID}")
    page.wait_for_selector("#segments span.w")
    page.wait_for_function("/\\d+ % relu/.test(document.getElementById('relu').textContent)")
    page.click("#approve")
    page.click("#approve-anyway")  # issue 23: nothing marked « relu », so approval warns first
    page.wait_for_function("document.getElementById('status').textContent.includes('approuvée')")
    assert _versions(ws)[-1].status.value == "approved"
    page.goto(f"{base}?relecture=approved")
    assert IID in page.inner_text("table.list")


def test_oralhist_edit_command_prints_a_token_address(ws):
    """The real command in a subprocess: prints the address, serves it, refuses without the token."""
    import subprocess
    import sys
    import time

    from oralhist.web.server import free_port

    make_interview(ws, IID)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "edit", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/?token=" in line, line
        url = line.split()[-1]
        import http.cookiejar

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        deadline = time.monotonic() + 20
        while True:
            try:
                r = opener.open(url)
                break
            except urllib.error.HTTPError:
                raise
            except urllib.error.URLError:  # not listening yet
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert r.status == 200 and IID in r.read().decode()
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/")
        assert exc.value.code == 403
    finally:
        proc.terminate()
        proc.wait(10)
