"""Look inside an audio (or video) file with PyAV: what it is, how long, and whether it is whole.

``probe(path)`` demuxes and decodes the whole audio stream once (cheap next to the rest of
the pipeline) so that an empty file, a text file named ``.wav``, a half-copied MP3 or FLAC,
a video without sound or a file shorter than half a second is refused before anything is
written. It raises ``NotAudio`` (a ``BadInput``) with one sentence saying what is wrong.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from oralhist.errors import NotAudio

MIN_DURATION_MS = 500


@dataclass(frozen=True)
class AudioInfo:
    duration_ms: int
    sample_rate: int
    channels: int
    codec: str
    container: str
    layout: str = ""


def open_media(path: Path | str):
    """``av.open`` for reading, tolerant of badly encoded tags (a recorder's Latin-1 title).

    PyAV up to 18 decodes metadata strictly unless told ``metadata_errors="ignore"``; PyAV 19
    dropped that argument (and no longer fails on such tags), so it is passed only where taken.
    """
    import av

    if _takes_metadata_errors():
        return av.open(str(path), metadata_errors="ignore")
    return av.open(str(path))


@lru_cache(maxsize=1)
def _takes_metadata_errors() -> bool:
    import inspect

    import av

    try:
        return "metadata_errors" in inspect.signature(av.open).parameters
    except (TypeError, ValueError):  # a compiled function without a signature: try it
        return int(av.__version__.split(".")[0]) < 19


def display_name(path: Path | str) -> str:
    """A printable form of a file name, even when it is not valid UTF-8 (bytes shown as \\xNN)."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def _mp3_has_length_header(path: Path) -> bool:
    """True when the MP3 carries a Xing/Info/VBRI header, i.e. states its own length."""
    with open(path, "rb") as fh:
        head = fh.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:
            size = head[6:10]
            skip = 10 + ((size[0] & 0x7F) << 21 | (size[1] & 0x7F) << 14 | (size[2] & 0x7F) << 7 | (size[3] & 0x7F))
        fh.seek(skip)
        first = fh.read(4096)
    return any(tag in first for tag in (b"Xing", b"Info", b"VBRI"))


def _wav_truncated(path: Path) -> bool:
    """True when a RIFF/WAVE file's data chunk claims more bytes than the file holds."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return False
        if head[:4] == b"RF64":
            return False  # 64-bit sizes live in a ds64 chunk; trust the decoder
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            ck = fh.read(8)
            if len(ck) < 8:
                return True
            cid, clen = ck[:4], struct.unpack("<I", ck[4:])[0]
            if cid == b"data":
                if clen in (0, 0xFFFFFFFF):  # written while recording, never finalised: trust the bytes
                    return False
                return pos + 8 + clen > size
            pos += 8 + clen + (clen & 1)
        return True  # no data chunk within the file


def _ogg_truncated(path: Path) -> bool:
    """True when an Ogg file does not end with a complete end-of-stream page."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    i = tail.rfind(b"OggS")
    if i < 0 or i + 27 > len(tail):
        return True
    flags = tail[i + 5]
    nseg = tail[i + 26]
    if i + 27 + nseg > len(tail):
        return True
    body = sum(tail[i + 27 : i + 27 + nseg])
    if i + 27 + nseg + body > len(tail):
        return True
    return not flags & 0x04


# What a real recording can claim. Below 4 kHz no speech is intelligible; above 384 kHz no
# recorder exists; 64 channels is more than any field recorder. The least compressed speech
# codecs in use (Opus, AMR) need about 600 bytes per second: a file announcing more seconds
# than that allows for its size has a lying header (a 200 KB WAV "at 1 Hz" is not 27 hours).
MIN_RATE, MAX_RATE, MAX_CHANNELS, MIN_BYTES_PER_S = 4000, 384_000, 64, 600


def _sanity_check(name: str, rate, channels, seconds, size: int) -> None:
    """Refuse impossible headers before anything is decoded or derived from them."""
    if rate and not MIN_RATE <= rate <= MAX_RATE:
        raise NotAudio(name, f"impossible sample rate in its header ({rate} Hz; recordings use "
                             f"{MIN_RATE}-{MAX_RATE} Hz): damaged or forged header")
    if channels and channels > MAX_CHANNELS:
        raise NotAudio(name, f"impossible channel count in its header ({channels}); damaged header")
    if seconds and seconds > 1 and size / seconds < MIN_BYTES_PER_S:
        raise NotAudio(name, f"its header announces {seconds / 3600:.1f} h of audio in {size} bytes: damaged or forged header")


def probe(path: Path | str) -> AudioInfo:
    """Open, demux and decode the first audio stream of ``path`` completely.

    Raises ``NotAudio`` when the file is empty, not audio, has no audio stream, is damaged or
    truncated, or lasts less than half a second.
    """
    import av

    path = Path(path)
    name = display_name(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotAudio(name, "no such file") from None
    if not path.is_file():
        raise NotAudio(name, "not a file")
    if size == 0:
        raise NotAudio(name, "empty file (0 bytes)")
    try:
        container = open_media(path)
    except av.error.FFmpegError as exc:
        raise NotAudio(name, f"not an audio file, or damaged ({_reason(exc)})") from None
    except (UnicodeError, ValueError, EOFError) as exc:  # what PyAV raises on garbage headers
        raise NotAudio(name, f"not an audio file ({exc})") from None
    with container:
        if not container.streams.audio:
            what = "a video with no sound track" if container.streams.video else "no audio stream"
            raise NotAudio(name, f"{what}; nothing to ingest")
        stream = container.streams.audio[0]
        cc = stream.codec_context
        rate = cc.sample_rate or stream.rate or 0
        codec = cc.name or "unknown"
        fmt = container.format.name or ""
        declared_s = None
        if stream.duration is not None and stream.time_base is not None:
            declared_s = float(stream.duration * stream.time_base)
        elif container.duration:
            declared_s = container.duration / 1_000_000
        _sanity_check(name, rate, cc.channels, declared_s, size)
        samples = 0
        errors = 0
        first_error_at = None
        channels = cc.channels
        layout = cc.layout.name if cc.layout is not None else ""
        try:
            for packet in container.demux(stream):
                try:
                    for frame in packet.decode():
                        if frame.sample_rate and not rate:
                            rate = frame.sample_rate
                        if not channels:
                            channels = len(frame.layout.channels)
                            layout = frame.layout.name
                        samples += frame.samples
                except av.error.FFmpegError:
                    errors += 1
                    if first_error_at is None:
                        first_error_at = samples / rate if rate else 0.0
        except av.error.FFmpegError as exc:
            errors += 1
            first_error_at = samples / rate if rate else 0.0
            if samples == 0:
                raise NotAudio(name, f"not an audio file, or damaged ({_reason(exc)})") from None
        if samples == 0 or not rate:
            raise NotAudio(name, "no audio could be decoded (empty or damaged audio stream)")
        decoded_s = samples / rate
        if errors:
            raise NotAudio(
                name,
                f"damaged or truncated: decoding fails at {first_error_at:.1f} s"
                + (f" of {declared_s:.1f} s" if declared_s else ""),
            )
        truncated = False
        if "wav" in fmt and _wav_truncated(path):
            truncated = True
        elif fmt == "ogg" and _ogg_truncated(path):
            truncated = True
        elif declared_s and fmt not in ("wav", "ogg") and (fmt != "mp3" or _mp3_has_length_header(path)):
            if decoded_s < declared_s - max(0.5, 0.02 * declared_s):
                truncated = True
        if truncated:
            declared = f"; the file announces {declared_s:.1f} s" if declared_s and declared_s > decoded_s + 0.5 else ""
            raise NotAudio(name, f"truncated (incomplete copy?): only {decoded_s:.1f} s could be read{declared}")
        _sanity_check(name, rate, channels, decoded_s, size)
        duration_ms = int(round(decoded_s * 1000))
        if duration_ms < MIN_DURATION_MS:
            raise NotAudio(name, f"too short ({duration_ms} ms; at least {MIN_DURATION_MS} ms of audio is needed)")
        return AudioInfo(
            duration_ms=duration_ms,
            sample_rate=int(rate),
            channels=int(channels or 1),
            codec=codec,
            container=fmt,
            layout=layout,
        )


def _reason(exc: Exception) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return str(msg).split(":")[0].strip().lower() or type(exc).__name__
