"""Fixity: verify re-hashes originals and consent forms; ingest + verify on the corpus formats."""

from __future__ import annotations

import json
import os

import pytest

from _built_audio import formats


@pytest.fixture()
def archive(ws, cli, corpus, tmp_path):
    form = tmp_path / "accord.pdf"
    form.write_bytes(b"%PDF-1.4 signed consent\n")
    res = cli("ingest", corpus / "fr" / "fleurs_fr_000.ogg", "--narrator", "Louise", "--date", "1965",
              "--consent", form, "--scope", "research-only", "--no-normalise")
    assert res.exit_code == 0, res.output
    return ws


def test_verify_intact(archive, cli):
    res = cli("verify", "--json")
    assert res.exit_code == 0
    out = json.loads(res.output)
    assert out["ok"] is True and out["checked"] == 2 and out["problems"] == []


def test_verify_detects_changed_original(archive, cli):
    p = archive.root / "interviews/1965-louise/original/fleurs_fr_000.ogg"
    os.chmod(p, 0o644)
    data = bytearray(p.read_bytes())
    data[1000] ^= 0x01  # one bit
    p.write_bytes(bytes(data))
    res = cli("verify")
    assert res.exit_code == 1
    assert "changed: interviews/1965-louise/original/fleurs_fr_000.ogg (original of 1965-louise)" in res.output


def test_verify_detects_missing_original_and_consent(archive, cli):
    p = archive.root / "interviews/1965-louise/original/fleurs_fr_000.ogg"
    os.chmod(p, 0o644)
    p.unlink()
    c = archive.root / "consent_forms/1965-louise.pdf"
    os.chmod(c, 0o644)
    c.write_bytes(b"%PDF-1.4 another form\n")
    res = cli("verify", "--json")
    assert res.exit_code == 1
    probs = {(x["kind"], x["problem"]) for x in json.loads(res.output)["problems"]}
    assert probs == {("original", "missing"), ("consent", "changed")}


@pytest.mark.parametrize("clip", [
    "wav-44k",                            # WAV PCM 44.1 kHz (built from a FLEURS clip)
    "wav-8k-stereo",                      # WAV 8 kHz stereo (two FLEURS readers, one per channel)
    "mp3-stereo",                         # MP3 stereo (the same)
    "en/fasterwhisper_jfk.flac",          # FLAC stereo
    "fr/fleurs_fr_002.ogg",               # OGG/Opus
])
def test_ingest_then_verify_corpus_formats(ws, cli, corpus, clip, tmp_path):
    path = corpus / clip if "/" in clip else formats(corpus, tmp_path / "built")[clip]
    res = cli("ingest", path, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert len(out["done"]) == 1 and out["normalise"]["done"] == out["done"]
    res = cli("verify", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["checked"] == 1
    show = json.loads(cli("show", out["done"][0], "--json").output)
    [rec] = show["recordings"]
    import hashlib

    assert rec["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert show["status"] == "normalised"


def test_whole_corpus_audio_ingests(ws, corpus):
    """Every audio file of the bundled corpus is accepted (nothing refused, nothing skipped)."""
    from oralhist.archive.fixity import verify
    from oralhist.archive.ingest import ingest_paths

    rep = ingest_paths(ws, [corpus])
    assert rep.failed == []
    n_audio = sum(1 for p in corpus.rglob("*") if p.suffix in (".wav", ".mp3", ".flac", ".ogg"))
    assert rep.details["recordings"] + len(rep.details["duplicates"]) == n_audio
    assert verify(ws).ok


def test_verify_lists_unrecorded_files(archive, cli):
    stray = archive.root / "interviews/1965-louise/original/orphelin.wav"
    stray.write_bytes(b"RIFF")
    res = cli("verify", "--json")
    assert res.exit_code == 1
    [p] = json.loads(res.output)["problems"]
    assert p["problem"] == "unrecorded" and p["path"] == "interviews/1965-louise/original/orphelin.wav"
