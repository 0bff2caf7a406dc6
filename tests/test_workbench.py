"""The workbench (`oralhist serve`): accounts, sessions, CSRF, roles and museums, the JSON API,
import through the API, and the bad-input / security list of issue 11 and items 15-16 of issue 15.
A real uvicorn server on a free port, a real SQLite archive, real audio clips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db

IID = "2022-lecteurs-fleurs"
PW = "correct horse battery"


class Client:
    """A script using the API: cookie jar, CSRF header once logged in."""

    def __init__(self, base):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def call(self, method, path, data=None, *, raw=None, headers=None, csrf=True):
        h = dict(headers or {})
        body = raw
        if data is not None:
            body = json.dumps(data).encode()
            h["Content-Type"] = "application/json"
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=h)
        try:
            r = self.opener.open(req)
            status, text = r.status, r.read()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode("utf-8", "replace")

    def login(self, login, password=PW, **kw):
        st, body = self.call("POST", "/api/login", {"login": login, "password": password}, **kw)
        if st == 200:
            self.csrf = body["csrf"]
        return st, body


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    b = uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for field, name, data in files:
        out.append(f'--{b}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                   f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{b}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={b}"


def accounts(ws):
    from oralhist.web.auth import set_account

    set_account(ws, "admin", PW, role="admin")
    set_account(ws, "vol-a", PW, role="volunteer", museum="Musée A")
    set_account(ws, "vol-b", PW, role="volunteer", museum="Musée B")
    set_account(ws, "edit", PW, role="editor")


@pytest.fixture()
def bench(ws):
    """(base url, ws) of a running workbench (no job runner: these tests check the web layer)."""
    from oralhist.web.server import start_workbench_in_thread

    make_interview(ws, IID)
    accounts(ws)
    with db.session(ws) as s:  # the sample interview belongs to museum A
        from oralhist.records import Interview, Museum

        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        s.commit()
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    yield url.rstrip("/"), ws
    server.should_exit = True
    server._thread.join(5)


def test_user_command_adds_lists_removes(ws):
    env = {**os.environ, "ORALHIST_PASSWORD": PW}
    run = lambda *a: subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), *a],  # noqa: E731
                                    env=env, capture_output=True, text=True)
    r = run("user", "add", "camille", "--role", "editor", "--museum", "La Manufacture")
    assert r.returncode == 0, r.stderr
    rows = json.loads(run("user", "list", "--json").stdout)
    assert [(x["name"], x["role"], x["museum"]) for x in rows] == [("camille", "editor", "La Manufacture")]
    assert run("user", "add", "x", "--role", "boss").returncode == 2
    assert run("user", "remove", "camille").returncode == 0
    assert json.loads(run("user", "list", "--json").stdout) == []


def test_login_csrf_roles_and_sessions_survive_a_restart(bench, ws):
    base, _ = bench
    c = Client(base)
    assert c.call("GET", "/api/interviews")[0] == 401
    st, body = c.login("vol-a")
    assert st == 200 and body["csrf"] and body["role"] == "volunteer"
    st, rows = c.call("GET", "/api/interviews")
    assert st == 200 and [r["id"] for r in rows] == [IID] and "jobs" in rows[0]
    st, one = c.call("GET", f"/api/interviews/{IID}")
    assert st == 200 and one["id"] == IID and one["jobs"] == [] and one["transcript"]["segments"]
    # a write without the CSRF header is refused, with it accepted
    tr = c.call("GET", f"/api/i/{IID}/transcript")[1]
    save = {"base_version": tr["version"], "segments": [{"text": s[3], "speaker_id": s[2]} for s in tr["segments"]]}
    save["segments"][0]["text"] = "Bonjour tout le monde. " + save["segments"][0]["text"]
    assert c.call("POST", f"/api/i/{IID}/transcript", save, csrf=False)[0] == 403
    st, res = c.call("POST", f"/api/i/{IID}/transcript", save)
    assert st == 200, res
    # volunteer: no publishing, no approving (403)
    assert c.call("POST", "/api/publish", {})[0] == 403
    assert c.call("POST", f"/api/i/{IID}/approve", {})[0] == 403
    # the session is stored: a new server on the same archive still knows the cookie
    from oralhist.web.server import start_workbench_in_thread

    server2, _, url2, _ = start_workbench_in_thread(ws, runner=False)
    try:
        c.base = url2.rstrip("/")
        assert c.call("GET", "/api/interviews")[0] == 200
    finally:
        server2.should_exit = True
        server2._thread.join(5)


def test_other_museum_cannot_read_and_admin_publishes(bench):
    base, ws = bench
    b = Client(base)
    assert b.login("vol-b")[0] == 200
    assert b.call("GET", "/api/interviews")[1] == []
    assert b.call("GET", f"/api/interviews/{IID}")[0] == 404
    assert b.call("GET", f"/api/i/{IID}/transcript")[0] == 404
    assert b.call("GET", f"/i/{IID}")[0] == 404
    a = Client(base)
    assert a.login("admin")[0] == 200
    st, body = a.call("POST", "/api/publish", {})
    assert st == 202 and body["job"]["stage"] == "publish"


def test_login_is_rate_limited_and_refuses_cross_site(bench):
    base, _ = bench
    c = Client(base)
    codes = [c.login("admin", "wrong password")[0] for _ in range(10)]
    assert codes[:5] == [403] * 5 and set(codes[5:]) == {429}
    assert c.login("admin")[0] == 429  # even the right password waits
    d = Client(base)
    assert d.login("edit", headers={"Origin": "https://evil.example"})[0] == 403
    assert d.login("edit", headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert d.login("edit")[0] == 200


def test_host_header_nul_and_bad_bodies(bench):
    base, ws = bench
    c = Client(base)
    assert c.login("admin")[0] == 200
    assert c.call("GET", "/api/interviews", headers={"Host": "evil.example"})[0] == 400
    assert c.call("GET", "/i/a%00b")[0] == 400
    # body size (413) and item counts
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.putrequest("POST", f"/api/i/{IID}/topics")
    conn.putheader("Content-Length", str(50 * 1024 * 1024))  # announced: refused before it is sent
    conn.putheader("X-CSRF-Token", c.csrf)
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)  # chunked, no length: counted as it comes
    conn.putrequest("POST", f"/api/i/{IID}/topics")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("X-CSRF-Token", c.csrf)
    conn.putheader("Cookie", "; ".join(f"{k.name}={k.value}" for k in c.jar))
    conn.endheaders()
    try:
        for _ in range(10):
            chunk = b" " * (1024 * 1024)
            conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close early
    assert conn.getresponse().status == 413
    conn.close()
    st, _ = c.call("POST", f"/api/i/{IID}/topics", {"base_version": 0,
                                                   "topics": [{"start_ms": i, "end_ms": i} for i in range(5000)]})
    assert st == 400
    # nested JSON, unknown speaker, 1e30 times: 4xx with a message
    st, body = c.call("POST", f"/api/i/{IID}/topics", raw=b"[" * 100_000 + b"]" * 100_000,
                      headers={"Content-Type": "application/json"})
    assert st == 400 and "JSON" in body["error"]
    tr = c.call("GET", f"/api/i/{IID}/transcript")[1]
    st, body = c.call("POST", f"/api/i/{IID}/transcript",
                      {"base_version": tr["version"], "segments": [{"text": "x", "speaker_id": 999999}]})
    assert st == 400 and "locuteur" in body["error"]
    st, body = c.call("POST", f"/api/i/{IID}/topics",
                      {"base_version": 0, "topics": [{"start_ms": 0, "end_ms": 1e30, "title": "t"}]})
    assert st == 400 and "hors" in body["error"]
    st, body = c.call("POST", f"/api/i/{IID}/links", {"term_id": 1, "start_ms": 1e30, "end_ms": 2e30})
    assert st == 400
    from oralhist.records import Revision, TopicSegment

    with db.session(ws) as s:  # nothing written by any of them
        assert s.exec(select(TopicSegment).where(TopicSegment.source == "editor")).all() == []
        assert s.exec(select(Revision)).all() == []


def _clip(corpus):
    return sorted((corpus / "fr").glob("*"))[0]


def test_import_through_the_api_and_bad_files(bench, corpus):
    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    clip = _clip(corpus)
    fields = {"narrator": "Jeanne <b>Martin</b>", "date": "1998-06-14", "scope": "public"}
    data, ctype = multipart(fields, [("files", clip.name, clip.read_bytes()), ("consent", "accord.pdf", b"%PDF-1.4 x")])
    st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
    assert st == 202, body
    iid = body["id"]
    assert [j["stage"] for j in body["jobs"][iid]] == ["normalise", "transcribe", "diarize", "index", "link"]
    html = c.call("GET", "/")[1]
    assert "Jeanne &lt;b&gt;Martin&lt;/b&gt;" in html and "<b>Martin" not in html  # every field escaped
    assert "<td>14 juin 1998</td>" in html and "1998-06-14" not in html  # a French date, not ISO
    one = c.call("GET", f"/api/interviews/{iid}")[1]
    assert one["museum"] == "Musée A" and [j["status"] for j in one["jobs"]] == ["queued"] * 5
    before = sorted(p.relative_to(ws.root) for p in ws.interviews.rglob("*"))
    # the same file again: recognised, nothing added
    st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
    assert st == 200 and body["ids"] == [] and body["skipped"]
    cases = [
        [("files", "notes.wav", b"this is not audio at all" * 100)],
        [("files", "vide.wav", b"")],
        [("files", "coupe.wav", clip.read_bytes()[:60])],
        [("files", "ok.wav", clip.read_bytes()[: len(clip.read_bytes()) // 2] + b"x"), ("consent", "vide.pdf", b"")],
    ]
    for files in cases:
        data, ctype = multipart({"narrator": "X", "scope": "public"}, files)
        st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
        assert st == 400, (files[0][1], body)
        assert body["error"], body
    # ../ in a file name: the name is made safe, never a path
    data, ctype = multipart({"narrator": "Y", "scope": "none"}, [("files", "../../evil.wav", b"RIFF")])
    st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
    assert st == 400 and not (ws.root.parent / "evil.wav").exists()
    assert sorted(p.relative_to(ws.root) for p in ws.interviews.rglob("*")) == before
    from oralhist.web.staging import uploads_root

    assert not list(uploads_root(ws).glob("*"))


def test_oai_pmh_is_served_by_the_workbench_without_login(bench):
    """Harvesters have no account: /oai answers in `oralhist serve`, every other page wants a login."""
    base, _ = bench
    c = Client(base)
    st, body = c.call("GET", "/oai?verb=Identify")
    assert st == 200 and "<Identify>" in body and "<repositoryName>" in body
    st, body = c.call("GET", "/oai?verb=Nonsense")
    assert st == 200 and 'code="badVerb"' in body
    st, _ = c.call("GET", "/api/interviews")
    assert st == 401
