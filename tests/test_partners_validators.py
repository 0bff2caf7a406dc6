"""Issue 25, partners second round: every output fed to the partners' own checkers.

One archive for the file (three interviews in two museums; a trade with a Wikidata URI and
an AAT equivalent, a place with coordinates and an INSEE code, machine subjects below the
link threshold, one interview under Etalab's Licence Ouverte), published once, served over
OAI-PMH once. Checkers: the official IIIF Presentation validator's schema (tests/data/iiif),
Sickle, xmlschema with the OAI-PMH, oai_dc and qualified DC schemas (tests/data/schemas),
rdflib + pySHACL with the EDM rules (tests/data/edm), bagit, python-docx, Chromium.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from iiif_validator import iiif_errors
from publish_helpers import make_audio, make_interview

BASE = "https://archives.example.org/temoignages"
SITE_LICENSE = "https://creativecommons.org/licenses/by-nc/4.0/"
ETALAB = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
SCHEMAS = Path(__file__).parent / "data" / "schemas"
SHAPES = Path(__file__).parent / "data" / "edm" / "edm-shapes.ttl"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
WIKIDATA_MINER = "http://www.wikidata.org/entity/Q820037"
AAT_MINER = "http://vocab.getty.edu/aat/300025120"
LEWARDE = "http://www.wikidata.org/entity/Q1070866"


def _settings(root: Path, base: str = BASE) -> None:
    toml = root / "oralhist.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("[site]\n", f'[site]\nrights = "Musées du réseau, 2024."\nlicense = "{SITE_LICENSE}"\n'
                                    'admin_email = "oai@musees.example.org"\nnetwork = "Réseau des musées de métiers"\n', 1)
    text = re.sub(r'base_url = ".*"', f'base_url = "{base}"', text)
    toml.write_text(text, encoding="utf-8")


def _build(ws, corpus, ffmpeg, tmp: Path) -> None:
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Consent, Term

    audio = tmp / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, 3000, "L'accident", "Le coup de grisou.", ["grisou"])],
                   links=[("trade", "Mineur", 0, 2000, "mineur", "accepted", 1.0),
                          ("place", "Lewarde", 500, 2500, "Lewarde", "accepted", 1.0),
                          ("subject", "Grisou", 600, 900, "grisou", "suggested", 0.54),
                          ("subject", "Lampe", 900, 1200, "lampe", "suggested", 0.68)])
    make_interview(ws, "1999-jeanne-martin", corpus=corpus, audio=audio, title="La filature", narrator="Jeanne Martin",
                   museum="Musée de la filature", links=[("trade", "Fileuse", 0, 1000, "fileuse", "accepted", 1.0)])
    make_interview(ws, "2001-paul-leroy", corpus=corpus, audio=audio, title="Le carreau", narrator="Paul Leroy",
                   links=[("trade", "Mineur", 0, 1000, "mineur", "accepted", 1.0)])
    with db.session(ws) as s:
        for t in s.exec(select(Term)).all():
            if t.label == "Mineur":
                t.uri, t.same_as = WIKIDATA_MINER, [AAT_MINER]
            if t.label == "Lewarde":
                t.uri, t.latitude, t.longitude, t.insee = LEWARDE, 50.3342, 3.1717, "59345"
            s.add(t)
        c = s.exec(select(Consent).where(Consent.interview_id == "1999-jeanne-martin")).first()
        c.license, c.rights = ETALAB, "Musée de la filature, licence ouverte."
        s.add(c)
        s.commit()


@pytest.fixture(scope="module")
def arch(tmp_path_factory, corpus, ffmpeg):
    """The published archive and its live OAI-PMH endpoint (read-only for the tests)."""
    import uvicorn
    from typer.testing import CliRunner

    from oralhist.archive.workspace import init, open_workspace
    from oralhist.cli import app
    from oralhist.cli.oai import oai_asgi
    from oralhist.web.server import free_port

    tmp = tmp_path_factory.mktemp("partners25")
    ws = init(tmp / "archive", title="Archive de test")
    _settings(ws.root)
    ws = open_workspace(ws.root)
    _build(ws, corpus, ffmpeg, tmp)
    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, ["--workspace", str(ws.root), *map(str, args)], catch_exceptions=False)

    published = cli("publish")
    assert published.exit_code == 0, published.output
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(oai_asgi(ws, page_size=2), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield {"ws": ws, "cli": cli, "publish": published.output, "oai": f"http://127.0.0.1:{port}/oai", "tmp": tmp}
    finally:
        srv.should_exit = True
        t.join(5)


def _oai_schema(prefix: str = "oai_dc"):
    """OAI-PMH.xsd with the schema of the format inside ``<metadata>`` (oai_dc imports simple
    DC, qualified DC imports DCMI's dc.xsd: one namespace, two schemas, so one of each)."""
    import xmlschema

    xml = {"http://www.w3.org/2001/03/xml.xsd": (SCHEMAS / "xml.xsd").as_uri(),
           "http://www.w3.org/2001/xml.xsd": (SCHEMAS / "xml.xsd").as_uri()}
    inner = {"oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc/", "oai_dc.xsd"),
             "oai_qdc": ("http://epubs.cclrc.ac.uk/xmlns/qdc/", "qdc.xsd")}[prefix]
    return xmlschema.XMLSchema(str(SCHEMAS / "OAI-PMH.xsd"), uri_mapper=xml, allow="local",
                               locations=[(inner[0], str(SCHEMAS / inner[1]))])


