"""Issue 19, "Names never leak": item 16 (opaque public ids, retired ids announced deleted for a
while then forgotten) and item 17 (http(s) links only, Content-Security-Policy)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from publish_helpers import make_audio, make_interview

O = "{http://www.openarchives.org/OAI/2.0/}"
REPO = "oai:oralhist.archive-de-test:"


def _oai(ws, **args):
    from oralhist.oai import respond
    from oralhist.workspace import open_workspace

    text = respond(open_workspace(ws.root), args, "http://h/oai")
    return text, ET.fromstring(text)


def _headers(ws):
    _, root = _oai(ws, verb="ListIdentifiers", metadataPrefix="oai_dc")
    return {h.findtext(f"{O}identifier"): h.get("status") == "deleted" for h in root.iter(f"{O}header")}


def _site_paths(ws):
    return [p.relative_to(ws.site).as_posix() for p in ws.site.rglob("*")
            if not any(part.startswith(".") for part in p.relative_to(ws.site).parts)]


def _age_retirements(ws, days):
    from sqlalchemy import text

    from oralhist import db

    with db.engine_for(ws).begin() as conn:
        conn.execute(text("UPDATE retiredid SET retired_at = :t"),
                     {"t": datetime.now(timezone.utc) - timedelta(days=days)})


@pytest.fixture()
def audio(corpus, ffmpeg, tmp_path):
    a = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, a)
    return a


# --------------------------------------------------------------------------- item 16


def test_new_interviews_get_opaque_ids_everywhere(ws, corpus, audio):
    """Item 16: a new interview's OAI identifier and page address carry no name."""
    from oralhist.publish import publish_site

    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun", legacy_id=False)
    ids = list(_headers(ws))
    assert len(ids) == 1 and re.fullmatch(rf"{re.escape(REPO)}iv-[0-9a-f]{{12}}", ids[0]), ids
    key = ids[0].rsplit(":", 1)[1]
    publish_site(ws)
    paths = _site_paths(ws)
    assert f"i/{key}.html" in paths and not [p for p in paths if "walter" in p.lower()]
    static = ET.parse(ws.site / "oai-pmh.xml").getroot()
    assert [e.text for e in static.iter(f"{O}identifier")] == [ids[0]]
    # stable: the same id on every request and every publish
    assert list(_headers(ws)) == ids


def test_anonymised_after_publishing(ws, corpus, audio, cli):
    """Item 16: the old real-name id is announced deleted (no metadata), the interview answers
    under a new opaque id, the old page is gone; after the retention the old id is forgotten."""
    from oralhist.publish import publish_site

    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun",
                   title="Walter Brun, mineur")
    old = f"{REPO}1997-walter-brun"
    assert _headers(ws) == {old: False}  # an archive published before: its id keeps working
    publish_site(ws)
    assert "i/1997-walter-brun.html" in _site_paths(ws)

    assert cli("consent", "1997-walter-brun", "--anonymise").exit_code == 0
    heads = _headers(ws)
    new = [i for i, deleted in heads.items() if not deleted]
    assert heads.get(old) is True and len(new) == 1 and "walter" not in new[0].lower()
    text, root = _oai(ws, verb="GetRecord", identifier=old, metadataPrefix="oai_dc")
    rec = root.find(f"{O}GetRecord/{O}record")
    assert rec.find(f"{O}header").get("status") == "deleted" and rec.find(f"{O}metadata") is None
    text, _ = _oai(ws, verb="ListRecords", metadataPrefix="oai_dc")
    assert "Walter" not in text and text.lower().count("walter") == 1  # the old identifier only
    _, root = _oai(ws, verb="Identify")
    assert root.findtext(f"{O}Identify/{O}deletedRecord") == "transient"

    publish_site(ws)
    paths = _site_paths(ws)
    assert not [p for p in paths if "walter" in p.lower()], paths
    assert f"i/{new[0].rsplit(':', 1)[1]}.html" in paths
    assert "walter" not in (ws.site / "oai-pmh.xml").read_text(encoding="utf-8").lower()

    _age_retirements(ws, 179)
    assert _headers(ws).get(old) is True
    _age_retirements(ws, 181)
    assert old not in _headers(ws)
    _, root = _oai(ws, verb="GetRecord", identifier=old, metadataPrefix="oai_dc")
    assert root.find(f"{O}error").get("code") == "idDoesNotExist"


