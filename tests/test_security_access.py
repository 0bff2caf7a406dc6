"""Access that can be taken back, and the workbench's edges (issue 19, items 4-8, 13, 15, 19, 23c).

A real uvicorn server on a free port (``bench`` of test_workbench, or ``proxied`` below with
``[server]`` settings), a real SQLite archive, the real CLI (typer's CliRunner, in-process),
real audio for the imports.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from oralhist import db
from test_upload import Tus, leftovers, snapshot, wav_of
from test_workbench import IID, PW, Client, accounts, bench, multipart  # noqa: F401  (bench: fixture)
from editdata import make_interview


def _cli(ws):
    from typer.testing import CliRunner

    from oralhist.cli import app

    runner = CliRunner()

    def run(*args, input=None, env=None):
        return runner.invoke(app, ["--workspace", str(ws.root), *map(str, args)], input=input, env=env,
                             catch_exceptions=False)

    return run


def _role(ws, name):
    from oralhist.web.auth import list_accounts

    return {r["name"]: (r["role"], r["museum"]) for r in list_accounts(ws)}.get(name)


def _start(ws, server_toml: str = ""):
    """A workbench on ``ws`` with ``[server]`` settings written first: (server, cfg, base url)."""
    from oralhist.web.server import start_workbench_in_thread
    from oralhist.archive.workspace import open_workspace

    if server_toml:
        p = ws.root / "oralhist.toml"
        p.write_text(p.read_text("utf-8") + "\n[server]\n" + server_toml + "\n", "utf-8")
    ws2 = open_workspace(ws.root)
    server, cfg, url, _ = start_workbench_in_thread(ws2, runner=False)
    return server, cfg, url.rstrip("/")


@pytest.fixture()
def serve_with(ws):
    """serve_with('trusted_proxies = ["127.0.0.1"]') -> (base url, cfg): the archive of ``ws`` with
    the sample interview and the accounts of test_workbench."""
    make_interview(ws, IID)
    accounts(ws)
    started = []

    def start(server_toml=""):
        server, cfg, base = _start(ws, server_toml)
        started.append(server)
        return base, cfg

    yield start
    for s in started:
        s.should_exit = True
        s._thread.join(5)


# ------------------------------------------------------------------------------- items 4, 5, 6


def test_user_remove_works_after_a_login_and_ends_its_sessions_at_once(bench):
    """Item 4: `oralhist user remove` of an account that has logged in (it failed with « FOREIGN KEY
    constraint failed » and the session stayed valid)."""
    base, ws = bench
    c = Client(base)
    assert c.login("edit")[0] == 200
    assert c.call("GET", "/api/interviews")[0] == 200
    r = _cli(ws)("user", "remove", "edit")
    assert r.exit_code == 0, r.output
    assert _role(ws, "edit") is None
    assert c.call("GET", "/api/interviews")[0] == 401  # the running server's next request: signed out
    assert Client(base).login("edit")[0] == 403


def test_a_new_password_ends_every_session_of_the_account(bench):
    """Item 5: changing a password (CLI or library) signs out every browser of that account, not others."""
    base, ws = bench
    a, b, other = Client(base), Client(base), Client(base)
    assert a.login("edit")[0] == 200 and b.login("edit")[0] == 200 and other.login("admin")[0] == 200
    r = _cli(ws)("user", "add", "edit", "--password-stdin", input="a new long password\n")
    assert r.exit_code == 0, r.output
    assert a.call("GET", "/api/interviews")[0] == 401
    assert b.call("GET", "/api/interviews")[0] == 401
    assert other.call("GET", "/api/interviews")[0] == 200  # another account keeps its session
    assert Client(base).login("edit")[0] == 403
    assert Client(base).login("edit", "a new long password")[0] == 200
    assert _role(ws, "edit") == ("editor", None)  # the role was not touched


def test_user_add_on_an_existing_account_changes_only_the_options_given(ws):
    """Item 6: `oralhist user add EXISTING` without --role kept nothing: an admin became a volunteer."""
    from oralhist.web.auth import verify_login

    run = _cli(ws)
    assert run("user", "add", "chef", "--role", "admin", "--password-stdin", input=PW + "\n").exit_code == 0
    assert run("user", "add", "chef", "--password-stdin", input="another password\n").exit_code == 0
    assert _role(ws, "chef") == ("admin", None)  # password changed, still admin
    # --museum alone: no password asked, the password and the role kept
    r = run("user", "add", "chef", "--museum", "Musée A", env={"ORALHIST_PASSWORD": ""})
    assert r.exit_code == 0, r.output
    assert _role(ws, "chef") == ("admin", "Musée A")
    assert verify_login(ws, "chef", "another password")
    # --role alone on an existing account: only the role
    assert run("user", "add", "chef", "--role", "editor", env={"ORALHIST_PASSWORD": ""}).exit_code == 0
    assert _role(ws, "chef") == ("editor", "Musée A") and verify_login(ws, "chef", "another password")
    # a new account without --role: volunteer (`user add`), editor (`edit user add`)
    assert run("user", "add", "neuf", "--password-stdin", input=PW + "\n").exit_code == 0
    assert _role(ws, "neuf") == ("volunteer", None)
    assert run("edit", "user", "add", "neuf2", "--password-stdin", input=PW + "\n").exit_code == 0
    assert _role(ws, "neuf2") == ("editor", None)


# ------------------------------------------------------------------------------- item 7


def test_method_override_headers_are_refused(bench):
    """Item 7: a GET carrying X-HTTP-Method-Override: DELETE reached the tus server without a CSRF token
    and deleted the upload; PATCH the same way wrote into it."""
    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    tus = Tus(base, c)
    loc = tus.create("a.wav", 100)
    for header in ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"):
        st, _, body = tus.req("GET", loc, headers={header: "DELETE"}, csrf=False)
        assert st == 400 and "substitution" in json.loads(body)["error"], (header, st, body)
    st, _, _ = tus.req("GET", loc, b"x" * 100, headers={"X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0",
                                                       "Content-Type": "application/offset+octet-stream"}, csrf=False)
    assert st == 400
    assert tus.head(loc) == 0  # still there, nothing written
    # even with the token: the method run must be the method checked
    assert tus.req("POST", loc, headers={"X-HTTP-Method-Override": "DELETE"})[0] == 400
    assert tus.head(loc) == 0
    assert tus.req("DELETE", loc)[0] == 204  # the real method still works


# ------------------------------------------------------------------------------- item 8


def test_failed_logins_behind_a_trusted_proxy_are_counted_per_client_and_per_login(serve_with):
    """Item 8: behind a reverse proxy every client had the proxy's address: 20 failures locked everyone out."""
    base, _ = serve_with('trusted_proxies = ["127.0.0.1"]')

    def login(name, password, client):
        return Client(base).login(name, password, headers={"X-Forwarded-For": f"{client}, 127.0.0.1"})[0]

    # one client (203.0.113.5) tries 20 wrong logins and passwords: it is stopped, nobody else is
    codes = [login(f"nobody{i}", "wrong password", "203.0.113.5") for i in range(20)]
    assert set(codes) == {403}, codes
    assert login("nobody99", "wrong password", "203.0.113.5") == 429
    assert login("edit", PW, "203.0.113.5") == 429
    assert login("edit", PW, "198.51.100.7") == 200  # another person behind the same proxy
    # one login guessed from many addresses: that login waits, the others do not
    codes = [login("admin", "wrong password", f"192.0.2.{i}") for i in range(1, 11)]
    assert set(codes) == {403}, codes
    assert login("admin", PW, "192.0.2.200") == 429
    assert login("vol-a", PW, "192.0.2.201") == 200


