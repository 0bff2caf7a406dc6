"""Issue 10: a correction reaches every output (site, Pagefind index, staff exports)."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from publish_helpers import CLIPS, clip_durations, clip_text, make_audio, make_interview

IID = "1998-marcel-dupont"
FORMATS = ("vtt", "srt", "txt", "json", "chapters", "ohms", "docx", "iiif", "dc")


@pytest.fixture()
def archive(ws, corpus, ffmpeg, tmp_path):
    audio = tmp_path / "clip.mp3"
    make_audio(ffmpeg, corpus, audio)
    durs = clip_durations(corpus)
    texts = [f"Le pilote Fitchela parle aux atlettes. {clip_text(corpus, CLIPS[0])}",
             clip_text(corpus, CLIPS[1]), clip_text(corpus, CLIPS[2])]
    make_interview(ws, IID, corpus=corpus, audio=audio, texts=texts, topic_source="machine",
                   topics=[(0, durs[0], "Fitchela et les atlettes", "Fitchela parle aux atlettes.", ["Fitchela"]),
                           (durs[0], sum(durs), "Le comité", "Synopsis écrit par l'éditrice.", ["comité"])],
                   links=[("trade", "Pilote", 0, 2000, "Le pilote Fitchela", "accepted", 1.0),
                          ("subject", "Coureur automobile", 0, 2000, "Le pilote Fitchela", "accepted", 1.0)])
    from oralhist import db
    from oralhist.records import Term, TopicSegment

    with db.session(ws) as s:  # the second topic's text was written by an editor
        t = s.exec(select(TopicSegment).where(TopicSegment.title == "Le comité")).one()
        t.source = "editor"
        s.add(t)
        term = s.exec(select(Term).where(Term.label == "Coureur automobile")).one()
        term.alt_labels = ["Fitchela"]  # the link was made on that mention
        s.add(term)
        s.commit()
    return ws


def site_texts(ws) -> dict[Path, str]:
    out = {}
    for p in ws.site.rglob("*"):
        if p.is_file():
            out[p] = p.read_bytes().decode("utf-8", "replace")
    return out


def export_texts(ws, cli, tmp_path) -> dict[str, str]:
    out = {}
    for fmt in FORMATS:
        dst = tmp_path / f"x.{fmt}"
        r = cli("export", IID, "--format", fmt, "--out", dst)
        assert r.exit_code == 0, r.output
        if fmt == "docx":
            with zipfile.ZipFile(dst) as z:
                out[fmt] = z.read("word/document.xml").decode("utf-8")
        else:
            out[fmt] = dst.read_text(encoding="utf-8")
    return out


def pagefind_hits(ws, page, query: str) -> int:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ws.site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        page.goto(f"{url}/search.html")
        return page.evaluate("""async (q) => {
            const pf = await import('/pagefind/0/pagefind.js');
            const r = await pf.search(q);
            return r.results.length;
        }""", query)
    finally:
        httpd.shutdown()


def check_everywhere(ws, cli, page, tmp_path):
    from oralhist.outputs.publish import publish_site

    publish_site(ws)
    texts = site_texts(ws)
    for p, t in texts.items():
        for old in ("Fitchela", "atlettes", "SPEAKER_"):
            assert old not in t, f"{old} in {p.relative_to(ws.site)}"
    page_html = texts[ws.site / "i" / f"{IID}.html"]
    assert "Fisichella" in page_html and "athlètes" in page_html
    terms = [t for p, t in texts.items() if p.parent.name == "t" and "Pilote" in t]
    assert terms and all("Fisichella" in t for t in terms)
    assert "Synopsis écrit par l" in page_html  # the editor's own text is kept
    assert pagefind_hits(ws, page, "Fitchela") == 0
    assert pagefind_hits(ws, page, "Fisichella") >= 1
    ex = export_texts(ws, cli, tmp_path)
    for fmt, t in ex.items():
        assert "Fitchela" not in t and "atlettes" not in t, fmt
    for fmt in ("txt", "json", "ohms", "vtt"):
        assert "Fisichella" in ex[fmt], fmt
    assert "Fisichella" in ex["json"] and "athlètes" in ex["ohms"]
    return ex


def flagged(ws):
    from oralhist import db
    from oralhist.editorial.link import list_links

    with db.session(ws) as s:
        return {r.term: (r.status, r.review) for r in list_links(s, IID)}


def test_editor_save_approve_publish(archive, cli, page, tmp_path):
    from oralhist import db
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version
    from oralhist.editorial.view import load_interview

    with db.session(archive) as s:
        v = load_interview(s, IID)
    new = [NewSegment(sg.text.replace("Fitchela", "Fisichella").replace("atlettes", "athlètes")) for sg in v.segments]
    res = save_version(archive, IID, new, base_version=v.transcript_version, who="Camille")
    assert res.version == 2
    assert cli("approve", IID).exit_code == 0
    check_everywhere(archive, cli, page, tmp_path)
    f = flagged(archive)
    assert f["Pilote"] == ("accepted", None)  # "pilote" is still said there
    assert f["Coureur automobile"][0] == "suggested" and "Fisichella" in f["Coureur automobile"][1]
    r = cli("link", "list", IID)
    assert "à revoir" in r.output
    # the editor's synopsis survives the correction and a re-index of the machine topics' text
    with db.session(archive) as s:
        v = load_interview(s, IID)
    assert v.topics[1].synopsis == "Synopsis écrit par l'éditrice." and v.topics[1].title == "Le comité"
    assert "Fitchela" not in v.topics[0].title + v.topics[0].synopsis + " ".join(v.topics[0].keywords)


def test_word_round_trip_and_import_corrections(archive, cli, page, tmp_path):
    import docx

    r = cli("export", IID, "--format", "docx", "--out", tmp_path / "t.docx")
    assert r.exit_code == 0, r.output
    doc = docx.Document(str(tmp_path / "t.docx"))
    for p in doc.paragraphs:
        for run in p.runs:
            run.text = run.text.replace("Fitchela", "Fisichella").replace("atlettes", "athlètes")
    doc.save(str(tmp_path / "t2.docx"))
    r = cli("import-corrections", IID, tmp_path / "t2.docx", "--who", "Camille")
    assert r.exit_code == 0, r.output
    assert cli("approve", IID).exit_code == 0
    check_everywhere(archive, cli, page, tmp_path)


def test_a_new_machine_version_does_not_displace_the_approved_one(archive, cli, page, tmp_path):
    """What `transcribe --force` stores (a newer machine version) never replaces an editor's."""
    from oralhist import db
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version
    from oralhist.records import Segment, Transcript, TranscriptStatus
    from oralhist.editorial.view import current_transcript, load_interview

    with db.session(archive) as s:
        v = load_interview(s, IID)
    save_version(archive, IID, [NewSegment(sg.text.replace("Fitchela", "Fisichella").replace("atlettes", "athlètes"))
                                for sg in v.segments], base_version=1, who="Camille")
    assert cli("approve", IID).exit_code == 0
    with db.session(archive) as s:  # a machine version 3 with the old spelling, as a re-run would make
        tr = Transcript(interview_id=IID, version=3, status=TranscriptStatus.machine, source="machine", model="base",
                        language="fr", duration_ms=v.duration_ms)
        s.add(tr)
        s.flush()
        for i, sg in enumerate(v.segments):
            s.add(Segment(transcript_id=tr.id, idx=i, start_ms=sg.start_ms, end_ms=sg.end_ms, text=sg.text))
        s.commit()
        assert current_transcript(s, IID).version == 2
    r = cli("show", IID)
    assert r.exit_code == 0 and "Fitchela" not in r.output
    check_everywhere(archive, cli, page, tmp_path)


def test_show_and_archive_page_say_a_newer_approved_version_waits(archive, cli, tmp_path):
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version
    from oralhist.web.app import EditorConfig, make_app  # noqa: F401  (the page's data path)
    from oralhist.outputs.publish import publish_site

    assert cli("approve", IID).exit_code == 0
    publish_site(archive)
    assert "attend la publication" not in cli("show", IID).output
    save_version(archive, IID, [NewSegment("Le pilote Fisichella parle.")], base_version=1, who="Camille")
    assert cli("approve", IID).exit_code == 0
    out = cli("show", IID).output
    assert "publié — version 1, une version approuvée plus récente attend la publication" in out
    publish_site(archive)
    assert "attend la publication" not in cli("show", IID).output
