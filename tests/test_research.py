"""Researchers reach restricted testimonies (issue 24 items 2-6) and the activity log (issue 21 item 8).

A real uvicorn server on a free port (the workbench in accounts mode), a real SQLite archive, the
real recogniser output of tests/data and its real audio as the listening copy; the researcher is
a script (the API) and an admin decides.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_workbench import IID, PW, Client, accounts

EMAIL = "Chercheuse@Univ-Lille.fr"
RPW = "Archives du Nord 59"


def _museum_a(ws):
    from oralhist.records import Interview, Museum

    with db.session(ws) as s:
        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        s.commit()
        return iv.public_key


@pytest.fixture()
def research(prepared_archives, tmp_path, corpus, ffmpeg):
    """(base url, ws, public id): a research-only interview listed in the catalogue, with a redaction
    (the archive built once per process, each test on its own copy)."""
    from oralhist.editorial.consent import set_consent
    from oralhist.editorial.corrections import approve
    from oralhist.records import Interview
    from oralhist.web.server import start_workbench_in_thread

    def build(ws):
        make_interview(ws, IID, audio=True, corpus=corpus, ffmpeg=ffmpeg)
        accounts(ws)
        _museum_a(ws)
        approve(ws, IID, who="edit")
        set_consent(ws, IID, scope="research-only", listing="catalogue", redact=[(0, 2500, "nom d’un tiers")],
                    who="admin", reason="accord signé le 3 mai")

    ws = prepared_archives("research-listed", build, tmp_path)
    with db.session(ws) as s:
        key = s.get(Interview, IID).public_key
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    yield url.rstrip("/"), ws, key
    server.should_exit = True
    server._thread.join(5)


def _first_words(ws):
    from oralhist.records import Transcript, Word

    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == IID)).first()
        return [w.text.strip() for w in s.exec(select(Word).where(Word.transcript_id == tr.id, Word.end_ms <= 2500)).all()]


def test_register_request_refused_grant_read_log_revoke(research):
    """The walk of « Done when »: register → request → refused read (403) → grant → read transcript and
    audio range → the access log shows both → revoke → 403 again; nothing served without a grant."""
    base, ws, key = research
    r = Client(base)
    st, body = r.call("POST", "/api/register", {"name": "Claire Martin", "email": EMAIL,
                                                "institution": "Université de Lille", "password": RPW})
    assert st == 201 and body == {"login": "chercheuse@univ-lille.fr", "role": "researcher"}, body
    login = body["login"]
    assert r.login(login, RPW)[0] == 200
    st, body = r.call("POST", "/api/access-requests", {"interviews": [key], "purpose": "Thèse sur le travail textile"})
    assert st == 201 and isinstance(body["id"], int), body
    rid = body["id"]
    # no grant yet: the record, the audio, the reading page and the staff routes all answer 403, nothing served
    for path in (f"/api/interviews/{key}", f"/audio/{key}", f"/lecture/{key}", f"/api/interviews/{IID}", f"/audio/{IID}",
                 f"/api/i/{IID}/transcript", "/api/interviews", "/api/interviews/iv-000000000000"):
        st, body = r.call("GET", path, headers={"Range": "bytes=0-99"})
        assert st == 403, (path, st)
        assert "segments" not in str(body) and "Bonjour" not in str(body)
    assert r.call("GET", "/api/access-requests")[1][0]["status"] == "pending"
    # a researcher reaches nothing of the staff's workbench; « / » leads to its requests
    for path in ("/expositions", "/publish", "/vocab", "/importer", f"/i/{IID}", f"/i/{IID}/consent", "/journal",
                 f"/api/i/{IID}/access-log", "/api/publish"):
        assert r.call("GET", path)[0] == 403, path
    st, home = r.call("GET", "/")
    assert st == 200 and "Demandes d’accès" in home

    a = Client(base)
    a.login("admin")
    st, mine = a.call("GET", "/api/access-requests")
    assert st == 200 and [x["id"] for x in mine] == [rid] and mine[0]["researcher"]["name"] == "Claire Martin"
    for days in (0, 10_000, "90", True):  # bad input: refused, nothing granted
        st, body = a.call("POST", f"/api/access-requests/{rid}/grant", {"days": days})
        assert st == 400, (days, body)
    st, body = a.call("POST", f"/api/access-requests/{rid}/grant", {"days": 30})
    assert st == 200 and body["status"] == "granted" and body["days"] == 30, body

    # the researcher reads the approved text, redactions applied, with a citation; audio only by range
    st, rec = r.call("GET", f"/api/interviews/{key}")
    assert st == 200 and rec["id"] == key and rec["segments"], rec
    text = " ".join(sg["text"] for sg in rec["segments"])
    assert rec["segments"][0]["start_ms"] >= 2500 and all(sg["start_ms"] >= 2500 for sg in rec["segments"])
    assert key in rec["citation"] and "Consulté le" in rec["citation"] and IID not in str(rec)
    assert text.strip()
    st, chunk = r.call("GET", f"/audio/{key}", headers={"Range": "bytes=0-99"})
    assert st == 206 and len(chunk.encode("utf-8", "surrogateescape")) > 0
    assert r.call("GET", f"/audio/{key}")[0] == 416  # no download of the whole file
    st, html = r.call("GET", f"/lecture/{key}")
    assert st == 200 and "Citer cet entretien" in html and "download" not in html.replace("nodownload", "")
    # every read is in the log; the admin sees who read it, and exports it
    st, log = a.call("GET", f"/api/i/{IID}/access-log")
    assert st == 200
    seen = {(e["actor"], e["action"]) for e in log["entries"]}
    assert {(login, "access.transcript"), (login, "access.audio"), (login, "access.page")} <= seen, seen
    assert all(e["address"] == "127.0.0.1" for e in log["entries"])
    st, page = a.call("GET", f"/i/{IID}/consultations")
    assert st == 200 and "Qui a consulté cet entretien" in page and login in page
    st, text_csv = a.call("GET", f"/journal.csv?interview={IID}&action=access.")
    rows = list(csv.DictReader(io.StringIO(text_csv)))
    assert {x["action"] for x in rows} >= {"access.transcript", "access.audio"} and rows[0]["museum"] == "Musée A"
    # the researcher may not read the log, the journal, or decide
    assert r.call("GET", f"/api/i/{IID}/access-log")[0] == 403
    assert r.call("GET", "/journal")[0] == 403
    assert r.call("POST", f"/api/access-requests/{rid}/revoke", {})[0] == 404
    # revoked: 403 at once, on every route
    st, body = a.call("POST", f"/api/access-requests/{rid}/revoke", {"reason": "fin du projet"})
    assert st == 200 and body["status"] == "revoked"
    for path in (f"/api/interviews/{key}", f"/audio/{key}", f"/lecture/{key}"):
        assert r.call("GET", path, headers={"Range": "bytes=0-99"})[0] == 403, path
    st, mine = r.call("GET", "/api/access-requests")
    assert mine[0]["status"] == "revoked" and mine[0]["reason"] == "fin du projet"


def test_bad_registrations_unlisted_or_withdrawn_interviews_and_rate_limits(research):
    """Bad input and abuse: existing, invalid e-mail, weak password; a request for an unlisted or
    withdrawn interview is answered like an unknown id; a withdrawal ends the grant at once; rate limits."""
    from oralhist.editorial.consent import set_consent

    base, ws, key = research
    c = Client(base)
    ok = {"name": "Jean Dupont", "email": "jean@exemple.fr", "institution": "", "password": RPW}
    assert c.call("POST", "/api/register", ok)[0] == 201
    st, body = c.call("POST", "/api/register", dict(ok, email="JEAN@EXEMPLE.FR"))
    assert st == 409 and "existe déjà" in body["error"]
    st, body = c.call("POST", "/api/register", dict(ok, email="jean@"))
    assert st == 400 and "adresse électronique invalide" in body["error"]
    st, body = c.call("POST", "/api/register", dict(ok, email="autre@exemple.fr", password="motdepasse"))
    assert st == 400 and "mot de passe trop faible" in body["error"]
    # five attempts an hour from one address (refused ones count): the sixth is 429, nothing created
    assert c.call("POST", "/api/register", dict(ok, email="x5@exemple.fr"))[0] == 201
    st, body = c.call("POST", "/api/register", dict(ok, email="x6@exemple.fr"))
    assert st == 429, body
    from oralhist.web.auth import list_accounts

    assert sorted(a["name"] for a in list_accounts(ws) if a["role"] == "researcher") == ["jean@exemple.fr",
                                                                                         "x5@exemple.fr"]

    assert c.login("jean@exemple.fr", RPW)[0] == 200
    # an interview that is not listed: the same answer as an unknown id
    make_interview(ws, "2023-autre", title="Autre")
    from oralhist.records import Interview

    with db.session(ws) as s:
        other = s.get(Interview, "2023-autre").public_key
    set_consent(ws, "2023-autre", scope="research-only", who="admin")  # listing none
    unknown = c.call("POST", "/api/access-requests", {"interviews": ["iv-0123456789ab"], "purpose": "Thèse d’histoire"})
    unlisted = c.call("POST", "/api/access-requests", {"interviews": [other], "purpose": "Thèse d’histoire"})
    assert unknown[0] == unlisted[0] == 404
    assert unknown[1]["error"].replace("iv-0123456789ab", "X") == unlisted[1]["error"].replace(other, "X")
    st, body = c.call("POST", "/api/access-requests", {"interviews": [key], "purpose": "Thèse d’histoire"})
    assert st == 201
    a = Client(base)
    a.login("admin")
    assert a.call("POST", f"/api/access-requests/{body['id']}/grant", {})[1]["days"] == 90  # the default
    assert c.call("GET", f"/api/interviews/{key}")[0] == 200
    # withdrawn: every grant ends at once, and a new request is answered like an unknown id
    set_consent(ws, IID, withdraw=True, who="admin", reason="la famille le demande")
    assert c.call("GET", f"/api/interviews/{key}")[0] == 403
    assert c.call("GET", f"/audio/{key}", headers={"Range": "bytes=0-9"})[0] == 403
    assert c.call("POST", "/api/access-requests", {"interviews": [key], "purpose": "Thèse d’histoire"})[0] == 404
    # the consent change is in the journal with who and why
    st, j = a.call("GET", f"/api/journal?interview={IID}&action=consent")
    assert st == 200 and j["entries"][0]["actor"] == "admin" and "la famille le demande" in j["entries"][0]["detail"]
    # requests are rate-limited per account (20 an hour; 4 made above)
    codes = [c.call("POST", "/api/access-requests", {"interviews": [other], "purpose": "Thèse d’histoire"})[0]
             for _ in range(18)]
    assert codes == [404] * 16 + [429] * 2


def test_journal_lists_logins_imports_consent_approvals_publishing_filtered_by_museum(research):
    """Issue 21 item 8: the journal (admin), filtered; a museum's admin sees only its museum."""
    from oralhist.editorial.activity import record_now
    from oralhist.web.auth import set_account

    base, ws, key = research
    set_account(ws, "admin-b", PW, role="admin", museum="Musée B")
    a = Client(base)
    a.login("admin")
    v = Client(base)
    assert v.login("vol-a", "wrong password")[0] == 403
    record_now(ws, actor="oralhist publish", action="publish", detail="site publié")
    st, j = a.call("GET", "/api/journal?per_page=200")
    actions = {e["action"] for e in j["entries"]}
    assert {"login", "login.failed", "consent", "approve", "publish"} <= actions, actions
    consent = [e for e in j["entries"] if e["action"] == "consent"][0]
    assert consent["actor"] == "admin" and "accord signé le 3 mai" in consent["detail"]
    st, html = a.call("GET", "/journal?action=login.failed")
    assert st == 200 and "Journal d’activité" in html and "vol-a" in html, html[-3000:]
    b = Client(base)
    b.login("admin-b")
    st, jb = b.call("GET", "/api/journal?per_page=200")
    assert st == 200 and all(e["museum_id"] is not None for e in jb["entries"]) and not any(
        e["interview"] == IID for e in jb["entries"])
    assert v.login("vol-a")[0] == 200 and v.call("GET", "/api/journal")[0] == 403
    # a logout is in the journal too, under the account that left
    assert v.call("POST", "/api/logout", {})[0] == 204
    st, j = a.call("GET", "/api/journal?action=logout")
    assert st == 200 and [e["actor"] for e in j["entries"]] == ["vol-a"], j
    st, html = a.call("GET", "/journal?action=logout")
    assert st == 200 and "déconnexion" in html and "vol-a" in html


