"""The correction memory (issue 23, item 3): learned on approval from real recogniser output
(tests/data/fleurs_fr_asr.json), offered as suggestions on another transcript, never applied;
loops refused; a deleted pair is neither suggested nor learned again; SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from oralhist.errors import BadInput

A, B = "2022-lecteurs-a", "2022-lecteurs-b"


def _museum(ws, name="Musée du textile"):
    from oralhist.records import Museum

    with db.session(ws) as s:
        m = Museum(name=name)
        s.add(m)
        s.commit()
        return m.id


def _set_museum(ws, iid, mid):
    from oralhist.records import Interview

    with db.session(ws) as s:
        iv = s.get(Interview, iid)
        iv.museum_id = mid
        s.add(iv)
        s.commit()


def _correct_and_approve(ws, iid, fixes: dict, who="Camille"):
    """Save a version with ``fixes`` (old word -> new) applied to the machine text, approve it."""
    from oralhist.editorial.corrections import approve, get_version, old_segments, save_version
    from oralhist.recognition.align import NewSegment

    with db.session(ws) as s:
        segs = old_segments(s, get_version(s, iid))
    new = []
    for sg in segs:
        text = sg.text
        for a, b in fixes.items():
            text = text.replace(a, b)
        new.append(NewSegment(text=text, speaker_id=sg.speaker_id))
    res = save_version(ws, iid, new, base_version=res_version(ws, iid), who=who, source="editor")
    approve(ws, iid, res.version, who=who)
    return res.version


def res_version(ws, iid):
    from oralhist.editorial.corrections import get_version

    with db.session(ws) as s:
        return get_version(s, iid).version


def _texts(ws, iid):
    from oralhist.editorial.view import current_transcript
    from oralhist.records import Segment

    with db.session(ws) as s:
        tr = current_transcript(s, iid)
        return " ".join(s.exec(select(Segment.text).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all())


FIXES = {"Limpic": "Olympique", "atlettes": "athlètes", "à ma chade": "à Mâcon"}


def _learn_and_suggest(ws):
    from oralhist.editorial.memory import list_pairs, suggestions

    mid = _museum(ws)
    make_interview(ws, A)
    make_interview(ws, B)
    _set_museum(ws, A, mid)
    _set_museum(ws, B, mid)
    _correct_and_approve(ws, A, FIXES)
    with db.session(ws) as s:
        pairs = {(p["wrong"], p["right"]): p for p in list_pairs(s)}
        sug = suggestions(s, B)
    assert ("Limpic", "Olympique") in pairs and ("atlettes", "athlètes") in pairs
    assert ("ma chade", "Mâcon") in pairs  # a phrase: the common « à » is not part of it
    p = pairs[("Limpic", "Olympique")]
    assert p["count"] == 1 and p["from"] == [A] and p["museum"] == "Musée du textile" and p["network_count"] == 1
    got = {(i["wrong"], i["replacement"]) for i in sug["items"] if i["kind"] == "memory"}
    assert ("Limpic", "Olympique") in got
    assert ("atlettes", "athlètes") in got
    assert ("ma chade", "Mâcon") in got
    item = next(i for i in sug["items"] if i["wrong"] == "ma chade")
    assert item["n"] == 2 and item["start"] < item["end"] and item["detail"] == "mémoire du musée"
    # never applied silently: B's text is the machine's
    assert "Limpic" in _texts(ws, B) and "Olympique" not in _texts(ws, B)
    return mid


def test_approval_teaches_pairs_offered_on_another_transcript(ws, cli):
    _learn_and_suggest(ws)
    # re-approving the same interview does not count its corrections twice
    from oralhist.editorial.corrections import approve
    from oralhist.editorial.memory import list_pairs

    approve(ws, A, who="Camille")
    with db.session(ws) as s:
        assert {p["count"] for p in list_pairs(s) if p["wrong"] == "Limpic"} == {1}
    r = cli("corrections", "memory", "--json")
    assert r.exit_code == 0, r.output
    listed = json.loads(r.stdout)
    assert any(p["wrong"] == "Limpic" and p["right"] == "Olympique" and p["from"] == [A] for p in listed)
    r = cli("corrections", "memory")
    assert r.exit_code == 0 and "Olympique" in r.stdout


def test_loop_refused_delete_stops_suggesting_and_relearning(ws, cli):
    from oralhist.editorial.corrections import approve
    from oralhist.editorial.memory import add_pair, list_pairs, suggestions
    from oralhist.records import CorrectionPair

    _learn_and_suggest(ws)
    with db.session(ws) as s:
        before = len(s.exec(select(CorrectionPair)).all())
    with pytest.raises(BadInput, match="would loop"):
        add_pair(ws, "Olympique", "Limpic", museum_id=None, who="x")
    r = cli("corrections", "memory", "add", "olympique", "limpic")  # folded forms loop too
    assert r.exit_code == 2 and "would loop" in r.output and len(r.output.strip().splitlines()) == 1
    add_pair(ws, "Roubé", "Roubaix", museum_id=None, who="x")
    r = cli("corrections", "memory", "add", "Roubaix", "Roubé")
    assert r.exit_code == 2
    with pytest.raises(BadInput, match="would loop"):  # a longer cycle: Mâcon -> X -> ma chade
        add_pair(ws, "Mâcon", "ma chade", museum_id=None, who="x")
    with db.session(ws) as s:
        assert len(s.exec(select(CorrectionPair)).all()) == before + 1  # only Roubé -> Roubaix
    for bad in ("", "  ", "…!", "un deux trois quatre"):
        with pytest.raises(BadInput):
            add_pair(ws, bad, "Roubaix", museum_id=None, who="x")

    with db.session(ws) as s:
        pid = next(p["id"] for p in list_pairs(s) if p["wrong"] == "Limpic")
    r = cli("corrections", "memory", "delete", str(pid))
    assert r.exit_code == 0, r.output
    with db.session(ws) as s:
        assert not any(i["wrong"].startswith("Limpic") for i in suggestions(s, B)["items"])
    approve(ws, A, who="Camille")  # approving again does not bring it back
    with db.session(ws) as s:
        assert not any(p["wrong"] == "Limpic" for p in list_pairs(s))
        assert not any(i["wrong"].startswith("Limpic") for i in suggestions(s, B)["items"])
    r = cli("corrections", "memory", "delete", str(pid))
    assert r.exit_code != 0


def test_kept_forms_and_weak_words_near_names():
    """Pure parts: a correction made once but left as it was twice elsewhere is not suggested;
    a weak word close to a known name is."""
    from oralhist.editorial.memory import changes, find, near_names

    pairs, kept = changes("le père de la patron".split(), "le père de le patron".split())
    assert pairs == {("la", "le"): 1} and kept["la"] == 0
    pairs, kept = changes("la la la patron".split(), "la la le patron".split())
    assert kept["la"] == 2  # corrected once, kept twice: « c > k » fails, not suggested
    m = find(["Il", "vient", "de", "Roubé,", "hier"], {"roubé": ("Roubaix", 3, "mémoire du réseau")})
    assert [(x.at, x.replacement) for x in m] == [(3, "Roubaix,")]
    names = ["Marcel Dupont", "Roubaix", "athlètes", "club"]
    got = near_names(["les", "atlettes", "de", "Roubé", "clubs", "Roubé"], [True, True, True, True, True, False],
                     names, taken=set())
    assert [(x.at, x.replacement) for x in got] == [(1, "athlètes"), (3, "Roubaix")]  # « clubs » is a plural


def test_weak_words_near_the_archive_names_are_suggested(ws):
    from oralhist.editorial.memory import suggestions
    from oralhist.records import Term, TermKind

    make_interview(ws, B)
    with db.session(ws) as s:
        s.add(Term(kind=TermKind.subject, label="athlètes"))
        s.commit()
        items = suggestions(s, B)["items"]
    assert {(i["wrong"], i["replacement"], i["kind"]) for i in items} >= {("atlettes", "athlètes", "name")}


def test_memory_and_review_on_postgresql(pg_fresh, tmp_path, monkeypatch):
    """The memory, and item 5's walk (tests/test_review_progress.py), on one PostgreSQL archive."""
    from oralhist.archive.workspace import init
    from oralhist.editorial.memory import add_pair, delete_pair, list_pairs
    from test_review_progress import review_walk

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    ws = init(tmp_path / "archive", title="Archive PG")
    _learn_and_suggest(ws)
    review_walk(ws)
    with pytest.raises(BadInput, match="would loop"):
        add_pair(ws, "athlètes", "atlettes", museum_id=None, who="x")
    with db.session(ws) as s:
        pid = next(p["id"] for p in list_pairs(s) if p["wrong"] == "atlettes")
    delete_pair(ws, pid, who="x")
    with db.session(ws) as s:
        assert not any(p["wrong"] == "atlettes" for p in list_pairs(s))


def test_an_anonymised_interview_teaches_nothing(ws):
    """Its corrections may be real names of a narrator shown under a pseudonym: they never travel."""
    from oralhist.editorial.memory import list_pairs
    from oralhist.records import Consent

    make_interview(ws, A)
    with db.session(ws) as s:
        c = s.exec(select(Consent).where(Consent.interview_id == A)).one()
        c.anonymise = True
        s.add(c)
        s.commit()
    _correct_and_approve(ws, A, FIXES)
    with db.session(ws) as s:
        assert list_pairs(s) == []