def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(bench):
    """Item 8: without [server] trusted_proxies, X-Forwarded-For is the client's word: not believed."""
    base, _ = bench
    codes = [Client(base).login(f"x{i}", "wrong password", headers={"X-Forwarded-For": f"192.0.2.{i}"})[0]
             for i in range(21)]
    assert codes[:20] == [403] * 20 and codes[20] == 429, codes  # one address (the real peer): 20 at most


def test_server_settings_are_type_checked(ws):
    """Item 8 and 15: [server] trusted_proxies and upload_quota_gb are checked like the other settings."""
    from oralhist.errors import WorkspaceError
    from oralhist.archive.workspace import open_workspace

    p = ws.root / "oralhist.toml"
    base = p.read_text("utf-8")
    for bad, words in [('trusted_proxies = "127.0.0.1"', "server.trusted_proxies"),
                       ('trusted_proxies = ["proxy.lan"]', "server.trusted_proxies"),
                       ('upload_quota_gb = "20"', "server.upload_quota_gb"),
                       ("upload_quota_gb = 0", "server.upload_quota_gb"),
                       ("upload_quota_gb = true", "server.upload_quota_gb")]:
        p.write_text(base + "\n[server]\n" + bad + "\n", "utf-8")
        with pytest.raises(WorkspaceError, match=re.escape(words)):
            open_workspace(ws.root)
    p.write_text(base + '\n[server]\ntrusted_proxies = ["10.0.0.0/8", "::1"]\nupload_quota_gb = 2.5\n', "utf-8")
    s = open_workspace(ws.root).settings
    assert s.trusted_proxies == ("10.0.0.0/8", "::1") and s.upload_quota_gb == 2.5
    assert open_workspace(ws.root).settings.upload_quota_gb == 2.5
    p.write_text(base, "utf-8")
    assert open_workspace(ws.root).settings.upload_quota_gb == 20.0


