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


# --- issue 19, item 22: headers judged against each codec's real minimum bitrate ------------

def _ogg_crc(data: bytes) -> int:
    """The CRC-32 of an Ogg page (polynomial 0x04C11DB7, not reflected, initial value 0)."""
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if r & 0x80000000 else (r << 1) & 0xFFFFFFFF
        table.append(r)
    c = 0
    for b in data:
        c = ((c << 8) & 0xFFFFFFFF) ^ table[((c >> 24) ^ b) & 0xFF]
    return c


def _low_bitrate_opus(corpus, path):
    """Real speech then a minute of silence, Opus at 6 kb/s (its lowest bitrate) by the bundled ffmpeg."""
    import subprocess

    from _built_audio import ffmpeg

    subprocess.run([ffmpeg(), "-nostdin", "-v", "error", "-y", "-i", str(corpus / "fr" / "fleurs_fr_000.ogg"),
                    "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-filter_complex",
                    "[1:a]atrim=0:60[s];[0:a][s]concat=n=2:v=0:a=1", "-ac", "1", "-c:a", "libopus", "-b:a", "6k",
                    str(path)], check=True, capture_output=True)
    return path


def test_valid_low_bitrate_opus_is_accepted(ws, cli, corpus, tmp_path):
    from oralhist.archive.probe import probe

    opus = _low_bitrate_opus(corpus, tmp_path / "veillee.opus")
    info = probe(opus)
    assert info.codec == "opus" and 69_000 < info.duration_ms < 72_000
    assert opus.stat().st_size / (info.duration_ms / 1000) < 600  # what the old check refused
    res = cli("ingest", opus, "--json")
    assert res.exit_code == 0, res.output


def test_opus_with_forged_length_is_refused(ws, cli, corpus, tmp_path):
    """The same real Opus, its last page claiming 10 hours (CRC made valid): refused."""
    opus = _low_bitrate_opus(corpus, tmp_path / "veillee.opus")
    data = bytearray(opus.read_bytes())
    i = data.rfind(b"OggS")
    data[i + 6 : i + 14] = struct.pack("<q", 48000 * 3600 * 10)  # granule position: 10 h at 48 kHz
    data[i + 22 : i + 26] = b"\0\0\0\0"
    data[i + 22 : i + 26] = struct.pack("<I", _ogg_crc(bytes(data[i:])))
    forged = tmp_path / "forged.opus"
    forged.write_bytes(bytes(data))
    res = cli("ingest", forged, "--json")
    assert res.exit_code != 0, res.output
    [failed] = json.loads(res.output)["failed"]
    assert "forged header" in failed["error"] and "10.0 h" in failed["error"]
    assert json.loads(cli("list", "--json").output) == []