def test_withdrawn_then_forgotten_and_retention_setting(ws, corpus, audio, cli):
    """Item 16: withdrawn interviews are deleted records for [oai] deleted_retention_days only;
    a real-name id never comes back, an opaque one does when consent is given again."""
    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun")
    make_interview(ws, "1998-anne-roux", corpus=corpus, audio=audio, narrator="Anne Roux", legacy_id=False)
    opaque = [i for i in _headers(ws) if "walter" not in i][0]
    for iid in ("1997-walter-brun", "1998-anne-roux"):
        assert cli("consent", iid, "--scope", "none").exit_code == 0
    assert _headers(ws) == {f"{REPO}1997-walter-brun": True, opaque: True}
    for iid in ("1997-walter-brun", "1998-anne-roux"):
        assert cli("consent", iid, "--scope", "public").exit_code == 0
    heads = _headers(ws)
    assert heads[f"{REPO}1997-walter-brun"] is True and heads[opaque] is False
    again = [i for i, d in heads.items() if not d and i != opaque]
    assert len(again) == 1 and "walter" not in again[0]
    _age_retirements(ws, 200)
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[oai]\ndeleted_retention_days = 365\n", encoding="utf-8")
    assert _headers(ws)[f"{REPO}1997-walter-brun"] is True
    toml.write_text(toml.read_text(encoding="utf-8").replace("= 365", "= 180"), encoding="utf-8")
    assert f"{REPO}1997-walter-brun" not in _headers(ws)
    toml.write_text(toml.read_text(encoding="utf-8").replace("= 180", "= -3"), encoding="utf-8")
    from oralhist.errors import BadInput
    from oralhist.oai import load_records
    from oralhist.workspace import open_workspace

    with pytest.raises(BadInput, match="deleted_retention_days"):
        load_records(open_workspace(ws.root))


def test_existing_archive_upgrade(tmp_path):
    """Item 16, existing archives: an interview public today keeps its published id; others get
    an opaque one; ids once published and no longer answering are announced deleted."""
    from alembic import command
    from sqlalchemy import text

    from oralhist import db
    from oralhist.oai import load_records
    from oralhist.workspace import init, open_workspace

    ws = init(tmp_path / "old", title="Archive de test")
    db.engine_for(ws).dispose()
    for f in ws.db_path.parent.glob(ws.db_path.name + "*"):
        f.unlink()  # an archive made before revision 1906
    db._MIGRATED.discard(ws.database_url)
    cfg = db.alembic_config(ws.database_url)
    engine = db.engine_for(ws)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "1401")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for iid, scope, anon in (("1990-paul-leroy", "public", False), ("1991-lise-vidal", "public", True),
                                 ("1992-jean-nord", "none", False), ("1993-rose-blanc", "none", False)):
            conn.execute(text("INSERT INTO interview (id, title, language, status, duration_ms, created_at, updated_at)"
                              " VALUES (:i, 'T', 'fr', 'ingested', 0, :t, :t)"), {"i": iid, "t": now})
            conn.execute(text("INSERT INTO consent (interview_id, scope, anonymise, updated_at) VALUES (:i, :s, :a, :t)"),
                         {"i": iid, "s": scope, "a": anon, "t": now})
        # 1992 was public under its name, then withdrawn; 1991 was public under its name before anonymising
        for iid, before, after in (("1992-jean-nord", '{"scope": "public", "anonymise": false}', '{"scope": "none", "anonymise": false}'),
                                   ("1991-lise-vidal", '{"scope": "public", "anonymise": false}', '{"scope": "public", "anonymise": true}')):
            conn.execute(text("INSERT INTO revision (interview_id, kind, who, at, before, after)"
                              " VALUES (:i, 'consent', 'x', :t, :b, :a)"), {"i": iid, "t": now, "b": before, "a": after})
    db._MIGRATED.discard(ws.database_url)
    ws = open_workspace(ws.root)
    with db.session(ws) as s:
        keys = dict(s.exec(text("SELECT id, public_key FROM interview")).all())
    assert keys["1990-paul-leroy"] == "1990-paul-leroy"
    assert re.fullmatch(r"t-[0-9a-f]{12}", keys["1991-lise-vidal"])
    assert all(re.fullmatch(r"iv-[0-9a-f]{12}", keys[i]) for i in ("1992-jean-nord", "1993-rose-blanc"))
    recs = {r.identifier: r.deleted for r in load_records(ws)}
    # no transcript: the public records still list; the deleted ones are the retired named ids
    assert recs.get(f"{REPO}1992-jean-nord") is True and recs.get(f"{REPO}1991-lise-vidal") is True
    assert not [i for i in recs if "rose" in i]