# ------------------------------------------------------------------------------- item 13


def test_json_edge_values_get_a_french_400_never_a_500(bench):
    """Item 13: Infinity/NaN, 10**30 versions and ids, lists for texts, lone surrogates: each a 400
    with a French message (they were 500s), and nothing written."""
    from oralhist.records import Revision

    base, ws = bench
    c = Client(base)
    assert c.login("admin")[0] == 200
    big = str(10**30)
    jh = {"Content-Type": "application/json"}
    cases = [
        ("POST", f"/api/i/{IID}/approve", '{"version": %s}' % big),
        ("POST", f"/api/i/{IID}/restore", '{"version": %s, "base_version": 1}' % big),
        ("POST", f"/api/i/{IID}/transcript", '{"base_version": %s, "segments": [{"text": "x"}]}' % big),
        ("POST", f"/api/i/{IID}/transcript", '{"base_version": 1, "segments": [{"text": "x\\ud800y"}]}'),
        ("POST", f"/api/i/{IID}/topics", '{"base_version": 1, "topics": [{"start_ms": 0, "end_ms": Infinity}]}'),
        ("POST", f"/api/i/{IID}/topics", '{"base_version": 1, "topics": [{"start_ms": NaN, "end_ms": 1}]}'),
        ("POST", f"/api/i/{IID}/topics", '{"base_version": 1, "topics": [{"start_ms": 0, "end_ms": 1e999}]}'),
        ("POST", f"/api/i/{IID}/links", '{"term_id": %s, "start_ms": 0, "end_ms": 10}' % big),
        ("POST", f"/api/i/{IID}/speakers/merge", '{"from": ["a"], "into": "b"}'),
        ("POST", f"/api/i/{IID}/speakers/{big}", '{"name": "x"}'),
        ("POST", f"/api/links/{big}", '{"status": "accepted"}'),
        ("POST", f"/api/jobs/{big}/retry", "{}"),
        ("GET", f"/api/i/{IID}/transcript?version={big}", None),
        ("POST", f"/api/i/{IID}/consent", '{"pseudonym": "\\udc00"}'),
        ("POST", f"/api/i/{IID}/consent", '{"unredact": [%s]}' % big),
        ("POST", "/api/expositions", '{"title": ["une", "liste"], "slug": "liste"}'),
        ("POST", "/api/expositions", '{"title": "Titre \\ud83d", "slug": "seul"}'),
        ("POST", "/api/expositions", '{"title": "T", "slug": ["a"]}'),
        ("POST", "/api/imports", '{"uploads": ["a"], "narrator": ["x"]}'),
        ("POST", "/api/imports", '{"uploads": "abc"}'),
        ("POST", "/api/login", '{"login": "admin", "password": "\\ud800"}'),
    ]
    for method, path, raw in cases:
        st, body = c.call(method, path, raw=raw.encode() if raw is not None else None, headers=jh)
        assert st == 400, (path, raw, st, body)
        assert isinstance(body, dict) and body["error"] and not re.search(r"Traceback|Error\b", body["error"]), body
    with db.session(ws) as s:
        assert s.exec(select(Revision)).all() == []
    from oralhist.web.jsonbody import parse

    assert parse(b'{"a": 1.5, "b": [1, -9007199254740991], "c": "\\u00e9t\\u00e9 \\ud83d\\ude00"}') == \
        {"a": 1.5, "b": [1, -9007199254740991], "c": "été 😀"}


# ------------------------------------------------------------------------------- item 15


def _tus_create(tus, name, size, extra=None):
    md = f"filename {base64.b64encode(name.encode()).decode()}"
    return tus.req("POST", "/api/uploads/", headers={"Upload-Length": str(size), "Upload-Metadata": md, **(extra or {})})


