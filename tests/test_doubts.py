"""Issue 23 items 1 and 2 (library and CLI): doubtful words on every word, confirmations that
last, and « replace everywhere » (folding, whole words, phrases, one version per interview,
timings kept, undo in one step, bad input, the conflict rule), on real recogniser output
(tests/data/fleurs_fr_asr.json) and real SQLite / PostgreSQL."""

from __future__ import annotations

import json

import pytest

from editdata import make_interview


def _two_museums(ws):
    """Two interviews of the same real transcript, in two museums."""
    from oralhist import db
    from oralhist.records import Interview, Museum

    make_interview(ws, "a-filature", narrator="Narratrice A")
    make_interview(ws, "b-mine", narrator="Narrateur B")
    with db.session(ws) as s:
        m1, m2 = Museum(name="Musée de la filature"), Museum(name="Musée de la mine")
        s.add(m1)
        s.add(m2)
        s.flush()
        s.get(Interview, "a-filature").museum_id = m1.id
        s.get(Interview, "b-mine").museum_id = m2.id
        s.commit()


@pytest.fixture()
def two(prepared_archives, tmp_path):
    return prepared_archives("doubts-two-museums", _two_museums, tmp_path)


@pytest.fixture()
def cli(two):
    """`oralhist` in-process on the two-museum archive."""
    from typer.testing import CliRunner

    from oralhist.cli import app

    def run(*args):
        return CliRunner().invoke(app, ["--workspace", str(two.root), *map(str, args)], catch_exceptions=False)

    return run


def _show(cli, iid):
    r = cli("show", iid, "--json", "--words")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _words(d):
    return [w for sg in d["transcript"]["segments"] for w in sg["words"]]


def _versions(ws, iid):
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Transcript

    with db.session(ws) as s:
        return sorted(s.exec(select(Transcript.version).where(Transcript.interview_id == iid)).all())


# ---------------------------------------------------------------------------- item 1


def test_every_word_says_whether_it_is_doubtful_and_confirmation_lasts(two, cli):
    from oralhist.editorial.corrections import save_version
    from oralhist.editorial.doubts import confirm, load_rule
    from oralhist.recognition.align import NewSegment

    ws = two
    words = _words(_show(cli, "a-filature"))
    assert words and all(isinstance(w["doubtful"], bool) for w in words)
    doubtful = [w for w in words if w["doubtful"]]
    share = len(doubtful) / len(words)
    assert 0.05 <= share <= 0.35, share  # the rule flags a minority (calibrated near 20 %)
    texts = {w["text"].strip(" ,.").lower() for w in doubtful}
    assert {"chade", "horté"} <= texts, texts  # words no French lexicon knows, said in the recording as « Machado »
    assert load_rule("base").calibrated_on.get("words", 0) > 0  # calibrated, with its figures kept
    # confirm one (Alt+Entrée): no longer doubtful, in this version and the next
    chade = next(w for w in doubtful if "chade" in w["text"])
    assert confirm(ws, "a-filature", [(chade["start_ms"], chade["end_ms"])], who="camille") == 1
    assert not next(w for w in _words(_show(cli, "a-filature")) if w["start_ms"] == chade["start_ms"])["doubtful"]
    d = _show(cli, "a-filature")
    segs = [NewSegment(sg["text"]) for sg in d["transcript"]["segments"]]
    horte_seg = next(k for k, sg in enumerate(d["transcript"]["segments"]) if "horté" in sg["text"])
    segs[horte_seg] = NewSegment(segs[horte_seg].text.replace("horté", "heurté"))  # a correction elsewhere
    save_version(ws, "a-filature", segs, base_version=d["transcript"]["version"], who="camille")
    after = _words(_show(cli, "a-filature"))
    assert not next(w for w in after if w["start_ms"] == chade["start_ms"])["doubtful"]  # still confirmed in v2
    heurte = next(w for w in after if "heurté" in w["text"])
    assert heurte["doubtful"] is False and heurte["probability"] is None  # corrected: not doubtful
    # bad input: a span without a recognised word
    from oralhist.errors import BadInput

    with pytest.raises(BadInput):
        confirm(ws, "a-filature", [(10**8, 10**8 + 5)], who="camille")


# ---------------------------------------------------------------------------- item 2


def test_folding_whole_words_phrases_and_case_kept():
    from oralhist.editorial.replace import find_in_text, pattern, replace_in

    text = "À Roubé, la Filateur de ROUBÉ ; Roubés et roubé-x. LA  filateur"
    p = pattern("roube")
    spans = find_in_text(p, text)
    assert [text[a:b] for a, b in spans] == ["Roubé", "ROUBÉ", "roubé"]  # whole words: not « Roubés »; « roubé-x » is two
    assert replace_in(text, spans, "Roubaix") == "À Roubaix, la Filateur de ROUBAIX ; Roubés et Roubaix-x. LA filateur"
    ph = find_in_text(pattern("la filateur"), text)
    assert [text[a:b] for a, b in ph] == ["la Filateur", "LA  filateur"]
    assert replace_in("La filateur ferme", find_in_text(pattern("la filateur"), "La filateur ferme"),
                      "la filature") == "La filature ferme"  # a sentence's capital kept
    assert find_in_text(pattern("oeuvre"), "une œuvre") == [(4, 9)]


