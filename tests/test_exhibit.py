"""Exhibitions (issue 14): the Markdown file, validation against the archive, consent re-check."""

from pathlib import Path

import pytest
from publish_helpers import make_interview

from oralhist import db
from oralhist.editorial.consent import set_consent
from oralhist.errors import BadInput
from oralhist.outputs.exhibit import (WITHDRAWN_NOTE, import_exhibition, list_exhibitions, load_exhibition,
                              parse_exhibition, public_exhibition)

EXPO = """---
title: Les voix de la mine
slug: voix-de-la-mine
---
Une exposition **virtuelle**.

## Le travail
Le *fond* et le jour.
[[clip iv-a 00:01-00:04]]
[[clip iv-b 0:00:02-0:00:05]]
[[object LAMPE-1]]

## Les outils
[[clip iv-c 00:00-00:03]]
[[term lampe de mineur]]

## La fin
Le dernier mot.
[[clip iv-a 00:05-00:08]]
"""


@pytest.fixture()
def archive(ws, corpus):
    lk = [("object", "lampe de mineur", 1000, 3000, "lampe", "accepted", 1.0)]
    for iid in ("iv-a", "iv-b", "iv-c"):
        make_interview(ws, iid, corpus=corpus, links=lk)
    with db.session(ws) as s:
        from sqlmodel import select

        from oralhist.records import Term
        t = s.exec(select(Term).where(Term.label == "lampe de mineur")).first()
        t.inventory_number = "LAMPE-1"
        s.add(t)
        s.commit()
    return ws


def _write(tmp_path: Path, text: str, name="expo.md") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_parse_sections_clips_objects_terms(tmp_path):
    exh = parse_exhibition(_write(tmp_path, EXPO))
    assert exh.title == "Les voix de la mine" and exh.slug == "voix-de-la-mine"
    assert [s.title for s in exh.sections] == ["Le travail", "Les outils", "La fin"]
    assert [(c.interview_id, c.start_ms, c.end_ms) for c in exh.clips] == [
        ("iv-a", 1000, 4000), ("iv-b", 2000, 5000), ("iv-c", 0, 3000), ("iv-a", 5000, 8000)]
    assert exh.sections[0].objects == ("LAMPE-1",) and exh.sections[1].terms == ("lampe de mineur",)
    assert "<strong>virtuelle</strong>" in exh.intro_html and "<em>fond</em>" in exh.sections[0].narrative_html


def test_raw_html_and_script_never_pass(tmp_path):
    bad = EXPO.replace("Le dernier mot.", 'Le <script>alert(1)</script> mot <img src=x onerror="alert(2)"> '
                       '[lien](javascript:alert(3))')
    exh = parse_exhibition(_write(tmp_path, bad))
    html = exh.sections[2].narrative_html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, inert
    assert any("raw HTML" in w for w in exh.warnings)


@pytest.mark.parametrize("text,msg", [
    ("title: x\n", "front matter"),
    ("---\ntitle: X\nslug: Pas Bon\n---\n## a\n", "slug"),
    ("---\ntitle: X\nslug: x\n---\n## a\n[[clip iv-a 00:09-00:02]]\n", "line 6: the clip ends before"),
    ("---\ntitle: X\nslug: x\n---\n[[clip iv-a 00:01-00:02]]\n", "inside a section"),
    ("---\ntitle: X\nslug: x\n---\n## a\n[[vitrine 3]]\n", "unknown directive"),
])
def test_malformed_files(tmp_path, text, msg):
    with pytest.raises(BadInput, match=msg):
        parse_exhibition(_write(tmp_path, text))


def test_import_rejects_unknown_interview_and_out_of_range(archive, tmp_path):
    p = _write(tmp_path, EXPO.replace("iv-c 00:00-00:03", "iv-zz 00:00-00:03"))
    with pytest.raises(BadInput, match="unknown interview 'iv-zz'"):
        import_exhibition(archive, p)
    p = _write(tmp_path, EXPO.replace("iv-c 00:00-00:03", "iv-c 00:00-59:00"))
    with pytest.raises(BadInput, match="after the end of iv-c"):
        import_exhibition(archive, p)
    p = _write(tmp_path, EXPO.replace("[[object LAMPE-1]]", "[[object NOPE-9]]"))
    with pytest.raises(BadInput, match="unknown object 'NOPE-9'"):
        import_exhibition(archive, p)
    assert list_exhibitions(archive) == [], "nothing half-written"


def test_consent_rechecked_withdrawn_and_redacted(archive, tmp_path):
    exh = import_exhibition(archive, _write(tmp_path, EXPO))
    assert [e.slug for e in list_exhibitions(archive)] == ["voix-de-la-mine"]
    assert load_exhibition(archive, "voix-de-la-mine") == exh
    with db.session(archive) as s:
        pub, notes = public_exhibition(s, exh)
    assert len(pub.clips) == 4 and notes == []
    set_consent(archive, "iv-a", scope="none")
    set_consent(archive, "iv-b", redact=[(3000, 3500, "tiers nommé")])
    with db.session(archive) as s:
        pub, notes = public_exhibition(s, exh)
    assert [c.interview_id for c in pub.clips] == ["iv-c"]
    assert len(notes) == 3 and all(WITHDRAWN_NOTE in n for n in notes)
    assert [s.title for s in pub.sections] == ["Le travail", "Les outils", "La fin"]


def test_cli_import_list_show(archive, tmp_path, cli):
    import json

    bad = _write(tmp_path, EXPO.replace("iv-c 00:00-00:03", "iv-zz 00:00-00:03"), "bad.md")
    r = cli("exhibit", "import", bad)
    assert r.exit_code == 2 and "unknown interview 'iv-zz'" in " ".join(r.output.split())
    r = cli("exhibit", "import", _write(tmp_path, EXPO))
    assert r.exit_code == 0, r.output
    r = cli("exhibit", "list", "--json")
    assert json.loads(r.output)[0]["slug"] == "voix-de-la-mine"
    d = json.loads(cli("exhibit", "show", "voix-de-la-mine", "--json").output)
    assert [s["title"] for s in d["sections"]] == ["Le travail", "Les outils", "La fin"]
    assert cli("exhibit", "show", "absente").exit_code == 2
