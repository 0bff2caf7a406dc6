"""Issue 21 items 1-2: accounts through the API (/api/users, /api/me, /api/logout), sessions that end
(logout, disabled, removed, idle, lifetime), the curator role, the bad input of accounts, and
refusals as French HTML pages for browsers and JSON for the API. One real workbench (uvicorn on a
free port, SQLite) for the whole file; every test makes its own logins."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_workbench import PW, Client

IID = "2022-lecteurs-fleurs"
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory, prepared_archives):
    from oralhist.editorial.accounts import set_account
    from oralhist.records import Interview, Museum
    from oralhist.web.server import start_workbench_in_thread

    ws = prepared_archives("empty", lambda ws: None, tmp_path_factory.mktemp("accounts"))  # init once per process
    make_interview(ws, IID)
    set_account(ws, "admin", PW, role="admin")
    set_account(ws, "adm-a", PW, role="admin", museum="Musée A")
    set_account(ws, "vol-a", PW, role="volunteer", museum="Musée A")
    set_account(ws, "ed-b", PW, role="editor", museum="Musée B")
    with db.session(ws) as s:
        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        s.commit()
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    yield url.rstrip("/"), ws, cfg
    server.should_exit = True
    server._thread.join(5)


def logged(base, login, password=PW):
    c = Client(base)
    st, body = c.login(login, password)
    assert st == 200, body
    return c


def fresh(prefix="p"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_me_logout_and_a_replayed_cookie(bench):
    base, ws, _ = bench
    c = logged(base, "vol-a")
    assert c.call("GET", "/api/me") == (200, {"login": "vol-a", "role": "volunteer", "museum": "Musée A",
                                              "must_change_password": False})
    cookies = list(c.jar)
    st, body = c.call("POST", "/api/logout")
    assert st == 204
    replay = Client(base)  # the old cookie, replayed by someone who copied it
    for ck in cookies:
        replay.jar.set_cookie(ck)
    replay.csrf = c.csrf
    assert replay.call("GET", "/api/me")[0] == 401
    assert replay.call("GET", "/api/interviews")[0] == 401


def test_admin_creates_changes_disables_resets_and_removes(bench):
    base, ws, _ = bench
    admin = logged(base, "admin")
    login = fresh("cur")
    st, body = admin.call("POST", "/api/users", {"login": login, "password": "un musée de la mine 59",
                                                 "role": "curator", "museum": "Musée A"})
    assert st == 201 and body["role"] == "curator" and body["museum"] == "Musée A", body
    assert login in [u["login"] for u in admin.call("GET", "/api/users")[1]["users"]]
    person = logged(base, login, "un musée de la mine 59")
    # a password an admin chose: the person chooses their own before anything else
    assert person.call("GET", "/api/expositions")[0] == 403
    assert person.call("POST", "/api/me/password", {"current": "un musée de la mine 59",
                                                   "new": "le chevalement rouillé"})[0] == 200
    # a curator: exhibitions yes, transcripts read-only, no import
    assert person.call("GET", "/api/expositions")[0] == 200
    assert person.call("GET", f"/api/i/{IID}/transcript")[0] in (200, 404)  # readable (404: no transcript yet)
    assert person.call("POST", f"/api/i/{IID}/transcript", {"base_version": 1, "segments": []})[0] == 403
    assert person.call("POST", f"/api/i/{IID}/approve", {})[0] == 403
    assert person.call("GET", "/api/users")[0] == 403
    # change role: the session ends at once
    assert admin.call("POST", f"/api/users/{login}", {"role": "editor"})[0] == 200
    assert person.call("GET", "/api/me")[0] == 401
    person = logged(base, login, "le chevalement rouillé")
    # disable: sessions end at once, no new login
    assert admin.call("POST", f"/api/users/{login}", {"disabled": True})[1]["disabled"] is True
    assert person.call("GET", "/api/me")[0] == 401
    st, body = Client(base).login(login, "le chevalement rouillé")
    assert st == 403 and "désactivé" in body["error"]
    assert admin.call("POST", f"/api/users/{login}", {"disabled": False})[0] == 200
    # reset: a temporary password; the person must choose a new one before anything else
    st, body = admin.call("POST", f"/api/users/{login}/reset")
    temp = body["password"]
    assert st == 200 and len(temp) >= 16
    person = logged(base, login, temp)
    assert person.call("GET", "/api/me")[1]["must_change_password"] is True
    st, body = person.call("GET", "/api/interviews")
    assert st == 403 and "nouveau mot de passe" in body["error"]
    assert person.call("POST", "/api/me/password", {"current": temp, "new": "azertyuiop"})[0] == 400  # weak
    assert person.call("POST", "/api/me/password", {"current": temp, "new": "la lampe du galibot"})[0] == 200
    assert person.call("GET", "/api/interviews")[0] == 200  # this session is kept
    # an admin setting a password: also to be changed at the next login
    assert admin.call("POST", f"/api/users/{login}", {"password": "porte-plume et buvard"})[0] == 200
    assert person.call("GET", "/api/me")[0] == 401
    # remove: 204, sessions gone, login refused
    again = logged(base, login, "porte-plume et buvard")
    assert admin.call("DELETE", f"/api/users/{login}")[0] == 204
    assert again.call("GET", "/api/me")[0] == 401
    assert Client(base).login(login, "porte-plume et buvard")[0] == 403
    assert admin.call("DELETE", f"/api/users/{login}")[0] == 404


@pytest.mark.parametrize("body, status, words", [
    ({"login": "vol-a", "password": PW, "role": "volunteer"}, 409, "déjà"),
    ({"login": "", "password": PW, "role": "volunteer"}, 400, "identifiant vide"),
    ({"login": "x" * 200, "password": PW, "role": "volunteer"}, 400, "trop long"),
    ({"login": "a/b", "password": PW, "role": "volunteer"}, 400, "ni espace"),
    ({"login": "jean marc", "password": PW, "role": "volunteer"}, 400, "ni espace"),
    ({"login": "faible", "password": "motdepasse", "role": "volunteer"}, 400, "trop faible"),
    ({"login": "court", "password": "abc", "role": "volunteer"}, 400, "au moins 8"),
    ({"login": "chef", "password": PW, "role": "boss"}, 400, "rôle inconnu"),
    ({"login": "ailleurs", "password": PW, "role": "volunteer", "museum": "Musée Z"}, 400, "musée inconnu"),
])
def test_bad_account_input_is_refused_in_french_and_nothing_is_created(bench, body, status, words):
    base, ws, _ = bench
    from oralhist.records import EditorAccount, Museum

    with db.session(ws) as s:
        before = (len(s.exec(select(EditorAccount)).all()), len(s.exec(select(Museum)).all()))
    st, res = logged(base, "admin").call("POST", "/api/users", body)
    assert st == status and words in res["error"].lower(), res
    with db.session(ws) as s:
        assert (len(s.exec(select(EditorAccount)).all()), len(s.exec(select(Museum)).all())) == before


def test_the_last_admin_stays_and_a_museum_admin_manages_its_museum_only(bench):
    base, ws, _ = bench
    admin = logged(base, "admin")
    # two enabled admins (admin, adm-a): disabling adm-a is allowed, then admin is the last one
    assert admin.call("POST", "/api/users/adm-a", {"disabled": True})[0] == 200
    for change in ({"disabled": True}, {"role": "editor"}):
        st, body = admin.call("POST", "/api/users/admin", change)
        assert st == 400 and "dernier compte administrateur" in body["error"]
    st, body = admin.call("DELETE", "/api/users/admin")
    assert st == 400 and "dernier compte administrateur" in body["error"]
    assert admin.call("POST", "/api/users/adm-a", {"disabled": False})[0] == 200
    # a museum's admin: its museum's accounts only; another museum's is unknown (404)
    mine = logged(base, "adm-a")
    assert {u["museum"] for u in mine.call("GET", "/api/users")[1]["users"]} == {"Musée A"}
    assert mine.call("POST", "/api/users/ed-b", {"role": "volunteer"})[0] == 404
    st, body = mine.call("POST", "/api/users", {"login": fresh(), "password": PW, "role": "editor", "museum": "Musée B"})
    assert st == 400 and "son propre musée" in body["error"]
    st, body = mine.call("POST", "/api/users", {"login": fresh(), "password": PW, "role": "admin"})
    assert st == 400 and "son propre musée" in body["error"]
    assert mine.call("POST", "/api/users", {"login": fresh(), "password": PW, "role": "volunteer",
                                            "museum": "Musée A"})[0] == 201


def test_idle_timeout_and_absolute_lifetime_end_a_session(bench):
    base, ws, cfg = bench
    from oralhist.records import WebSession, utcnow

    c = logged(base, "vol-a")
    d = logged(base, "vol-a")
    with db.session(ws) as s:  # one session unused for 31 min, the other opened 13 h ago but active
        rows = sorted(s.exec(select(WebSession)).all(), key=lambda r: r.created_at)[-2:]
        rows[0].last_seen_at = utcnow() - timedelta(minutes=cfg.idle_minutes + 1)
        rows[1].created_at = utcnow() - timedelta(hours=cfg.session_hours + 1)
        for r in rows:
            s.add(r)
        s.commit()
    assert c.call("GET", "/api/me")[0] == 401
    assert d.call("GET", "/api/me")[0] == 401
    e = logged(base, "vol-a")
    assert e.call("GET", "/api/me")[0] == 200  # a fresh one lives


def test_my_sessions_listed_and_ended(bench):
    base, ws, _ = bench
    from oralhist.editorial.accounts import list_sessions

    a, b = logged(base, "ed-b"), logged(base, "ed-b")
    keys = [x["key"] for x in list_sessions(ws, "ed-b")]
    st, page = a.call("GET", "/moi", headers=HTML)
    assert st == 200 and "cette session" in page and "Terminer" in page
    other = keys[0]  # newest first: b's
    assert a.call("DELETE", f"/api/me/sessions/{other}")[0] == 204
    assert b.call("GET", "/api/me")[0] == 401 and a.call("GET", "/api/me")[0] == 200
    # someone else's session handle is unknown
    c = logged(base, "vol-a")
    mine = [x["key"] for x in list_sessions(ws, "vol-a")][0]
    assert a.call("DELETE", f"/api/me/sessions/{mine}")[0] == 404
    assert c.call("GET", "/api/me")[0] == 200


def test_refusals_are_french_pages_for_browsers_and_json_for_the_api(bench):
    base, ws, _ = bench
    vol, edb = logged(base, "vol-a"), logged(base, "ed-b")
    for who, path, status, title in [
        (vol, "/publish", 403, "Accès réservé"),
        (vol, "/expositions", 403, "Accès réservé"),
        (vol, "/comptes", 403, "Accès réservé"),
        (edb, f"/i/{IID}", 404, "Entretien introuvable"),  # another museum's interview
        (vol, "/i/pas-un-entretien", 404, "Entretien introuvable"),
        (edb, "/expositions/pas-une-expo", 404, "Exposition introuvable"),
        (vol, "/nulle-part", 404, "Page introuvable"),
    ]:
        st, page = who.call("GET", path, headers=HTML)
        assert st == status and isinstance(page, str), (path, page)
        assert '<html lang="fr">' in page and f"<h1>{title}</h1>" in page, (path, page[:400])
        assert 'href="/"' in page and "Se déconnecter" in page, path  # the way out
        assert "{" not in page.split("<main", 1)[1].split("</main>")[0], path  # no raw JSON
    # the same refusals to a script: JSON
    assert vol.call("GET", "/api/publish") == (403, {"error": "action réservée à un autre rôle"})
    assert edb.call("GET", f"/api/interviews/{IID}")[0] == 404


def test_cli_user_reset_and_disable(bench):
    base, ws, _ = bench
    from typer.testing import CliRunner

    from oralhist.cli import app

    run = lambda *a, **kw: CliRunner().invoke(app, ["--workspace", str(ws.root), *a], **kw)  # noqa: E731
    c = logged(base, "ed-b")
    r = run("user", "reset", "ed-b")
    assert r.exit_code == 0, r.output
    temp = r.output.split("temporary password of ed-b: ")[1].split()[0]
    assert c.call("GET", "/api/me")[0] == 401
    assert logged(base, "ed-b", temp).call("GET", "/api/me")[1]["must_change_password"] is True
    assert run("user", "disable", "ed-b").exit_code == 0
    assert Client(base).login("ed-b", temp)[0] == 403
    assert run("user", "disable", "ed-b", "--enable").exit_code == 0
    assert run("user", "add", "x y", "--password-stdin", input=PW + "\n").exit_code == 2


def test_account_rules_on_postgresql(tmp_path, monkeypatch, pg_fresh):
    """The library's account writes and session checks on PostgreSQL (the workbench's network mode)."""
    from oralhist.archive.workspace import init
    from oralhist.editorial import accounts as lib
    from oralhist.errors import BadInput, ConflictError
    from oralhist.records import WebSession, utcnow

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive")
    lib.set_account(ws, "chef", PW, role="admin", museum="Musée A")
    created = lib.create_account(ws, "Camille", PW, "curator", "Musée A", by="chef")
    assert created["must_change_password"] and created["museum"] == "Musée A"
    with pytest.raises(ConflictError):
        lib.create_account(ws, "camille", PW, "volunteer", "Musée A", by="chef")  # case-insensitive
    with pytest.raises(BadInput):
        lib.update_account(ws, "chef", disabled=True, by="chef")  # the last admin
    token, _ = lib.open_session(ws, "Camille")
    assert lib.session_user(ws, token).role == "curator"
    with db.session(ws) as s:  # idle for 31 minutes
        row = s.get(WebSession, lib.session_id(token))
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        s.add(row)
        s.commit()
    assert lib.session_user(ws, token) is None
    token, _ = lib.open_session(ws, "Camille")
    lib.update_account(ws, "Camille", disabled=True, by="chef")
    assert lib.session_user(ws, token) is None and lib.login_status(ws, "Camille", PW) == "disabled"
    temp = lib.reset_password(ws, "Camille", by="chef")
    lib.update_account(ws, "Camille", disabled=False, by="chef")
    token, _ = lib.open_session(ws, "Camille")
    assert lib.verify_login(ws, "Camille", temp) and lib.session_user(ws, token).must_change_password
    assert lib.close_session(ws, token) and lib.session_user(ws, token) is None
    lib.remove_account(ws, "Camille", by="chef")
    assert [a["login"] for a in lib.list_accounts(ws, by="chef")] == ["chef"]


def test_account_writes_are_in_the_activity_log(ws):
    """Issue 21 item 8: creating, changing, resetting, changing one's own password and removing an
    account each leave one line in the activity log (never a password)."""
    from oralhist.editorial import accounts as lib
    from oralhist.editorial.activity import query

    lib.create_account(ws, "chef", "tisserand-lumiere-1920", "admin")
    lib.create_account(ws, "benevole", "navette-bobine-1930", "volunteer", by="chef")
    lib.update_account(ws, "benevole", role="editor", by="chef")
    temp = lib.reset_password(ws, "benevole", by="chef")
    lib.change_own_password(ws, "benevole", temp, "cardage-filature-1955")
    lib.remove_account(ws, "benevole", by="chef")
    from oralhist import db

    with db.session(ws) as s:
        rows = query(s, action="account.").rows
    got = [(r["actor"], r["action"]) for r in rows]
    for want in (("terminal", "account.created"), ("chef", "account.created"), ("chef", "account.changed"),
                 ("chef", "account.password_reset"), ("benevole", "account.password_changed"),
                 ("chef", "account.removed")):
        assert want in got, (want, got)
    text = repr(rows)
    for secret in (temp, "navette-bobine-1930", "cardage-filature-1955"):
        assert secret not in text
