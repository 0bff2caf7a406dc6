"""Issue 19, robustness: control characters (9), a .docx bomb (10), an XML entity bomb (11), the
size of an editor save (12), numeric settings' bounds (14), French manifest headers (23a) and
read-only archives (23b). Real files, real SQLite, the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_workbench_tasks import bench  # noqa: E402,F401  (the running workbench fixture)

REPO = Path(__file__).resolve().parents[1]


def oralhist(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "oralhist", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, **kw)


# ------------------------------------------------------------------------------------ item 14


@pytest.mark.parametrize("section, line, key, allowed", [
    ("transcribe", "beam_size = 100000", "transcribe.beam_size", "from 1 to 20"),
    ("site", "link_threshold = 5", "site.link_threshold", "from 0 to 1"),
    ("site", "search_shards = 0", "site.search_shards", "from 1 to 64"),
    ("server", "port = 70000", "server.port", "from 1 to 65535"),
    ("site", "link_threshold = nan", "site.link_threshold", "from 0 to 1"),
])
def test_numeric_setting_out_of_range_is_refused_naming_key_and_range(tmp_path, section, line, key, allowed):
    from oralhist.errors import WorkspaceError
    from oralhist.workspace import Settings, init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    text = p.read_text(encoding="utf-8").replace("\nbeam_size = 5", "\n# beam_size = 5")
    if f"[{section}]" not in text:
        text += f"\n[{section}]\n"
    p.write_text(text.replace(f"[{section}]", f"[{section}]\n{line}", 1), encoding="utf-8")
    with pytest.raises(WorkspaceError) as e:
        Settings.from_toml(p)
    assert key in str(e.value) and allowed in str(e.value), str(e.value)


def test_beam_size_100000_cli_exits_2_one_line(tmp_path):
    from oralhist.workspace import init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 100000"), encoding="utf-8")
    r = oralhist("--workspace", ws.root, "list")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "transcribe.beam_size" in r.stderr and "from 1 to 20" in r.stderr, r.stderr


def test_numeric_settings_in_range_are_accepted(tmp_path):
    from oralhist.workspace import Settings, init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 20")
                 + "\n[server]\nport = 8080\n", encoding="utf-8")
    assert Settings.from_toml(p).beam_size == 20


# ------------------------------------------------------------------------------- items 10, 11


def _docx_with_body(paragraphs_xml: bytes, compression) -> bytes:
    """A real Word document (python-docx's template) whose word/document.xml is replaced."""
    import io
    import zipfile

    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                continue
            z.writestr(info, src.read(info.filename))
        xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
               + paragraphs_xml + b"</w:body></w:document>")
        z.writestr(zipfile.ZipInfo("word/document.xml"), xml, compress_type=compression, compresslevel=9)
    return out.getvalue()