def test_browser_walk_inscription_demandes_reading_and_axe(research, page, browser):
    """In Chromium: register at /inscription, ask at /demandes, an admin grants in the browser, the
    researcher reads (the audio loads by ranges); axe-core on /inscription and /demandes (both sides)."""
    from test_upload_browser import axe_clean

    base, ws, key = research
    page.goto(base + "/inscription")
    axe_clean(page)
    page.fill("input[name=name]", "Claire Martin")
    page.fill("input[name=email]", "claire@univ-lille.fr")
    page.fill("input[name=institution]", "Université de Lille")
    page.fill("input[name=password]", "court")
    page.click("button[type=submit]")  # the browser refuses it itself (minlength); the server too:
    assert page.url.endswith("/inscription")
    page.fill("input[name=password]", "motdepasselong")
    page.click("button[type=submit]")
    page.wait_for_selector("#failed")
    assert "mot de passe trop faible" in page.inner_text("#failed")
    assert page.get_attribute("input[name=password]", "aria-invalid") == "true"
    page.fill("input[name=password]", RPW)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/demandes")
    page.goto(base + f"/demandes?entretien={key}")
    assert page.input_value("input[name=interviews]") == key
    page.fill("textarea[name=purpose]", "Thèse sur la dentelle")
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("tr[data-status=pending]")
    axe_clean(page)
    # the admin: a count in the header, the grant form
    ctx = browser.new_context(locale="fr-FR")
    admin = ctx.new_page()
    try:
        admin.goto(base + "/login?next=/demandes")
        admin.fill("input[name=name]", "admin")
        admin.fill("input[name=password]", PW)
        admin.click("button[type=submit]")
        admin.wait_for_selector("form.decide")
        assert admin.inner_text("header .notices .count").startswith("1")
        axe_clean(admin)
        admin.fill("form[data-action=grant] input[name=days]", "30")
        admin.click("form[data-action=grant] button")
        admin.wait_for_selector("tr[data-status=granted]")
    finally:
        ctx.close()
    page.goto(base + "/demandes")
    assert page.inner_text("header .notices .count").startswith("1")  # a decision not yet seen
    until = page.inner_text("tr[data-status=granted] td.state")  # the end of the grant, as a French date
    assert re.search(r"jusqu’au (1er|\d{1,2}) [a-zéû]+ \d{4}", until) and not re.search(r"\d{4}-\d{2}", until), until
    page.click(f"a[href='/lecture/{key}']")
    page.wait_for_selector("#citation")
    assert key in page.inner_text("#citation")
    page.wait_for_function("document.getElementById('audio').readyState >= 1")


