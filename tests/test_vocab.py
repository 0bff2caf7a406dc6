"""Vocabulary import: CSV (French inventory exports too) and SKOS; bad files import nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from oralhist import db
from oralhist.errors import BadInput
from oralhist.records import Museum, Term
from oralhist.editorial.vocab import STARTER, ensure_starter, import_vocab


def _count(ws) -> int:
    with db.session(ws) as s:
        return len(s.exec(select(Term)).all())


def test_starter_vocabulary_imports_and_reimport_updates_in_place(ws):
    rep = import_vocab(ws, STARTER, "trade")
    assert len(rep.created) > 80 and not rep.updated
    n = _count(ws)
    again = import_vocab(ws, STARTER, "trade")
    assert not again.created and len(again.unchanged) == n
    assert _count(ws) == n
    assert ensure_starter(ws) == []  # already there: left as it is


def test_reimport_changes_terms_in_place(ws, tmp_path):
    f = tmp_path / "metiers.csv"
    f.write_text("label;alt_labels;uri;broader\nGalibot;galibots;http://ex.org/galibot;mine\nVerrier;;;\n", encoding="utf-8")
    import_vocab(ws, f, "trade")
    f.write_text("label;alt_labels;uri;broader\ngalibot;jeune mineur|galibots;http://ex.org/galibot;mine\n"
                 "Verrier;verrière;;verre\n", encoding="utf-8")
    rep = import_vocab(ws, f, "trade")
    assert sorted(rep.updated) == ["Verrier", "galibot"] and not rep.created
    with db.session(ws) as s:
        rows = s.exec(select(Term)).all()
    assert len(rows) == 2
    g = next(t for t in rows if t.uri == "http://ex.org/galibot")
    assert g.alt_labels == ["jeune mineur", "galibots"]


def test_french_inventory_export_with_bom_and_semicolons(ws, tmp_path):
    f = tmp_path / "inventaire.csv"
    f.write_bytes("\ufeffNuméro d'inventaire;Désignation;Musée;Matériaux\n"
                  "2004.12.3;Métier à tisser Jacquard;La Manufacture, Roubaix;bois, fonte\n"
                  "2004.12.4;Métier à tisser Jacquard;La Manufacture, Roubaix;bois\n"
                  "1987.3.1;Lampe de mineur;Centre historique minier de Lewarde;laiton\n".encode("utf-8"))
    rep = import_vocab(ws, f, "object")
    assert len(rep.created) == 3
    assert any("Matériaux" in w for w in rep.warnings)
    with db.session(ws) as s:
        t = s.exec(select(Term).where(Term.inventory_number == "2004.12.3")).one()
        museums = {m.name for m in s.exec(select(Museum)).all()}
    assert t.designation == "Métier à tisser Jacquard" and "Métier à tisser Jacquard" in t.alt_labels
    assert museums == {"La Manufacture, Roubaix", "Centre historique minier de Lewarde"}


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("colonnes.csv", "nom_du_fichier,taille\nx,1\n".encode(), "line 1: no label column"),
        ("latin1.csv", "label,alt_labels\nverrier,souffleur\ndentellière,dentellier\n".encode("cp1252"), "line 3: not UTF-8 (it looks like Windows-1252"),
        ("doublon.csv", "label,alt_labels\nporion,\ngalibot,\nPorion,chef porion\n".encode(), "line 4: duplicate label 'Porion' (first at line 2)"),
        ("vide.csv", "label,alt_labels\n,x\n".encode(), "line 2: empty label"),
        ("cellules.csv", "label,broader\nfileur,textile,en trop\n".encode(), "line 2: 3 cells for 2 columns"),
        ("casse.ttl", b"@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<http://ex.org/a> a skos:Concept ;\n  skos:prefLabel \"verrier\"@fr\n<http://ex.org/b> a skos:Concept .\n", "broken turtle syntax"),
        ("casse.rdf", b"<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description></rdf:RDF>", "broken xml syntax"),
        ("rien.ttl", b"@prefix ex: <http://ex.org/> .\nex:a ex:b ex:c .\n", "no skos:Concept"),
    ],
)
def test_bad_vocabulary_files_import_nothing(ws, tmp_path, cli, name, content, message):
    import_vocab(ws, STARTER, "trade")
    before = _count(ws)
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(BadInput) as exc:
        import_vocab(ws, f, "trade")
    assert message in exc.value.message and str(f) in exc.value.message
    r = cli("vocab", "import", f, "--kind", "trade")
    assert r.exit_code == 2
    assert message in " ".join(r.output.split())
    assert _count(ws) == before


def test_cp1252_accepted_when_said(ws, tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes("label,alt_labels\nverrier,souffleur de verre\ntisserand,tisserande\n".encode("cp1252"))
    rep = import_vocab(ws, f, "trade", encoding="cp1252")
    assert rep.created == ["verrier", "tisserand"]


SKOS_TTL = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/metiers/> .
ex:mine a skos:Concept ; skos:prefLabel "mine"@fr, "mining"@en .
ex:galibot a skos:Concept ; skos:prefLabel "galibot"@fr, "pit boy"@en ;
    skos:altLabel "jeune mineur"@fr ; skos:broader ex:mine .
ex:porion a skos:Concept ; skos:prefLabel "porion"@fr ; skos:altLabel "chef porion"@fr ; skos:broader ex:mine .
"""