def docx_bomb(megabytes: int = 100) -> bytes:
    """~``megabytes`` of text in one paragraph-rich document.xml that deflates to a few hundred KB."""
    import zipfile

    para = b"<w:p><w:r><w:t>" + b"mineur de fond " * 64 + b"</w:t></w:r></w:p>"
    return _docx_with_body(para * (megabytes * 1_000_000 // len(para)), zipfile.ZIP_DEFLATED)


def _sample(ws):
    sys.path.insert(0, str(REPO / "tests"))
    from editdata import make_interview

    return make_interview(ws)


@pytest.mark.parametrize("megabytes, why", [(100, "too large once uncompressed"), (20, "compressed")])
def test_docx_bomb_is_refused_in_a_second_cli(ws, tmp_path, megabytes, why):
    import time

    iid = _sample(ws)
    bomb = tmp_path / "bombe.docx"
    bomb.write_bytes(docx_bomb(megabytes))
    assert bomb.stat().st_size < 1_000_000
    t = time.monotonic()
    r = oralhist("--workspace", ws.root, "import-corrections", iid, bomb, timeout=30)  # it ran minutes
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and why in r.stderr and "bombe.docx" in r.stderr, r.stderr
    from oralhist.corrections import parse_file

    t = time.monotonic()
    with pytest.raises(Exception) as e:
        parse_file(bomb)
    assert time.monotonic() - t < 1.0 and why in str(e.value)


def test_docx_with_too_many_paragraphs_is_refused_before_reading_them_all(tmp_path):
    import time
    import zipfile

    from oralhist.corrections import parse_file
    from oralhist.errors import BadInput

    p = tmp_path / "paragraphes.docx"  # stored, not compressed: the ratio cannot catch it
    p.write_bytes(_docx_with_body(b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 150_000, zipfile.ZIP_STORED))
    t = time.monotonic()
    with pytest.raises(BadInput) as e:
        parse_file(p)
    assert "more than 100000 paragraphs" in str(e.value) and time.monotonic() - t < 5


def test_docx_bomb_is_refused_in_french_by_the_workbench(bench):
    import time

    from test_workbench_tasks import IID, login, upload

    base, ws = bench
    vol = login(base, "vol-a")
    bomb = docx_bomb(100)
    t = time.monotonic()
    st, body = upload(vol, f"/api/i/{IID}/corrections", "bombe.docx", bomb)
    assert time.monotonic() - t < 3, "the bomb was parsed"
    assert st == 400 and body["error"].startswith("bombe.docx : document trop volumineux une fois décompressé"), body
    st, body = upload(vol, f"/api/i/{IID}/corrections", "bombe.docx", docx_bomb(20))
    assert st == 400 and "document compressé" in body["error"] and "rien n’a été importé" in body["error"], body


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a0 "ha">'
                  + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10))
                  + ']>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                    'xmlns:skos="http://www.w3.org/2004/02/skos/core#">\n<skos:Concept rdf:about="http://ex.org/c">'
                    "<skos:prefLabel>&a9;</skos:prefLabel></skos:Concept>\n</rdf:RDF>\n")


def test_skos_billion_laughs_is_refused_quickly(ws, tmp_path):
    import time

    p = tmp_path / "bombe.rdf"
    p.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert p.stat().st_size < 1000
    r = oralhist("--workspace", ws.root, "vocab", "import", p, "--kind", "trade", timeout=30)  # it ran 10 min
    assert r.returncode == 2 and "unsafe XML" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    from oralhist.errors import BadInput
    from oralhist.vocab import read_skos

    t = time.monotonic()
    with pytest.raises(BadInput) as e:
        read_skos(p, "trade")
    assert time.monotonic() - t < 5 and "nested expansion" in str(e.value)
    from oralhist.web.errors_fr import message

    assert message(e.value, "bombe.rdf").startswith("bombe.rdf : fichier XML refusé")


@pytest.mark.parametrize("dtd, why", [
    ('<!ENTITY x SYSTEM "file:///etc/passwd">', "external entity"),
    ('<!ENTITY % p "x">', "parameter entity"),
    ('<!ENTITY big "' + "x" * 5000 + '">', "5000 characters"),
])
def test_skos_dangerous_dtds_are_refused(tmp_path, dtd, why):
    from oralhist.errors import BadInput
    from oralhist.vocab import read_skos

    p = tmp_path / "t.rdf"
    p.write_text(BILLION_LAUGHS.replace('<!ENTITY a0 "ha">', dtd, 1).replace("&a9;", "Forgeron"), encoding="utf-8")
    with pytest.raises(BadInput) as e:
        read_skos(p, "trade")
    assert why in str(e.value)


