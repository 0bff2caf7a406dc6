"""Peak memory does not grow with the length of a recording (issue 19, item 21).

Two archives hold the same interview at two lengths (real speech, then quiet room noise, then
real speech: 4 and 24 minutes). The diarization stage (voice detection, embeddings,
clustering, everything ``oralhist diarize`` does) runs on each in its own process, and the
child's peak resident memory (``ru_maxrss``) is compared: it must not grow with the length.
Before the fix the stage held the whole signal, its padded copies for the voice detector and
the spectrogram of the whole recording: about 1 GB more for the 20 extra minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from _built_audio import decode

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys
from pathlib import Path
from oralhist.archive.workspace import open_workspace
from oralhist.recognition.diarize import diarize_interviews
ws = open_workspace(Path(sys.argv[1]))
rep = diarize_interviews(ws, [sys.argv[2]])
print(json.dumps({"done": rep.done, "failed": rep.failed,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _archive(tmp_path: Path, corpus: Path, minutes: float):
    """An archive with one interview of ``minutes``: speech, room noise, speech; asr.wav in place."""
    from oralhist.archive.ingest import IngestMeta, ingest_paths
    from oralhist.archive.workspace import init

    a = decode(corpus / "fr" / "fleurs_fr_000.ogg")
    b = decode(corpus / "fr" / "fleurs_fr_001.ogg")
    quiet = int(minutes * 60 * 16000) - len(a) - len(b)
    noise = np.random.default_rng(19).normal(0, 3e-4, quiet).astype(np.float32)  # about -70 dBFS
    x = np.concatenate([a, noise, b])
    src = tmp_path / f"veillee-{minutes:g}min.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(x, -1, 1) * 32767).round().astype("<i2").tobytes())
    ws = init(tmp_path / f"archive-{minutes:g}", title="Archive")
    rep = ingest_paths(ws, [src], IngestMeta(interview=f"2024-veillee-{int(minutes)}", narrator="Veilleur"))
    assert not rep.failed, rep.failed
    [iid] = rep.done
    # asr.wav is this very signal (16 kHz mono 16-bit): put it in place rather than spend a
    # minute of CPU encoding the listening copy that normalisation also writes.
    ddir = ws.derived_dir(iid)
    ddir.mkdir(parents=True, exist_ok=True)
    (ddir / "asr.wav").write_bytes(src.read_bytes())
    src.unlink()
    return ws, iid


def _peak_mb(ws, iid) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(ws.root), iid], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["done"] == [iid] and not res["failed"], res
    return res["maxrss_mb"]


def test_diarization_peak_memory_does_not_grow_with_length(tmp_path, corpus):
    short_ws, short_id = _archive(tmp_path, corpus, 4)
    long_ws, long_id = _archive(tmp_path, corpus, 24)
    short, long = _peak_mb(short_ws, short_id), _peak_mb(long_ws, long_id)
    # 20 more minutes of audio is 38 MB as 16-bit samples; the stage may keep a few numbers
    # per 50 ms, never the signal: the peaks differ by less than the audio's own size.
    assert long - short < 30, (short, long)