def test_the_library_path_on_postgresql(pg_fresh, tmp_path, monkeypatch):
    """The same library calls on PostgreSQL: registration, request, grant, a checked and logged read
    (one statement, the enum compared in SQL), the journal's filters and CSV, a withdrawal."""
    from oralhist.archive.workspace import init
    from oralhist.editorial import access
    from oralhist.editorial.activity import export_csv, query
    from oralhist.editorial.consent import set_consent
    from oralhist.outputs.publish.catalogue import catalogue_cards
    from oralhist.records import Interview
    from oralhist.web.auth import set_account

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive")
    make_interview(ws, IID)
    set_consent(ws, IID, scope="research-only", listing="catalogue", who="admin", reason="accord écrit")
    with db.session(ws) as s:
        key = s.get(Interview, IID).public_key
    assert [c["id"] for c in catalogue_cards(ws)] == [key]
    fields = access.check_registration(ws, name="Claire Martin", email="claire@exemple.fr", institution="", password=RPW)
    set_account(ws, fields["email"], RPW, role="researcher")
    access.add_profile(ws, **fields)
    with pytest.raises(Exception, match="existe déjà"):
        access.check_registration(ws, name="X", email="CLAIRE@exemple.fr", institution="", password=RPW)
    [rid] = access.request_access(ws, "claire@exemple.fr", [key], purpose="Thèse sur le textile")
    assert access.admit(ws, "claire@exemple.fr", key, "page") is None
    assert access.decide(ws, rid, "grant", who="admin", days=7)["status"] == "granted"
    assert access.admit(ws, "claire@exemple.fr", key, "audio")[0] == IID
    assert access.pending_count(ws, account_name="claire@exemple.fr", researcher=True) == 1
    with db.session(ws) as s:
        page = query(s, interview_id=IID, action="access.", since="2000-01-01")
        assert [r["action"] for r in page.rows] == ["access.audio", "access.grant", "access.request"] and page.total == 3
        assert "access.denied" in export_csv(s, actor="claire@exemple.fr")
    set_consent(ws, IID, withdraw=True, who="admin", reason="retrait")
    assert access.admit(ws, "claire@exemple.fr", key, "audio") is None
    assert access.list_requests(ws, account_name="claire@exemple.fr", mine=True)[0]["status"] == "revoked"
    assert catalogue_cards(ws) == []