SKOS_RDF = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <skos:Concept rdf:about="http://example.org/metiers/verre"><skos:prefLabel xml:lang="fr">verre</skos:prefLabel></skos:Concept>
  <skos:Concept rdf:about="http://example.org/metiers/verrier">
    <skos:prefLabel xml:lang="fr">verrier</skos:prefLabel>
    <skos:altLabel xml:lang="fr">souffleur de verre</skos:altLabel>
    <skos:broader rdf:resource="http://example.org/metiers/verre"/>
  </skos:Concept>
</rdf:RDF>
"""


def test_skos_turtle_and_rdfxml(ws, tmp_path, cli):
    ttl = tmp_path / "metiers.ttl"
    ttl.write_text(SKOS_TTL, encoding="utf-8")
    rdf = tmp_path / "verre.rdf"
    rdf.write_text(SKOS_RDF, encoding="utf-8")
    r = cli("vocab", "import", ttl, "--kind", "trade", "--json")
    assert r.exit_code == 0, r.output
    assert sorted(json.loads(r.output)["created"]) == ["galibot", "mine", "porion"]
    assert cli("vocab", "import", rdf, "--kind", "trade").exit_code == 0
    with db.session(ws) as s:
        terms = {t.label: t for t in s.exec(select(Term)).all()}
    assert terms["galibot"].broader == "mine" and "jeune mineur" in terms["galibot"].alt_labels
    assert "pit boy" in terms["galibot"].alt_labels
    assert terms["verrier"].uri == "http://example.org/metiers/verrier"
    assert terms["verrier"].alt_labels == ["souffleur de verre"] and terms["verrier"].broader == "verre"
    # re-import of the thesaurus: matched on URI, nothing duplicated
    r = cli("vocab", "import", ttl, "--kind", "trade", "--json")
    assert json.loads(r.output)["created"] == [] and len(terms) == 5
    assert cli("vocab", "list", "--json").output.count('"label"') == 5
    r = cli("vocab", "show", "jeune mineur", "--json")
    assert json.loads(r.output)["label"] == "galibot"


def test_demo_vocabulary_has_a_kind_column(ws, cli):
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "interviews" / "vocabulaire-demo.csv"
    r = cli("vocab", "import", demo, "--kind", "subject")
    assert r.exit_code == 0, r.output
    places = json.loads(cli("vocab", "list", "--kind", "place", "--json").output)
    assert [p["label"] for p in places] == ["Mashhad"]
