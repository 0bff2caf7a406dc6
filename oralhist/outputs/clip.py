"""Cut an excerpt (a clip) of an interview: audio from the listening copy, with its transcript.

Redacted ranges are silenced in the audio and their words replaced by "[…]" in the text,
whatever the consent scope (a clip is often sent outside the archive). The audio is cut with
the ffmpeg binary that imageio-ffmpeg ships (no system ffmpeg is assumed); the output format
follows the file name (.mp3, .ogg/.opus, .m4a, .wav, .flac). A WebVTT file with the clip's
words (times relative to the clip) is written beside it. Both files are written atomically.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from oralhist.errors import BadInput, NotFound, StageError

_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:[.,]\d+)?)$")


def parse_time(value: str) -> int:
    """'754', '754.5', '12:34', '00:12:34.5' -> milliseconds."""
    v = str(value).strip()
    m = _TIME.match(v)
    if not m:
        raise BadInput(value, "not a time (use seconds like 754, or 12:34, or 00:12:34.5)")
    a, b, sec = m.groups()
    parts = [p for p in (a, b) if p is not None]
    hours, minutes = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (0, int(parts[0]) if parts else 0)
    seconds = float(sec.replace(",", "."))
    if parts and seconds >= 60 or (len(parts) == 2 and minutes >= 60):
        raise BadInput(value, "minutes and seconds must be below 60")
    return int(round((hours * 3600 + minutes * 60 + seconds) * 1000))


def fmt_time(ms: int) -> str:
    ms = max(0, int(ms))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{milli:03d}"


@dataclass(frozen=True)
class ClipResult:
    audio: Path
    transcript: Path
    start_ms: int
    end_ms: int
    silenced: tuple[tuple[int, int], ...]  # redacted ranges silenced, relative to the clip
    source: str

    def to_dict(self) -> dict:
        return {"audio": str(self.audio), "transcript": str(self.transcript), "start_ms": self.start_ms,
                "end_ms": self.end_ms, "silenced": [list(r) for r in self.silenced], "source": self.source}


def listening_copy(ws, s: Session, interview_id: str) -> Path:
    """derived/access.* (the listening copy); asr.wav when no listening copy exists yet."""
    from oralhist.records import Derivative

    for kind in ("access", "asr"):
        d = s.exec(select(Derivative).where(Derivative.interview_id == interview_id, Derivative.kind == kind)).first()
        if d is not None and ws.abs(d.path).is_file():
            return ws.abs(d.path)
    derived = ws.derived_dir(interview_id)
    for pattern in ("access.*", "asr.wav"):
        hits = sorted(p for p in derived.glob(pattern) if p.is_file())
        if hits:
            return hits[0]
    raise NotFound(interview_id, "no listening copy yet (run `oralhist normalise` first)")


def _redactions(s: Session, interview_id: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    from oralhist.records import Redaction

    out = []
    for r in s.exec(select(Redaction).where(Redaction.interview_id == interview_id)).all():
        a, b = max(r.start_ms, start_ms), min(r.end_ms, end_ms)
        if a < b:
            out.append((a - start_ms, b - start_ms))
    return sorted(out)


def _cues(s: Session, interview_id: str, start_ms: int, end_ms: int, redacted: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    from oralhist.records import Segment, Word
    from oralhist.editorial.view import current_transcript

    tr = current_transcript(s, interview_id)
    if tr is None:
        return []
    segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id, Segment.end_ms > start_ms,
                                        Segment.start_ms < end_ms).order_by(Segment.idx)).all()
    cues = []
    for seg in segs:
        words = s.exec(select(Word).where(Word.segment_id == seg.id).order_by(Word.idx)).all()
        a, b = max(seg.start_ms, start_ms) - start_ms, min(seg.end_ms, end_ms) - start_ms
        if words:
            parts = []
            for w in words:
                mid = (w.start_ms + w.end_ms) // 2
                if not (start_ms <= mid < end_ms):
                    continue
                rel = (w.start_ms - start_ms, w.end_ms - start_ms)
                if any(ra < rel[1] and rel[0] < rb for ra, rb in redacted):
                    if not parts or parts[-1] != "[…]":
                        parts.append("[…]")
                else:
                    parts.append(w.text.strip())
            text = join_words(parts)
        else:
            covered = any(ra < b and a < rb for ra, rb in redacted)
            text = "[…]" if covered else seg.text.strip()
        if text:
            cues.append((max(0, a), max(a + 1, b), text))
    return cues


def join_words(parts: list[str]) -> str:
    """Words as the recogniser cut them ("d", "'accord", "États", "-Unis") back into text."""
    out = ""
    for p in (x.strip() for x in parts):
        if not p:
            continue
        if out and not (p[0] in "'’-,.;:!?)…" or out[-1] in "'’-("):
            out += " "
        out += p
    return out


def write_vtt(path: Path, cues: list[tuple[int, int, str]], note: str) -> Path:
    from oralhist.outputs.exports import atomic_write

    with atomic_write(path) as fh:
        fh.write("WEBVTT\n\nNOTE " + note.replace("-->", "->") + "\n\n")
        for i, (a, b, t) in enumerate(cues, 1):
            fh.write(f"{i}\n{fmt_time(a)} --> {fmt_time(b)}\n{t.replace('-->', '->')}\n\n")
    return path


def cut_clip(ws, interview_id: str, start_ms: int, end_ms: int, out: Path) -> ClipResult:
    """Cut [start_ms, end_ms) of the interview to ``out`` (+ ``out`` with .vtt), redactions silenced."""
    import imageio_ffmpeg

    from oralhist import db
    from oralhist.records import Interview

    out = Path(out)
    if end_ms <= start_ms:
        raise BadInput(f"{fmt_time(start_ms)}-{fmt_time(end_ms)}", "the end must come after the start")
    if out.suffix.lower() not in (".mp3", ".ogg", ".opus", ".m4a", ".aac", ".wav", ".flac"):
        raise BadInput(out, "unknown audio format (name the clip .mp3, .ogg, .opus, .m4a, .wav or .flac)")
    if out.suffix.lower() == ".vtt":
        raise BadInput(out, "the clip's audio file cannot be a .vtt")
    with db.session(ws) as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise NotFound(interview_id, "no such interview")
        src = listening_copy(ws, s, interview_id)
        if iv.duration_ms and start_ms >= iv.duration_ms:
            raise BadInput(fmt_time(start_ms), f"starts after the end of the interview ({fmt_time(iv.duration_ms)})")
        if iv.duration_ms:
            end_ms = min(end_ms, iv.duration_ms)
        redacted = _redactions(s, interview_id, start_ms, end_ms)
        cues = _cues(s, interview_id, start_ms, end_ms, redacted)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-ss", f"{start_ms / 1000:.3f}",
           "-i", str(src), "-t", f"{(end_ms - start_ms) / 1000:.3f}", "-vn", "-map_metadata", "-1"]
    if redacted:
        cmd += ["-af", ",".join(f"volume=enable='between(t,{a / 1000:.3f},{b / 1000:.3f})':volume=0" for a, b in redacted)]
    if out.suffix.lower() == ".opus" or (out.suffix.lower() == ".ogg" and src.suffix.lower() in (".ogg", ".opus")):
        cmd += ["-c:a", "libopus", "-b:a", "64k"]
    cmd.append(str(tmp))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise StageError(src, f"ffmpeg could not cut the clip: {(proc.stderr or '').strip()[-300:]}")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    vtt = write_vtt(out.with_suffix(".vtt"), cues,
                    f"{interview_id} {fmt_time(start_ms)} - {fmt_time(end_ms)}" + (" (redacted passages silenced)" if redacted else ""))
    return ClipResult(out, vtt, start_ms, end_ms, tuple(redacted), ws.rel(src) if str(src).startswith(str(ws.root)) else str(src))