def test_notifications_by_smtp_when_enabled_and_in_the_log_when_off(ws, tmp_path):
    """[mail]: off by default (the message goes to the activity log); on, the real smtplib path
    delivers it to a local SMTP server (aiosmtpd), and a server that is down is logged, never raised."""
    from aiosmtpd.controller import Controller

    from oralhist.archive.workspace import open_workspace
    from oralhist.editorial.access import notify
    from oralhist.editorial.activity import query
    from oralhist.web.server import free_port

    assert notify(ws, "claire@exemple.fr", "Votre demande n° 1 : accordée", "Accès jusqu’au 2027-01-01.") is False
    with db.session(ws) as s:
        line = query(s, action="mail").rows[0]
    assert "claire@exemple.fr" in line["detail"] and "accordée" in line["detail"]

    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8")))
            return "250 OK"

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        toml = ws.root / "oralhist.toml"
        toml.write_text(toml.read_text("utf-8") + f'\n[mail]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
                        'from = "archives@musee.fr"\nstarttls = false\n', "utf-8")
        ws2 = open_workspace(ws.root)
        assert notify(ws2, "claire@exemple.fr", "Votre demande n° 1 : accordée", "Accès jusqu’au 2027-01-01.") is True
    finally:
        ctl.stop()
    assert got and got[0][0] == "archives@musee.fr" and got[0][1] == ["claire@exemple.fr"]
    assert "accord" in got[0][2]
    assert notify(ws2, "claire@exemple.fr", "Sujet", "Corps") is False  # the server is gone: logged, not raised
    with db.session(ws) as s:
        assert "envoi impossible" in query(s, action="mail").rows[0]["detail"]
