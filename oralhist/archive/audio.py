"""Stage 1b: normalisation, and the audio helpers later stages reuse.

``normalise_interviews`` decodes each interview's originals once, in order, chunk by chunk
(PyAV + two ``av.AudioResampler``: 16 kHz per channel, 22.05 kHz for the listening copy;
never the whole file in memory) and writes:

* ``derived/asr.wav`` — 16 kHz mono 16-bit PCM, the parts concatenated; each
  ``Recording.offset_ms`` says where its part starts;
* loudness figures (ITU-R BS.1770-4, K-weighted, gated; computed block by block on the
  16 kHz signal) per part: ``Recording.loudness_lufs`` (mono mix) and
  ``Recording.channel_lufs`` (one per channel — a two-microphone stereo recording shows two
  different figures, a mono one copied to two channels shows two equal ones);
* ``derived/access.mp3`` — the listening copy: mono, 22.05 kHz, MP3 48 kb/s, its gain set so
  that it measures about -16 LUFS (the loudness measured on the file as written is stored in
  ``Derivative.loudness_lufs``). Encoded by the ffmpeg binary of ``imageio-ffmpeg``.

Reused by later stages: ``load_asr``, ``load_channels``, ``iter_pcm``, ``write_access_copy``
(with silence ranges, for redacted public copies), ``measure_loudness``.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from oralhist.errors import BadInput, NotFound, OralhistError, StageError
from oralhist.archive.probe import open_media
from oralhist.progress import NULL, Progress
from oralhist.stage import StageReport

ASR_RATE = 16000
ACCESS_RATE = 22050
ACCESS_BITRATE = "48k"
ACCESS_EXT = "mp3"
TARGET_LUFS = -16.0
MAX_GAIN_DB = 30.0
SILENCE_FRAME = 64  # samples per frame while muting redactions (2.9 ms at 22.05 kHz)
BLOCK_S = 0.1  # loudness sub-block (BS.1770 gating blocks are 4 of them, 75 % overlap)


# --------------------------------------------------------------------------- ffmpeg, pydub


def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg is assumed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def configure_pydub():
    """Import pydub pointed at the imageio-ffmpeg binary; returns ``pydub.AudioSegment``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Couldn't find ffmpeg" before we set it
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    AudioSegment.ffmpeg = ffmpeg_exe()
    return AudioSegment


# --------------------------------------------------------------------------- decoding


def iter_pcm(path: Path | str, rate: int = ASR_RATE, mono: bool = False) -> Iterator[np.ndarray]:
    """Decode a file's first audio stream, resampled to ``rate``, chunk by chunk.

    Yields float32 arrays of shape (channels, n) — (1, n) when ``mono`` (mean of channels).
    """
    import av

    with open_media(path) as container:
        stream = container.streams.audio[0]
        resampler = None
        channels = None

        def out(frames):
            for fr in frames:
                a = fr.to_ndarray()
                if a.ndim == 1:
                    a = a[None, :]
                a = a.astype(np.float32, copy=False)
                if mono and a.shape[0] > 1:
                    a = a.mean(axis=0, keepdims=True)
                yield a

        for frame in container.decode(stream):
            if resampler is None:
                channels = len(frame.layout.channels)
                try:
                    # frame_size: the resampler's FIFO hands out 1 s frames (far fewer Python steps).
                    resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=rate, frame_size=rate)
                except (ValueError, av.error.FFmpegError):
                    resampler = av.AudioResampler(format="fltp", layout=channels, rate=rate, frame_size=rate)
            frame.pts = None  # let the resampler count samples itself (robust to odd timestamps)
            yield from out(resampler.resample(frame))
        if resampler is not None:
            yield from out(resampler.resample(None))


def decode_mono(path: Path | str, rate: int = ASR_RATE) -> np.ndarray:
    """A whole file as one mono float32 array at ``rate`` (evaluation and short clips; the
    stages stream instead). It decodes exactly as faster-whisper's ``decode_audio`` does (PyAV
    resampling to 16-bit mono, then /32768), without the argument PyAV 19 removed, so the
    recogniser hears the same samples on every PyAV release."""
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    out: list[np.ndarray] = []
    with open_media(path) as container:
        for frame in container.decode(audio=0):
            out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    if not out:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(out).astype(np.float32) / 32768.0


