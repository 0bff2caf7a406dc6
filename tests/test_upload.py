"""Import in the browser (issue 11, item 3): tus 1.0 resumable uploads at /api/uploads/, POST
/api/imports handing them to ingest, the multipart path streamed to disk, and the bad-input list
(non-audio, empty, truncated, 0-byte consent form, ``../`` name, duplicate, an upload cut in the
middle and resumed). A real uvicorn server, real SQLite archive, real audio; nothing half-written."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from sqlmodel import select

from oralhist import db
from test_workbench import Client, bench, multipart  # noqa: F401  (bench: the running workbench fixture)

NNBSP = "\u202f"


class Tus:
    """A tus 1.0 client at the protocol level (what tus-js-client sends), for one logged-in account."""

    def __init__(self, base: str, client: Client):
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookie = "; ".join(f"{k.name}={k.value}" for k in client.jar)
        self.csrf = client.csrf

    def req(self, method, path, body=b"", headers=None, csrf=True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = {"Tus-Resumable": "1.0.0", "Cookie": self.cookie, **(headers or {})}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def create(self, name: str, size: int, filetype="audio/wav") -> str:
        md = (f"filename {base64.b64encode(name.encode()).decode()},"
              f"filetype {base64.b64encode(filetype.encode()).decode()}")
        st, h, body = self.req("POST", "/api/uploads/", headers={"Upload-Length": str(size), "Upload-Metadata": md})
        assert st == 201, (st, body)
        return urlsplit(h["location"]).path

    def patch(self, loc: str, offset: int, data: bytes, **kw):
        return self.req("PATCH", loc, data, {"Content-Type": "application/offset+octet-stream",
                                             "Upload-Offset": str(offset)}, **kw)

    def head(self, loc: str) -> int:
        st, h, _ = self.req("HEAD", loc)
        assert st == 200, st
        return int(h["upload-offset"])

    def upload(self, name: str, data: bytes, chunk: int = 64 * 1024) -> str:
        loc = self.create(name, len(data))
        for off in range(0, len(data), chunk):
            st, h, body = self.patch(loc, off, data[off:off + chunk])
            assert st == 204, (st, body)
        return loc.rsplit("/", 1)[1]

    def cut(self, loc: str, offset: int, data: bytes, send: int) -> None:
        """A PATCH announcing all of ``data`` whose connection drops after ``send`` bytes."""
        s = socket.create_connection((self.host, self.port))
        head = (f"PATCH {loc} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nTus-Resumable: 1.0.0\r\n"
                f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
                f"Content-Length: {len(data)}\r\nCookie: {self.cookie}\r\nX-CSRF-Token: {self.csrf}\r\n\r\n")
        s.sendall(head.encode() + data[:send])
        s.shutdown(socket.SHUT_WR)
        s.close()


def wav_of(ffmpeg, clip: Path, out: Path) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(clip), "-ac", "1", "-ar", "16000", str(out)], check=True)
    return out


def snapshot(ws):
    from oralhist.records import Interview, Recording

    with db.session(ws) as s:
        rows = (len(s.exec(select(Interview)).all()), len(s.exec(select(Recording)).all()))
    files = sorted(str(p.relative_to(ws.root)) for p in ws.interviews.rglob("*"))
    return rows, files


def leftovers(ws) -> list[str]:
    """Data left in the upload area or the ingest scratch folder (lock/dir entries aside)."""
    from oralhist.web.staging import uploads_root

    root = uploads_root(ws)
    out = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    out += [p.name for p in ws.tmp.glob("*")]
    return out


def login(base, name="vol-a"):
    c = Client(base)
    assert c.login(name)[0] == 200
    return c, Tus(base, c)


def test_upload_cut_in_the_middle_is_resumed_and_imported(bench, corpus, ffmpeg, tmp_path):
    base, ws = bench
    c, tus = login(base)
    wav = wav_of(ffmpeg, sorted((corpus / "fr").glob("*.ogg"))[0], tmp_path / "entretien.wav")
    data = wav.read_bytes()
    chunk = 64 * 1024
    loc = tus.create("entretien.wav", len(data))
    for off in (0, chunk):  # two chunks arrive
        assert tus.patch(loc, off, data[off:off + chunk])[0] == 204
    # the third PATCH announces the rest and the connection drops after 10,000 bytes of it
    tus.cut(loc, 2 * chunk, data[2 * chunk:], 10_000)
    import time

    for _ in range(50):  # the server notices the disconnect and records what it received
        offset = tus.head(loc)
        if offset > 2 * chunk:
            break
        time.sleep(0.1)
    assert 2 * chunk <= offset <= 2 * chunk + 10_000
    # a wrong offset is refused (409)
    assert tus.patch(loc, 0, data[:10])[0] == 409
    # a server killed in the middle of a PATCH leaves bytes it never recorded: they are cut off on resume
    from oralhist.web.staging import uploads_root

    held = next(p for p in uploads_root(ws).rglob(loc.rsplit("/", 1)[1]))
    with open(held, "ab") as f:
        f.write(b"\x00" * 5000)
    assert tus.head(loc) == offset
    st, h, _ = tus.patch(loc, offset, data[offset:])
    assert st == 204 and int(h["upload-offset"]) == len(data)
    uid = loc.rsplit("/", 1)[1]
    from oralhist.web.upload import finished_upload

    class _Acc:  # the account key of vol-a
        name = "vol-a"

    held, name = finished_upload(ws, _Acc, uid)
    assert name == "entretien.wav" and hashlib.sha256(held.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    st, body = c.call("POST", "/api/imports", {"uploads": [uid], "narrator": "Jeanne Martin", "date": "1998-06-14",
                                               "scope": "public"})
    assert st == 202, body
    from oralhist.records import Recording

    with db.session(ws) as s:
        rec = s.exec(select(Recording).where(Recording.interview_id == body["id"])).one()
    assert rec.sha256 == hashlib.sha256(data).hexdigest()
    assert leftovers(ws) == []


def test_tus_permissions_csrf_and_accounts_apart(bench, corpus):
    base, ws = bench
    c, tus = login(base)
    loc = tus.create("a.wav", 100)
    other = login(base, "vol-b")[1]
    assert other.req("HEAD", loc)[0] == 404  # another account's upload: not even seen
    assert other.patch(loc, 0, b"x" * 100)[0] == 404
    assert tus.patch(loc, 0, b"x" * 100, csrf=False)[0] == 403  # a write without the CSRF token
    anon = Tus(base, Client(base))
    assert anon.req("HEAD", loc, csrf=False)[0] == 401
    assert tus.req("DELETE", loc)[0] == 204  # termination: the upload is gone
    assert tus.req("HEAD", loc)[0] == 404
    # a size beyond the limit is refused at creation
    md = f"filename {base64.b64encode(b'big.wav').decode()},filetype {base64.b64encode(b'audio/wav').decode()}"
    st, _, _ = tus.req("POST", "/api/uploads/", headers={"Upload-Length": str(10 * 1024**4), "Upload-Metadata": md})
    assert st == 413
    # an import of an upload that is not finished, or not ours
    loc = tus.create("b.wav", 100)
    assert tus.patch(loc, 0, b"x" * 50)[0] == 204
    st, body = c.call("POST", "/api/imports", {"uploads": [loc.rsplit("/", 1)[1]], "narrator": "X"})
    assert st == 400 and "inachevé" in body["error"]
    cb = Client(base)
    cb.login("vol-b")
    st, body = cb.call("POST", "/api/imports", {"uploads": [loc.rsplit("/", 1)[1]], "narrator": "X"})
    assert st == 400 and "inconnu" in body["error"]


def test_bad_uploads_are_refused_in_french_and_leave_nothing(bench, corpus, ffmpeg, tmp_path):
    base, ws = bench
    c, tus = login(base)
    clip = sorted((corpus / "fr").glob("*.ogg"))[1]
    wav = wav_of(ffmpeg, clip, tmp_path / "bon.wav").read_bytes()
    before = snapshot(ws)

    def imp(files, consent=None, **meta):
        uids = [tus.upload(n, d) for n, d in files]
        cu = tus.upload(*consent) if consent else None
        fields = {"narrator": "Paul", "scope": "public", **meta}
        return uids, cu, c.call("POST", "/api/imports", {"uploads": uids, "consent": cu, **fields})

    # a non-audio file, an empty file, a truncated WAV (header and a few bytes of data)
    for name, data, words in [("notes.wav", b"this is not audio at all" * 100, "pas un fichier audio"),
                              ("vide.wav", b"", "fichier vide"),
                              ("coupe.wav", wav[:60], "")]:
        uids, _, (st, body) = imp([(name, data)])
        assert st == 400, (name, body)
        f = body["failed"][0]
        assert f["upload"] == uids[0] and f["file"] == name, body
        assert words in f["error"] and f["error"] and "not " not in f["error"], f
        assert snapshot(ws) == before and leftovers(ws) == [], name
    # a 0-byte consent form: refused before anything is written; the audio upload is kept for a retry
    uids, cu, (st, body) = imp([("bon.wav", wav)], consent=("accord.pdf", b""))
    assert st == 400 and body["kept"] and body["failed"][0]["upload"] == cu, body
    assert body["error"] == "accord.pdf : le formulaire de consentement est un fichier vide (0 octet)"
    assert snapshot(ws) == before
    for u in (uids[0], cu):  # termination clears them
        assert tus.req("DELETE", f"/api/uploads/{u}")[0] == 204
    assert leftovers(ws) == []
    # a bad date: refused in French, nothing written
    uids, _, (st, body) = imp([("bon.wav", wav)], date="14/06/1998")
    assert st == 400 and body["error"] == (f"date invalide «{NNBSP}14/06/1998{NNBSP}»{NNBSP}; écrire AAAA, AAAA-MM "
                                           "ou AAAA-MM-JJ (p. ex. 1998-06-14)"), body
    tus.req("DELETE", f"/api/uploads/{uids[0]}")
    # ../ in the file name: the name is made safe, never a path
    uids, _, (st, body) = imp([("../../evil.wav", wav)])
    assert st == 202, body
    assert not (ws.root.parent / "evil.wav").exists() and not (ws.root / "evil.wav").exists()
    from oralhist.records import Recording

    with db.session(ws) as s:
        rec = s.exec(select(Recording).where(Recording.interview_id == body["id"])).one()
    assert ".." not in rec.original_name and "/" not in rec.original_name, rec.original_name
    after_first = snapshot(ws)
    # a duplicate of an archived file: recognised, nothing added, said next to the file
    uids, _, (st, body) = imp([("copie.wav", wav)])
    assert st == 200 and body["ids"] == [] and body["skipped"], body
    d = body["duplicates"][0]
    assert d["upload"] == uids[0] and d["file"] == "copie.wav" and d["error"].startswith("déjà dans l’archive"), d
    assert snapshot(ws) == after_first and leftovers(ws) == []


def test_multipart_streamed_cut_body_and_french_messages(bench, corpus):
    base, ws = bench
    c = Client(base)
    assert c.login("vol-a")[0] == 200
    before = snapshot(ws)
    data, ctype = multipart({"narrator": "X", "scope": "public"}, [("files", "notes.wav", b"not audio" * 1000)])
    st, body = c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})
    assert st == 400 and "ce n’est pas un fichier audio" in body["error"], body
    # a body cut before its closing boundary: refused, nothing staged or written
    clip = sorted((corpus / "fr").glob("*.ogg"))[0].read_bytes()
    data, ctype = multipart({"narrator": "X"}, [("files", "a.ogg", clip)])
    u = urlsplit(base)
    s = socket.create_connection((u.hostname, u.port))
    cookie = "; ".join(f"{k.name}={k.value}" for k in c.jar)
    cut = data[: len(data) - 200]
    s.sendall((f"POST /api/interviews HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: {ctype}\r\n"
               f"Content-Length: {len(cut)}\r\nCookie: {cookie}\r\nX-CSRF-Token: {c.csrf}\r\n\r\n").encode() + cut)
    r = http.client.HTTPResponse(s)
    r.begin()
    reply = r.read().decode("utf-8")
    s.close()
    assert r.status == 400 and "formulaire incomplet" in reply, reply
    assert snapshot(ws) == before and leftovers(ws) == []


def test_stale_uploads_are_swept(ws):
    import os
    import time

    from oralhist.web.upload import sweep_stale
    from oralhist.web.staging import uploads_root

    d = uploads_root(ws) / "abc"
    d.mkdir(parents=True)
    old, new = d / ("0" * 32), d / ("1" * 32)
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    t = time.time() - 3 * 86400
    os.utime(old, (t, t))
    assert sweep_stale(ws) == [f"abc/{'0' * 32}"]
    assert not old.exists() and new.exists()


def test_french_wording_of_ingest_messages():
    from oralhist.web.errors_fr import french as fr

    assert fr("empty file (0 bytes)") == "fichier vide (0 octet)"
    assert fr("already in the archive (interview 1998-x); nothing added") == f"déjà dans l’archive (entretien 1998-x){NNBSP}; rien ajouté"
    assert fr("not an audio file, or damaged (Invalid data)").startswith("ce n’est pas un fichier audio, ou il est endommagé")
    assert fr("no audio could be decoded (empty or damaged audio stream)").startswith("aucun son n’a pu être décodé")
    assert fr("not ingested: another part of interview was refused") == f"non importé{NNBSP}: une autre partie de l’entretien a été refusée"
    assert fr("something new") == "refusé : something new"  # never lost