def test_upload_quota_per_account_is_enforced_and_shown(serve_with, corpus, ffmpeg, tmp_path):
    """Item 15: [server] upload_quota_gb: tus creation and PATCH, the multipart API refused in French
    (413), nothing half-stored; the import page says how much is left."""
    wav = wav_of(ffmpeg, sorted((corpus / "fr").glob("*.ogg"))[1], tmp_path / "bon.wav").read_bytes()
    quota = 3 * len(wav)
    base, cfg = serve_with(f"upload_quota_gb = {quota / 1024**3!r}")
    ws = cfg.ws
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    tus = Tus(base, c)
    page = c.call("GET", "/importer")[1]
    assert "Il vous reste" in page
    before = snapshot(ws)
    # one upload larger than the quota: refused at creation, nothing created
    st, _, body = _tus_create(tus, "gros.wav", quota + 1)
    assert st == 413 and "quota" in json.loads(body)["error"], body
    assert leftovers(ws) == [] and snapshot(ws) == before
    # uploads in progress count: two of 1.4 x the file fit (2.8 of 3), a third does not
    locs = []
    for i in range(2):
        st, h, body = _tus_create(tus, f"p{i}.wav", int(len(wav) * 1.4))
        assert st == 201, body
        locs.append(urlsplit(h["location"]).path)
    st, _, body = _tus_create(tus, "p3.wav", int(len(wav) * 1.4))
    assert st == 413 and "il vous reste" in json.loads(body)["error"]
    for loc in locs:
        assert tus.req("DELETE", loc)[0] == 204
    # imported recordings count: one import of the file leaves 2 files' worth
    uid = tus.upload("bon.wav", wav)
    st, res = c.call("POST", "/api/imports", {"uploads": [uid], "narrator": "Paul", "scope": "public"})
    assert st == 202, res
    from oralhist.records import Recording

    with db.session(ws) as s:
        assert [r.added_by for r in s.exec(select(Recording)).all()] == ["vol-a"]
    # the multipart API: a body beyond what is left is refused before it is stored
    after_import = snapshot(ws)
    data, ctype = multipart({"narrator": "X"}, [("files", "a.wav", b"\0" * (2 * len(wav) + 10))])
    st, body = _post_answered_early(c, "/api/interviews", data, ctype)
    assert st == 413 and "quota" in body["error"], body
    assert snapshot(ws) == after_import and leftovers(ws) == []
    # PATCH: an upload created while it fitted, then the quota lowered (or a racing creation)
    st, h, _ = _tus_create(tus, "q.wav", 100)
    loc = urlsplit(h["location"]).path
    cfg.upload_quota = len(wav) + 50
    st, _, body = tus.patch(loc, 0, b"x" * 100)
    assert st == 413 and "quota" in json.loads(body)["error"]
    assert tus.head(loc) == 0  # nothing written
    cfg.upload_quota = quota
    # another account has its own quota
    b = Client(base)
    assert b.login("vol-b")[0] == 200
    assert _tus_create(Tus(base, b), "b.wav", quota - 10)[0] == 201
    # the page: what is left, in French
    page = c.call("GET", "/importer")[1]
    left = quota - len(wav) - 100
    from oralhist.web.quota import gb_fr

    assert f"Il vous reste {gb_fr(left)}" in page, page
    assert gb_fr(int(18.5 * 1024**3)) == "18,5 Go" and gb_fr(20 * 1024**3) == "20 Go"


def test_import_page_shows_the_default_quota(bench):
    base, _ = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    assert "Il vous reste 20 Go" in c.call("GET", "/importer")[1]


# ------------------------------------------------------------------------------- item 19


def test_no_server_path_in_import_errors(bench):
    """Item 19: a refused multipart import named the file by its path on the server."""
    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    data, ctype = multipart({"narrator": "X", "scope": "public"}, [("files", "notes.wav", b"not audio" * 1000)])
    st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
    text = json.dumps(body, ensure_ascii=False)
    assert st == 400 and "notes.wav" in text, body
    for leak in (str(ws.root), ".oralhist", "uploads", "multipart-"):
        assert leak not in text, (leak, text)
    assert body["failed"][0]["file"] == "notes.wav"


def test_no_server_path_in_tus_errors(bench):
    """Item 19: tuspyserver answered a failed write with « Internal server error: [Errno 21] Is a
    directory: '<archive>/.oralhist/uploads/<account>/<id>' »."""
    from oralhist.web.staging import user_dir as _user_dir

    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    tus = Tus(base, c)
    loc = tus.create("a.wav", 100)
    data = _user_dir(ws, c_account("vol-a")) / loc.rsplit("/", 1)[1]
    data.unlink()
    data.mkdir()  # any OSError while writing: a full disk, a permission, ...
    st, _, body = tus.patch(loc, 0, b"x" * 10)
    text = body.decode("utf-8")
    assert st == 500 and "réessayez" in json.loads(text)["error"], text
    for leak in (str(ws.root), ".oralhist", "Errno"):
        assert leak not in text, (leak, text)


