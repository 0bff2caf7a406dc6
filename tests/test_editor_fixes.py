"""Issue 11, item 6 (editor fixes), in Chromium against one real editor server for the module:
word-wise caret moves that the audio shortcuts leave alone, undo/redo, the restore
confirmation, times from the playhead on the Index and Links pages, the searchable term
picker, speaker samples and merges, the unsaved-changes warning, French dates in the
reader's time zone, and axe-core on every editor page. Real audio (FLEURS clips through the
bundled ffmpeg), real recogniser words, real keyboard presses."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from editdata import ASR, join_clips, make_interview
from oralhist import db
from oralhist.records import Segment, Speaker, Term, TermKind, TopicSegment, Transcript

IID = "2022-lecteurs-fleurs"
TZ = "America/Montreal"  # the reader's time zone, not the server's (UTC)
MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre"]
TRADES = ["forgeron", "forgeage", "Forêt domaniale", "mineur de fond", "galibot", "porion", "tisserand",
          "fileuse", "verrier", "potier"]


@pytest.fixture(scope="module")
def editor(tmp_path_factory, corpus, ffmpeg):
    """(base url, token url, ws, cfg) of one editor for the module: one interview with its
    listening copy, two speakers, an index of two themes and 110 vocabulary terms."""
    import hashlib

    from oralhist.records import Derivative
    from oralhist.web.server import start_in_thread
    from oralhist.archive.workspace import init

    ws = init(tmp_path_factory.mktemp("fixes") / "archive", title="Archive de test")
    make_interview(ws, IID)
    d = ws.derived_dir(IID)
    d.mkdir(parents=True, exist_ok=True)
    out = join_clips(corpus, d / "access.mp3", ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])
    with db.session(ws) as s:
        s.add(Derivative(interview_id=IID, kind="access", path=ws.rel(out),
                         sha256=hashlib.sha256(out.read_bytes()).hexdigest(), duration_ms=ASR["duration_ms"]))
        for label in TRADES:
            s.add(Term(kind=TermKind.trade, label=label))
        for i in range(100):
            s.add(Term(kind=TermKind.subject, label=f"sujet {i:03d}"))
        s.add(TopicSegment(interview_id=IID, start_ms=0, end_ms=23000, title="Le CIO"))
        s.add(TopicSegment(interview_id=IID, start_ms=23000, end_ms=50000, title="Les obligations"))
        s.commit()
    server, cfg, url = start_in_thread(ws, who="Camille")
    yield url.split("?")[0], url, ws, cfg
    server.should_exit = True
    server._thread.join(5)


@pytest.fixture()
def page(browser, editor):
    """A French reader in Montréal, logged in with the token (CSP bypassed for Playwright's polling)."""
    ctx = browser.new_context(locale="fr-FR", timezone_id=TZ, bypass_csp=True)
    pg = ctx.new_page()
    pg.goto(editor[1])
    yield pg
    ctx.close()


def open_editor(page, editor):
    page.goto(f"{editor[0]}i/{IID}")
    page.wait_for_selector("#segments span.w")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    page.uncheck("#autosave")  # these tests look at the page, not at saved versions


def caret_at(page, seg: int, where: str):
    """Put the caret at the start or end of a segment's text (the keys under test come after)."""
    page.evaluate("""([k, where]) => { const t = document.querySelectorAll('#segments .text')[k]; t.focus();
        const r = document.createRange(); r.selectNodeContents(t); r.collapse(where === 'start');
        const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""", [seg, where])


def caret(page):
    """(characters before the caret in its segment, selected text)."""
    return page.evaluate("""() => { const s = getSelection(); const n = s.focusNode;
        const t = (n.nodeType === 1 ? n : n.parentElement).closest('.text');
        const r = document.createRange(); r.setStart(t, 0); r.setEnd(s.focusNode, s.focusOffset);
        return [r.toString().length, s.toString()]; }""")


def texts(page):
    return page.evaluate("[...document.querySelectorAll('#segments .seg')].map(s => "
                         "[s.querySelector('.text').textContent.replace(/\\s+/g, ' ').trim(), "
                         "s.querySelector('select.speaker').value])")


def current(ws):
    from oralhist.editorial.view import current_transcript

    with db.session(ws) as s:
        tr = current_transcript(s, IID)
        segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
        return tr.version, [(g.text, g.speaker_id) for g in segs]


# ----------------------------------------------------------------------------- keyboard


def test_ctrl_arrows_move_and_select_words_and_alt_keys_drive_the_player(page, editor):
    open_editor(page, editor)
    audio = "document.getElementById('audio')"
    page.evaluate(f"{audio}.currentTime = 20")
    page.wait_for_function(f"Math.abs({audio}.currentTime - 20) < 0.01")
    words = page.evaluate("[...document.querySelectorAll('#segments .text')[0].querySelectorAll('span.w')]"
                          ".slice(0, 3).map(s => s.textContent)")
    caret_at(page, 0, "start")
    page.keyboard.press("Control+ArrowRight")
    pos, sel = caret(page)
    assert sel == "" and pos == len(words[0]), (pos, words)  # end of the first word, as in any text field
    page.keyboard.press("Control+Shift+ArrowRight")
    pos2, sel = caret(page)
    assert sel.strip() == words[1] and pos2 > pos  # the next word is selected
    page.keyboard.press("Control+Shift+ArrowRight")
    assert caret(page)[1].split() == words[1:3]
    page.keyboard.press("Control+Shift+ArrowLeft")
    assert caret(page)[1].strip() == words[1]
    page.keyboard.press("Control+ArrowLeft")
    assert caret(page)[1] == ""
    # the player did not move, did not start
    assert abs(page.evaluate(f"{audio}.currentTime") - 20) < 0.01 and page.evaluate(f"{audio}.paused")
    # its own keys, still inside the text
    page.keyboard.press("Alt+l")
    assert abs(page.evaluate(f"{audio}.currentTime") - 25) < 0.3
    page.keyboard.press("Alt+j")
    page.keyboard.press("Alt+j")
    assert abs(page.evaluate(f"{audio}.currentTime") - 15) < 0.3
    page.keyboard.press("Alt+i")
    page.keyboard.press("Alt+i")
    assert page.evaluate(f"{audio}.playbackRate") == pytest.approx(1.2)
    page.keyboard.press("Alt+u")
    assert page.inner_text("#rate") == "1.1"
    page.keyboard.press("Alt+k")
    page.wait_for_function(f"!{audio}.paused")
    page.keyboard.press("Escape")
    page.wait_for_function(f"{audio}.paused")
    assert texts(page)[0][0].startswith(words[0])  # no key typed anything
    help_text = page.inner_text("details.help")
    for key in ("Alt", "J", "L", "Ctrl", "Z", "mot par mot", "rétablir"):
        assert key in help_text


# ----------------------------------------------------------------------------- undo / redo


def test_undo_redo_typing_split_merge_and_speaker(page, editor):
    open_editor(page, editor)
    start = texts(page)
    caret_at(page, 0, "end")
    page.keyboard.type(" bonjour les amis")
    assert texts(page)[0][0].endswith("bonjour les amis")
    page.keyboard.press("Control+z")
    assert texts(page) == start
    page.keyboard.press("Control+Shift+z")
    assert texts(page)[0][0].endswith("bonjour les amis")
    page.keyboard.press("Control+z")
    assert texts(page) == start
    # split at the caret (Ctrl+Enter), undo, redo with Ctrl+Y, undo
    caret_at(page, 1, "start")
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("Control+Enter")
    after_split = texts(page)
    assert len(after_split) == len(start) + 1
    page.keyboard.press("Control+z")
    assert texts(page) == start
    page.keyboard.press("Control+y")
    assert texts(page) == after_split
    page.keyboard.press("Control+z")
    assert texts(page) == start
    # merge with the next segment (button), undo
    page.locator("#segments .seg").nth(2).locator("button.merge").click()
    assert len(texts(page)) == len(start) - 1
    page.keyboard.press("Control+z")
    assert texts(page) == start
    # speaker change, undo, redo
    sel = page.locator("#segments select.speaker").nth(0)
    other = page.evaluate("""() => { const s = document.querySelectorAll('#segments select.speaker')[0];
        return [...s.options].map(o => o.value).find(v => v && v !== s.value); }""")
    sel.select_option(other)
    assert texts(page)[0][1] == other
    page.keyboard.press("Control+z")
    assert texts(page) == start
    page.keyboard.press("Control+Shift+z")
    assert texts(page)[0][1] == other
    page.keyboard.press("Control+z")
    # typing again after undo, then several steps back to the start
    caret_at(page, 3, "end")
    page.keyboard.type(" fin")
    caret_at(page, 0, "start")
    page.keyboard.press("Control+Enter")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert texts(page) == start
    assert "annulée" in page.inner_text("#status")


# ----------------------------------------------------------------------------- restore


def test_restore_asks_first_and_says_what_happens(page, editor):
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version

    _, _, ws, _ = editor
    v0, _ = current(ws)
    save_version(ws, IID, [NewSegment("tout autre chose")], base_version=v0, who="Dominique")
    latest = v0 + 1
    page.goto(f"{editor[0]}i/{IID}/history")
    page.click(f"tr[data-version='{v0}'] button.restore")
    dlg = page.locator("#restore-dialog")
    dlg.wait_for(state="visible")
    text = " ".join(dlg.inner_text().split())
    assert f"nouvelle version {latest + 1}" in text and f"version {v0}" in text and "rien n’est supprimé" in text
    dlg.get_by_role("button", name="Annuler").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('annulée')")
    assert current(ws)[0] == latest  # nothing happened
    page.click(f"tr[data-version='{v0}'] button.restore")
    dlg.get_by_role("button", name=f"Restaurer comme version {latest + 1}").click()
    page.wait_for_function(f"document.getElementById('status').textContent.includes('version {latest + 1}')")
    page.wait_for_selector(f"tr[data-version='{latest + 1}']")
    with db.session(ws) as s:
        vs = s.exec(select(Transcript).where(Transcript.interview_id == IID).order_by(Transcript.version)).all()
        assert [v.version for v in vs] == list(range(1, latest + 2))
        made = vs[-1].created_at
    # French, in the reader's time zone (Montréal), from the ISO time of the version
    local = made.replace(tzinfo=made.tzinfo or timezone.utc).astimezone(ZoneInfo(TZ))
    shown = page.inner_text(f"tr[data-version='{latest + 1}'] time")
    assert shown.startswith(f"{local.day} {MOIS[local.month - 1]} {local.year}") and f"{local:%H:%M}" in shown
    body = page.inner_text("main")
    for english in ("UTC", "machine", "editor", "->", "(subject)", "1 modifiés", "restored"):
        assert english not in body, english
    assert "reconnaissance automatique" in body and f"version {v0} restaurée comme version {latest + 1}" in body
    # someone saves meanwhile: the restore is refused, in French, with their time in the reader's zone
    save_version(ws, IID, [NewSegment("encore autre chose")], base_version=latest + 1, who="Dominique")
    page.click(f"tr[data-version='{v0}'] button.restore")
    dlg.get_by_role("button", name=f"Restaurer comme version {latest + 2}").click()
    page.wait_for_function("document.getElementById('status').textContent.includes('Conflit')")
    msg = page.inner_text("#status")
    assert "enregistrée par Dominique" in msg and "Rien n’a été écrasé" in msg and "UTC" not in msg
    assert any(m in msg for m in MOIS) and current(ws)[0] == latest + 2
    from oralhist.editorial.corrections import restore_version

    restore_version(ws, IID, v0, base_version=latest + 2, who="Dominique")  # the next tests work on v1's text


# ----------------------------------------------------------------------------- index and links


def test_index_boundary_from_the_playhead(page, editor):
    from oralhist.editorial.view import current_topics

    _, _, ws, _ = editor
    page.goto(f"{editor[0]}i/{IID}/index")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    page.evaluate("document.getElementById('audio').currentTime = 21.4")
    page.wait_for_function("document.getElementById('playhead').textContent === '00:00:21'")
    page.locator("fieldset.topic").nth(1).get_by_role("button", name="Début = position de lecture").click()
    assert page.locator("fieldset.topic").nth(1).locator(".start").input_value() == "00:00:21"
    assert page.locator("fieldset.topic").nth(0).locator(".end").input_value() == "00:00:21"  # the boundary moved
    page.click("#topics button[type=submit]")
    page.wait_for_function("document.getElementById('status').textContent.includes('version')")
    with db.session(ws) as s:
        assert [(t.start_ms, t.end_ms) for t in current_topics(s, IID)] == [(0, 21000), (21000, 50000)]


def test_term_picker_filters_and_link_times_from_the_playhead(page, editor):
    from oralhist.records import Link

    _, _, ws, _ = editor
    page.goto(f"{editor[0]}i/{IID}/links")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    box = page.locator("#term-input")
    box.click()
    assert page.locator("#term-list [role=option]:not([hidden])").count() == 110
    page.keyboard.type("forg")
    shown = page.locator("#term-list [role=option]:not([hidden])").all_inner_texts()
    assert sorted(x.split(" (")[0] for x in shown) == ["forgeage", "forgeron"]
    assert page.inner_text(".combobox .count") == "2 termes"
    box.fill("")
    page.keyboard.type("FORET")  # accents and case do not matter
    shown = page.locator("#term-list [role=option]:not([hidden])").all_inner_texts()
    assert [x.split(" (")[0] for x in shown] == ["Forêt domaniale"]
    assert page.inner_text(".combobox .count") == "1 terme"
    box.fill("")
    page.keyboard.type("sujet 04")
    shown = page.locator("#term-list [role=option]:not([hidden])").all_inner_texts()
    # issue 21: labels that start with what was typed come first; nothing is active before ↓
    assert [x.split(" (")[0] for x in shown] == [f"sujet {i:03d}" for i in range(40, 50)] + ["sujet 004"]
    assert page.get_attribute("#term-input", "aria-activedescendant") is None
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    active = page.get_attribute("#term-input", "aria-activedescendant")
    assert page.inner_text(f"#{active}").startswith("sujet 042")
    page.keyboard.press("Enter")
    assert box.input_value() == "sujet 042" and page.get_attribute("#term-input", "aria-expanded") == "false"
    with db.session(ws) as s:
        term_id = s.exec(select(Term.id).where(Term.label == "sujet 042")).one()
    assert page.input_value("input[name=term]") == str(term_id)
    for field, sec in (("start", 31.2), ("end", 35.9)):
        page.evaluate(f"document.getElementById('audio').currentTime = {sec}")
        page.wait_for_function(f"document.getElementById('playhead').textContent === '00:00:{int(sec)}'")
        page.locator(f"#add-link button.from-playhead[data-field={field}]").click()
    assert (page.input_value("input[name=start]"), page.input_value("input[name=end]")) == ("00:00:31", "00:00:35")
    page.click("#add-link button[type=submit]")
    page.wait_for_selector("tr[data-link]")
    with db.session(ws) as s:
        ln = s.exec(select(Link).where(Link.interview_id == IID)).one()
    assert (ln.term_id, ln.start_ms, ln.end_ms) == (term_id, 31000, 35000)
    assert "(sujet)" in page.inner_text("table.links") and "subject" not in page.inner_text("main")


# ----------------------------------------------------------------------------- speakers


def test_speaker_sample_plays_their_first_long_turn(page, editor):
    _, _, ws, _ = editor
    with db.session(ws) as s:
        sp2 = s.exec(select(Speaker).where(Speaker.interview_id == IID, Speaker.label == "SPEAKER_2")).one()
        tr = s.exec(select(Transcript).where(Transcript.interview_id == IID).order_by(Transcript.version.desc())).first()
        turns = s.exec(select(Segment).where(Segment.transcript_id == tr.id, Segment.speaker_id == sp2.id)
                       .order_by(Segment.idx)).all()
    first = next(g for g in turns if g.end_ms - g.start_ms >= 3000)
    page.goto(f"{editor[0]}i/{IID}/speakers")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    page.locator(f"tr[data-speaker='{sp2.id}'] button.listen").click()
    page.wait_for_function("!document.getElementById('audio').paused")
    t = page.evaluate("document.getElementById('audio').currentTime") * 1000
    assert first.start_ms - 50 <= t <= first.start_ms + 1500, (t, first.start_ms)
    page.evaluate("document.getElementById('audio').playbackRate = 4")  # a few seconds, then it stops by itself
    page.wait_for_function("document.getElementById('audio').paused", timeout=10_000)
    end = page.evaluate("document.getElementById('audio').currentTime") * 1000
    assert min(first.end_ms, first.start_ms + 6000) <= end <= min(first.end_ms, first.start_ms + 6000) + 1500


@pytest.mark.parametrize("tab, field", [("/speakers", "tr[data-speaker] input.name"),
                                        ("/index", "fieldset.topic input.title"),
                                        ("", None)])
def test_unsaved_changes_warn_before_leaving(browser, editor, tab, field):
    for change in (True, False):
        ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
        pg = ctx.new_page()
        pg.goto(editor[1])
        if field is None:  # the transcript
            open_editor(pg, editor)
            caret_at(pg, 0, "end")
        else:
            pg.goto(f"{editor[0]}i/{IID}{tab}")
            pg.locator(field).first.click()
            pg.keyboard.press("End")
        if change:
            pg.keyboard.type(" modifié")
            with pg.expect_event("dialog") as seen:
                pg.close(run_before_unload=True)
            assert seen.value.type == "beforeunload", tab
            with pg.expect_event("close"):  # leave anyway: the page closes, nothing is left open
                seen.value.accept()
        else:
            with pg.expect_event("close"):
                pg.close(run_before_unload=True)  # nothing changed: no question
        ctx.close()


def _post(editor, path, data):
    base, _, _, cfg = editor
    req = urllib.request.Request(base + path.lstrip("/"), data=json.dumps(data).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "X-CSRF-Token": cfg.local_csrf,
                                          "Cookie": f"oralhist_token={cfg.token}"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_merging_two_speaker_labels(page, editor):
    _, _, ws, _ = editor
    assert _post(editor, f"/api/i/{IID}/speakers/merge", {"from": "SPEAKER_2", "into": "SPEAKER_2"})[0] == 400
    code, body = _post(editor, f"/api/i/{IID}/speakers/merge", {"from": "SPEAKER_9", "into": "SPEAKER_1"})
    assert code == 400 and "SPEAKER_9" in body["error"]
    before, segs_before = current(ws)
    with db.session(ws) as s:
        ids = {sp.label: sp.id for sp in s.exec(select(Speaker).where(Speaker.interview_id == IID)).all()}
    moved = sum(1 for _, sid in segs_before if sid == ids["SPEAKER_2"])
    assert moved >= 1
    page.goto(f"{editor[0]}i/{IID}/speakers")
    assert page.locator("tr[data-speaker]").count() == 2
    page.select_option("#merge select[name=from]", "SPEAKER_2")
    page.select_option("#merge select[name=into]", "SPEAKER_1")
    page.click("#merge button[type=submit]")
    page.wait_for_function(f"document.getElementById('status').textContent.includes('version {before + 1}')")
    assert f"{moved} segment{'s' if moved > 1 else ''} dans" in page.inner_text("#status")
    page.wait_for_function("document.querySelectorAll('tr[data-speaker]').length === 1")
    assert "1 étiquette fusionnée" in page.inner_text("main")
    after, segs_after = current(ws)
    assert after == before + 1
    assert [t for t, _ in segs_after] == [t for t, _ in segs_before]  # the words did not move
    assert {sid for _, sid in segs_after} == {ids["SPEAKER_1"]}
    with db.session(ws) as s:  # nothing deleted: the older version keeps SPEAKER_2
        old = s.exec(select(Transcript).where(Transcript.interview_id == IID, Transcript.version == before)).one()
        assert ids["SPEAKER_2"] in {g.speaker_id for g in s.exec(select(Segment).where(Segment.transcript_id == old.id))}
    page.goto(f"{editor[0]}i/{IID}/history")
    assert "locuteur SPEAKER_2 fusionné avec SPEAKER_1" in page.inner_text("main")


def test_speakers_merge_command(ws, cli):
    make_interview(ws, IID)
    r = cli("speakers", IID, "merge", "SPEAKER_2", "SPEAKER_1", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["version"] == 2 and json.loads(r.output)["segments"] == 1
    r = cli("speakers", IID, "merge", "SPEAKER_2", "SPEAKER_1")
    assert r.exit_code == 2 and "SPEAKER_2" in r.output  # no turn left to give
    r = cli("speakers", IID, "merge", "SPEAKER_7", "SPEAKER_1")
    assert r.exit_code == 2 and "SPEAKER_7" in r.output


# ----------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("tab", ["", "/index", "/links", "/speakers", "/history"])
def test_axe_core_finds_nothing_on_the_editor_pages(page, editor, tab):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(f"{editor[0]}i/{IID}{tab}")
    if tab == "":
        page.wait_for_selector("#segments span.w")
    if tab == "/links":  # with the term list open and an option active
        page.click("#term-input")
        page.keyboard.type("for")
        page.keyboard.press("ArrowDown")
    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()
    if tab == "/history":  # and with the restore dialog open
        page.locator("button.restore").first.click()
        res = Axe().run(page)
        assert res.violations_count == 0, res.generate_report()