def test_replace_cli_preview_apply_undo_across_museums(two, cli):
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Revision

    before = _words(_show(cli, "a-filature"))
    r = cli("replace", "ATLETTES", "athlètes", "--all", "--dry-run", "--json")
    assert r.exit_code == 0, r.output
    prev = json.loads(r.stdout)
    assert prev["total"] == 2 and {o["interview"] for o in prev["occurrences"]} == {"a-filature", "b-mine"}
    assert prev["occurrences"][0]["before"].endswith("intérêts de nos ") and prev["occurrences"][0]["match"] == "atlettes"
    assert _versions(two, "a-filature") == [1]  # a dry run writes nothing
    r = cli("replace", "atlettes", "athlètes", "--museum", "Musée de la filature", "--json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["replaced"] == 1 and [i["interview"] for i in res["items"]] == ["a-filature"]
    assert _versions(two, "b-mine") == [1]  # the other museum's interview untouched
    after = _words(_show(cli, "a-filature"))
    old = next(w for w in before if w["text"].strip() == "atlettes")
    new = next(w for w in after if w["text"].strip() == "athlètes")
    assert (new["start_ms"], new["end_ms"]) == (old["start_ms"], old["end_ms"])  # timings kept by realignment
    assert len(after) == len(before)
    kept = {(w["start_ms"], w["text"].strip()): w["probability"] for w in before}
    assert all(kept.get((w["start_ms"], w["text"].strip()), w["probability"]) == w["probability"] for w in after)
    with db.session(two) as s:
        notes = s.exec(select(Revision.note, Revision.who).where(Revision.interview_id == "a-filature")).all()
    assert ("remplacement : atlettes → athlètes", notes[-1][1]) in notes
    # undo: one step
    r = cli("replace", "--undo", str(res["batch"]), "--json")
    assert r.exit_code == 0, r.output
    assert _versions(two, "a-filature") == [1, 2, 3]
    assert [w["text"] for w in _words(_show(cli, "a-filature"))] == [w["text"] for w in before]
    r = cli("replace", "--undo", str(res["batch"]))
    assert r.exit_code == 2 and "already undone" in r.output


@pytest.mark.parametrize("find", ["", "   ", " ,;! ", "x" * 10_000])
def test_replace_bad_input_is_one_line_and_changes_nothing(two, cli, find):
    r = cli("replace", find, "Roubaix", "--all")
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and len(r.output) < 300, r.output
    assert _versions(two, "a-filature") == [1] and _versions(two, "b-mine") == [1]


def test_replace_conflict_writes_nothing_anywhere(two):
    from oralhist.editorial.corrections import save_version
    from oralhist.editorial.replace import apply_replace, preview
    from oralhist.errors import ConflictError
    from oralhist.recognition.align import NewSegment

    found = preview(two, "atlettes", "athlètes", everything=True)
    assert found.versions == {"a-filature": 1, "b-mine": 1}
    save_version(two, "b-mine", [NewSegment("Un autre texte, enregistré entre l'aperçu et le remplacement.")],
                 base_version=1, who="dominique")  # a newer version saved meanwhile
    with pytest.raises(ConflictError, match="b-mine"):
        apply_replace(two, "atlettes", "athlètes", who="camille", everything=True, versions=found.versions)
    assert _versions(two, "a-filature") == [1] and _versions(two, "b-mine") == [1, 2]  # not half-applied
    # one occurrence unticked: only the other is replaced
    found = preview(two, "de nos", "de leurs", interview="a-filature")
    assert found.total >= 2
    res = apply_replace(two, "de nos", "de leurs", who="camille", interview="a-filature",
                        versions=found.versions, skip=[found.occurrences[0].key])
    assert res.items[0]["count"] == found.total - 1


def test_replace_reads_only_the_segments_that_may_hold_the_word(two):
    """replace --all over 1,000 hours: the FTS5 prefilter (SQLite) reads the segments that may hold
    the find, never losing one the folding finds (œ, ligatures); only changed segments are realigned."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.editorial.corrections import old_segments, save_version
    from oralhist.editorial.replace import candidate_segments, latest_versions, preview, realign_changed
    from oralhist.recognition.align import NewSegment, realign
    from oralhist.records import Segment, Transcript

    save_version(two, "b-mine", [NewSegment("Le cœur de la \ufb01lature."), NewSegment("Rien ici."),
                                 NewSegment("À ROUBÉ, enfin ; roubé-x")], base_version=1, who="dominique")
    with db.session(two) as s:
        tids = [t for t, _v in latest_versions(s, ["a-filature", "b-mine"]).values()]
        every = s.exec(select(Segment.text).where(Segment.transcript_id.in_(tids))).all()
        got = {f: [r[4] for r in candidate_segments(s, f, tids)] for f in ("coeur", "roube", "filature", "atlettes")}
    assert len(every) > 10
    assert got["coeur"] == ["Le cœur de la \ufb01lature."] and got["roube"] == ["À ROUBÉ, enfin ; roubé-x"]
    assert got["filature"] == ["Le cœur de la \ufb01lature."] and len(got["atlettes"]) == 1
    assert preview(two, "coeur", "cœur", everything=True).total == 1
    assert preview(two, "filature", "tissage", everything=True).total == 1
    assert [o.match for o in preview(two, "roube", "Roubaix", everything=True).occurrences] == ["ROUBÉ", "roubé"]
    with db.session(two) as s:
        old = old_segments(s, s.exec(select(Transcript).where(Transcript.interview_id == "a-filature")).first())
    changed = {0: old[0].text.replace(" ", " grand ", 1), len(old) - 1: "Tout autre chose."}
    whole = realign(old, [NewSegment(changed.get(k, o.text), o.speaker_id) for k, o in enumerate(old)])
    part = realign_changed(old, changed)
    assert part.segments == whole.segments and part.stats.to_dict() == whole.stats.to_dict()


def test_editor_transcript_reads_the_words_once(two):
    """The editor's transcript JSON takes the words from the doubt rule's one query (a three-hour
    transcript: 31,000 words read once, not twice), with the rule's verdict on each token."""
    import re

    from sqlalchemy import event

    from oralhist import db
    from oralhist.editorial.doubts import transcript_doubts
    from oralhist.editorial.view import current_transcript
    from oralhist.web.editor import transcript_payload

    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    with db.session(two) as s:
        engine = s.get_bind()
        event.listen(engine, "before_cursor_execute", record)
        try:
            d = transcript_payload(s, "a-filature")
        finally:
            event.remove(engine, "before_cursor_execute", record)
        tr = current_transcript(s, "a-filature")
        by_id = transcript_doubts(s, tr)
        words = s.connection().exec_driver_sql(f"SELECT start_ms, end_ms, text, id FROM word WHERE transcript_id = {tr.id}").fetchall()
    assert len([q for q in seen if re.search(r"\bFROM word\b", q, re.I)]) == 1, seen
    one = {(a, b, t.strip()): by_id[wid] for a, b, t, wid in words}  # tokens of a single recognised word
    toks = [t for sg in d["segments"] for t in sg[4] if (t[0], t[1], t[2]) in one]
    assert len(toks) > 100 and sum(t[4] for t in toks) > 0
    assert all(t[4] == (1 if one[(t[0], t[1], t[2])] else 0) for t in toks)


def test_replace_and_undo_on_postgresql(tmp_path, pg_fresh, monkeypatch):
    from oralhist.archive.workspace import init
    from oralhist.editorial.doubts import confirm, view_doubts
    from oralhist.editorial.replace import apply_replace, undo_replace
    from oralhist import db

    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    pws = init(tmp_path / "pg-archive")
    _two_museums(pws)
    res = apply_replace(pws, "atlettes", "athlètes", who="camille", everything=True)
    assert [i["version"] for i in res.items] == [2, 2]
    undone = undo_replace(pws, res.batch, who="camille")
    assert [i["version"] for i in undone.items] == [3, 3]
    with db.session(pws) as s:
        flags = view_doubts(s, "a-filature", 3)
    assert any(any(f) for f in flags)
    assert confirm(pws, "a-filature", [(41_840, 42_200)], who="camille") >= 1


def test_the_archive_applies_the_calibrated_rule():
    """judge (worked out in parts, for speed) gives the calibrated score's answer on every corpus word,
    and flags about the 20 % it was calibrated for (bench/data/doubts-words-base.json: whisper base)."""
    from pathlib import Path

    from oralhist.editorial.doubts import SegInfo, features, judge, load_rule

    data = json.loads((Path(__file__).parents[1] / "bench" / "data" / "doubts-words-base.json").read_text(encoding="utf-8"))
    rule = load_rule("base")
    n = flagged = 0
    for clip in data["clips"]:
        segs = {i: SegInfo(sg["flag"], sg["avg_logprob"], sg["no_speech_prob"]) for i, sg in enumerate(clip["segments"])}
        words = [(a, b, t, p, i) for i, sg in enumerate(clip["segments"]) for a, b, t, p in sg["words"]]
        got = judge(words, segs, clip["language"], rule)
        want = [rule.score(features(t, a, b, p, segs[i], clip["language"])) >= rule.threshold for a, b, t, p, i in words]
        assert got == want, clip["clip"]
        n += len(words)
        flagged += sum(got)
    assert n > 900 and 0.15 <= flagged / n <= 0.25, (flagged, n)