def test_location_follows_forwarded_host_only_from_a_trusted_proxy_and_a_known_name(serve_with):
    """Item 19: tus `Location` headers followed any X-Forwarded-Host (and -Proto)."""
    base, _ = serve_with('trusted_proxies = ["127.0.0.1"]\nhosts = ["archive.example.org"]')
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    tus = Tus(base, c)
    here = urlsplit(base).netloc

    def location(headers):
        st, h, body = _tus_create(tus, "a.wav", 10, headers)
        assert st == 201, body
        return h["location"]

    loc = location({"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "javascript"})
    assert loc.startswith(f"http://{here}/api/uploads/"), loc
    loc = location({"X-Forwarded-Host": "archive.example.org", "X-Forwarded-Proto": "https"})
    assert loc.startswith("https://archive.example.org/api/uploads/"), loc


def test_location_ignores_forwarded_headers_without_trusted_proxies(bench):
    base, _ = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    st, h, body = _tus_create(Tus(base, c), "a.wav", 10, {"X-Forwarded-Host": "evil.example",
                                                             "X-Forwarded-Proto": "https"})
    assert st == 201, body
    assert urlsplit(h["location"]).netloc == urlsplit(base).netloc and h["location"].startswith("http://")


# ------------------------------------------------------------------------------- item 23c


def test_tus_upload_created_without_filetype_can_be_resumed(bench):
    """Item 23c: HEAD answered 400 (« missing required field: filetype ») for such an upload."""
    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    tus = Tus(base, c)
    st, h, body = _tus_create(tus, "sans-type.wav", 200)
    assert st == 201, body
    loc = urlsplit(h["location"]).path
    assert tus.patch(loc, 0, b"x" * 120)[0] == 204
    assert tus.head(loc) == 120  # the resume point
    assert tus.patch(loc, 120, b"y" * 80)[0] == 204
    assert tus.head(loc) == 200
    # an upload stored by the old code (filetype "") is mended on HEAD
    uid = loc.rsplit("/", 1)[1]
    from oralhist.web.staging import user_dir as _user_dir

    info = next(p for p in _user_dir(ws, c_account("vol-a")).glob(f"{uid}.info"))
    meta = json.loads(info.read_text("utf-8"))
    meta["metadata"]["filetype"] = ""
    info.write_text(json.dumps(meta), "utf-8")
    assert tus.head(loc) == 200


def c_account(name):
    from oralhist.web.permissions import Account

    return Account(name, "volunteer", None, "")


def test_accounts_and_quota_on_postgresql(pg_fresh, tmp_path, monkeypatch):
    """Items 4, 5, 15 on PostgreSQL (foreign keys always enforced there; migration 1902's column)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from oralhist.web.auth import open_session, remove_account, session_user, set_account
    from oralhist.web.permissions import Account
    from oralhist.web.quota import imported_bytes, mark_imported
    from oralhist.archive.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive")
    with db.engine_for(ws).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": lambda name, type_, parents: not (
            type_ == "table" and name.startswith(("procrastinate_", "fts_")))})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    set_account(ws, "camille", PW, role="admin")
    t1, _ = open_session(ws, "camille")
    t2, _ = open_session(ws, "camille")
    set_account(ws, "camille", "a new long password")  # item 5
    assert session_user(ws, t1) is None and session_user(ws, t2) is None
    t3, _ = open_session(ws, "camille")
    remove_account(ws, "camille")  # item 4
    assert session_user(ws, t3) is None
    make_interview(ws, IID)
    from oralhist.records import Recording

    with db.session(ws) as s:
        s.add(Recording(interview_id=IID, original_name="a.wav", path="interviews/x/original/a.wav", sha256="0" * 64,
                        size=12345, duration_ms=1000, sample_rate=16000, channels=1, codec="pcm_s16le"))
        s.commit()
    mark_imported(ws, 0, [IID], "vol")
    assert imported_bytes(ws, Account("vol", "volunteer", None, "")) == 12345
    assert imported_bytes(ws, Account("autre", "volunteer", None, "")) == 0


def _post_answered_early(c, path: str, data: bytes, ctype: str):
    """POST ``data`` as a browser does: the server may answer (413) and close before the whole body
    is sent, so a broken pipe while sending is expected and the answer is read afterwards (urllib
    gives up on the broken pipe and never reads it)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(c.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    try:
        conn.putrequest("POST", path)
        for k, v in {"Content-Type": ctype, "Content-Length": str(len(data)), "X-CSRF-Token": c.csrf,
                     "Cookie": "; ".join(f"{k.name}={k.value}" for k in c.jar)}.items():
            conn.putheader(k, v)
        conn.endheaders()
        try:
            conn.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the body was all sent: what the quota is for
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()
