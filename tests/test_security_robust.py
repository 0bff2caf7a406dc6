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
    from oralhist.archive.workspace import Settings, init

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
    from oralhist.archive.workspace import init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 100000"), encoding="utf-8")
    r = oralhist("--workspace", ws.root, "list")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "transcribe.beam_size" in r.stderr and "from 1 to 20" in r.stderr, r.stderr


def test_numeric_settings_in_range_are_accepted(tmp_path):
    from oralhist.archive.workspace import Settings, init

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
    from oralhist.editorial.corrections import parse_file

    t = time.monotonic()
    with pytest.raises(Exception) as e:
        parse_file(bomb)
    assert time.monotonic() - t < 1.0 and why in str(e.value)


def test_docx_with_too_many_paragraphs_is_refused_before_reading_them_all(tmp_path):
    import time
    import zipfile

    from oralhist.editorial.corrections import parse_file
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
    from oralhist.editorial.vocab import read_skos

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
    from oralhist.editorial.vocab import read_skos

    p = tmp_path / "t.rdf"
    p.write_text(BILLION_LAUGHS.replace('<!ENTITY a0 "ha">', dtd, 1).replace("&a9;", "Forgeron"), encoding="utf-8")
    with pytest.raises(BadInput) as e:
        read_skos(p, "trade")
    assert why in str(e.value)


def test_skos_with_plain_entities_still_imports(tmp_path):
    """RDF/XML as Protégé writes it: a DOCTYPE declaring flat namespace entities."""
    from oralhist.editorial.vocab import read_skos

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
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version

    _publish_fixture(ws, corpus, "Bonjour\x00 le monde")
    res = save_version(ws, "1998-casse", [NewSegment("Bonjour\x00 le\x07 monde\tici"), NewSegment("deux mots"),
                                          NewSegment("trois")], base_version=1, who="test")
    from oralhist import db
    from oralhist.editorial.view import load_interview

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
    from oralhist.editorial.corrections import import_corrections

    iid = _sample(ws)
    from oralhist import db
    from oralhist.editorial.corrections import get_version, old_segments

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
    from oralhist.archive.ingest import IngestMeta, check_meta, read_manifest

    m = check_meta(IngestMeta(narrator="Jean\x00 Dupont", title="Le\x1b puits", place="Lens\n", museum="Musée\x7f A"))
    assert (m.narrator, m.title, m.place, m.museum) == ("Jean Dupont", "Le puits", "Lens", "Musée A")
    (tmp_path / "a.mp3").write_bytes(b"x")
    (tmp_path / "m.csv").write_text("interview,file,title,narrator\nentretien-1,a.mp3,Titre\x00 un,Ma\x01rie\n",
                                    encoding="utf-8")
    g = read_manifest(tmp_path / "m.csv")[0]
    assert (g.meta.title, g.meta.narrator) == ("Titre un", "Marie")


def test_vocabularies_strip_control_characters(tmp_path):
    from oralhist.editorial.vocab import read_csv, read_skos

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
    from oralhist.outputs.exhibit import exhibition_from_dict, parse_exhibition_text

    exh = parse_exhibition_text("---\ntitle: Voix\x00 de la mine\nslug: voix\n---\nIntro\x01 texte.\n\n## Partie\x02 un\n",
                                tmp_path / "e.md")
    assert exh.title == "Voix de la mine" and "\x01" not in exh.intro_md and exh.sections[0].title == "Partie un"
    d = exhibition_from_dict({"title": "Titre\x00", "intro_md": "Texte\x00 ici\nsuite",
                              "sections": [{"title": "Sec\x03tion", "narrative_md": "Corps\x04"}]}, slug="voix")
    assert d.title == "Titre" and d.intro_md == "Texte ici\nsuite" and d.sections[0].title == "Section"
    assert d.sections[0].narrative_md == "Corps"


# ------------------------------------------------------------------------------------ item 12


