"""Issue 13 item 10: a real OAI-PMH endpoint, harvested by Sickle over HTTP from a running server."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from publish_helpers import make_audio, make_interview


@pytest.fixture()
def server(ws, corpus, ffmpeg, tmp_path):
    import uvicorn

    from oralhist.cli.oai import oai_asgi

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    for k in range(5):
        make_interview(ws, f"199{k}-temoin-{k}", corpus=corpus, audio=audio, title=f"Témoignage {k}",
                       narrator=f"Témoin {k}")
    make_interview(ws, "1989-prive", corpus=corpus, audio=audio, scope="none", narrator="Privé")
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(oai_asgi(ws, page_size=2), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.02)
    yield {"url": f"http://127.0.0.1:{port}/oai", "ws": ws}
    srv.should_exit = True
    t.join(5)


def test_sickle_harvests_every_verb(server, cli):
    from sickle import Sickle
    from sickle.oaiexceptions import CannotDisseminateFormat, IdDoesNotExist

    sk = Sickle(server["url"])
    ident = sk.Identify()
    assert ident.repositoryName == "Archive de test" and ident.deletedRecord == "transient"
    assert ident.baseURL == server["url"]
    assert [f.metadataPrefix for f in sk.ListMetadataFormats()] == ["oai_dc", "oai_qdc", "edm"]  # issue 25
    recs = list(sk.ListRecords(metadataPrefix="oai_dc"))  # page size 2: two resumption tokens followed
    ids = sorted(r.header.identifier for r in recs)
    assert ids == [f"oai:oralhist.archive-de-test:199{k}-temoin-{k}" for k in range(5)]
    assert all("prive" not in i for i in ids)
    assert recs[0].metadata["title"][0].startswith("Témoignage")
    rec = sk.GetRecord(identifier=ids[0], metadataPrefix="oai_dc")
    assert rec.metadata["title"] == ["Témoignage 0"]
    with pytest.raises(IdDoesNotExist):
        sk.GetRecord(identifier="oai:x:nope", metadataPrefix="oai_dc")
    with pytest.raises(CannotDisseminateFormat):
        sk.GetRecord(identifier=ids[0], metadataPrefix="marc21")
    assert 'code="badVerb"' in requests.get(server["url"], params={"verb": "Nope"}).text
    assert 'code="badArgument"' in requests.get(server["url"], params={"verb": "GetRecord"}).text
    # from/until select by the record's last change.
    stamp = datetime.strptime(recs[0].header.datestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    later = (stamp + timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(list(sk.ListIdentifiers(metadataPrefix="oai_dc", **{"from": stamp.strftime("%Y-%m-%d")}))) == 5
    r = requests.get(server["url"], params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": later})
    assert 'code="noRecordsMatch"' in r.text
    r = requests.get(server["url"], params={"verb": "ListRecords", "resumptionToken": "garbage!"})
    assert 'code="badResumptionToken"' in r.text
    # Consent withdrawn: the record becomes a deleted record, with a newer datestamp.
    time.sleep(1.1)
    res = cli("consent", "1990-temoin-0", "--scope", "none")
    assert res.exit_code == 0, res.output
    rec = sk.GetRecord(identifier="oai:oralhist.archive-de-test:1990-temoin-0", metadataPrefix="oai_dc")
    assert rec.deleted and rec.header.deleted
    assert rec.header.datestamp > recs[0].header.datestamp or rec.header.datestamp >= stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = rec.header.datestamp
    changed = list(sk.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False, **{"from": start, "until": now}))
    assert [h.identifier for h in changed] == ["oai:oralhist.archive-de-test:1990-temoin-0"] and changed[0].deleted


class _PyoaiEtree:
    """pyoai 2.5.0 (the newest) calls ``XPathEvaluator(...).evaluate(path)``, which lxml 5
    removed (the evaluator is called directly now); everything else is lxml's own."""

    def __getattr__(self, name):
        from lxml import etree

        return getattr(etree, name)

    @staticmethod
    def XPathEvaluator(*args, **kw):
        from lxml import etree

        ev = etree.XPathEvaluator(*args, **kw)
        return type("Evaluator", (), {"evaluate": staticmethod(ev), "__call__": staticmethod(ev)})()


