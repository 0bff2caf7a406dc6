"""Museum walls (issue 19, items 1-3): every id a request names is checked against the account's
museum; people, speakers, pseudonyms and consent change only through the interview the account
may edit; the « Publier » status and exhibition addresses do not reveal another museum's rows.

A real uvicorn server (the workbench's Starlette app), a real SQLite archive, real audio clips
(FLEURS) for the imports, the real CLI in-process. Two museums: A (« Musée A ») and B.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_upload import Tus
from test_workbench import PW, Client, multipart

IV_A = "2022-lecteurs-fleurs"
IV_B = "1997-walter"  # what « together » makes of narrator « Walter », 1997
TITLE_B = "Secret du musée B"
NAME = "Jeanne Martin"  # the narrator's name in both museums
TERM_B = "tour secrète"  # a term of museum B's vocabulary
TERM_SHARED = "charbon"  # a term of the whole archive (no museum)


def _museum(s, name):
    from oralhist.records import Museum

    return s.exec(select(Museum).where(Museum.name == name)).one().id


@pytest.fixture()
def walls(ws):
    """(base url, ws): IV_A of museum A and IV_B of museum B (withheld: no consent to publish),
    both told by a narrator called Jeanne Martin (two Persons); terms of B and of the archive;
    an object of B; accounts of both museums and an untied admin."""
    from oralhist.records import Consent, ConsentScope, Interview, Term, TermKind
    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread

    make_interview(ws, IV_A, title="Le fond", narrator=NAME)
    make_interview(ws, IV_B, title=TITLE_B, narrator=NAME)
    set_account(ws, "admin", PW, role="admin")
    for m, tag in (("Musée A", "a"), ("Musée B", "b")):
        set_account(ws, f"vol-{tag}", PW, role="volunteer", museum=m)
        set_account(ws, f"ed-{tag}", PW, role="editor", museum=m)
        set_account(ws, f"adm-{tag}", PW, role="admin", museum=m)
    with db.session(ws) as s:
        for iid, m in ((IV_A, "Musée A"), (IV_B, "Musée B")):
            iv = s.get(Interview, iid)
            iv.museum_id = _museum(s, m)
            s.add(iv)
        c = s.exec(select(Consent).where(Consent.interview_id == IV_A)).one()
        c.scope = ConsentScope.public
        s.add(c)
        b = _museum(s, "Musée B")
        s.add(Term(kind=TermKind.subject, label=TERM_B, museum_id=b))
        s.add(Term(kind=TermKind.subject, label=TERM_SHARED))
        s.add(Term(kind=TermKind.object, label="Lampe de B", inventory_number="B-1", museum_id=b))
        s.commit()
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    yield url.rstrip("/"), ws
    server.should_exit = True
    server._thread.join(5)


def _login(base, name):
    c = Client(base)
    assert c.login(name)[0] == 200
    return c


def _post_files(c, fields, files):
    data, ctype = multipart(fields, files)
    return c.call("POST", "/api/interviews", raw=data, headers={"Content-Type": ctype})


def _clips(corpus, n=2):
    return [p for p in sorted((corpus / "fr").glob("*.ogg"))][:n]


def _b_state(ws):
    """What an attacker of museum A must not change: B's recordings, jobs, narrator and consent."""
    from oralhist.records import Interview, Job, Person, Recording
    from oralhist.editorial.view import load_interview

    with db.session(ws) as s:
        iv = s.get(Interview, IV_B)
        p = s.get(Person, iv.narrator_id)
        v = load_interview(s, IV_B, with_words=False)
        return {"recordings": len(s.exec(select(Recording).where(Recording.interview_id == IV_B)).all()),
                "jobs": len(s.exec(select(Job).where(Job.interview_id == IV_B)).all()),
                "narrator": (p.name, p.pseudonym), "shown": v.narrator,
                "pseudonym": (v.extra or {}).get("narrator_pseudonym"), "anonymise": bool(v.consent and v.consent.anonymise)}


def _share_narrator(ws):
    """B's narrator and narrating speaker become A's Person, as archives built before this fix hold
    them (ingest and `speakers rename` found people by name in every museum)."""
    from oralhist.records import Interview, Speaker

    with db.session(ws) as s:
        a, b = s.get(Interview, IV_A), s.get(Interview, IV_B)
        for sp in s.exec(select(Speaker).where(Speaker.interview_id == IV_B, Speaker.person_id == b.narrator_id)).all():
            sp.person_id = a.narrator_id
            s.add(sp)
        b.narrator_id = a.narrator_id
        s.add(b)
        s.commit()


