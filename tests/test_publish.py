"""The static site: escaping, incremental rebuilds, exports that validate, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from publish_helpers import clip_durations, make_audio, make_interview

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
RAW_MARKERS = ("<script>alert(1)", "<img src=x onerror", "onerror=alert(2)>")


@pytest.fixture(scope="module")
def audio(tmp_path_factory, corpus, ffmpeg):
    p = tmp_path_factory.mktemp("audio") / "clip.mp3"
    make_audio(ffmpeg, corpus, p)
    return p


def _two(ws, corpus, audio):
    durs = clip_durations(corpus)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, durs[0], "L'accident", "un incendie", ["incendie"]),
                           (durs[0], sum(durs), "Le comité", "", ["usoc"])],
                   links=[("trade", "Mineur", 500, 3000, "terrain montagneux", "accepted", 1.0),
                          ("place", "Lewarde", 12000, 15000, "déclaration", "suggested", 0.95),
                          ("object", "Lampe", 16000, 17000, "", "suggested", 0.3),
                          ("object", "Berline", 18000, 19000, "", "rejected", 1.0)])
    make_interview(ws, "2001-jeanne-leroy", corpus=corpus, audio=audio, title="Au tissage", narrator="Jeanne Leroy",
                   museum="Musée du textile", date="1975", place="Roubaix",
                   links=[("trade", "Fileuse", 0, 3000, "l'accident", "accepted", 1.0)])


def test_xss_payloads_are_escaped_everywhere(ws, corpus, audio):
    from oralhist.outputs.publish import publish_site

    make_interview(ws, "2000-xss", corpus=corpus, audio=audio, title=XSS, narrator=f"Jean {XSS}",
                   interviewer=XSS, museum=XSS, place=XSS, date="2000", summary=XSS, speaker_name=XSS,
                   texts=[f"bonjour {XSS} fin", "deuxième phrase", "troisième phrase"],
                   topics=[(0, 5000, XSS, XSS, [XSS])],
                   links=[("trade", XSS, 0, 2000, XSS, "accepted", 1.0), ("place", XSS + " lieu", 0, 2000, XSS, "accepted", 1.0)])
    rep = publish_site(ws)
    assert rep.details["interviews"] == 1
    site = ws.site
    checked = 0
    for p in site.rglob("*"):
        if p.suffix in (".html", ".xml", ".vtt") and "pagefind" not in p.parts:
            text = p.read_text(encoding="utf-8")
            for marker in RAW_MARKERS:
                assert marker not in text, f"unescaped payload in {p.relative_to(site)}"
            checked += 1
    assert checked >= 8
    page = (site / "i" / "2000-xss.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # JSON-LD stays inside its <script> element and is valid JSON.
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(page[start:page.index("</script>", start)])
    assert data["name"] == XSS
    # VTT cue text is escaped (a cue can hold markup).
    vtt = (site / "media" / "2000-xss" / "captions.vtt").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in vtt


def test_incremental_rebuild_rewrites_only_what_changed(ws, corpus, audio):
    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.publish import publish_site
    from oralhist.records import Segment, Transcript

    _two(ws, corpus, audio)
    first = publish_site(ws)
    assert first.details["written"] == first.details["files"] and first.details["search_reindexed"]
    site = ws.site
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}

    again = publish_site(ws)
    assert again.details["written"] == 0 and not again.details["search_reindexed"]
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == before

    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == "2001-jeanne-leroy")).first()
        seg = s.exec(select(Segment).where(Segment.transcript_id == tr.id, Segment.idx == 2)).first()
        seg.text = "le métier à tisser faisait un bruit énorme"
        s.add(seg)
        s.commit()
    third = publish_site(ws)
    assert third.details["search_reindexed"]
    changed = {p.relative_to(site).as_posix() for p in site.rglob("*")
               if p.is_file() and before.get(p) != p.stat().st_mtime_ns and "pagefind" not in p.parts}
    changed.discard(".oralhist-build.json")
    # the page, its captions and its OHMS file (which carries the transcript) — nothing else
    assert changed == {"i/2001-jeanne-leroy.html", "media/2001-jeanne-leroy/captions.vtt",
                       "media/2001-jeanne-leroy/ohms.xml"}, changed
    assert "bruit énorme" in (site / "media" / "2001-jeanne-leroy" / "captions.vtt").read_text(encoding="utf-8")
    # The other interview's audio was not rewritten.
    assert (site / "media" / "1998-marcel-dupont" / "audio.mp3").stat().st_mtime_ns == before[site / "media" / "1998-marcel-dupont" / "audio.mp3"]


def test_withdrawn_consent_removes_files(ws, cli, corpus, audio):
    from oralhist.outputs.publish import publish_site

    _two(ws, corpus, audio)
    publish_site(ws)
    assert (ws.site / "i" / "2001-jeanne-leroy.html").exists()
    r = cli("consent", "2001-jeanne-leroy", "--scope", "research-only")
    assert r.exit_code == 0, r.output
    rep = publish_site(ws)
    assert rep.details["removed"] >= 5
    assert not (ws.site / "i" / "2001-jeanne-leroy.html").exists()
    assert not (ws.site / "media" / "2001-jeanne-leroy").exists()
    assert not list((ws.site / "t").glob("*-fileuse.html"))
    assert "Leroy" not in (ws.site / "index.html").read_text(encoding="utf-8")


def test_killed_publish_keeps_previous_site(ws, corpus, audio, monkeypatch):
    from oralhist.outputs.publish import build, publish_site

    _two(ws, corpus, audio)
    publish_site(ws)
    manifest = (ws.site / build.MANIFEST).read_text()
    snapshot = {p: p.read_bytes() for p in ws.site.rglob("*") if p.is_file()}
    from oralhist.archive.workspace import open_workspace

    ws_en = open_workspace(ws.root)
    calls = {"n": 0}
    real = build._atomic_bytes

    def dying(path, data):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # as if the process were killed here
        real(path, data)

    monkeypatch.setattr(build, "_atomic_bytes", dying)
    with pytest.raises(KeyboardInterrupt):
        publish_site(ws_en, language="en")
    monkeypatch.setattr(build, "_atomic_bytes", real)
    assert (ws.site / build.MANIFEST).read_text() == manifest
    for p, data in snapshot.items():
        now = p.read_bytes()
        assert now == data or b'lang="en"' in now, f"{p} is neither the old nor a new complete file"
    assert not [p for p in ws.site.rglob("*.tmp")]
    rep = publish_site(ws_en, language="en")
    assert rep.details["written"] > 0
    assert 'lang="en"' in (ws.site / "index.html").read_text(encoding="utf-8")


def test_exports_validate(ws, corpus, audio):
    import webvtt
    from iiif_prezi3 import Manifest

    from oralhist.outputs.publish import publish_site

    _two(ws, corpus, audio)
    publish_site(ws)
    site = ws.site
    media = site / "media" / "1998-marcel-dupont"
    captions = webvtt.read(str(media / "captions.vtt"))
    assert len(captions) == 3 and "accident" in captions[0].text
    chapters = webvtt.read(str(media / "chapters.vtt"))
    assert [c.text for c in chapters] == ["L'accident", "Le comité"]
    data = json.loads((media / "manifest.json").read_text(encoding="utf-8"))
    m = Manifest(**data)
    canvas = m.items[0]
    assert canvas.duration > 40
    assert data["items"][0]["annotations"][0]["items"][0]["motivation"] == "supplementing"
    assert data["items"][0]["annotations"][0]["items"][0]["body"]["format"] == "text/vtt"
    assert len(data["structures"][0]["items"]) == 2
    assert data["structures"][0]["items"][1]["items"][0]["id"].endswith("#t=10.206,43.818") or "#t=" in data["structures"][0]["items"][1]["items"][0]["id"]
    dc = ET.parse(media / "dc.xml").getroot()
    ns = {"dc": "http://purl.org/dc/elements/1.1/"}
    assert dc.find("dc:title", ns).text == "À la fosse"
    subjects = {e.text for e in dc.findall("dc:subject", ns)}
    assert "Mineur" in subjects and "Lampe" not in subjects and "Berline" not in subjects
    oai = ET.parse(site / "oai-pmh.xml").getroot()
    assert oai.tag == "{http://www.openarchives.org/OAI/2.0/static-repository}Repository"
    assert len(oai.findall(".//{http://www.openarchives.org/OAI/2.0/}record")) == 2
    # No base_url (a local build): no sitemap, whose addresses must be absolute (test_partners.py
    # reads the sitemap of a web build).
    assert not (site / "sitemap.xml").exists()
    if (media / "ohms.xml").exists():
        ET.parse(media / "ohms.xml")
    # Link policy: accepted + suggested >= threshold; rejected and weak suggestions never.
    terms = sorted(p.name for p in (site / "t").iterdir())
    assert any("mineur" in t for t in terms) and any("lewarde" in t for t in terms)
    assert not any("lampe" in t or "berline" in t for t in terms)


def test_staff_exports(ws, corpus, audio, cli):
    _two(ws, corpus, audio)
    for fmt, suffix in (("iiif", ".iiif.json"), ("dc", ".dc.xml")):
        r = cli("export", "1998-marcel-dupont", "--format", fmt)
        assert r.exit_code == 0, r.output
        p = ws.transcripts / "1998-marcel-dupont" / f"1998-marcel-dupont{suffix}"
        assert p.is_file()
    from iiif_prezi3 import Manifest

    Manifest(**json.loads((ws.transcripts / "1998-marcel-dupont" / "1998-marcel-dupont.iiif.json").read_text()))


def test_cli_publish_json_and_refuses_foreign_folder(ws, cli, corpus, audio, tmp_path):
    _two(ws, corpus, audio)
    r = cli("publish", "--json")
    assert r.exit_code == 2 and "[site] base_url" in r.output and "oralhist.toml" in r.output
    r = cli("publish", "--local", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["details"]["interviews"] == 2 and d["done"] == ["1998-marcel-dupont", "2001-jeanne-leroy"]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "precious.txt").write_text("do not delete")
    r = cli("publish", "--local", "--out", str(other))
    assert r.exit_code == 2 and "not a site built by oralhist" in r.output
    assert (other / "precious.txt").exists()
    r = cli("publish", "--on-site")
    assert r.exit_code == 2
    r = cli("publish", "--local", "--language", "en", "--out", str(tmp_path / "en"))
    assert r.exit_code == 0
    assert '<html lang="en">' in (tmp_path / "en" / "index.html").read_text(encoding="utf-8")


def test_every_command_has_an_example():
    from oralhist.cli import publish as mod

    for name in ("consent", "publish", "run"):
        assert "Example: oralhist " in getattr(mod, name).__doc__


def test_staff_and_public_views_derive_the_same_text(ws, corpus, audio, cli):
    """One read model: the publisher's bulk read and the staff's one-interview read build the
    same views (same derived text), for the whole archive or one id."""
    from oralhist import db
    from oralhist.editorial.consent import load_for_public
    from oralhist.editorial.view import load_interview, load_interviews

    _two(ws, corpus, audio)
    make_interview(ws, "1990-anon", corpus=corpus, audio=audio, narrator="Odette Martel", anonymise=True,
                   scope="on-site", redactions=[(1000, 2000, "x")], speaker_name="Odette")
    cli("consent", "1990-anon", "--embargo-until", "2031-02-03", "--pseudonym", "O.")
    with db.session(ws) as s:
        public = load_interviews(s, prefer_approved=True)
        staff = load_interviews(s)
        assert list(public) == ["1990-anon", "1998-marcel-dupont", "2001-jeanne-leroy"]
        for iid, v in public.items():
            one = load_for_public(s, iid)
            assert one == v and one.extra == v.extra, iid
            assert one.extra["narrator_pseudonym"] == ("O." if iid == "1990-anon" else None)
            assert load_interview(s, iid) == staff[iid], iid
            # no correction pending: the staff's current version is the published one, same text
            assert [sg.text for sg in staff[iid].segments] == [sg.text for sg in v.segments]
            assert [l.quote for l in staff[iid].links] == [l.quote for l in v.links]
            assert staff[iid].topics == v.topics
        assert public["1990-anon"].consent.embargo_until == "2031-02-03"
        assert public["1990-anon"].consent.scope == "on-site"
        assert any(v.links for v in public.values()) and any(v.segments[0].words for v in public.values())


def test_site_holds_no_archive_ids_of_anonymised(ws, corpus, audio):
    from oralhist.outputs.publish import publish_site

    make_interview(ws, "1990-odette-martel", corpus=corpus, audio=audio, narrator="Odette Martel", anonymise=True)
    publish_site(ws)
    publish_site(ws)
    for p in ws.site.rglob("*"):
        if p.is_file() and p.suffix in (".json", ".html", ".xml", ".vtt", ".txt"):
            assert "martel" not in p.read_text(encoding="utf-8").lower(), p


def test_run_chains_every_stage_to_the_site(ws, cli, corpus, tmp_path):
    """`oralhist run` on a real clip: ingest ... link, staff exports, and the published page."""
    import shutil

    clip = tmp_path / "rec" / "fleurs_fr_003.ogg"
    clip.parent.mkdir()
    shutil.copyfile(corpus / "fr" / "fleurs_fr_003.ogg", clip)
    r = cli("run", str(clip), "--narrator", "Lecteur FLEURS", "--date", "2022-05-25", "--scope", "public",
            "--title", "Le tigre", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    stages = [s["stage"] for s in d["stages"]]
    assert stages == ["ingest", "normalise", "transcribe", "diarize", "index", "vocab", "link", "exports", "publish"]
    (iid,) = d["interviews"]
    page = (ws.site / "i" / f"{iid}.html").read_text(encoding="utf-8")
    assert "tigre" in page.lower()
    assert (ws.transcripts / iid / f"{iid}.vtt").is_file()
    assert d["open"].endswith("index.html")
    again = cli("run", str(clip), "--json")  # nothing new: every stage skips, still exit 0
    assert again.exit_code == 0, again.output
