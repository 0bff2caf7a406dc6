"""Issue 21 in Chromium: an admin creates volunteer, editor and curator accounts on « Comptes »; each
logs in (chooses its own password on « Mon compte »), logs out with « Se déconnecter », and the
old cookie replayed is refused; a volunteer sees no control reserved to editors on the five
interview pages; refusals are French pages; axe-core passes on /comptes and /moi (the cost of the
walk is mostly Chromium and axe: the account page and the refusal page, built of the same parts,
passed axe when written and are not re-run here).
One workbench, one walk."""

from __future__ import annotations

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_upload_browser import axe_clean
from test_workbench import PW

IID = "2022-lecteurs-fleurs"
NEW_PW = {"vol": "le carreau de la fosse", "ed": "la lampe du galibot", "cur": "vitrine des sabots de bois"}
ROLE = {"vol": "volunteer", "ed": "editor", "cur": "curator"}
# what a volunteer must not see: (page, selector)
EDITOR_ONLY = [
    ("", "#approve"), ("", "#linksel"),
    ("/index", "#topics"), ("/index", "#add-topic"),
    ("/links", "button.accept"), ("/links", "button.reject"), ("/links", "#add-link"),
    ("/speakers", "button.save-speaker"), ("/speakers", "#merge"), ("/speakers", "input.name"),
    ("/history", "button.restore"),
]


@pytest.fixture(scope="module")
def bench(tmp_path_factory, prepared_archives):
    from oralhist.editorial.accounts import set_account
    from oralhist.editorial.corrections import save_version
    from oralhist.editorial.review import save_topics
    from oralhist.records import Interview, Link, Museum, Term, TermKind
    from oralhist.recognition.align import NewSegment
    from oralhist.web.server import start_workbench_in_thread

    ws = prepared_archives("empty", lambda ws: None, tmp_path_factory.mktemp("accounts-browser"))
    make_interview(ws, IID)
    set_account(ws, "admin", PW, role="admin")
    set_account(ws, "autre", PW, role="volunteer", museum="Musée A")  # creates Musée A
    with db.session(ws) as s:
        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        t = Term(kind=TermKind.trade, label="lectrice")
        s.add(t)
        s.flush()
        s.add(Link(interview_id=IID, term_id=t.id, start_ms=0, end_ms=2000, quote="lecture"))
        s.commit()
    save_version(ws, IID, [NewSegment("une version corrigée")], base_version=1, who="admin")  # history: v1 restorable
    save_topics(ws, IID, {"base_version": 0, "topics": [{"start_ms": 0, "end_ms": 2000, "title": "Lire",
                                                         "synopsis": "", "keywords": ""}]}, "admin")
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    yield url.rstrip("/"), ws
    server.should_exit = True
    server._thread.join(5)


def login(page, base, name, password):
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_accounts_walk(browser, bench):
    base, ws = bench
    ctx = browser.new_context(locale="fr-FR")  # the real CSP
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, base, "admin", PW)
    page.click("a[href='/comptes']")
    page.wait_for_selector("table.accounts")
    axe_clean(page)
    form = "form[data-api='/api/users']"
    for who in ("vol", "ed", "cur"):
        page.fill(f"{form} input[name=login]", who)
        page.fill(f"{form} input[name=password]", "provisoire " + PW)
        page.select_option(f"{form} select[name=role]", ROLE[who])
        page.select_option(f"{form} select[name=museum]", "Musée A")
        page.click(f"{form} button[type=submit]")
        page.wait_for_selector(f"tr[data-login='{who}']")
    # bad input: a duplicate login, then a weak password, in French; nothing created
    page.fill(f"{form} input[name=login]", "vol")
    page.fill(f"{form} input[name=password]", "provisoire " + PW)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".result.error")
    assert "déjà" in page.text_content(".result")
    page.fill(f"{form} input[name=login]", "faible")
    page.fill(f"{form} input[name=password]", "azertyuiop")
    page.click(f"{form} button[type=submit]")
    page.locator(".result:has-text('trop faible')").wait_for()
    assert page.locator("tr[data-login='faible']").count() == 0
    # change a role on the account's page, then logout
    page.click("a[href='/comptes/cur']")
    page.wait_for_selector("h1")
    page.click("text=Se déconnecter")
    page.wait_for_selector("form.login")
    assert "déconnecté" in page.text_content("main")

    for who in ("vol", "ed", "cur"):
        c = browser.new_context(locale="fr-FR")
        p = c.new_page()
        p.on("pageerror", lambda e: errors.append(str(e)))
        login(p, base, who, "provisoire " + PW)
        assert p.url.endswith("/moi")  # a password an admin chose: the person chooses their own first
        if who == "vol":
            axe_clean(p)
        p.fill("input[name=current]", "provisoire " + PW)
        p.fill("input[name=new]", NEW_PW[who])
        p.fill("input[name=again]", NEW_PW[who])
        p.click("form[data-api='/api/me/password'] button[type=submit]")
        p.wait_for_url(base + "/")
        me = c.request.get(base + "/api/me").json()
        assert (me["login"], me["role"], me["museum"]) == (who, ROLE[who], "Musée A")
        if who == "vol":
            for suffix in ("", "/index", "/links", "/speakers", "/history"):  # the five interview pages
                p.goto(f"{base}/i/{IID}{suffix}")
                p.wait_for_selector("h1")
                if suffix == "":
                    p.wait_for_selector(".seg")  # the transcript is drawn (its script ran)
                for where, sel in EDITOR_ONLY:
                    if where == suffix:
                        assert p.locator(sel).count() == 0, (suffix, sel)
            p.goto(f"{base}/i/{IID}")
            assert p.locator("#save").count() == 1  # a volunteer corrects
            for path, title in [("/publish", "Accès réservé"), ("/expositions", "Accès réservé"),
                                ("/comptes", "Accès réservé"), ("/i/inconnu", "Entretien introuvable")]:
                resp = p.goto(base + path)
                assert resp.status in (403, 404) and p.text_content("h1") == title, path
                assert "{" not in p.text_content("main")  # no raw JSON
        if who == "cur":
            p.goto(f"{base}/i/{IID}")
            p.wait_for_selector(".seg")
            assert p.locator("#save, #approve, button.split").count() == 0  # read-only transcript
            assert p.get_attribute(".seg .text", "contenteditable") == "false"
            resp = p.goto(base + "/expositions/pas-une-expo")
            assert resp.status == 404 and p.text_content("h1") == "Exposition introuvable"
        cookies = c.cookies()
        p.click("header >> text=Se déconnecter")
        p.wait_for_selector("form.login")
        replay = browser.new_context(locale="fr-FR")
        replay.add_cookies(cookies)
        assert replay.request.get(base + "/api/me").status == 401
        rp = replay.new_page()
        rp.goto(base + "/")
        assert "/login" in rp.url  # the replayed cookie opens nothing
        replay.close()
        c.close()
    ctx.close()
    assert errors == []