# ------------------------------------------------------------------ item 1: ids in bodies and fields


def test_item1_multipart_import_cannot_name_another_museums_interview(walls, corpus):
    base, ws = walls
    vol = _login(base, "vol-a")
    clip = _clips(corpus, 1)[0]
    before = _b_state(ws)
    st, body = _post_files(vol, {"interview": IV_B, "narrator": "Intrus", "scope": "public"},
                           [("files", clip.name, clip.read_bytes())])
    assert st == 404, body  # as if B's interview did not exist; nothing written
    assert "entretien inconnu" in body["error"]
    assert _b_state(ws) == before
    # « together » makes 1997-walter of (1997, Walter): it never lands in B's interview
    c1, c2 = _clips(corpus, 2)
    st, body = _post_files(vol, {"together": "1", "narrator": "Walter", "date": "1997-05-01", "scope": "public"},
                           [("files", c1.name, c1.read_bytes()), ("files", c2.name, c2.read_bytes())])
    assert st == 202, body
    assert body["id"] != IV_B and body["id"].startswith(IV_B + "-")
    assert _b_state(ws) == before
    one = vol.call("GET", f"/api/interviews/{body['id']}")[1]
    assert one["museum"] == "Musée A" and len(one["recordings"]) == 2
    # its own museum's interview: accepted (a part added)
    c3 = _clips(corpus, 3)[2]
    st, body = _post_files(vol, {"interview": body["id"]}, [("files", c3.name, c3.read_bytes())])
    assert st == 202 and body["id"] == one["id"], body


def test_item1_tus_import_cannot_name_another_museums_interview(walls, corpus):
    base, ws = walls
    vol = _login(base, "vol-a")
    tus = Tus(base, vol)
    uid = tus.upload("partie-2.ogg", _clips(corpus, 1)[0].read_bytes())
    before = _b_state(ws)
    st, body = vol.call("POST", "/api/imports", {"uploads": [uid], "interview": IV_B, "scope": "public"})
    assert st == 404 and body["kept"], body
    assert _b_state(ws) == before
    # the upload is kept: imported as a new interview of A
    st, body = vol.call("POST", "/api/imports", {"uploads": [uid], "narrator": "Paul", "scope": "public"})
    assert st == 202 and body["id"] != IV_B, body
    assert _b_state(ws) == before


def test_item1_duplicate_of_another_museums_file_does_not_name_it(walls, corpus, cli):
    base, ws = walls
    clip = _clips(corpus, 1)[0]
    r = cli("ingest", clip, "--interview", IV_B, "--no-normalise")
    assert r.exit_code == 0, r.output
    vol = _login(base, "vol-a")
    st, body = _post_files(vol, {"narrator": "X", "scope": "public"}, [("files", clip.name, clip.read_bytes())])
    assert st in (200, 400) and body["ids"] == []
    assert IV_B not in json.dumps(body), body
    assert "autre musée" in body["duplicates"][0]["error"]


def test_item1_link_to_a_term_of_another_museum(walls):
    from oralhist.records import Link, Term

    base, ws = walls
    with db.session(ws) as s:
        t_b = s.exec(select(Term).where(Term.label == TERM_B)).one().id
        t_shared = s.exec(select(Term).where(Term.label == TERM_SHARED)).one().id
    ed = _login(base, "ed-a")
    # a link to B's term (an id in a JSON body): unknown; to the archive's term: fine
    st, body = ed.call("POST", f"/api/i/{IV_A}/links", {"term_id": t_b, "start_ms": 0, "end_ms": 1000})
    assert st == 404, body
    st, body = ed.call("POST", f"/api/i/{IV_A}/links", {"term_id": str(t_b), "start_ms": 0, "end_ms": 1000})
    assert st == 404, body
    assert ed.call("POST", f"/api/i/{IV_A}/links", {"term_id": t_shared, "start_ms": 0, "end_ms": 1000})[0] == 200
    with db.session(ws) as s:
        assert s.exec(select(Link).where(Link.term_id == t_b)).all() == []
    page = ed.call("GET", f"/i/{IV_A}/links")[1]
    assert TERM_SHARED in page and TERM_B not in page


