"""The import page in Chromium (issue 11, item 3): a volunteer brings in two recordings (one
through the drop zone's file input, one dropped as a real DataTransfer) and a consent scan,
fills the form from the keyboard, sends them with tus-js-client and sees the interview appear
with its stages advancing (real server, real job runner, real clips; axe-core on the page)."""

from __future__ import annotations

import base64

from sqlmodel import select

from oralhist import db
from test_workbench import accounts
from test_workbench_browser import login


def axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def test_volunteer_drops_two_files_and_a_consent_scan(browser, ws, corpus, tmp_path):
    from oralhist.web.server import start_workbench_in_thread

    accounts(ws)
    server, cfg, url, runner = start_workbench_in_thread(ws)
    base = url.rstrip("/")
    try:
        ctx = browser.new_context(locale="fr-FR")  # the real CSP: no inline script on the page
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, base, "vol-a")
        page.click("a[href='/importer']")
        page.wait_for_selector("#dropzone")
        assert page.input_value("#f-museum") == "Musée A"  # a tied account imports into its museum
        axe_clean(page)
        # a file that is not audio: ingest's message, in French, next to that file
        notes = tmp_path / "notes.wav"
        notes.write_bytes(b"ceci n'est pas du son " * 200)
        page.set_input_files("#up-files", str(notes))
        page.fill("#f-narrator", "Personne")
        page.click("#up-submit")
        msg = page.wait_for_selector("#up-list li.failed .file-status[role=alert]", timeout=60_000).inner_text()
        assert msg.startswith("ce n’est pas un fichier audio"), msg
        assert "notes.wav" in page.inner_text("#up-list li.failed")
        page.click("#up-list li.failed button:has-text('Retirer')")
        assert page.locator("#up-list li").count() == 0
        page.fill("#f-narrator", "")
        clips = sorted((corpus / "fr").glob("*.ogg"))[:2]
        page.set_input_files("#up-files", str(clips[0]))
        dt = page.evaluate_handle(
            """([name, b64]) => { const dt = new DataTransfer();
                 const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                 dt.items.add(new File([bytes], name, {type: 'audio/ogg'})); return dt; }""",
            [clips[1].name, base64.b64encode(clips[1].read_bytes()).decode()])
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": dt})
        assert page.locator("#up-list li").count() == 2
        # the second file first: the order button, from the keyboard
        page.focus("#up-list li:nth-child(2) button:has-text('↑')")
        page.keyboard.press("Enter")
        assert clips[1].name in page.inner_text("#up-list li:nth-child(1)")
        scan = tmp_path / "consentement.pdf"
        scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        page.focus("#f-narrator")
        page.keyboard.type("Jeanne Martin")
        page.keyboard.press("Tab")
        page.keyboard.type("Louis Caron")  # the interviewer, next field
        page.fill("#f-date", "1998-06-14")
        page.set_input_files("#f-consent", str(scan))
        page.select_option("#f-scope", "public")
        page.check("#together")
        axe_clean(page)
        page.focus("#up-submit")
        page.keyboard.press("Enter")
        page.wait_for_selector("#result-list li a", timeout=60_000)
        iid = page.inner_text("#result-list li a")
        # issue 21, item 4: what was created is said, and the form is empty for the next interview
        status = page.inner_text("#status")
        assert status.startswith("Entretien créé : " + iid) and "prêt pour le suivant" in status, status
        assert page.locator("#up-list li").count() == 0
        assert page.input_value("#f-narrator") == "" and page.input_value("#f-interviewer") == ""
        assert page.input_value("#f-scope") == "none" and not page.is_checked("#together")
        assert page.evaluate("document.getElementById('f-consent').files.length") == 0
        assert page.inner_text("#consent-name") == "aucun formulaire choisi"
        assert page.input_value("#f-museum") == "Musée A"  # the account's museum stays
        # the stages advance: the first one ends while the page is watching
        page.wait_for_selector("#result-list li.stage-done[data-stage=normalise]", timeout=240_000)
        assert page.locator("#result-list li.stage").count() == 5
        axe_clean(page)
        assert not errors, errors
        from oralhist.records import Consent, Interview, Person, Recording

        with db.session(ws) as s:
            iv = s.get(Interview, iid)
            recs = s.exec(select(Recording).where(Recording.interview_id == iid).order_by(Recording.part)).all()
            consent = s.exec(select(Consent).where(Consent.interview_id == iid)).one()
            assert s.get(Person, iv.narrator_id).name == "Jeanne Martin"
            assert s.get(Person, iv.interviewer_id).name == "Louis Caron"
        assert [r.original_name for r in recs] == [clips[1].name, clips[0].name]  # parts in the list's order
        assert consent.scope == "public" and consent.form_name == "consentement.pdf"
        ctx.close()
    finally:
        server.should_exit = True
        server._thread.join(5)
        if runner is not None:
            runner.stop()