# --------------------------------------------------------------------------- IIIF


def test_iiif_validator_passes_every_manifest_and_collection(arch):
    site = arch["ws"].site
    manifests = sorted(site.glob("media/*/manifest.json"))
    assert len(manifests) == 3
    for p in manifests:  # (before: "rights Rights URI isn't from either Creative Commons or ...")
        assert iiif_errors(p.read_text(encoding="utf-8")) == [], p
    collections = sorted(site.glob("iiif/**/*.json"))
    assert len(collections) == 3, collections  # the archive's collection and one per museum
    for p in collections:
        assert iiif_errors(p.read_text(encoding="utf-8")) == [], p
    mine = json.loads((site / "media" / "1998-marcel-dupont" / "manifest.json").read_text(encoding="utf-8"))
    # The rights the validator takes (http://...), and its own message for the https form we wrote before.
    assert mine["rights"] == "http://creativecommons.org/licenses/by-nc/4.0/"
    refused = iiif_errors({**mine, "rights": SITE_LICENSE})
    assert any("Rights URI isn't from either Creative Commons or RightsStatements.org. Both require http links." in e
               for e in refused), refused
    # Labels in French and English; the linked terms, with their URIs, in the metadata.
    labels = {m["label"]["en"][0]: m for m in mine["metadata"]}
    assert all(set(m["label"]) == {"fr", "en"} for m in mine["metadata"])
    assert labels["Narrator"]["label"]["fr"] == ["Témoin"]
    assert f'<a href="{WIKIDATA_MINER}">Mineur</a>' in labels["Trades"]["value"]["none"]
    assert "Grisou" not in json.dumps(mine)  # 0.54 < link threshold: left out as on the page
    # Etalab's licence is not a IIIF rights URI: in requiredStatement and metadata instead.
    etalab = json.loads((site / "media" / "1999-jeanne-martin" / "manifest.json").read_text(encoding="utf-8"))
    assert "rights" not in etalab
    assert ETALAB in etalab["requiredStatement"]["value"]["fr"][0]
    assert any(m["value"]["none"] == [ETALAB] for m in etalab["metadata"] if m["label"]["en"] == ["License"])
    top = json.loads((site / "iiif" / "collection.json").read_text(encoding="utf-8"))
    manifests = {i["id"] for i in top["items"] if i["type"] == "Manifest"}
    assert manifests == {f"{BASE}/media/{i}/manifest.json" for i in ("1998-marcel-dupont", "1999-jeanne-martin", "2001-paul-leroy")}
    mine_museum = json.loads((site / "iiif" / "musees" / "musee-de-la-mine.json").read_text(encoding="utf-8"))
    assert {i["id"].split("/")[-2] for i in mine_museum["items"]} == {"1998-marcel-dupont", "2001-paul-leroy"}


