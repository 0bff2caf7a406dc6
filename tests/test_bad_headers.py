"""A WAV header that lies (1 Hz sample rate) is refused before anything is derived (issue 15, item 11)."""

from __future__ import annotations

import json
import struct

from _built_audio import decode, write


def _lying_wav(corpus, path, rate: int):
    write(path, decode(corpus / "fr" / "fleurs_fr_000.ogg"), 16000)  # 16 kHz mono PCM, ~320 KB
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"fmt "
    data[24:28] = struct.pack("<I", rate)  # sample rate
    data[28:32] = struct.pack("<I", rate * 2)  # byte rate (mono, 16 bit)
    path.write_bytes(bytes(data))
    return path


def test_one_hertz_wav_is_refused_before_deriving(ws, cli, corpus, tmp_path):
    bad = _lying_wav(corpus, tmp_path / "entretien.wav", 1)
    res = cli("ingest", bad, "--json")
    assert res.exit_code != 0, res.output  # the ingest report's code for a refused file
    [failed] = json.loads(res.output)["failed"]
    assert failed["id"].endswith("entretien.wav") and "sample rate" in failed["error"]
    derived = [p for p in ws.root.rglob("*") if p.is_file() and "derived" in p.parts]
    assert derived == []
    assert json.loads(cli("list", "--json").output) == []


def test_plausible_rates_still_accepted(ws, cli, corpus, tmp_path):
    ok = _lying_wav(corpus, tmp_path / "ok.wav", 16000)  # the true values: nothing changed
    res = cli("ingest", ok, "--json")
    assert res.exit_code == 0, res.output