def test_skos_with_plain_entities_still_imports(tmp_path):
    """RDF/XML as Protégé writes it: a DOCTYPE declaring flat namespace entities."""
    from oralhist.vocab import read_skos

    p = tmp_path / "t.rdf"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY ex "http://ex.org/">]>\n'
                 '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                 'xmlns:skos="http://www.w3.org/2004/02/skos/core#">\n'
                 '<skos:Concept rdf:about="&ex;forgeron"><skos:prefLabel xml:lang="fr">Forgeron</skos:prefLabel>'
                 "</skos:Concept>\n</rdf:RDF>\n", encoding="utf-8")
    terms, _ = read_skos(p, "trade")
    assert [(t.label, t.uri) for t in terms] == [("Forgeron", "http://ex.org/forgeron")]


# ------------------------------------------------------------------------------------- item 9


def _publish_fixture(ws, corpus, bad_text):
    sys.path.insert(0, str(REPO / "tests"))
    from publish_helpers import make_interview

    make_interview(ws, "1998-bon", corpus=corpus)
    # a row written before the fix (or by another program): the text holds a NUL
    make_interview(ws, "1998-casse", corpus=corpus, narrator="Jeanne Casse", texts=[bad_text, "deux mots", "trois"])


@pytest.mark.parametrize("bad", ["Bonjour\x00 le monde", "Bonjour\x1b[31m le monde", "Bonjour\ufffe"])
def test_one_broken_interview_does_not_block_publishing_the_others(ws, corpus, bad):
    import json

    _publish_fixture(ws, corpus, bad)
    r = oralhist("--workspace", ws.root, "publish", "--local", timeout=300)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "1998-casse" in r.stderr and "control character U+" in r.stderr, r.stderr
    assert "segments[0].text" in r.stderr, r.stderr
    assert (ws.site / "i" / "1998-bon.html").is_file()
    assert not (ws.site / "i" / "1998-casse.html").exists()
    assert "1998-casse" not in (ws.site / "index.html").read_text(encoding="utf-8")
    r = oralhist("--workspace", ws.root, "publish", "--local", "--json", timeout=300)
    rep = json.loads(r.stdout)
    assert r.returncode == 1 and rep["done"] == ["1998-bon"] and [f["id"] for f in rep["failed"]] == ["1998-casse"]


def test_saving_again_through_the_library_strips_the_control_character_and_publish_passes(ws, corpus):
    from oralhist.align import NewSegment
    from oralhist.corrections import save_version

    _publish_fixture(ws, corpus, "Bonjour\x00 le monde")
    res = save_version(ws, "1998-casse", [NewSegment("Bonjour\x00 le\x07 monde\tici"), NewSegment("deux mots"),
                                          NewSegment("trois")], base_version=1, who="test")
    from oralhist import db
    from oralhist.view import load_interview

    with db.session(ws) as s:
        v = load_interview(s, "1998-casse")
    assert res.version == 2 and v.segments[0].text == "Bonjour le monde ici"
    r = oralhist("--workspace", ws.root, "publish", "--local", timeout=300)
    assert r.returncode == 0, r.stderr
    assert (ws.site / "i" / "1998-casse.html").is_file()


def test_editor_saves_strip_control_characters(bench):
    from test_workbench_tasks import IID, login

    base, ws = bench
    vol = login(base, "vol-a")
    st, p = vol.call("GET", f"/api/i/{IID}/transcript")
    assert st == 200
    segs = [{"text": g[3], "speaker_id": g[2]} for g in p["segments"]]
    segs[0]["text"] = "Bonjour\x00 à\x01 tous\x1f " + segs[0]["text"]
    st, body = vol.call("POST", f"/api/i/{IID}/transcript", {"base_version": p["version"], "segments": segs})
    assert st == 200, body
    st, p2 = vol.call("GET", f"/api/i/{IID}/transcript")
    assert p2["segments"][0][3].startswith("Bonjour à tous "), p2["segments"][0][3]
    assert not any(c in json_text(p2) for c in "\x00\x01\x1f")
    ed = login(base, "edit")
    sid = p["speakers"][0][0]
    st, body = ed.call("POST", f"/api/i/{IID}/speakers/{sid}", {"name": "Ma\x00rie\x08 Curie"})
    assert st in (200, 400), body
    from oralhist import db
    from oralhist.records import Person, Speaker

    with db.session(ws) as s:
        names = [x.name for x in s.exec(__import__("sqlmodel").select(Speaker)).all() if x.name]
        names += [x.name for x in s.exec(__import__("sqlmodel").select(Person)).all() if x.name]
    assert not any(ch in n for n in names for ch in "\x00\x08"), names


