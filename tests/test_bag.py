"""Issue 13 item 11: `oralhist export-bag` writes bags that the bagit library validates."""

from __future__ import annotations

import pytest

from publish_helpers import make_audio, make_interview


def test_export_bag_validates(ws, cli, corpus, ffmpeg, tmp_path):
    import bagit

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, topics=[(0, 3000, "L'accident", "", [])],
                   links=[("trade", "Mineur", 500, 3000, "x", "accepted", 1.0)])
    r = cli("export-bag", "1998-marcel-dupont", "--out", str(tmp_path / "bags"))
    assert r.exit_code == 0, r.output
    bag = bagit.Bag(str(tmp_path / "bags" / "1998-marcel-dupont"))
    bag.validate()
    names = {p.replace("\\", "/") for p in bag.payload_files()}
    assert "data/original/1998-marcel-dupont.mp3" in names and "data/transcripts/version-1.json" in names
    assert {"data/dc.xml", "data/index.json"} <= names
    assert not any(n.startswith("data/consent") for n in names)
    assert bag.info["External-Identifier"] == "1998-marcel-dupont"
    # A second export into the same folder is refused, nothing overwritten.
    r = cli("export-bag", "1998-marcel-dupont", "--out", str(tmp_path / "bags"))
    assert r.exit_code == 2
    r = cli("export-bag", "nope", "--out", str(tmp_path / "bags"))
    assert r.exit_code == 2 and "nope" in r.output


def test_bag_holds_every_version_index_links_dc_ohms_and_consent_on_request(ws, cli, corpus, ffmpeg, tmp_path):
    import hashlib
    import json
    import xml.etree.ElementTree as ET

    import bagit
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Consent, Recording, Segment, Transcript, TranscriptStatus

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    iid = "1998-marcel-dupont"
    make_interview(ws, iid, corpus=corpus, audio=audio, topics=[(0, 3000, "L'accident", "", [])],
                   links=[("trade", "Mineur", 500, 3000, "x", "accepted", 1.0)])
    form = ws.root / "consent_forms" / f"{iid}.pdf"
    form.parent.mkdir(parents=True, exist_ok=True)
    form.write_bytes(b"%PDF-1.4 formulaire signe\n")
    with db.session(ws) as s:  # a corrected second version, and the signed form as ingest records it
        tr = s.exec(select(Transcript).where(Transcript.interview_id == iid)).first()
        v2 = Transcript(interview_id=iid, version=2, status=TranscriptStatus.corrected, source="editor",
                        parent_id=tr.id, language="fr", duration_ms=tr.duration_ms)
        s.add(v2)
        s.flush()
        s.add(Segment(transcript_id=v2.id, idx=0, start_ms=0, end_ms=3000, text="Texte corrigé par l'éditrice."))
        c = s.exec(select(Consent).where(Consent.interview_id == iid)).first()
        c.form_path = ws.rel(form)
        c.license = "https://creativecommons.org/licenses/by/4.0/"
        s.add(c)
        originals = {ws.root / r.path: hashlib.sha256((ws.root / r.path).read_bytes()).hexdigest()
                     for r in s.exec(select(Recording).where(Recording.interview_id == iid)).all()}
        s.commit()
    r = cli("export-bag", iid, "--out", tmp_path / "plain")
    assert r.exit_code == 0, r.output
    r = cli("export-bag", iid, "--out", tmp_path / "full", "--include-consent")
    assert r.exit_code == 0, r.output
    plain, full = bagit.Bag(str(tmp_path / "plain" / iid)), bagit.Bag(str(tmp_path / "full" / iid))
    plain.validate()
    full.validate()
    names = set(plain.payload_files())
    assert {"data/transcripts/version-1.json", "data/transcripts/version-2.json", "data/index.json",
            "data/dc.xml", "data/ohms.xml"} <= names
    assert not any("consent" in n for n in names)
    assert {n for n in full.payload_files() if "consent" in n} == {f"data/consent/{iid}.pdf"}
    root = tmp_path / "plain" / iid / "data"
    v2 = json.loads((root / "transcripts" / "version-2.json").read_text(encoding="utf-8"))
    assert v2["segments"][0]["text"] == "Texte corrigé par l'éditrice." and v2["status"].endswith("corrected")
    index = json.loads((root / "index.json").read_text(encoding="utf-8"))
    assert index["topics"][0]["title"] == "L'accident" and index["links"][0]["term"] == "Mineur"
    assert "creativecommons.org/licenses/by/4.0" in (root / "dc.xml").read_text(encoding="utf-8")
    ohms = ET.parse(root / "ohms.xml").getroot()
    assert ohms.find("{https://www.weareavp.com/nunncenter/ohms}record").get("id") == iid
    # Originals copied, never modified; the bag's copies are the same bytes.
    for p, sha in originals.items():
        assert hashlib.sha256(p.read_bytes()).hexdigest() == sha
        assert hashlib.sha256((root / "original" / p.name).read_bytes()).hexdigest() == sha
    # A tampered bag no longer validates.
    (root / "index.json").write_text("{}", encoding="utf-8")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(tmp_path / "plain" / iid)).validate()