def test_item1_exhibition_terms_and_objects_of_another_museum(walls):
    base, ws = walls
    ed = _login(base, "ed-a")
    # exhibitions: B's term and B's object, by label in a body, are unknown
    st, body = ed.call("POST", "/api/expositions", {"title": "Expo A", "slug": "expo-a"})
    assert st == 201, body
    got = {"page lists B's term": TERM_B in ed.call("GET", "/expositions/expo-a")[1]}
    doc = ed.call("GET", "/api/expositions/expo-a")[1]
    exh = doc["exhibition"]
    exh["sections"][0]["objects"] = ["B-1"]
    st, body = ed.call("POST", "/api/expositions/expo-a", {"exhibition": exh, "version": doc["version"]})
    got["save with B's object"] = (st, "B-1" in str(body))
    doc = ed.call("GET", "/api/expositions/expo-a")[1]
    exh = doc["exhibition"]
    exh["sections"][0]["terms"] = [TERM_SHARED, TERM_B]
    got["save with B's term"] = ed.call("POST", "/api/expositions/expo-a", {"exhibition": exh, "version": doc["version"]})[0]
    got["add B's term"] = ed.call("POST", "/api/expositions/expo-a/terms", {"section": 0, "term": TERM_B})[0]
    got["add the archive's term"] = ed.call("POST", "/api/expositions/expo-a/terms",
                                            {"section": 0, "term": TERM_SHARED})[0]
    assert got == {"page lists B's term": False, "save with B's object": (404, True), "save with B's term": 404,
                   "add B's term": 404, "add the archive's term": 200}


def test_item1_vocabulary_file_of_a_tied_admin_cannot_name_another_museum(walls):
    from oralhist.records import Term

    base, ws = walls
    # a tied admin's vocabulary file: a row naming another museum refuses the file
    adm = _login(base, "adm-a")
    assert adm.call("GET", "/api/vocab")[1]["terms"] == {"subject": 1}  # the archive's « charbon »: B's not counted
    assert _login(base, "admin").call("GET", "/api/vocab")[1]["terms"] == {"subject": 2, "object": 1}
    csv = "inventaire;designation;musee\nB-1;Lampe renommée;Musée B\nA-1;Pic;Musée A\n".encode()
    data, ctype = multipart({"kind": "object"}, [("file", "objets.csv", csv)])
    st, body = adm.call("POST", "/api/vocab", raw=data, headers={"Content-Type": ctype})
    assert st == 400 and "Musée B" in body["error"], body
    with db.session(ws) as s:
        assert s.exec(select(Term).where(Term.inventory_number == "B-1")).one().designation is None
        assert s.exec(select(Term).where(Term.inventory_number == "A-1")).first() is None
    data, ctype = multipart({"kind": "object"}, [("file", "objets.csv", b"inventaire;designation;musee\nA-1;Pic;Mus\xc3\xa9e A\n")])
    assert adm.call("POST", "/api/vocab", raw=data, headers={"Content-Type": ctype})[0] == 200


# ------------------------------------------------------------------ item 2: people per museum, fork on write


def test_item2_editor_renaming_a_shared_narrator_renames_only_this_interview(walls):
    from oralhist.records import Interview, Person, Speaker

    base, ws = walls
    _share_narrator(ws)
    with db.session(ws) as s:
        pid = s.get(Interview, IV_A).narrator_id
        sid = s.exec(select(Speaker.id).where(Speaker.interview_id == IV_A, Speaker.person_id == pid)).one()
    before = _b_state(ws)
    ed = _login(base, "ed-a")
    st, body = ed.call("POST", f"/api/i/{IV_A}/speakers/{sid}", {"name": "Jeanne Martin-Durand", "role": "narrator"})
    assert st == 200 and body["name"] == "Jeanne Martin-Durand", body
    assert _b_state(ws) == before  # B's narrator keeps her name
    with db.session(ws) as s:
        a = s.get(Interview, IV_A)
        assert s.get(Person, a.narrator_id).name == "Jeanne Martin-Durand"
        assert s.get(Speaker, sid).person_id == a.narrator_id  # the speaker and the narrator stay one Person
    assert ed.call("GET", f"/api/interviews/{IV_A}")[1]["narrator"] == "Jeanne Martin-Durand"