def test_a_save_above_the_word_bound_is_refused_in_french(bench):
    import time

    from test_workbench_tasks import IID, login

    from oralhist.editorial.corrections import MAX_SAVE_WORDS

    base, ws = bench
    vol = login(base, "vol-a")
    st, p = vol.call("GET", f"/api/i/{IID}/transcript")
    segs = [{"text": " ".join(["mot"] * 20), "speaker_id": p["segments"][0][2]} for _ in range(MAX_SAVE_WORDS // 20 + 1)]
    t = time.monotonic()
    st, body = vol.call("POST", f"/api/i/{IID}/transcript", {"base_version": p["version"], "segments": segs})
    assert st == 413 and "transcription trop longue" in body["error"] and "20 heures" in body["error"], body
    assert time.monotonic() - t < 10
    assert vol.call("GET", f"/api/i/{IID}/transcript")[1]["version"] == p["version"]


def test_a_file_above_the_word_bound_is_refused_by_import_corrections(ws, tmp_path):
    from oralhist.editorial.corrections import MAX_SAVE_WORDS

    iid = _sample(ws)
    p = tmp_path / "long.txt"
    p.write_text("\n".join(" ".join(["mot"] * 100) for _ in range(MAX_SAVE_WORDS // 100 + 1)), encoding="utf-8")
    r = oralhist("--workspace", ws.root, "import-corrections", iid, p)
    assert r.returncode == 2 and "too many words" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


SAVE_MEMORY = r"""
import random, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1] + "/tests")
n = int(sys.argv[2])
from sqlalchemy import insert
from oralhist import db
from oralhist.recognition.align import NewSegment
from oralhist.editorial.corrections import get_version, old_segments, save_version
from oralhist.records import Interview, Segment, Transcript, Word
from oralhist.archive.workspace import init
ws = init(Path(sys.argv[3]))
rnd = random.Random(3)
vocab = [w for w in Path(sys.argv[1], "tests/data/corpus/fr/fleurs_fr_000.txt").read_text(encoding="utf-8").split()] * 3
vocab = sorted(set(vocab)) + [f"mot{i}" for i in range(2000)]
with db.session(ws) as s:
    s.add(Interview(id="long", title="Long")); s.flush()
    tr = Transcript(interview_id="long", version=1); s.add(tr); s.flush()
    segs = [{"transcript_id": tr.id, "idx": k, "start_ms": k * 6000, "end_ms": k * 6000 + 6000,
             "text": " ".join(rnd.choice(vocab) for _ in range(20))} for k in range(n // 20)]
    ids = list(s.execute(insert(Segment.__table__).returning(Segment.__table__.c.id, sort_by_parameter_order=True), segs).scalars())
    words = [{"transcript_id": tr.id, "segment_id": i, "idx": k * 20 + j, "start_ms": g["start_ms"] + j * 300,
              "end_ms": g["start_ms"] + j * 300 + 250, "text": " " + t, "probability": 0.9}
             for k, (i, g) in enumerate(zip(ids, segs)) for j, t in enumerate(g["text"].split())]
    s.execute(insert(Word.__table__), words)
    s.commit()
    old = old_segments(s, get_version(s, "long"))
new = [NewSegment(" ".join(rnd.choice(vocab) if rnd.random() < 0.01 else t for t in o.text.split())) for o in old]
del segs, words, old
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.process_time()
res = save_version(ws, "long", new, base_version=1, who="test")
print(res.version, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, time.process_time() - t)
"""


def test_a_large_save_stays_in_bounded_memory(tmp_path):
    """60,000 words (~7 hours): the alignment's bit matrix alone was 450 MB (5 GB at the bound)."""
    r = subprocess.run([sys.executable, "-c", SAVE_MEMORY, str(REPO), "60000", str(tmp_path / "a")],
                       capture_output=True, text=True, timeout=600, env={**__import__("os").environ,
                                                                         "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr[-2000:]
    version, grown_mb, cpu_s = r.stdout.split()
    assert version == "2" and float(grown_mb) < 150, r.stdout


def test_windowed_alignment_finds_the_common_words(tmp_path):
    """Beyond MAX_CELLS the edit script comes window by window: as many common tokens as the
    exact script after small edits, a long cut and a long paste."""
    import random

    import oralhist.recognition.align as al
    from rapidfuzz.distance import Indel

    rnd = random.Random(5)
    voc = [f"w{i}" for i in range(3000)]
    a = [rnd.choice(voc) for _ in range(40_000)]
    b = list(a)
    for _ in range(400):
        k = rnd.randrange(len(b))
        b[k:k + 1] = [] if rnd.random() < 0.3 else [rnd.choice(voc)] * (1 + (rnd.random() < 0.5))
    del b[12_000:32_000]  # a cut longer than the largest window
    b[5_000:5_000] = [rnd.choice(voc) for _ in range(3_000)]
    exact = sum(o.src_end - o.src_start for o in Indel.opcodes(a, b) if o.tag == "equal")
    old, al.MAX_CELLS = al.MAX_CELLS, 0
    try:
        ops = al.opcodes(a, b)
    finally:
        al.MAX_CELLS = old
    i = j = same = 0
    for tag, a0, a1, b0, b1 in ops:
        assert (a0, b0) == (i, j)
        if tag == "equal":
            assert a[a0:a1] == b[b0:b1]
            same += a1 - a0
        i, j = a1, b1
    assert (i, j) == (len(a), len(b)) and same >= 0.99 * exact, (same, exact)


# ---------------------------------------------------------------------------------- items 23a, 23b


def test_manifest_with_french_headers(tmp_path):
    from oralhist.archive.ingest import read_manifest

    (tmp_path / "a.mp3").write_bytes(b"x")
    (tmp_path / "b.mp3").write_bytes(b"y")
    (tmp_path / "accord.pdf").write_bytes(b"%PDF-1.4 signed")
    (tmp_path / "m.csv").write_text(
        "Entretien;Fichier;Partie;Titre;Narrateur;Enquêtrice;Date;Lieu;Langue;Musée;Consentement;Portée\n"
        "1998-marcel;b.mp3;2;Le puits;Marcel Dupont;Claire Martin;1998-06-14;Lewarde;fr;Musée de la mine;accord.pdf;public\n"
        "1998-marcel;a.mp3;1;;;;;;;;;\n", encoding="utf-8")
    [g] = read_manifest(tmp_path / "m.csv")
    m = g.meta
    assert [f.name for f in g.files] == ["a.mp3", "b.mp3"]
    assert (m.interview, m.title, m.narrator, m.interviewer, m.date, m.place, m.language, m.museum, m.consent_scope) == \
        ("1998-marcel", "Le puits", "Marcel Dupont", "Claire Martin", "1998-06-14", "Lewarde", "fr", "Musée de la mine",
         "public")
    assert m.consent.name == "accord.pdf"


def _read_only_run(root: Path, *args):
    """``oralhist ARGS`` with ``root`` read-only: a read-only bind mount in a private mount
    namespace (root ignores file modes), or plain file modes for another user."""
    import os
    import shutil

    cmd = [sys.executable, "-m", "oralhist", "--workspace", str(root), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
        try:
            return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(root)], check=True)
    assert shutil.which("unshare"), "util-linux's unshare is needed to make a read-only folder as root"
    import shlex

    script = (f"mount --bind {shlex.quote(str(root))} {shlex.quote(str(root))} && "
              f"mount -o remount,bind,ro {shlex.quote(str(root))} && exec {shlex.join(cmd)}")
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "true"], capture_output=True)
    assert probe.returncode == 0, f"unshare -rm refused here: {probe.stderr!r}"
    return subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=env)


def test_list_search_and_verify_on_a_read_only_archive(ws, corpus):
    sys.path.insert(0, str(REPO / "tests"))
    from publish_helpers import make_interview

    make_interview(ws, "1998-bon", corpus=corpus, texts=["Le puits de la fosse", "deux mots", "trois"])
    from oralhist.db import engine_for

    engine_for(ws).dispose()  # closed cleanly, as an archive is before it is burnt or shared read-only
    before = sorted(p.name for p in ws.root.iterdir())
    r = _read_only_run(ws.root, "list", "--json")
    assert r.returncode == 0 and "1998-bon" in r.stdout, r.stderr
    r = _read_only_run(ws.root, "search", "puits")
    assert r.returncode == 0 and "1998-bon" in r.stdout, r.stderr
    r = _read_only_run(ws.root, "verify")
    # the test interview's original is not on disk: verify reads everything and says so (exit 1)
    assert r.returncode == 1 and "missing: interviews/1998-bon/original" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert "cannot be opened" not in r.stderr
    assert sorted(p.name for p in ws.root.iterdir()) == before
