"""Topic index: boundaries between subjects, descriptions, versions, editors' work kept."""

from __future__ import annotations

import json

from sqlmodel import select

from speakersdata import SUBJECTS, _pieces, ingest_clip, transcript_from_texts

def test_boundaries_fall_between_subjects():
    from oralhist.editorial.topics import Sentence, index_sentences

    pieces, gold, total = _pieces(SUBJECTS)
    sents = [Sentence(st, en, tx, spk, k > 0 and spk != pieces[k - 1][3], tx.endswith("?"), spk == "SPEAKER_2")
             for k, (st, en, tx, spk) in enumerate(pieces)]
    topics = index_sentences(sents, duration_ms=total, n_segments=4)
    assert [t.start_ms for t in topics] == gold  # cut exactly on the interviewer's questions
    assert topics[-1].end_ms == total
    for t, subject in zip(topics, ["laine", "mine", "fanfare", "cuisine"]):
        assert t.title and t.synopsis and t.partial_transcript
        assert any(subject in k.lower() or subject in t.title.lower() for k in t.keywords) or subject in t.synopsis.lower()
        assert len(t.keywords) >= 3


def test_target_about_ten_per_hour_and_one_for_short():
    from oralhist.editorial.topics import target_segments

    assert target_segments(45_000) == 1
    assert target_segments(3_600_000) == 10
    assert target_segments(90 * 60_000) == 15


def test_index_stage_versions_and_editor_kept(ws, cli, corpus):
    from oralhist import db
    from oralhist.records import TopicSegment
    from oralhist.editorial.indexing import index_interviews

    iid = ingest_clip(ws, corpus / "fr" / "fleurs_fr_000.ogg", narrator="Jeanne Martin")
    pieces, gold, total = _pieces(SUBJECTS * 3, seconds_per_sentence=50)  # ~62 minutes
    transcript_from_texts(ws, iid, pieces)

    res = cli("index", iid, "--json")
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["done"] == [iid] and rep["details"][iid]["segments"] >= 8
    with db.session(ws) as s:
        v1 = s.exec(select(TopicSegment).where(TopicSegment.interview_id == iid)).all()
    assert {t.version for t in v1} == {1} and all(t.source == "machine" for t in v1)
    starts = sorted(t.start_ms for t in v1)
    assert starts[0] == 0
    # most proposed boundaries fall on a subject change (within 10 s)
    hits = sum(any(abs(b - g) <= 10_000 for g in gold) for b in starts[1:])
    assert hits >= 0.6 * (len(starts) - 1)

    assert index_interviews(ws, [iid]).skipped == [iid]  # done: skipped

    # an editor saves their own index: a re-run (even after the stage record is gone) keeps it
    with db.session(ws) as s:
        s.add(TopicSegment(interview_id=iid, version=2, source="editor", start_ms=0, end_ms=total, title="Tout"))
        from oralhist.stage import clear_done

        clear_done(s, iid, "index")
        s.commit()
    rep = index_interviews(ws, [iid])
    assert rep.skipped == [iid] and "editor" in rep.details[iid]["kept"]
    shown = json.loads(cli("show", iid, "--json").output)
    assert [t["title"] for t in shown["topics"]] == ["Tout"]

    # --force adds a machine version 3, the editor's version 2 is still there
    assert cli("index", iid, "--force").exit_code == 0
    with db.session(ws) as s:
        rows = s.exec(select(TopicSegment).where(TopicSegment.interview_id == iid)).all()
    assert {t.version for t in rows} == {1, 2, 3}
    assert [t.title for t in rows if t.version == 2] == ["Tout"]


def test_index_without_transcript_fails_cleanly(ws, cli, corpus):
    iid = ingest_clip(ws, corpus / "fr" / "fleurs_fr_001.ogg")
    res = cli("index", iid)
    assert res.exit_code == 1 and "transcribe" in res.output
