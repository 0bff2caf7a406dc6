"""Waveform peaks of an interview's normalised audio, for choosing redactions on the workbench.

``peaks`` decodes the normalised recording (``derived/asr.wav``, else the access copy) with
ffmpeg at a low rate, keeps the loudest sample of each tenth of a second, and folds those
into ``buckets`` bars (0-100). The result is cached next to the audio
(``derived/peaks-<buckets>.json``) with the source's size and modification time, so the page
asks ffmpeg once per recording.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Optional

from oralhist.errors import NotFound, StageError

RATE = 4000  # Hz: enough for an envelope, 8 kB/s of decoding output
BLOCK = RATE // 10  # one maximum per 0.1 s


def source_of(ws, interview_id: str) -> Optional[Path]:
    """The normalised audio: asr.wav (16 kHz mono) if present, else the access copy."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Derivative

    with db.session(ws) as s:
        rows = {d.kind: d for d in s.exec(select(Derivative).where(Derivative.interview_id == interview_id)).all()}
    for kind in ("asr", "access"):
        if kind in rows and ws.abs(rows[kind].path).is_file():
            return ws.abs(rows[kind].path)
    folder = ws.derived_dir(interview_id)
    for p in [folder / "asr.wav", *sorted(folder.glob("access.*"))]:
        if p.is_file() and not p.name.endswith(".tmp"):
            return p
    return None


def peaks(ws, interview_id: str, buckets: int = 800) -> dict:
    """{"duration_ms", "peaks": [0..100] * buckets, "source"}; raises NotFound without audio."""
    import numpy as np

    buckets = max(10, min(4000, int(buckets)))
    src = source_of(ws, interview_id)
    if src is None:
        raise NotFound(interview_id, "no normalised audio yet (run `oralhist normalise`)")
    st = src.stat()
    key = {"source": src.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "buckets": buckets}
    cache = src.parent / f"peaks-{buckets}.json"
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return data["value"]
    except (OSError, ValueError, KeyError):
        pass
    from oralhist.archive.audio import ffmpeg_exe

    proc = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(src), "-ac", "1", "-ar", str(RATE),
                             "-f", "s16le", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    maxima = []
    n_samples = 0
    rest = b""
    while True:
        chunk = proc.stdout.read(BLOCK * 2 * 256)
        if not chunk:
            break
        chunk = rest + chunk
        cut = len(chunk) - len(chunk) % (BLOCK * 2)
        rest = chunk[cut:]
        a = np.abs(np.frombuffer(chunk[:cut], dtype="<i2").astype(np.int32))
        n_samples += a.size
        if a.size:
            maxima.append(a.reshape(-1, BLOCK).max(axis=1))
    if rest:
        a = np.abs(np.frombuffer(rest[: len(rest) // 2 * 2], dtype="<i2").astype(np.int32))
        n_samples += a.size
        if a.size:
            maxima.append(a.max(keepdims=True))
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    if proc.wait() != 0 or n_samples == 0:
        raise StageError(src, f"could not decode the audio for its waveform: {err[-200:] or 'no samples'}")
    m = np.concatenate(maxima) if maxima else np.zeros(1, dtype=np.int32)
    edges = np.linspace(0, m.size, buckets + 1).astype(int)
    top = max(int(m.max()), 1)
    values = [int(round(100 * int(m[a:max(b, a + 1)].max()) / top)) if a < m.size else 0
              for a, b in zip(edges[:-1], edges[1:])]
    value = {"duration_ms": int(n_samples * 1000 // RATE), "peaks": values, "source": src.name}
    tmp = cache.with_name(cache.name + ".tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "value": value}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only archive: no cache, same answer
    return value