def json_text(x) -> str:
    import json

    return json.dumps(x, ensure_ascii=False)


def test_corrections_files_strip_control_characters(ws, tmp_path):
    from oralhist.corrections import import_corrections

    iid = _sample(ws)
    from oralhist import db
    from oralhist.corrections import get_version, old_segments

    with db.session(ws) as s:
        segs = old_segments(s, get_version(s, iid))
    lines = [f"[00:00:{i:02d}] {sg.text}" for i, sg in enumerate(segs)]
    lines[0] = lines[0] + " fin\x00\x0b"
    p = tmp_path / "corrige.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    res = import_corrections(ws, iid, p, who="test")
    with db.session(ws) as s:
        new = old_segments(s, get_version(s, iid, res.version))
    assert not any(ch in sg.text for sg in new for ch in "\x00\x0b") and new[0].text.endswith("fin")


def test_ingest_metadata_strips_control_characters(ws, tmp_path):
    from oralhist.ingest import IngestMeta, check_meta, read_manifest

    m = check_meta(IngestMeta(narrator="Jean\x00 Dupont", title="Le\x1b puits", place="Lens\n", museum="Musée\x7f A"))
    assert (m.narrator, m.title, m.place, m.museum) == ("Jean Dupont", "Le puits", "Lens", "Musée A")
    (tmp_path / "a.mp3").write_bytes(b"x")
    (tmp_path / "m.csv").write_text("interview,file,title,narrator\nentretien-1,a.mp3,Titre\x00 un,Ma\x01rie\n",
                                    encoding="utf-8")
    g = read_manifest(tmp_path / "m.csv")[0]
    assert (g.meta.title, g.meta.narrator) == ("Titre un", "Marie")


def test_vocabularies_strip_control_characters(tmp_path):
    from oralhist.vocab import read_csv, read_skos

    p = tmp_path / "v.csv"
    p.write_text("label;alt_labels\nMineur\x00 de fond;gali\x01bot\n", encoding="utf-8")
    terms, _ = read_csv(p, "trade")
    assert (terms[0].label, terms[0].alt_labels) == ("Mineur de fond", ("galibot",))
    t = tmp_path / "v.ttl"
    t.write_text('@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
                 '<http://ex.org/f> a skos:Concept ; skos:prefLabel "Forge\\u0000ron"@fr ; '
                 'skos:altLabel "Mar\\u0007échal"@fr .\n', encoding="utf-8")
    terms, _ = read_skos(t, "trade")
    assert (terms[0].label, terms[0].alt_labels) == ("Forgeron", ("Maréchal",))


def test_exhibitions_strip_control_characters(tmp_path):
    from oralhist.exhibit import exhibition_from_dict, parse_exhibition_text

    exh = parse_exhibition_text("---\ntitle: Voix\x00 de la mine\nslug: voix\n---\nIntro\x01 texte.\n\n## Partie\x02 un\n",
                                tmp_path / "e.md")
    assert exh.title == "Voix de la mine" and "\x01" not in exh.intro_md and exh.sections[0].title == "Partie un"
    d = exhibition_from_dict({"title": "Titre\x00", "intro_md": "Texte\x00 ici\nsuite",
                              "sections": [{"title": "Sec\x03tion", "narrative_md": "Corps\x04"}]}, slug="voix")
    assert d.title == "Titre" and d.intro_md == "Texte ici\nsuite" and d.sections[0].title == "Section"
    assert d.sections[0].narrative_md == "Corps"
