"""Object pictures: hashed read-only originals and Pillow web derivatives (issue 14).

An original is copied once into ``<archive>/objects/originals/<sha256><ext>`` and made
read-only, like recordings. Derivatives (a card and a page size; AVIF where Pillow writes it,
WebP, JPEG) are made from it with EXIF/GPS metadata dropped and the EXIF orientation applied.
Huge images are opened with ``Image.draft`` (JPEG decodes at 1/2, 1/4, 1/8 scale) and ``Image.reduce`` so memory
stays bounded; beyond ``MAX_PIXELS`` an image is refused (decompression-bomb guard).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from oralhist.errors import BadInput

#: widths (longest side, px) of the derivatives
SIZES = {"card": 480, "page": 1600}
#: WebP ``method`` 2 instead of 4: 3× less CPU (bench/RESULTS-objects.md) for files a few % larger
FORMATS = {"webp": ("WEBP", {"quality": 80, "method": 2}), "jpg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True})}

#: issue 26 item 7: AVIF as well where this Pillow writes it (Pillow ≥ 11.3 built with libavif), listed
#: first by the site's <picture>. ``speed`` 8 of 0–10, quality 55: bench/RESULTS-site.md gives the
#: cost per picture and the sizes. A Pillow without AVIF keeps WebP + JPEG; the pages then omit it.
AVIF = ("AVIF", {"quality": 55, "speed": 8})
#: None: AVIF when Pillow can write it (checked once, when the first picture is derived); True/False: forced
WRITE_AVIF = None


def formats() -> dict:
    """The derivative formats made here: ``FORMATS``, with AVIF first where Pillow writes it."""
    global WRITE_AVIF
    if WRITE_AVIF is None:
        from PIL import features

        WRITE_AVIF = bool(features.check("avif"))
    return {"avif": AVIF, **FORMATS} if WRITE_AVIF else dict(FORMATS)


#: refused beyond this many pixels (Pillow's own guard is raised to this value while we open)
MAX_PIXELS = 120_000_000
#: other formats cannot be decoded at a reduced scale, so their bound is lower
MAX_PIXELS_FULL_DECODE = 40_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP"}


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    original: Path
    width: int
    height: int
    derivatives: dict = field(default_factory=dict)  # "card.webp" -> Path

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "original": str(self.original), "width": self.width,
                "height": self.height, "derivatives": {k: str(v) for k, v in self.derivatives.items()}}


def resolve_inside(base: Path, rel: str, source: Path) -> Path:
    """``rel`` relative to ``base``; refused when it points outside ``base``."""
    base = base.resolve()
    p = (base / rel).resolve()
    if p != base and base not in p.parents:
        raise BadInput(source, f"image path {rel!r} is outside the import folder {base}")
    if not p.is_file():
        raise BadInput(source, f"image file {rel!r} not found")
    return p


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_image(path: Path) -> tuple[str, int, int]:
    """Open the header and fully verify the file; return (format, width, height).

    Raises BadInput for a file that is not an image, a truncated one, or one too large."""
    from PIL import Image, UnidentifiedImageError

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        try:
            with Image.open(path) as im:
                fmt, (w, h) = im.format, im.size
        except UnidentifiedImageError:
            raise BadInput(path, "not an image Pillow can read") from None
        except Image.DecompressionBombError:
            raise BadInput(path, f"image too large (over {MAX_PIXELS // 1_000_000} megapixels): refused") from None
        if fmt not in ALLOWED_FORMATS:
            raise BadInput(path, f"image format {fmt} not accepted (JPEG, PNG, WebP, TIFF)")
        limit = MAX_PIXELS if fmt == "JPEG" else MAX_PIXELS_FULL_DECODE
        if w * h > limit:
            raise BadInput(path, f"image too large ({w}×{h}, over {limit // 1_000_000} megapixels for {fmt}): refused")
        # verify() reads the whole stream without decoding pixels: catches truncation cheaply
        try:
            with Image.open(path) as im:
                im.verify()
        except Exception as e:  # noqa: BLE001 - Pillow raises several kinds here
            raise BadInput(path, f"damaged image ({e})") from None
        return fmt, w, h
    finally:
        Image.MAX_IMAGE_PIXELS = old


#: EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose)
_ORIENT = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
           7: "TRANSVERSE", 8: "ROTATE_90"}


def _load_bounded(path: Path, longest: int):
    """Decode at a scale just above ``longest`` px, orientation applied, metadata dropped.

    A JPEG is decoded by libjpeg at 1/2, 1/4 or 1/8 scale (``Image.draft``) with the scale
    chosen so that both sides stay at least as large as the largest derivative: the request
    keeps the stored aspect ratio (asking ``(longest, longest)`` would refuse every reduction
    of a 4:3 picture). The EXIF orientation is read before decoding and applied afterwards
    with an explicit transpose, so it does not depend on metadata surviving ``draft``/``reduce``.
    """
    import math

    from PIL import Image

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        im = Image.open(path)
        try:
            orient = im.getexif().get(0x0112, 1)
            w, h = im.size
            scale = longest / max(w, h)
            if im.format == "JPEG" and scale < 1:
                # the target box of the page size, in stored (not yet rotated) coordinates
                im.draft("RGB", (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))
            im.load()
        except (OSError, SyntaxError) as e:
            raise BadInput(path, f"damaged image ({e})") from None
        if im.mode not in ("RGB", "L"):  # transparency on white; palettes, CMYK, 16-bit to RGB
            rgba = im.convert("RGBA")
            im = Image.new("RGB", im.size, "white")
            im.paste(rgba, mask=rgba.getchannel("A"))
            del rgba
        factor = min(im.size) // max(1, math.ceil(min(w, h) * min(1.0, scale)))
        if factor >= 2:  # what draft could not do (non-JPEG, or beyond 1/8): integer box reduction
            im = im.reduce(factor)
        if orient in _ORIENT:
            im = im.transpose(getattr(Image.Transpose, _ORIENT[orient]))
        if im.mode == "L":
            im = im.convert("RGB")
        for k in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop"):
            im.info.pop(k, None)
        return im
    finally:
        Image.MAX_IMAGE_PIXELS = old


def make_derivatives(original: Path, out_dir: Path, stem: str, base=None) -> dict:
    """Write ``<stem>-card.webp/jpg`` and ``<stem>-page.webp/jpg`` into out_dir (atomically)."""
    from PIL import Image

    if base is None:
        base = _load_bounded(original, max(SIZES.values()))
    out_dir.mkdir(parents=True, exist_ok=True)
    done = {}
    try:
        for size_name, longest in sorted(SIZES.items(), key=lambda kv: -kv[1]):
            k = min(1.0, longest / max(base.size))
            size = (max(1, round(base.width * k)), max(1, round(base.height * k)))
            # draft left the page size within 2× of the decode: bicubic is enough there (half the
            # cost of Lanczos); the card, 3× smaller again, gets Lanczos.
            k2 = max(base.size) / max(size)
            filt = Image.Resampling.BICUBIC if k2 < 2 else Image.Resampling.LANCZOS
            im = base.resize(size, filt) if size != base.size else base
            for ext, (fmt, opts) in formats().items():
                dest = out_dir / f"{stem}-{size_name}.{ext}"
                tmp = dest.with_suffix(f"{dest.suffix}.{os.getpid()}.part")  # two workers may derive the same picture
                im.save(tmp, fmt, **opts)  # no exif= argument: metadata (GPS…) is not written
                os.replace(tmp, dest)
                done[f"{size_name}.{ext}"] = dest
            base = im  # the next (smaller) size starts from this one
    finally:
        base.close()
    return done


def store_image(src: Path, originals_dir: Path, derivatives_dir: Path) -> StoredImage:
    """Check, copy (hashed, read-only) and derive one picture. Re-running is a no-op copy."""
    fmt, w, h = check_image(src)
    base = _load_bounded(src, max(SIZES.values()))  # full decode: a truncated file fails here
    digest = sha256_file(src)
    originals_dir.mkdir(parents=True, exist_ok=True)
    dest = originals_dir / f"{digest}{src.suffix.lower() or '.img'}"
    if not dest.exists():
        tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, dest)
    ders = make_derivatives(dest, derivatives_dir, digest[:16], base)
    return StoredImage(digest, dest, w, h, ders)


def _peak_rss_mb() -> float:
    """This process's own peak memory (VmHWM); ru_maxrss would keep a forked parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _store_one(args):
    src, originals, derived = args
    try:
        st = store_image(Path(src), Path(originals), Path(derived))
    except BadInput as e:  # sent back as plain values: the parent raises it again
        return None, (e.path or src, e.reason), _peak_rss_mb()
    return st, None, _peak_rss_mb()


#: below this many pictures, starting worker processes costs more than it saves
POOL_MIN = 4


def store_images(srcs, originals_dir: Path, derivatives_dir: Path, workers: int = 2, stats: dict | None = None) -> list:
    """``store_image`` for several pictures, in ``workers`` processes (spawned: no inherited
    state; each decodes one picture at a time, so memory is bounded per worker). Results are in
    the order of ``srcs``. The first bad picture raises BadInput once all workers have stopped.
    ``stats``, if given, receives ``peak_rss_mb`` (the largest worker's peak)."""
    import multiprocessing as mp

    srcs = [Path(p) for p in srcs]
    peaks = []
    if workers <= 1 or len(srcs) < POOL_MIN or mp.current_process().daemon:  # a daemon may not have children
        out = [_store_one((str(p), str(originals_dir), str(derivatives_dir))) for p in srcs]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            out = list(ex.map(_store_one, [(str(p), str(originals_dir), str(derivatives_dir)) for p in srcs]))
    result = []
    for st, err, peak in out:
        peaks.append(peak)
        if err is not None:
            raise BadInput(err[0], err[1])
        result.append(st)
    if stats is not None:
        stats["peak_rss_mb"] = max(peaks, default=0.0)
    return result