def test_staff_exports_equal_the_site_on_ids_and_rights(arch, tmp_path):
    """`oralhist export` and the copies `run`/`link --all` keep in transcripts/<id>/ carry the
    site's addresses and rights (they had http://localhost:8000 ids and no rights)."""
    from oralhist.outputs.exports.staff import write_staff_exports

    ws, cli = arch["ws"], arch["cli"]
    media = ws.site / "media" / "1998-marcel-dupont"
    site_man = json.loads((media / "manifest.json").read_text(encoding="utf-8"))
    site_ohms = ET.parse(media / "ohms.xml").getroot()
    O = "{https://www.weareavp.com/nunncenter/ohms}"

    def ids(doc):
        return sorted(re.findall(r'"id": "([^"]+)"', json.dumps(doc, indent=0)))

    rep = write_staff_exports(ws, ["1998-marcel-dupont", "1999-jeanne-martin"])
    assert not rep.failed, rep.failed
    for iid in ("1998-marcel-dupont", "1999-jeanne-martin"):
        site = json.loads((ws.site / "media" / iid / "manifest.json").read_text(encoding="utf-8"))
        for path in (ws.transcript_dir(iid) / f"{iid}.iiif.json", None):
            if path is None:
                path = tmp_path / f"{iid}.iiif.json"
                assert cli("export", iid, "--format", "iiif", "--out", path).exit_code == 0
            staff = json.loads(path.read_text(encoding="utf-8"))
            assert ids(staff) == ids(site), path
            assert (staff.get("rights"), staff["requiredStatement"], staff["provider"]) == \
                (site.get("rights"), site["requiredStatement"], site["provider"])
            assert iiif_errors(staff) == []
    dc = ET.parse(ws.transcript_dir("1998-marcel-dupont") / "1998-marcel-dupont.dc.xml").getroot()
    site_dc = ET.parse(media / "dc.xml").getroot()
    for tag in ("rights", "identifier"):
        assert [e.text for e in dc.iter(f"{DC}{tag}")] == [e.text for e in site_dc.iter(f"{DC}{tag}")], tag
    for path in (ws.transcript_dir("1998-marcel-dupont") / "1998-marcel-dupont.ohms.xml", tmp_path / "x.ohms.xml"):
        if not path.exists():
            assert cli("export", "1998-marcel-dupont", "--format", "ohms", "--out", path).exit_code == 0
        ohms = ET.parse(path).getroot()
        for tag in ("media_url", "rights", "usage", "repository", "funding", "rel", "xmllocation"):
            assert ohms.findtext(f"{O}record/{O}{tag}") == site_ohms.findtext(f"{O}record/{O}{tag}"), (path, tag)
        assert ohms.findtext(f"{O}record/{O}media_url") == f"{BASE}/media/1998-marcel-dupont/audio.mp3"


# --------------------------------------------------------------------------- OAI-PMH


