"""Review progress, assignment and passage comments (issue 23, item 5) through the library and the
CLI: marks survive a new version, approval warns under 100 %, bad input refused. The same walk runs on
PostgreSQL in tests/test_correction_memory.py (one archive there for both)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from oralhist.errors import BadInput, NotFound

IID = "2022-lecteurs-fleurs"


def _starts(ws, iid=IID):
    from oralhist.editorial.view import current_transcript
    from oralhist.records import Segment

    with db.session(ws) as s:
        tr = current_transcript(s, iid)
        return list(s.exec(select(Segment.start_ms).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all())


def review_walk(ws):
    from oralhist.editorial.assign import (add_comment, assign, comments, mark_reviewed, my_work, progress,
                                           resolve_comment)
    from oralhist.editorial.corrections import get_version, old_segments, save_version
    from oralhist.recognition.align import NewSegment
    from oralhist.records import EditorAccount, Museum

    make_interview(ws, IID)
    starts = _starts(ws)
    assert len(starts) == 11
    r = mark_reviewed(ws, IID, starts[:3], True, who="Camille")
    assert (r["reviewed"], r["segments"], r["percent"]) == (3, 11, 27)
    mark_reviewed(ws, IID, starts[1:2], False, who="Camille")
    with db.session(ws) as s:
        assert progress(s, [IID])[IID]["reviewed"] == 2
    # a new version (a word corrected in segment 0) keeps the marks: the times are kept
    with db.session(ws) as s:
        segs = old_segments(s, get_version(s, IID))
    new = [NewSegment(text=sg.text.replace("Limpic", "Olympique"), speaker_id=sg.speaker_id) for sg in segs]
    save_version(ws, IID, new, base_version=1, who="Camille", source="editor")
    with db.session(ws) as s:
        assert progress(s, [IID])[IID] == {"segments": 11, "reviewed": 2, "percent": 18}
    with pytest.raises(BadInput, match="no segment starts at 1 ms"):
        mark_reviewed(ws, IID, [1], True, who="x")
    with pytest.raises(BadInput):
        mark_reviewed(ws, IID, [], True, who="x")

    # assignment: an account reaching the interview's museum
    with db.session(ws) as s:
        m1, m2 = Museum(name="Musée A"), Museum(name="Musée B")
        s.add(m1)
        s.add(m2)
        s.flush()
        s.add(EditorAccount(name="lea", password_hash="x", role="editor", museum_id=None))
        s.add(EditorAccount(name="paul", password_hash="x", role="editor", museum_id=m2.id))
        s.commit()
    assert assign(ws, IID, "lea", who="admin")["assignee"] == "lea"
    with pytest.raises(BadInput, match="no such account"):
        assign(ws, IID, "personne", who="admin")
    with pytest.raises(BadInput, match="cannot reach"):
        assign(ws, IID, "paul", who="admin")
    with db.session(ws) as s:
        work = my_work(s, "lea")
        assert [(w["interview"], w["progress"]["percent"], w["assigned_by"]) for w in work] == [(IID, 18, "admin")]
        assert my_work(s, "paul") == []

    # comments: kept as written (pages escape them), listed while open, blocking nothing
    c = add_comment(ws, IID, 2720, 6760, "<b>Usoc</b> : vérifier l’orthographe", "l'Usoc", who="lea")
    with pytest.raises(BadInput):
        add_comment(ws, IID, 10, 5, "fin avant début", who="lea")
    with pytest.raises(BadInput):
        add_comment(ws, IID, 10, 20, "   ", who="lea")
    with db.session(ws) as s:
        assert [x["body"] for x in comments(s, IID)] == ["<b>Usoc</b> : vérifier l’orthographe"]
        assert my_work(s, "lea")[0]["open_comments"] == 1
    resolve_comment(ws, IID, c["id"], who="lea")
    with pytest.raises(NotFound):
        resolve_comment(ws, "autre", c["id"], who="lea")
    with db.session(ws) as s:
        assert comments(s, IID) == [] and len(comments(s, IID, open_only=False)) == 1


def test_review_marks_assignment_and_comments(ws, cli):
    review_walk(ws)
    r = cli("approve", IID)  # 18 % reviewed: approved, with a warning
    assert r.exit_code == 0 and "only 18% reviewed (2 of 11 segments marked)" in r.output