def _iter_two_rates(path: Path | str, seconds: float = 10.0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Decode once; yield blocks (16 kHz per-channel float32, 22.05 kHz mono float32).

    The two streams come from the same decoded frames (two resamplers), so normalisation
    decodes each original once for asr.wav, the loudness figures and the listening copy.
    """
    import av

    with open_media(path) as container:
        stream = container.streams.audio[0]
        r16 = r22 = None
        a_buf: list[np.ndarray] = []
        b_buf: list[np.ndarray] = []
        have = 0
        want = int(ASR_RATE * seconds)

        def arrays(frames):
            for fr in frames:
                a = fr.to_ndarray()
                yield (a[None, :] if a.ndim == 1 else a).astype(np.float32, copy=False)

        def flush():
            a = np.concatenate(a_buf, axis=1) if a_buf else np.zeros((channels, 0), np.float32)
            b = np.concatenate(b_buf, axis=1).mean(axis=0) if b_buf else np.zeros(0, np.float32)
            a_buf.clear()
            b_buf.clear()
            return a, b

        channels = 1
        for frame in container.decode(stream):
            if r16 is None:
                channels = len(frame.layout.channels)
                try:
                    layout = frame.layout.name
                    r16 = av.AudioResampler(format="fltp", layout=layout, rate=ASR_RATE, frame_size=ASR_RATE)
                except (ValueError, av.error.FFmpegError):
                    layout = channels
                    r16 = av.AudioResampler(format="fltp", layout=layout, rate=ASR_RATE, frame_size=ASR_RATE)
                r22 = av.AudioResampler(format="fltp", layout=layout, rate=ACCESS_RATE, frame_size=ACCESS_RATE)
            frame.pts = None
            for a in arrays(r16.resample(frame)):
                if a.shape[0] != channels:  # channel count changed mid-file: keep the mix on every channel
                    a = np.repeat(a.mean(axis=0, keepdims=True), channels, axis=0)
                a_buf.append(a)
                have += a.shape[1]
            b_buf.extend(arrays(r22.resample(frame)))
            if have >= want:
                yield flush()
                have = 0
        if r16 is not None:
            a_buf.extend(arrays(r16.resample(None)))
            b_buf.extend(arrays(r22.resample(None)))
            if a_buf or b_buf:
                yield flush()


def iter_blocks(path: Path | str, rate: int = ASR_RATE, mono: bool = False, seconds: float = 10.0) -> Iterator[np.ndarray]:
    """Like ``iter_pcm`` but regrouped into blocks of about ``seconds`` (fewer, larger arrays)."""
    want = int(rate * seconds)
    buf: list[np.ndarray] = []
    have = 0
    for chunk in iter_pcm(path, rate=rate, mono=mono):
        if buf and chunk.shape[0] != buf[0].shape[0]:
            yield np.concatenate(buf, axis=1)
            buf, have = [], 0
        buf.append(chunk)
        have += chunk.shape[1]
        if have >= want:
            yield np.concatenate(buf, axis=1)
            buf, have = [], 0
    if buf:
        yield np.concatenate(buf, axis=1)


# --------------------------------------------------------------------------- loudness


class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness, fed block by block (the K-weighting of pyloudnorm).

    ``feed(x)`` with float arrays (channels, n); ``channel_lufs()`` gives each channel's
    integrated loudness measured as a mono signal; ``lufs()`` the multichannel figure
    (channel gains 1.0, i.e. L, R, C).
    """

    def __init__(self, rate: int, channels: int):
        import pyloudnorm

        self.rate = rate
        self.channels = channels
        meter = pyloudnorm.Meter(rate)
        # K-weighting = high shelf then high pass: two biquads run as one second-order-sections filter.
        sos = []
        for f in meter._filters.values():
            b = np.asarray(f.b, dtype=np.float64) * f.passband_gain
            a = np.asarray(f.a, dtype=np.float64)
            sos.append(np.concatenate([b / a[0], a / a[0]]))
        self._sos = np.array(sos)
        self._zi = np.zeros((len(sos), channels, 2))
        self._sub = int(round(rate * BLOCK_S))
        self._carry = np.zeros((channels, 0), dtype=np.float64)
        self._energies: list[np.ndarray] = []  # per sub-block: sum of squares per channel

    def feed(self, x: np.ndarray) -> None:
        from scipy.signal import sosfilt

        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] != self.channels:
            raise ValueError("channel count changed")
        y, self._zi = sosfilt(self._sos, x, axis=1, zi=self._zi)
        y = np.concatenate([self._carry, y], axis=1)
        n = (y.shape[1] // self._sub) * self._sub
        if n:
            blocks = y[:, :n].reshape(self.channels, -1, self._sub)
            self._energies.append(np.einsum("cbs,cbs->bc", blocks, blocks))
        self._carry = y[:, n:]

    def _z(self) -> np.ndarray:
        """Mean square of each 400 ms gating block (75 % overlap), shape (blocks, channels)."""
        if not self._energies:
            return np.zeros((0, self.channels))
        e = np.concatenate(self._energies, axis=0)
        if e.shape[0] < 4:
            return np.zeros((0, self.channels))
        c = np.cumsum(np.vstack([np.zeros((1, self.channels)), e]), axis=0)
        return (c[4:] - c[:-4]) / (4 * self._sub)

    @staticmethod
    def _gate(z: np.ndarray) -> Optional[float]:
        """Gated loudness of blocks z (blocks, channels) summed with gain 1. None when silent."""
        if z.shape[0] == 0:
            return None
        with np.errstate(divide="ignore"):
            power = z.sum(axis=1)
            lj = -0.691 + 10 * np.log10(power)
        keep = lj >= -70.0
        if not keep.any():
            return None
        rel = -0.691 + 10 * math.log10(power[keep].mean()) - 10.0
        keep &= lj > rel
        if not keep.any():
            return None
        return float(-0.691 + 10 * math.log10(power[keep].mean()))

    def lufs(self) -> Optional[float]:
        return self._gate(self._z())

    def channel_lufs(self) -> list[Optional[float]]:
        z = self._z()
        return [self._gate(z[:, [c]]) for c in range(self.channels)]


def measure_loudness(path: Path | str, rate: Optional[int] = None) -> Optional[float]:
    """Integrated loudness (LUFS) of a file's mono mix, decoded chunk by chunk. None if silent."""
    import av

    if rate is None:
        with av.open(str(path)) as c:
            rate = c.streams.audio[0].codec_context.sample_rate or ASR_RATE
    meter = LoudnessMeter(rate, 1)
    for chunk in iter_blocks(path, rate=rate, mono=True):
        meter.feed(chunk)
    return meter.lufs()


def _round(v: Optional[float]) -> Optional[float]:
    return None if v is None else round(v, 2)


# --------------------------------------------------------------------------- files


def _sha256(path: Path) -> str:
    from oralhist.archive.ingest import sha256_file

    return sha256_file(path)


def _tmp_beside(path: Path, suffix: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}.", suffix=suffix, dir=path.parent)
    os.fchmod(fd, 0o644)  # derived files are readable by the web server that publishes them
    os.close(fd)
    return Path(tmp)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class AccessCopy:
    path: Path
    sha256: str
    duration_ms: int
    loudness_lufs: Optional[float]
    gain_db: float
    silences: tuple[tuple[int, int], ...] = ()


def _recordings(s, interview_id: str):
    from sqlmodel import select

    from oralhist.records import Recording

    return list(s.exec(select(Recording).where(Recording.interview_id == interview_id).order_by(Recording.part)).all())


def write_access_copy(
    ws,
    interview_id: str,
    out: Path,
    *,
    silences: Sequence[tuple[int, int]] = (),
    gain_db: Optional[float] = None,
    target_lufs: float = TARGET_LUFS,
    recordings=None,
    pcm_source: Optional[Path] = None,
) -> AccessCopy:
    """Write a mono, loudness-normalised MP3 listening copy of an interview to ``out``, atomically.

    ``silences``: (start_ms, end_ms) ranges on the interview timeline made silent, sample
    exact (redactions). ``gain_db``: the gain to apply; by default it is computed from the
    interview's measured loudness (``Recording.loudness_lufs``, set by normalisation) to reach
    ``target_lufs``. The loudness of the file as written is measured and returned.
    ``pcm_source``: the interview already decoded to raw mono s16le at 22.05 kHz (what
    normalisation writes on its way, to spare a second decoding); default: the originals.
    """
    from oralhist import db

    out = Path(out)
    if recordings is None:
        with db.session(ws) as s:
            recordings = _recordings(s, interview_id)
    if not recordings:
        raise NotFound(interview_id, "no recordings in this interview")
    if gain_db is None:
        gain_db = _gain_for(recordings, target_lufs)
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    chains = []
    sources = [] if pcm_source is not None else recordings
    if pcm_source is not None:
        cmd += ["-f", "s16le", "-ar", str(ACCESS_RATE), "-ac", "1", "-i", str(pcm_source)]
        chains.append(f"[0:a:0]aformat=sample_fmts=fltp:channel_layouts=mono[a0]")
    for k, r in enumerate(sources):
        cmd += ["-i", str(ws.abs(r.path))]
        n = max(1, int(r.channels or 1))
        pan = "|".join(["mono", "c0=" + "+".join(f"{1.0 / n:.6f}*c{c}" for c in range(n))]) if n > 1 else None
        chain = f"[{k}:a:0]" + (f"pan={pan}," if pan else "") + \
            f"aresample={ACCESS_RATE},aformat=sample_fmts=fltp:channel_layouts=mono[a{k}]"
        chains.append(chain)
    joined = "".join(f"[a{k}]" for k in range(len(chains)))
    post = [f"concat=n={len(chains)}:v=0:a=1"] if len(chains) > 1 else ["anull"]
    ranges = sorted((max(0, int(a)), int(b)) for a, b in silences if int(b) > int(a))
    if ranges:
        # Cut the stream into 64-sample frames (2.9 ms) and mute every frame that starts
        # within a range widened by one frame: the silence covers each range completely.
        pad = SILENCE_FRAME / ACCESS_RATE
        cond = "+".join(f"between(t,{max(0.0, a / 1000 - pad):.5f},{b / 1000:.5f})" for a, b in ranges)
        post += [f"asetnsamples=n={SILENCE_FRAME}:p=0", f"volume=0:enable='{cond}'"]
    post.append(f"volume={gain_db:.2f}dB")
    if gain_db > 0:
        post.append("alimiter=limit=0.89:level=false:latency=true")
    if len(chains) == 1:
        graph = chains[0] + ";[a0]" + ",".join(post) + "[out]"
    else:
        graph = ";".join(chains) + ";" + joined + ",".join(post) + "[out]"
    tmp = _tmp_beside(out, f".{out.suffix.lstrip('.') or ACCESS_EXT}")
    cmd += ["-filter_complex", graph, "-map", "[out]", "-map_metadata", "-1", "-ac", "1", "-ar", str(ACCESS_RATE),
            "-c:a", "libmp3lame", "-b:a", ACCESS_BITRATE, "-compression_level", "7", "-f", "mp3", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise StageError(interview_id, f"ffmpeg could not write the listening copy: {proc.stderr.strip()[-300:]}")
        loud = measure_loudness(tmp, rate=ACCESS_RATE)
        _fsync(tmp)
        digest = _sha256(tmp)
        import av

        with av.open(str(tmp)) as c:
            dur = int(round(c.duration / 1000)) if c.duration else 0
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return AccessCopy(path=out, sha256=digest, duration_ms=dur, loudness_lufs=_round(loud), gain_db=round(gain_db, 2),
                      silences=tuple(ranges))


def _gain_for(recordings, target_lufs: float) -> float:
    """Gain (dB) bringing the interview's mono mix to ``target_lufs`` (energy-weighted over parts)."""
    num = den = 0.0
    for r in recordings:
        if r.loudness_lufs is not None and r.duration_ms:
            num += r.duration_ms * 10 ** (r.loudness_lufs / 10)
            den += r.duration_ms
    if not num:
        return 0.0
    lufs = 10 * math.log10(num / den)
    return float(max(-MAX_GAIN_DB, min(MAX_GAIN_DB, target_lufs - lufs)))


# --------------------------------------------------------------------------- the stage


def normalise_interviews(
    ws,
    ids: Iterable[str],
    *,
    force: bool = False,
    progress: Progress = NULL,
) -> StageReport:
    """Write asr.wav and the listening copy of each interview; store loudness figures.

    Each interview in its own transaction; one that fails is reported and the others go on.
    """
    from oralhist import db, stage

    from oralhist.archive.ingest import remove_stale_temps

    report = StageReport(stage="normalise")
    ids = list(ids)
    def _exists(i: str) -> bool:
        try:
            return ws.interview_dir(i).is_dir()
        except OralhistError:  # an id escaping the archive: reported below as no such interview
            return False

    removed = remove_stale_temps(ws, [i for i in ids if _exists(i)])
    if removed:
        report.details = {**(report.details or {}), "temps_removed": removed}
    for iid in ids:
        with db.session(ws) as s:
            if not force and stage.is_done(s, iid, "normalise"):
                report.skipped.append(iid)
                continue
        try:
            _normalise_one(ws, iid, progress)
            report.done.append(iid)
        except (StageError, NotFound, BadInput) as exc:
            report.failed.append((iid, exc.reason))
        except Exception as exc:  # a decoder or encoder failing on one interview must not stop the others
            import av

            if isinstance(exc, (av.error.FFmpegError, OSError, ValueError)):
                report.failed.append((iid, f"normalisation failed: {exc}"))
            else:
                raise
    return report


def _normalise_one(ws, iid: str, progress: Progress) -> None:
    from sqlmodel import select

    from oralhist import db, stage
    from oralhist.records import Derivative, Interview

    with db.session(ws) as s:
        iv = s.get(Interview, iid)
        if iv is None:
            raise NotFound(iid, "no such interview")
        recs = _recordings(s, iid)
        if not recs:
            raise StageError(iid, "no recordings to normalise")
        total_s = sum(r.duration_ms for r in recs) / 1000
        task = progress.add(f"normalise {iid}", total=total_s)
        ddir = ws.derived_dir(iid)
        ddir.mkdir(parents=True, exist_ok=True)
        asr_path = ddir / "asr.wav"
        access_path = ddir / f"access.{ACCESS_EXT}"
        tmp_asr = _tmp_beside(asr_path, ".wav")
        tmp_access = tmp_pcm = None
        try:
            # 1. One streaming pass per part: asr.wav (16 kHz mono s16) + loudness per channel.
            samples_total = 0
            tmp_pcm = _tmp_beside(ddir / "access.pcm", ".s16le")
            with wave.open(str(tmp_asr), "wb") as w, open(tmp_pcm, "wb") as pcm22:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(ASR_RATE)
                for r in recs:
                    src = ws.abs(r.path)
                    if not src.is_file():
                        raise StageError(r.path, "original file is missing (run `oralhist verify`)")
                    r.offset_ms = int(samples_total * 1000 // ASR_RATE)
                    meter = mix_meter = None
                    n = 0
                    for chunk, access_block in _iter_two_rates(src):
                        pcm22.write((np.clip(access_block, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes())
                        if meter is None:
                            meter = LoudnessMeter(ASR_RATE, chunk.shape[0])
                            mix_meter = LoudnessMeter(ASR_RATE, 1)
                        if chunk.shape[1] == 0:
                            continue
                        meter.feed(chunk)
                        mono = chunk.mean(axis=0) if chunk.shape[0] > 1 else chunk[0]
                        if chunk.shape[0] > 1:  # a mono part's mix is its one channel
                            mix_meter.feed(mono[None, :])
                        w.writeframesraw((np.clip(mono, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes())
                        n += chunk.shape[1]
                        progress.advance(task, chunk.shape[1] / ASR_RATE)
                    if n == 0:
                        raise StageError(r.path, "no audio could be decoded")
                    samples_total += n
                    r.duration_ms = int(round(n * 1000 / ASR_RATE))
                    r.channel_lufs = [_round(v) for v in meter.channel_lufs()]
                    r.loudness_lufs = _round(mix_meter.lufs()) if meter.channels > 1 else r.channel_lufs[0]
                    s.add(r)
            _fsync(tmp_asr)
            duration_ms = int(samples_total * 1000 // ASR_RATE)
            asr_sha = _sha256(tmp_asr)

            # 2. The listening copy, from the mono 22.05 kHz PCM of the same pass, gain from the loudness just measured.
            tmp_access = _tmp_beside(access_path, f".{ACCESS_EXT}")
            acc = write_access_copy(ws, iid, tmp_access, recordings=recs, pcm_source=tmp_pcm)
            tmp_pcm.unlink(missing_ok=True)
            mix_lufs = _interview_lufs(recs)

            # 3. Rename into place and record, in one transaction.
            os.replace(tmp_asr, asr_path)
            os.replace(tmp_access, access_path)
            for kind, path, sha, dur, loud, details in (
                ("asr", asr_path, asr_sha, duration_ms, mix_lufs,
                 {"sample_rate": ASR_RATE, "channels": 1, "format": "wav pcm_s16le"}),
                ("access", access_path, acc.sha256, acc.duration_ms, acc.loudness_lufs,
                 {"sample_rate": ACCESS_RATE, "channels": 1, "format": f"mp3 {ACCESS_BITRATE}",
                  "gain_db": acc.gain_db, "target_lufs": TARGET_LUFS}),
            ):
                d = s.exec(select(Derivative).where(Derivative.interview_id == iid, Derivative.kind == kind)).first()
                if d is None:
                    d = Derivative(interview_id=iid, kind=kind, path="", sha256="", duration_ms=0)
                d.path = ws.rel(path)
                d.sha256 = sha
                d.duration_ms = dur
                d.loudness_lufs = loud
                d.details = details
                from oralhist.records import utcnow

                d.created_at = utcnow()
                s.add(d)
            iv.duration_ms = duration_ms
            s.add(iv)
            stage.mark_done(s, iid, "normalise", {"asr_rate": ASR_RATE, "access": f"mp3 {ACCESS_RATE} Hz {ACCESS_BITRATE}",
                                                  "target_lufs": TARGET_LUFS})
            s.commit()
        finally:
            tmp_asr.unlink(missing_ok=True)
            for extra in (tmp_access, tmp_pcm):
                if extra is not None:
                    extra.unlink(missing_ok=True)


def _interview_lufs(recs) -> Optional[float]:
    num = den = 0.0
    for r in recs:
        if r.loudness_lufs is not None and r.duration_ms:
            num += r.duration_ms * 10 ** (r.loudness_lufs / 10)
            den += r.duration_ms
    return _round(10 * math.log10(num / den)) if num else None


# --------------------------------------------------------------------------- for later stages


def asr_path(ws, interview_id: str) -> Path:
    p = ws.derived_dir(interview_id) / "asr.wav"
    if not p.is_file():
        raise NotFound(interview_id, "no derived/asr.wav yet; run `oralhist normalise` first")
    return p


def load_asr(ws, interview_id: str, start_ms: int = 0, end_ms: Optional[int] = None) -> np.ndarray:
    """The interview's 16 kHz mono audio as float32 in [-1, 1] (optionally a time range)."""
    p = asr_path(ws, interview_id)
    with wave.open(str(p), "rb") as w:
        rate = w.getframerate()
        first = int(start_ms * rate // 1000)
        w.setpos(min(first, w.getnframes()))
        count = w.getnframes() - first if end_ms is None else max(0, int(end_ms * rate // 1000) - first)
        raw = w.readframes(count)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def load_channels(ws, interview_id: str, rate: int = ASR_RATE) -> np.ndarray:
    """Each channel of the interview at ``rate`` (default 16 kHz), float32 (channels, samples).

    Decoded from the originals, parts in order (a mono part is repeated on every channel of
    a stereo interview). For telling the two microphones of a stereo recording apart.
    """
    from oralhist import db

    with db.session(ws) as s:
        recs = _recordings(s, interview_id)
    if not recs:
        raise NotFound(interview_id, "no recordings in this interview")
    nch = max(int(r.channels or 1) for r in recs)
    parts = []
    for r in recs:
        chunks = list(iter_blocks(ws.abs(r.path), rate=rate, seconds=60.0))
        a = np.concatenate(chunks, axis=1) if chunks else np.zeros((nch, 0), np.float32)
        if a.shape[0] < nch:
            a = np.repeat(a[:1], nch, axis=0) if a.shape[0] == 1 else np.vstack(
                [a, np.repeat(a[-1:], nch - a.shape[0], axis=0)])
        parts.append(a[:nch])
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)