def test_pyoai_harvests_every_verb(server, cli, monkeypatch):
    """pyoai (the harvester of many repositories' tooling) parses every answer strictly."""
    import oaipmh.client
    import oaipmh.metadata
    from oaipmh import error
    from oaipmh.client import Client
    from oaipmh.metadata import MetadataRegistry, oai_dc_reader

    monkeypatch.setattr(oaipmh.client, "etree", _PyoaiEtree())
    monkeypatch.setattr(oaipmh.metadata, "etree", _PyoaiEtree())

    reg = MetadataRegistry()
    reg.registerReader("oai_dc", oai_dc_reader)
    c = Client(server["url"], reg)
    ident = c.identify()
    assert ident.repositoryName() == "Archive de test" and ident.baseURL() == server["url"]
    assert ident.deletedRecord() == "transient" and ident.granularity() == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.protocolVersion() == "2.0"
    c.updateGranularity()
    assert [f[0] for f in c.listMetadataFormats()] == ["oai_dc", "oai_qdc", "edm"]  # issue 25
    recs = list(c.listRecords(metadataPrefix="oai_dc"))  # page size 2: resumption tokens followed
    ids = sorted(h.identifier() for h, _, _ in recs)
    assert ids == [f"oai:oralhist.archive-de-test:199{k}-temoin-{k}" for k in range(5)]
    stamps = sorted(h.datestamp() for h, _, _ in recs)
    first = stamps[0]
    assert all(isinstance(s, datetime) for s in stamps)
    # from/until: the records changed in a window, as datetimes at the second.
    window = list(c.listIdentifiers(metadataPrefix="oai_dc", from_=first, until=stamps[-1]))
    assert len(window) == 5
    with pytest.raises(error.NoRecordsMatchError):
        list(c.listIdentifiers(metadataPrefix="oai_dc", from_=stamps[-1] + timedelta(days=1)))
    header, md, _ = c.getRecord(identifier=ids[0], metadataPrefix="oai_dc")
    assert header.identifier() == ids[0] and md.getField("title") == ["Témoignage 0"]
    with pytest.raises(error.IdDoesNotExistError):
        c.getRecord(identifier="oai:x:nope", metadataPrefix="oai_dc")
    with pytest.raises(error.CannotDisseminateFormatError):
        c.getRecord(identifier=ids[0], metadataPrefix="marc21")
    # Consent withdrawn: a deleted record, datestamped at the withdrawal, found by an incremental harvest.
    time.sleep(1.1)
    assert cli("consent", "1990-temoin-0", "--scope", "none").exit_code == 0
    header, md, _ = c.getRecord(identifier="oai:oralhist.archive-de-test:1990-temoin-0", metadataPrefix="oai_dc")
    assert header.isDeleted() and md is None and header.datestamp() > stamps[-1]
    changed = list(c.listRecords(metadataPrefix="oai_dc", from_=header.datestamp()))
    assert [(h.identifier(), h.isDeleted()) for h, _, _ in changed] == [("oai:oralhist.archive-de-test:1990-temoin-0", True)]


def test_identifiers_survive_a_move_of_the_site(ws, corpus, ffmpeg, tmp_path):
    """Identifiers come from the repository identifier setting, never from base_url; the
    datestamp is the record's last change, not today."""
    import re

    from oralhist.outputs.publish.oai import load_records
    from oralhist.archive.workspace import open_workspace

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio)
    toml = ws.root / "oralhist.toml"
    seen = []
    for base in ("https://musee.example.org/archives", "https://archives.example.net"):
        toml.write_text(re.sub(r'base_url = ".*"', f'base_url = "{base}"', toml.read_text(encoding="utf-8")),
                        encoding="utf-8")
        recs = load_records(open_workspace(ws.root))
        seen.append([(r.identifier, r.datestamp) for r in recs])
        assert base in recs[0].dc[0].text or any(base in (e.text or "") for e in recs[0].dc)
    assert seen[0] == seen[1] and seen[0][0][0] == "oai:oralhist.archive-de-test:1998-marcel-dupont"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[site]\n", '[site]\noai_repository_identifier = "musee-mine.fr"\n'),
                    encoding="utf-8")
    assert load_records(open_workspace(ws.root))[0].identifier == "oai:musee-mine.fr:1998-marcel-dupont"