def test_sickle_harvests_each_set_and_format_and_the_schemas_pass(arch):
    import requests
    from sickle import Sickle

    sk = Sickle(arch["oai"])
    sets = {s.setSpec: s.setName for s in sk.ListSets()}
    assert sets == {"museum": "Musées", "trade": "Métiers", "museum:musee-de-la-mine": "Musée de la mine",
                    "museum:musee-de-la-filature": "Musée de la filature", "trade:mineur": "Mineur",
                    "trade:fileuse": "Fileuse"}
    assert [f.metadataPrefix for f in sk.ListMetadataFormats()] == ["oai_dc", "oai_qdc", "edm"]
    schemas = {"oai_dc": _oai_schema("oai_dc"), "oai_qdc": _oai_schema("oai_qdc")}
    schemas["edm"] = schemas["oai_dc"]
    want = {"museum:musee-de-la-mine": {"1998-marcel-dupont", "2001-paul-leroy"},
            "museum:musee-de-la-filature": {"1999-jeanne-martin"}, "trade:mineur": {"1998-marcel-dupont", "2001-paul-leroy"},
            "trade:fileuse": {"1999-jeanne-martin"},
            "museum": {"1998-marcel-dupont", "1999-jeanne-martin", "2001-paul-leroy"}}
    for spec, ids in want.items():
        for prefix in ("oai_dc", "oai_qdc", "edm"):
            expect = ids - {"1999-jeanne-martin"} if prefix == "edm" else ids  # no EDM without a rights URI
            recs = list(sk.ListRecords(metadataPrefix=prefix, set=spec)) if expect else []
            assert {r.header.identifier.rsplit(":", 1)[1] for r in recs} == expect, (spec, prefix)
            assert all(spec in r.header.setSpecs or any(s.startswith(spec + ":") for s in r.header.setSpecs) for r in recs)
            # every page of the response, whole, against the published schemas (edm's RDF has no XSD: SHACL below)
            r = requests.get(arch["oai"], params={"verb": "ListRecords", "metadataPrefix": prefix, "set": spec})
            doc = ET.fromstring(r.content)
            if prefix == "edm":
                for md in doc.iter(f"{OAI}metadata"):
                    md.clear()
                    ET.SubElement(md, "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc")
            schemas[prefix].validate(doc) if expect else None
    for verb in ("Identify", "ListSets", "ListMetadataFormats"):
        schemas["oai_dc"].validate(requests.get(arch["oai"], params={"verb": verb}).text)
    schemas["oai_qdc"].validate(requests.get(arch["oai"], params={"verb": "ListIdentifiers", "metadataPrefix": "oai_qdc",
                                                      "set": "trade"}).text)
    r = requests.get(arch["oai"], params={"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "museum:nowhere"})
    assert 'code="noRecordsMatch"' in r.text
    qdc = sk.GetRecord(identifier="oai:oralhist.archive-de-test:1998-marcel-dupont", metadataPrefix="oai_qdc").raw
    for el in ("dcterms:spatial", "dcterms:temporal", "dcterms:extent", "dcterms:accessRights", "dcterms:license",
               "dcterms:isPartOf"):
        assert f"<{el}" in qdc, el
    assert "east=3.1717; north=50.3342" in qdc and f">{AAT_MINER}<" in qdc


def test_live_oai_matches_the_site(arch):
    """The live record: the site's subjects (link_threshold: not the 0.54/0.68 suggestions) and
    the audio dc:identifier; the static oai-pmh.xml names [site] admin_email."""
    from oralhist.outputs.publish.oai import load_records

    recs = {r.identifier.rsplit(":", 1)[1]: r for r in load_records(arch["ws"]) if not r.deleted}
    site_dc = ET.parse(arch["ws"].site / "media" / "1998-marcel-dupont" / "dc.xml").getroot()
    live = recs["1998-marcel-dupont"].dc
    for tag in ("subject", "coverage", "identifier", "rights"):
        assert [e.text for e in live.iter(f"{DC}{tag}")] == [e.text for e in site_dc.iter(f"{DC}{tag}")], tag
    subjects = [e.text for e in live.iter(f"{DC}subject")]
    assert "Grisou" not in subjects and "Lampe" not in subjects and "Mineur" in subjects and WIKIDATA_MINER in subjects
    assert f"{BASE}/media/1998-marcel-dupont/audio.mp3" in [e.text for e in live.iter(f"{DC}identifier")]
    static = ET.parse(arch["ws"].site / "oai-pmh.xml").getroot()
    assert static.findtext(f".//{OAI}adminEmail") == "oai@musees.example.org"


def test_edm_records_pass_the_edm_rules(arch):
    import rdflib
    from pyshacl import validate
    from sickle import Sickle

    shapes = rdflib.Graph().parse(SHAPES, format="turtle")
    recs = list(Sickle(arch["oai"]).ListRecords(metadataPrefix="edm"))
    assert sorted(r.header.identifier.rsplit(":", 1)[1] for r in recs) == ["1998-marcel-dupont", "2001-paul-leroy"]
    for r in recs:
        rdf = ET.tostring(r.xml.find(f"{OAI}metadata")[0], encoding="unicode")
        g = rdflib.Graph().parse(data=rdf, format="xml")
        ok, _, text = validate(g, shacl_graph=shapes)
        assert ok, text
    EDM = rdflib.Namespace("http://www.europeana.eu/schemas/edm/")
    g = rdflib.Graph().parse(data=ET.tostring(recs[0].xml.find(f"{OAI}metadata")[0], encoding="unicode"), format="xml")
    cho = next(g.subjects(rdflib.RDF.type, EDM.ProvidedCHO))
    assert str(g.value(cho, EDM.type)) == "SOUND"
    assert rdflib.URIRef(WIKIDATA_MINER) in set(g.objects(cho, rdflib.URIRef("http://purl.org/dc/elements/1.1/subject")))
    agg = next(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.openarchives.org/ore/terms/Aggregation")))
    assert str(g.value(agg, EDM.dataProvider)) == "Musée de la mine"
    assert str(g.value(agg, EDM.provider)) == "Réseau des musées de métiers"
    assert str(g.value(agg, EDM.rights)) == "http://creativecommons.org/licenses/by-nc/4.0/"
    # A record breaking the rules is refused by them (the checks can fail).
    bad = rdflib.Graph().parse(data=rdf.replace("SOUND", "AUDIO"), format="xml")
    assert not validate(bad, shacl_graph=shapes)[0]
    # The interview without a rights URI is listed in the publish report.
    assert "left out of the EDM records" in arch["publish"] and "1999-jeanne-martin" in arch["publish"]


# --------------------------------------------------------------------------- exports


def test_nakala_folder_has_every_required_column(arch, tmp_path):
    from oralhist.outputs.exports.nakala import REQUIRED

    out = tmp_path / "nakala"
    r = arch["cli"]("export-nakala", "--out", out)
    assert r.exit_code == 0, r.output
    with open(out / "nakala.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert set(REQUIRED) == {"nakala:title", "nakala:creator", "nakala:created", "nakala:type", "nakala:license"}
    assert len(rows) == 3 and all(all(row[c] for c in REQUIRED) for row in rows)
    by = {row["file"].split("/")[0]: row for row in rows}
    assert by["1998-marcel-dupont"]["nakala:creator"] == "Dupont, Marcel"
    assert by["1998-marcel-dupont"]["nakala:type"] == "http://purl.org/coar/resource_type/c_18cc"
    assert by["1998-marcel-dupont"]["nakala:license"] == "CC-BY-NC-4.0"
    assert by["1999-jeanne-martin"]["nakala:license"] == "etalab-2.0"
    assert any(c.startswith("dcterms:") for c in rows[0])
    for iid in by:
        folder = out / iid
        assert sorted(p.name for p in folder.iterdir()) == ["audio.mp3", "metadata.csv", "transcript.txt", "transcript.vtt"]
        for f in by[iid]["file"].split(";"):
            assert (out / f).is_file()
    r = arch["cli"]("export-nakala", "--out", out)
    assert r.exit_code == 2 and "not an empty folder" in r.output


def test_bag_is_archivematica_ready_and_docx_names_the_archive(arch, tmp_path):
    import zipfile

    import bagit
    import docx

    r = arch["cli"]("export-bag", "1998-marcel-dupont", "--out", tmp_path / "bags")
    assert r.exit_code == 0, r.output
    bag = bagit.Bag(str(tmp_path / "bags" / "1998-marcel-dupont"))
    bag.validate()
    assert "sha256" in bag.algorithms
    with open(Path(bag.path) / "data" / "metadata" / "metadata.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "filename" and rows[1][0] == "objects"
    meta = list(zip(rows[0], rows[1]))
    assert ("dc.title", "À la fosse") in meta and ("dc.creator", "Marcel Dupont") in meta
    assert any(k == "dc.rights" and SITE_LICENSE in v for k, v in meta)
    out = tmp_path / "x.docx"
    assert arch["cli"]("export", "1998-marcel-dupont", "--format", "docx", "--out", out).exit_code == 0
    cp = docx.Document(str(out)).core_properties
    assert (cp.language, cp.author, cp.last_modified_by) == ("fr-FR", "Archive de test", "Archive de test")
    with zipfile.ZipFile(out) as z:
        props = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("docProps/") and n.endswith(".xml"))
    assert "python-docx" not in props


# --------------------------------------------------------------------------- settings, help, robots


def test_help_template_and_robots_note(arch, tmp_path):
    from typer.testing import CliRunner

    from oralhist.archive.workspace import DEFAULT_SETTINGS
    from oralhist.cli import app

    out = CliRunner().invoke(app, ["publish", "--help"], terminal_width=200).output
    assert "[site] base_url" in out
    assert "[server] host" in CliRunner().invoke(app, ["serve", "--help"], terminal_width=200).output
    for key in ("rights", "license", "funding", "admin_email", "oai_repository_identifier"):
        assert re.search(rf"^# {key} = ", DEFAULT_SETTINGS, re.M), key
    # base_url with a path: robots.txt is only read at the host's root; the report says so,
    # and the site still has its sitemap and robots.txt at its own root.
    assert "robots.txt is only read at the root of the host (https://archives.example.org/robots.txt)" in arch["publish"]
    assert (arch["ws"].site / "sitemap.xml").is_file()
    assert f"Sitemap: {BASE}/sitemap.xml" in (arch["ws"].site / "robots.txt").read_text(encoding="utf-8")


def test_vocabulary_same_as_and_places(arch, tmp_path):
    from oralhist.editorial.vocab import read_csv, read_skos
    from oralhist.errors import BadInput

    f = tmp_path / "lieux.csv"
    f.write_text("label;uri;same_as;latitude;longitude;insee\n"
                 f"Lewarde;{LEWARDE};https://www.geonames.org/3000000 | http://data.bnf.fr/ark:/12148/cb1;50,3342;3.1717;59345\n"
                 "Douai;;;;;59178\n", encoding="utf-8")
    terms, _ = read_csv(f, "place")
    assert terms[0].same_as == ("https://www.geonames.org/3000000", "http://data.bnf.fr/ark:/12148/cb1")
    assert (terms[0].latitude, terms[0].longitude, terms[0].insee) == (50.3342, 3.1717, "59345")
    assert terms[1].insee == "59178" and terms[1].latitude is None
    f.write_text("label;latitude;longitude\nLewarde;95;3\n", encoding="utf-8")
    with pytest.raises(BadInput, match="line 2: latitude 95 is out of range"):
        read_csv(f, "place")
    ttl = tmp_path / "metiers.ttl"
    ttl.write_text(f"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://example.org/metiers/mineur> a skos:Concept ; skos:prefLabel "Mineur"@fr ;
  skos:exactMatch <{WIKIDATA_MINER}>, <{AAT_MINER}> .
""", encoding="utf-8")
    terms, _ = read_skos(ttl, "trade")
    assert terms[0].same_as == (AAT_MINER, WIKIDATA_MINER)
    # JSON-LD of the interview (the site renders it): about with @id and sameAs, the place with geo.
    page = (arch["ws"].site / "i" / "1998-marcel-dupont.html").read_text(encoding="utf-8")
    import extruct

    d = extruct.extract(page, base_url=f"{BASE}/i/1998-marcel-dupont.html", syntaxes=["json-ld"])["json-ld"][0]
    about = {a["name"]: a for a in d["about"]}
    assert about["Mineur"]["sameAs"] == [WIKIDATA_MINER, AAT_MINER]
    assert about["Lewarde"]["geo"] == {"@type": "GeoCoordinates", "latitude": 50.3342, "longitude": 3.1717}


# --------------------------------------------------------------------------- hosting: CORS


def _serve(folder: Path, honour_headers: bool):
    """A static server for ``folder`` that applies its ``_headers`` file as Netlify does
    (path patterns with ``*``, indented ``Name: value`` lines), preflights included."""
    import fnmatch
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    rules = []
    if honour_headers:
        pat = None
        for line in (folder / "_headers").read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith((" ", "\t")):
                pat = line.strip()
                rules.append((pat, []))
            else:
                k, v = line.strip().split(":", 1)
                rules[-1][1].append((k.strip(), v.strip()))

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def end_headers(self):
            path = self.path.split("?")[0]
            for pat, headers in rules:
                if fnmatch.fnmatch(path, pat):
                    for k, v in headers:
                        self.send_header(k, v)
            super().end_headers()

        def do_OPTIONS(self):
            self.send_response(204)
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_viewers_on_another_origin_read_manifest_captions_and_audio(arch, browser, tmp_path):
    """The site's ``_headers`` (and .htaccess) let a viewer on another origin read the manifest,
    the captions it names and the audio (a Range request). The site is served by a local server
    that applies ``_headers`` as Netlify does, at its own address (the site's copy with that
    address as base_url); the viewer page comes from another origin. There, Clover (its npm
    package's web component, tests/data/clover) shows the manifest, and a plain cross-origin
    fetch reads captions and audio; with a server that ignores ``_headers`` both are refused."""
    import shutil

    site = arch["ws"].site
    assert 'Access-Control-Allow-Origin "*"' in (site / ".htaccess").read_text(encoding="utf-8")
    viewer = tmp_path / "viewer"
    viewer.mkdir()
    shutil.copyfile(Path(__file__).parent / "data" / "clover" / "clover-iiif-3.3.8.umd.js", viewer / "clover.js")
    results = {}
    for honour in (True, False):
        copy = tmp_path / f"site-{honour}"
        shutil.copytree(site, copy)
        srv, other = _serve(copy, honour), _serve(viewer, False)
        origin = f"http://127.0.0.1:{srv.server_address[1]}"
        for f in copy.rglob("*.json"):  # the site as published with base_url = this server
            f.write_text(f.read_text(encoding="utf-8").replace(BASE, origin), encoding="utf-8")
        manifest = f"{origin}/media/1998-marcel-dupont/manifest.json"
        (viewer / "index.html").write_text(
            '<!doctype html><html lang="fr"><title>viewer</title><script src="clover.js"></script>'
            f'<clover-viewer iiif-content="{manifest}"></clover-viewer></html>', encoding="utf-8")
        try:
            page = browser.new_page()
            page.goto(f"http://localhost:{other.server_address[1]}/index.html")  # another origin (host differs)
            if honour:
                page.wait_for_selector("clover-viewer .clover-viewer-information-panel", timeout=60_000)
                shown = page.inner_text("clover-viewer")
                assert "À la fosse" in shown and "Témoin" in shown and "Marcel Dupont" in shown, shown
            results[honour] = page.evaluate("""async (url) => {
              let step = 'manifest';
              try {
                const m = await (await fetch(url)).json();
                const canvas = m.items[0];
                step = 'captions';
                const captions = await (await fetch(canvas.annotations[0].items[0].body.id)).text();
                step = 'audio';
                const a = await fetch(canvas.items[0].items[0].body.id, {headers: {'Range': 'bytes=0-99'}});
                return {ok: true, captions: captions.slice(0, 6), audio: a.status};
              } catch (e) { return {ok: false, error: step + ': ' + String(e)}; }
            }""", manifest)
            page.close()
        finally:
            srv.shutdown()
            other.shutdown()
    assert results[False] == {"ok": False, "error": "manifest: TypeError: Failed to fetch"}, results
    assert results[True] == {"ok": True, "captions": "WEBVTT", "audio": results[True]["audio"]}, results
    assert results[True]["audio"] in (200, 206)


def test_vocabulary_places_on_postgresql(pg_fresh, tmp_path, monkeypatch):
    """Revision 2501 on PostgreSQL: a CSV with same_as, coordinates and INSEE codes imported,
    listed, re-imported in place (a re-import without the columns keeps them)."""
    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.editorial.vocab import import_vocab, list_terms

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "pg-archive")
    f = tmp_path / "lieux.csv"
    f.write_text(f"label,uri,same_as,latitude,longitude,insee\nLewarde,{LEWARDE},https://www.geonames.org/3000000,"
                 "50.3342,3.1717,59345\n", encoding="utf-8")
    assert import_vocab(ws, f, "place").created == ["Lewarde"]
    f.write_text(f"label,uri\nLewarde,{LEWARDE}\n", encoding="utf-8")
    import_vocab(ws, f, "place")
    with db.session(ws) as s:
        (t,) = [t for t in list_terms(s, "place") if t.label == "Lewarde"]
    assert (t.same_as, t.latitude, t.longitude, t.insee) == (("https://www.geonames.org/3000000",), 50.3342, 3.1717, "59345")
