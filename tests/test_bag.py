"""Issue 13 item 11: `oralhist export-bag` writes bags that the bagit library validates."""

from __future__ import annotations

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
