"""Issue 10, with the real commands: `transcribe --force` after an approved correction, a
re-diarization that re-indexes machine topics, and `import-corrections` of a text file."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from _built_audio import conversation
from speakersdata import ingest_clip, normalise
from test_corrections_reach import IID, archive, check_everywhere  # noqa: F401  (fixture)
from test_diarize import _transcript_from_stm


def test_transcribe_force_after_an_approved_correction(ws, cli, corpus, tmp_path):
    """Real Whisper on a FLEURS clip, an editor's approved correction, then `transcribe
    --force`: `show`, the exports and the published page keep the approved text."""
    from oralhist import db
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version
    from oralhist.records import Transcript
    from oralhist.editorial.view import load_interview

    iid = ingest_clip(ws, corpus / "fr" / "fleurs_fr_005.ogg", narrator="Lecteur FLEURS", language="fr",
                      title="La course")
    normalise(ws, iid)
    r = cli("transcribe", iid, "--language", "fr")
    assert r.exit_code == 0, r.output
    with db.session(ws) as s:
        v1 = load_interview(s, iid)
    words = re.findall(r"\w+", " ".join(sg.text for sg in v1.segments).lower())
    old = next(w for w in sorted(set(words), key=lambda w: (-len(w), w)) if words.count(w) == 1 and len(w) >= 6)
    new = "Monoplaçe"
    fixed = [NewSegment(re.sub(rf"\b{old}\b", new, sg.text, flags=re.I)) for sg in v1.segments]
    assert save_version(ws, iid, fixed, base_version=v1.transcript_version, who="Camille").version == 2
    assert cli("approve", iid).exit_code == 0
    assert cli("consent", iid, "--scope", "public").exit_code == 0

    r = cli("transcribe", iid, "--force", "--language", "fr")
    assert r.exit_code == 0, r.output
    with db.session(ws) as s:
        versions = {t.version: t.status.value for t in s.exec(select(Transcript).where(Transcript.interview_id == iid))}
    assert versions == {1: "machine", 2: "approved", 3: "machine"}  # the machine's new version is there

    shown = json.loads(cli("show", iid, "--json").output)
    assert shown["transcript"]["version"] == 2
    said = " ".join(sg["text"] for sg in shown["transcript"]["segments"])
    assert new in said and not re.search(rf"\b{old}\b", said, re.I)
    plain = cli("show", iid).output
    assert "version 2" in plain or "v2" in plain
    # the exports `transcribe` wrote itself, and one asked for
    from oralhist.outputs.exports import default_path

    for fmt in ("txt", "vtt", "srt", "json"):
        t = default_path(ws, iid, fmt).read_text(encoding="utf-8")
        assert new in t and not re.search(rf"\b{old}\b", t, re.I), fmt
    assert cli("export", iid, "--format", "ohms", "--out", tmp_path / "o.xml").exit_code == 0
    assert new in (tmp_path / "o.xml").read_text(encoding="utf-8")
    from oralhist.outputs.publish import publish_site

    publish_site(ws)
    page = next(ws.site.glob("i/*.html")).read_text(encoding="utf-8")
    assert new in page and not re.search(rf"\b{old}\b", page, re.I)


def test_rediarizing_reindexes_machine_topics_and_keeps_the_editors(ws, cli, corpus, tmp_path):
    """A real diarization of a two-speaker conversation: the machine's topic segments are
    made again from the diarized transcript; the editor's segment stays as written."""
    from oralhist import db
    from oralhist.recognition.diarize import diarize_interviews
    from oralhist.records import TopicSegment
    from oralhist.editorial.topics import index_view
    from oralhist.editorial.view import current_topics, load_interview

    path, _, utts = conversation(corpus, tmp_path / "conversation.wav")
    iid = ingest_clip(ws, path, language="en", narrator="Ann Reader")
    _transcript_from_stm(ws, iid, utts)
    assert cli("index", iid).exit_code == 0
    with db.session(ws) as s:
        v1 = current_topics(s, iid)
        total = max(t.end_ms for t in v1)
        # an editor re-cut the index: their own opening segment, the rest left to the machine
        s.add(TopicSegment(interview_id=iid, version=2, source="editor", start_ms=0, end_ms=3000,
                           title="Accueil", synopsis="Écrit par l'éditrice."))
        s.add(TopicSegment(interview_id=iid, version=2, source="machine", start_ms=3000, end_ms=total,
                           title="Ancien titre", synopsis="Un vieux résumé.", keywords=["vieux"]))
        s.commit()

    rep = diarize_interviews(ws, [iid])
    assert rep.done == [iid], rep.failed
    assert rep.details[iid]["topics_version"] == 3
    with db.session(ws) as s:
        rows = current_topics(s, iid)
        view = load_interview(s, iid)
    assert {r.version for r in rows} == {3}
    ed = [r for r in rows if r.source == "editor"]
    assert [(r.start_ms, r.end_ms, r.title, r.synopsis) for r in ed] == [(0, 3000, "Accueil", "Écrit par l'éditrice.")]
    mach = [r for r in rows if r.source == "machine"]
    assert mach and all(r.start_ms >= 3000 for r in mach) and mach[-1].end_ms == total
    assert all(r.made_from == view.transcript_id for r in mach)
    # made from the diarized transcript, as `index` would make it now (cut around the editor's)
    fresh = index_view(view)
    assert {r.start_ms for r in mach} <= {max(3000, t.start_ms) for t in fresh}
    assert not any("vieux" in r.synopsis or r.title == "Ancien titre" for r in mach)
    said = set(re.findall(r"\w+", " ".join(sg.text for sg in view.segments).lower()))
    assert all(r.synopsis and set(re.findall(r"\w+", r.synopsis.lower())) <= said for r in mach)
    assert len({sg.speaker for sg in view.segments}) == 2  # the diarization did put speakers on it

    # a second re-diarization: again a new machine version, the editor's segment still the same
    rep = diarize_interviews(ws, [iid], force=True)
    assert rep.done == [iid] and rep.details[iid]["topics_version"] == 4
    with db.session(ws) as s:
        rows = current_topics(s, iid)
    assert [(r.title, r.synopsis) for r in rows if r.source == "editor"] == [("Accueil", "Écrit par l'éditrice.")]


def test_import_corrections_of_a_text_export(archive, cli, page, tmp_path):  # noqa: F811
    """The text export, corrected in any editor and imported back (`import-corrections`)."""
    r = cli("export", IID, "--format", "txt", "--out", tmp_path / "t.txt")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "t.txt").read_text(encoding="utf-8")
    assert "Fitchela" in text
    (tmp_path / "t2.txt").write_text(text.replace("Fitchela", "Fisichella").replace("atlettes", "athlètes"),
                                     encoding="utf-8")
    r = cli("import-corrections", IID, tmp_path / "t2.txt", "--who", "Camille")
    assert r.exit_code == 0, r.output
    assert cli("approve", IID).exit_code == 0
    check_everywhere(archive, cli, page, tmp_path)