def test_item2_pseudonym_set_through_one_interview_stays_in_its_consent(walls, cli):
    base, ws = walls
    _share_narrator(ws)
    before = _b_state(ws)
    adm = _login(base, "adm-a")
    st, body = adm.call("POST", f"/api/i/{IV_A}/consent", {"pseudonym": "J. M."})
    assert st == 200 and body["pseudonym"] == "J. M." and body["anonymise"], body
    assert _b_state(ws) == before  # B's consent (pseudonym, anonymisation) untouched
    # the CLI path: oralhist consent ID --pseudonym
    r = cli("consent", IV_A, "--pseudonym", "Madame M.")
    assert r.exit_code == 0, r.output
    assert _b_state(ws) == before
    # B's own admin gives B's narrator another pseudonym: A's stays
    b = _login(base, "adm-b")
    assert b.call("POST", f"/api/i/{IV_B}/consent", {"pseudonym": "Walter W."})[0] == 200
    assert adm.call("GET", f"/api/i/{IV_A}/consent")[1]["pseudonym"] == "Madame M."
    assert b.call("GET", f"/api/i/{IV_B}/consent")[1]["pseudonym"] == "Walter W."


def test_item2_cli_ingest_and_speakers_rename_find_people_in_the_same_museum_only(walls, corpus, cli):
    from oralhist.records import Interview, Speaker

    base, ws = walls
    with db.session(ws) as s:
        pa, pb = s.get(Interview, IV_A).narrator_id, s.get(Interview, IV_B).narrator_id
    assert pa != pb
    c1, c2 = _clips(corpus, 2)
    out = {}
    for clip, museum in ((c1, "Musée A"), (c2, "Musée B")):
        r = cli("ingest", clip, "--narrator", NAME, "--museum", museum, "--date", "2001", "--no-normalise", "--json")
        assert r.exit_code == 0, r.output
        out[museum] = json.loads(r.output)["done"][0]
    with db.session(ws) as s:
        assert s.get(Interview, out["Musée A"]).narrator_id == pa  # the same museum's Jeanne Martin
        assert s.get(Interview, out["Musée B"]).narrator_id == pb  # B's own, never A's
    # oralhist speakers ID rename LABEL NAME: the Person of B's museum
    r = cli("speakers", IV_B, "rename", "SPEAKER_2", NAME)
    assert r.exit_code == 0, r.output
    with db.session(ws) as s:
        sp = s.exec(select(Speaker).where(Speaker.interview_id == IV_B, Speaker.label == "SPEAKER_2")).one()
        assert sp.person_id == pb
    # and renaming B's narrator through B leaves A's alone
    b = _login(base, "ed-b")
    with db.session(ws) as s:
        sid = s.exec(select(Speaker.id).where(Speaker.interview_id == IV_B, Speaker.label == "SPEAKER_1")).one()
    assert b.call("POST", f"/api/i/{IV_B}/speakers/{sid}", {"name": "Jeanne Caron", "role": "narrator"})[0] == 200
    a = _login(base, "ed-a")
    assert a.call("GET", f"/api/interviews/{IV_A}")[1]["narrator"] == NAME


# ------------------------------------------------------------------ item 3: publish status, exhibition addresses


def test_item3_tied_admin_sees_only_its_museums_publish_rows(walls):
    from oralhist.records import Job

    base, ws = walls
    with db.session(ws) as s:  # the last publish failed on B's interview (its message names it)
        s.add(Job(stage="publish", status="failed", who="adm-b", error=f"{IV_B} : {TITLE_B} illisible",
                  message=f"{IV_B} ignoré"))
        s.commit()
    adm = _login(base, "adm-a")
    st, body = adm.call("GET", "/api/publish")
    assert st == 200
    assert [e["id"] for e in body["interviews"]] == [IV_A]
    text = json.dumps(body, ensure_ascii=False)
    assert TITLE_B not in text and IV_B not in text and "Musée B" not in text
    assert body["counts"]["withheld"] == 0 and body["counts"]["public"] == 1
    assert body["job"]["status"] == "failed" and "réservé" in body["job"]["error"]
    page = adm.call("GET", "/publish")[1]
    assert TITLE_B not in page and IV_B not in page and "pas d’accord de diffusion" not in page and "Le fond" in page
    # the archive's own admin sees both, with B's reason
    root = _login(base, "admin").call("GET", "/api/publish")[1]
    rows = {e["id"]: e for e in root["interviews"]}
    assert set(rows) == {IV_A, IV_B} and rows[IV_B]["reason"] == "pas d’accord de diffusion"
    assert root["job"]["error"].startswith(IV_B)


