"""The three users of issue 11 walked in Chromium against a real `oralhist serve` (real job runner,
real Whisper base model, real clips): a volunteer imports two files and a consent scan, sees the
stages advance to "transcrit" and corrects a word; an editor approves; an admin publishes and
the public page shows the correction."""

from __future__ import annotations

import json
import time
import urllib.request

from test_editor import _replace_word  # noqa: F401  (the same typing as a person)
from test_workbench import PW, Client, accounts

LATER = ("transcrit", "locuteurs", "indexé", "liens", "publié")


def login(page, base, name):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_selector("table.list")


def test_volunteer_editor_admin_walk(browser, ws, corpus, tmp_path):
    from oralhist.web.server import start_workbench_in_thread

    accounts(ws)
    server, cfg, url, runner = start_workbench_in_thread(ws)
    base = url.rstrip("/")
    try:
        ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
        page = ctx.new_page()
        login(page, base, "vol-a")
        clips = sorted((corpus / "fr").glob("*.ogg"))[:2]
        scan = tmp_path / "consentement.pdf"
        scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        page.click("a[href='/importer']")  # issue 21, item 4: the one import flow, linked from the list
        page.wait_for_selector("#dropzone")
        page.set_input_files("#up-files", [str(c) for c in clips])
        page.fill("#f-narrator", "Jeanne Martin")
        page.fill("#f-date", "1998-06-14")
        page.set_input_files("#f-consent", str(scan))
        page.select_option("#f-scope", "public")
        page.check("#together")
        page.click("#up-submit")
        page.wait_for_selector("#result-list li a", timeout=60_000)
        page.goto(base + "/")
        page.wait_for_selector("td.job progress", timeout=30_000)  # the stages are shown with a bar
        iid = page.get_attribute("td.job", "data-interview")
        page.wait_for_function(
            "(later) => later.some(x => document.querySelector('table.list tbody tr td:nth-child(6)').textContent.includes(x))",
            arg=list(LATER), timeout=300_000)
        # correct a word
        page.goto(f"{base}/i/{iid}")
        page.wait_for_selector("#segments span.w")
        first = page.inner_text("#segments span.w >> nth=0").strip()
        _replace_word(page, first, "Bonjourzz")
        page.keyboard.press("Control+s")
        page.wait_for_function("document.getElementById('status').textContent.includes('version 2')")
        # wait until every stage is done before approving and publishing
        c = Client(base)
        c.login("admin")
        deadline = time.monotonic() + 300
        while True:
            jobs = c.call("GET", f"/api/interviews/{iid}")[1]["jobs"]
            assert not any(j["status"] == "failed" for j in jobs), jobs
            if all(j["status"] == "done" for j in jobs):
                break
            assert time.monotonic() < deadline
            time.sleep(1)
        ctx.close()
        # the editor approves
        ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
        page = ctx.new_page()
        login(page, base, "edit")
        page.goto(f"{base}/i/{iid}")
        page.wait_for_selector("#segments span.w")
        page.wait_for_function("/\\d+ % relu/.test(document.getElementById('relu').textContent)")
        page.click("#approve")
        page.click("#approve-anyway")  # issue 23: nothing marked « relu », so approval warns first
        page.wait_for_function("document.getElementById('status').textContent.includes('approuvée')")
        ctx.close()
        # the admin publishes
        ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
        page = ctx.new_page()
        login(page, base, "admin")
        page.click("#publish")
        page.wait_for_function("document.getElementById('status').textContent.includes('Publication demandée')")
        deadline = time.monotonic() + 240
        while not any(ws.site.rglob("*.html")) or "Bonjourzz" not in "".join(
                p.read_text(encoding="utf-8") for p in ws.site.rglob("*.html")):
            assert time.monotonic() < deadline, "the published site never showed the correction"
            time.sleep(1)
        ctx.close()
    finally:
        server.should_exit = True
        server._thread.join(5)
        if runner is not None:
            runner.stop()
