"""Issue 21 walked in Chromium (one server, one walk): every staff page fits a phone (≤ 390 px
at 390×844) for each role; no page, staff or public, shows English or a machine label (checked
with a French dictionary, french_check.py); a curator adds an object's picture with its alt text, refused in French
for a file that is not a picture; « Publier » shows it pending until published; an admin
attaches and then sees the signed consent scan; axe-core passes on the changed pages."""

from __future__ import annotations

import io
import re

from sqlmodel import select

from editdata import make_interview
from french_check import data_words, english_words, identifiers
from oralhist import db
from test_workbench import PW, accounts

IID = "2022-lecteurs-fleurs"
INTERVIEW_PAGES = ["/i/{iid}", "/i/{iid}/index", "/i/{iid}/links", "/i/{iid}/speakers", "/i/{iid}/history",
                   "/i/{iid}/word"]
CURATOR_PAGES = ["/expositions", "/expositions/le-train", "/expositions/recherche", "/expositions/termes",
                 "/expositions/lecteur/{iid}", "/objets"]
PAGES = {
    "vol-a": ["/", "/importer", *INTERVIEW_PAGES],
    "edit": ["/", "/importer", *INTERVIEW_PAGES, *CURATOR_PAGES],
    "admin": ["/", "/importer", *INTERVIEW_PAGES, "/i/{iid}/consent", "/i/{iid}/consultations", *CURATOR_PAGES,
              "/vocab", "/publish", "/comptes", "/comptes/vol-a", "/moi", "/journal", "/demandes", "/memoire",
              "/travail", "/remplacer"],
    "cur": ["/", "/i/{iid}", "/i/{iid}/index", *CURATOR_PAGES],  # a curator: transcripts read-only
}
# new pages of this round that no other walk runs axe-core on (the others do: /comptes, /moi, /demandes, …)
AXE_ALSO = ("/comptes/vol-a", "/journal", "/i/" + IID + "/consultations")
WIDTH = """() => document.documentElement.scrollWidth"""
TEXT = """() => [document.title, document.body.innerText,
  ...Array.from(document.querySelectorAll('[aria-label],[title],[placeholder],img[alt]'))
     .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder'),
                e.getAttribute('alt')].filter(Boolean).join(' '))].join('\\n')"""


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (90, 60), (150, 90, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _archive(ws, corpus, ffmpeg):
    from oralhist.editorial.consent import set_consent
    from oralhist.outputs.exhibit import Exhibition, Section, save_exhibition
    from oralhist.records import Interview, Museum, Term, TermKind

    make_interview(ws, IID, audio=True, corpus=corpus, ffmpeg=ffmpeg)
    accounts(ws)
    from oralhist.web.auth import set_account

    set_account(ws, "cur", PW, role="curator")
    with db.session(ws) as s:
        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        s.add(Term(kind=TermKind.object, label="Lanterne de mineur", inventory_number="2001.3.1",
                   designation="Lanterne de mineur"))
        s.add(Term(kind=TermKind.trade, label="Mineur"))
        s.commit()
    set_consent(ws, IID, scope="public", who="test")
    save_exhibition(ws, Exhibition(slug="le-train", title="Le train", sections=(
        Section(title="Le départ", narrative_md="Les cheminots racontent."),)))


def _login(page, base, name):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_selector("table.list")


def _status(page, text):
    page.wait_for_function("(t) => { const e = document.getElementById('status'); return !!e && e.textContent.includes(t); }",
                           arg=text, timeout=60_000)
    return page.inner_text("#status")


def _public_text(html: str) -> str:
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.out, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            # text marked as another language (the language switch's « English », lang="en") is not French on purpose
            other = any(k == "lang" and v and not v.lower().startswith("fr") for k, v in attrs)
            self.skip += tag in ("script", "style") or other
            self.others = getattr(self, "others", []) + ([tag] if other else [])
            if other:
                return
            for k, v in attrs:
                if k in ("alt", "aria-label", "title", "placeholder") and v:
                    self.out.append(v)

        def handle_endtag(self, tag):
            others = getattr(self, "others", [])
            if others and others[-1] == tag:
                others.pop()
                self.skip -= 1
                return
            self.skip -= tag in ("script", "style") and self.skip > 0

        def handle_data(self, data):
            if not self.skip:
                self.out.append(data)

    p = P()
    p.feed(html)
    return "\n".join(p.out)


# Over 80 lines on purpose: one walk through one server (the file's only Chromium session).
def test_phones_pictures_consent_scan_publish_and_french(browser, ws, corpus, ffmpeg, tmp_path):
    from oralhist.web.server import start_workbench_in_thread

    _archive(ws, corpus, ffmpeg)
    allowed = data_words(ws)
    server, cfg, url, runner = start_workbench_in_thread(ws)
    base = url.rstrip("/")
    english, wide = {}, {}
    try:
        for role, paths in PAGES.items():
            ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
            page = ctx.new_page()
            _login(page, base, role)
            for p in paths:
                path = p.format(iid=IID)
                page.goto(base + path)
                page.wait_for_load_state("load")
                w = page.evaluate(WIDTH)
                if w > 390:
                    wide[(role, path)] = w
                text = page.evaluate(TEXT)
                bad = english_words(text, allowed) + identifiers(text)
                if bad:
                    english[(role, path)] = bad
                if role == "admin" and path in AXE_ALSO:
                    _axe(page)
            ctx.close()
        assert not wide, wide
        assert not english, '\n'.join(f'{k}: {v}' for k, v in english.items())

        # an editor: the term picker and the time formats
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = ctx.new_page()
        _login(page, base, "edit")
        # the term picker: the exact trade before the object, and nothing active until ↓
        page.goto(f"{base}/i/{IID}/links")
        page.click("#term-input")
        page.keyboard.type("mineur")
        shown = page.locator("#term-list [role=option]:not([hidden])").all_inner_texts()
        assert [x.split(" (")[0] for x in shown] == ["Mineur", "Lanterne de mineur"], shown
        assert page.get_attribute("#term-input", "aria-activedescendant") is None
        page.keyboard.press("Enter")
        assert page.input_value("input[name=term]") == ""  # Entrée alone links nothing
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        assert page.input_value("#term-input") == "Mineur"
        # one time format: « 1 min 07 s » in prose (the speaking time), 00:01:07 in editing fields
        page.goto(f"{base}/i/{IID}/speakers")
        talk = page.locator("table.list tbody tr td:nth-child(4)").first.inner_text()
        assert re.fullmatch(r"(\d+ h \d{2} min \d{2} s|\d+ min \d{2} s|\d+ s)", talk.replace("\u00a0", " ")), talk
        page.goto(f"{base}/i/{IID}/index")
        if page.locator("fieldset.topic").count():
            assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", page.input_value("fieldset.topic input.start"))
        ctx.close()
        # the curator adds the object's picture with its alt text (a text file is refused in French)
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = ctx.new_page()
        _login(page, base, "cur")
        page.goto(base + "/objets")
        card = page.locator("li.obj[data-ref='2001.3.1']")
        card.locator("summary").click()
        notes = tmp_path / "notes.jpg"
        notes.write_bytes(b"ceci n'est pas une photographie " * 30)
        card.locator("input[type=file]").set_input_files(str(notes))
        assert card.locator(".file-name").inner_text() == "notes.jpg"
        card.locator("form.picture-form textarea").fill("Lanterne en laiton posée sur un établi")
        card.locator("form.picture-form button[type=submit]").click()
        msg = _status(page, "notes.jpg")
        assert msg.startswith("notes.jpg : ce n’est pas une image lisible"), msg
        assert not (ws.root / "objects").exists() or not any(q.is_file() for q in (ws.root / "objects").rglob("*"))
        photo = tmp_path / "lanterne.jpg"
        photo.write_bytes(_jpeg())
        card.locator("input[type=file]").set_input_files(str(photo))
        card.locator("form.picture-form button[type=submit]").click()
        _status(page, "enregistrée avec son texte alternatif")
        img = page.locator("li.obj[data-ref='2001.3.1'] img")
        assert img.get_attribute("alt") == "Lanterne en laiton posée sur un établi"
        assert page.evaluate("() => document.querySelector(\"li.obj[data-ref='2001.3.1'] img\").naturalWidth") > 0
        _axe(page)
        ctx.close()

        # the admin: « Publier » shows the object pending until published, then « à jour »
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = ctx.new_page()
        _login(page, base, "admin")
        page.goto(base + "/publish")
        assert "jamais publié" in page.inner_text("#site-status")
        page.click("#publish-now")
        page.wait_for_function("() => { const e = document.getElementById('site-status'); return !!e && e.textContent.trim() === 'à jour'; }",
                               timeout=240_000)
        assert page.locator("#last-published").count() == 1
        assert "base_url" in page.inner_text(".site-warning")
        with db.session(ws) as s:
            from oralhist.outputs.objects import set_alt
            from oralhist.records import Term

            tid = s.exec(select(Term.id).where(Term.inventory_number == "2001.3.1")).one()
        set_alt(ws, tid, "Lanterne en laiton, vue de face")
        page.goto(base + "/publish")
        assert page.inner_text("#site-status") == "1 modification en attente"
        assert "Objet « Lanterne de mineur » : sera mis à jour" in page.inner_text("#others")
        _axe(page)

        # the admin attaches the signed consent scan, then sees it on the consent page
        page.goto(f"{base}/i/{IID}/consent")
        assert page.locator("#no-form").count() == 1
        scan = tmp_path / "consentement-signe.jpg"
        scan.write_bytes(_jpeg())
        page.set_input_files("#form-file", str(scan))
        page.click("#form-upload button[type=submit]")
        page.wait_for_selector("img.form-scan")
        assert page.evaluate("() => document.querySelector('img.form-scan').naturalWidth") == 90
        assert "consentement-signe.jpg" in page.inner_text("#signed-form")
        assert page.evaluate(WIDTH) <= 390
        _axe(page)
        page.goto(base + "/")
        _axe(page)
        page.goto(base + "/importer")
        _axe(page)
        ctx.close()
    finally:
        server.should_exit = True
        server._thread.join(5)
        if runner is not None:
            runner.stop()

    # the public site: no English, no machine label, the archive's own words allowed
    bad = {}
    for f in sorted(ws.site.rglob("*.html")):
        text = _public_text(f.read_text(encoding="utf-8"))
        words = english_words(text, allowed) + identifiers(text)
        if words:
            bad[f.relative_to(ws.site).as_posix()] = words
    assert not bad, bad