def test_item3_exhibition_slug_clash_does_not_reveal_another_museums_exhibition(walls):
    base, _ = walls
    b = _login(base, "ed-b")
    assert b.call("POST", "/api/expositions", {"title": "Chez B", "slug": "chez-b"})[0] == 201
    a = _login(base, "ed-a")
    st_b, body_b = a.call("POST", "/api/expositions", {"title": "Chez nous", "slug": "chez-b"})
    st_r, body_r = a.call("POST", "/api/expositions", {"title": "Chez nous", "slug": "recherche"})
    # the same answer as a reserved address: nothing says an exhibition is there
    assert (st_b, body_b["error"].replace("chez-b", "X")) == (st_r, body_r["error"].replace("recherche", "X"))
    assert st_b == 400 and "Chez B" not in json.dumps(body_b, ensure_ascii=False)
    assert a.call("GET", "/api/expositions/chez-b")[0] == 404
    # a clash with one's own exhibition is still the conflict it is
    assert a.call("POST", "/api/expositions", {"title": "A", "slug": "chez-a"})[0] == 201
    st, body = a.call("POST", "/api/expositions", {"title": "A bis", "slug": "chez-a"})
    assert st == 409 and body["conflict"]


def test_item2_upgrade_splits_people_shared_across_museums(ws):
    """Migration 1901 on an archive built before the fix: B's narrator was A's Person (with the
    pseudonym A gave); after the upgrade each museum has its own, and nothing published changes."""
    _split_scenario(ws)


def test_item2_upgrade_splits_people_on_postgresql(pg_fresh, tmp_path, monkeypatch):
    from oralhist.archive.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive-pg")
    assert ws.database_url == pg_fresh
    _split_scenario(ws)


def _split_scenario(ws):
    import importlib.util

    from oralhist.records import Interview, Person, Speaker

    make_interview(ws, IV_A, narrator=NAME)
    make_interview(ws, IV_B, narrator=NAME)
    make_interview(ws, "2023-second", narrator=NAME)
    with db.session(ws) as s:
        from oralhist.records import museum_id

        ids = {IV_A: museum_id(s, "Musée A"), IV_B: museum_id(s, "Musée B"), "2023-second": museum_id(s, "Musée A")}
        shared = s.get(Interview, IV_A).narrator_id
        s.get(Person, shared).pseudonym = "J. M."
        for iid, m in ids.items():
            iv = s.get(Interview, iid)
            for sp in s.exec(select(Speaker).where(Speaker.interview_id == iid, Speaker.person_id == iv.narrator_id)).all():
                sp.person_id = shared
                s.add(sp)
            iv.museum_id, iv.narrator_id = m, shared
            s.add(iv)
        s.commit()
    path = next((db.MIGRATIONS / "versions").glob("1901_*.py"))
    spec = importlib.util.spec_from_file_location("m1901", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with db.engine_for(ws).begin() as conn:
        assert mod.split_people(conn) == 1
    with db.engine_for(ws).begin() as conn:
        assert mod.split_people(conn) == 0  # once split, nothing left to do
    with db.session(ws) as s:
        a, b, a2 = (s.get(Interview, i) for i in (IV_A, IV_B, "2023-second"))
        assert b.narrator_id == shared  # B's interview comes first: B keeps the row
        assert a.narrator_id == a2.narrator_id != shared  # museum A's two interviews: one Person, A's own
        copy = s.get(Person, a.narrator_id)
        assert (copy.name, copy.pseudonym) == (NAME, "J. M.")
        for iid, pid in ((IV_A, a.narrator_id), (IV_B, shared)):
            sp = s.exec(select(Speaker).where(Speaker.interview_id == iid, Speaker.label == "SPEAKER_1")).one()
            assert sp.person_id == pid
