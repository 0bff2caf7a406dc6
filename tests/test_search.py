"""Full-text search (FTS5, accent-folding) over the current transcripts, with filters."""

from __future__ import annotations

import json

from sqlmodel import select

from _link_helpers import corpus_text, make_interview
from oralhist import db
from oralhist.editorial.link import link_interviews
from oralhist.records import Segment
from oralhist.editorial.search import ensure_index, search
from oralhist.editorial.vocab import import_vocab


def _setup(ws, corpus):
    make_interview(ws, "a", [corpus_text(corpus, "fleurs_fr_000"), corpus_text(corpus, "fleurs_fr_003")],
                   museum="Musée de la Mine", speaker="Marcel")
    make_interview(ws, "b", [corpus_text(corpus, "fleurs_fr_004"), corpus_text(corpus, "fleurs_fr_008")],
                   museum="La Manufacture", speaker="Jeanne")


def test_search_is_accent_and_case_insensitive_and_ranked(ws, corpus, cli):
    _setup(ws, corpus)
    with db.session(ws) as s:
        hits = search(s, "ACCIDENT malveillant")
        assert [(h.interview_id, h.start_ms) for h in hits] == [("a", 0)]
        assert "[accident]" in hits[0].snippet and "[malveillant]" in hits[0].snippet
        assert [h.interview_id for h in search(s, "heurte")] == ["b"]  # "heurté" without its accent
        assert [h.interview_id for h in search(s, "composé chercheur")] == ["b"]  # plurals found from singulars
        assert search(s, '"rugissement du tigre"')[0].interview_id == "a"
        assert search(s, '"tigre du rugissement"') == []
        both = search(s, "le")
        assert len(both) == 2 and both == sorted(both, key=lambda h: -h.score)
    r = cli("search", "tigre", "--json")
    assert r.exit_code == 0
    hit = json.loads(r.output)[0]
    assert hit["interview_id"] == "a" and hit["start_ms"] > 0 and hit["speaker"] == "Marcel"
    assert cli("search", "...").exit_code == 2


def test_search_filters(ws, corpus, tmp_path, cli):
    _setup(ws, corpus)
    f = tmp_path / "v.csv"
    f.write_text("label,alt_labels\nchimiste,cristaux\n", encoding="utf-8")
    import_vocab(ws, f, "trade")
    link_interviews(ws, ["a", "b"])
    with db.session(ws) as s:
        assert {h.interview_id for h in search(s, "le", museum="manufacture")} == {"b"}
        assert {h.interview_id for h in search(s, "le", speaker="marcel")} == {"a"}
        assert {h.interview_id for h in search(s, "le", trade="chimiste")} == {"b"}
    r = cli("search", "le", "--trade", "inconnu")
    assert r.exit_code == 2 and "no trade" in r.output


def test_index_follows_new_versions_edits_and_deletes(ws, corpus):
    _setup(ws, corpus)
    make_interview(ws, "a", ["le porion descendait au fond de la fosse"], version=2)
    with db.session(ws) as s:
        assert search(s, "tigre") == []  # version 1 is no longer current
        assert [h.interview_id for h in search(s, "porion")] == ["a"]
        seg = s.exec(select(Segment).where(Segment.text.contains("mashhad"))).one()
        seg.text = seg.text.replace("mashhad", "Lille")
        s.add(seg)
        s.commit()
        assert search(s, "mashhad") == [] and [h.interview_id for h in search(s, "lille")] == ["b"]
        from oralhist.records import Word

        for w in s.exec(select(Word).where(Word.segment_id == seg.id)).all():
            s.delete(w)
        s.flush()
        s.delete(seg)
        s.commit()
        assert search(s, "lille") == []


def test_index_repairs_itself_when_triggers_were_dropped(ws, corpus):
    from sqlalchemy import text

    _setup(ws, corpus)
    with db.session(ws) as s:
        s.execute(text("DROP TRIGGER fts_segments_ai"))
        s.commit()
    make_interview(ws, "c", ["la cheminée de la verrerie"])
    with db.session(ws) as s:
        assert [h.interview_id for h in search(s, "verrerie")] == ["c"]
        assert ensure_index(s) is False
