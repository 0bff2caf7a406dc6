"""Object pictures: hashed read-only originals and Pillow web derivatives (issue 14).

An original is copied once into ``<archive>/objects/originals/<sha256><ext>`` and made
read-only, like recordings. Derivatives (a card and a page size, WebP + JPEG) are made from
it with EXIF/GPS metadata dropped and the EXIF orientation applied. Huge images are opened
with ``Image.draft`` (JPEG decodes at 1/2, 1/4, 1/8 scale) and ``Image.reduce`` so memory
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
FORMATS = {"webp": ("WEBP", {"quality": 80, "method": 4}), "jpg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True})}
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


def _load_bounded(path: Path, longest: int):
    """Decode at a scale just above ``longest`` px, orientation applied, metadata dropped."""
    from PIL import Image, ImageOps

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        im = Image.open(path)
        try:
            if im.format == "JPEG":
                im.draft("RGB", (longest, longest))  # decode at 1/2..1/8 scale: bounded memory
            im.load()
        except (OSError, SyntaxError) as e:
            raise BadInput(path, f"damaged image ({e})") from None
        orient = im.getexif().get(0x0112, 1)
        factor = max(1, min(im.size) // max(1, longest) // 2, max(im.size) // (longest * 2))
        if factor > 1:
            im = im.reduce(factor)
        if orient != 1:
            im = ImageOps.exif_transpose(im)
        if im.mode not in ("RGB", "L"):
            bg = Image.new("RGB", im.size, "white")
            rgba = im.convert("RGBA")
            bg.paste(rgba, mask=rgba.getchannel("A"))
            im = bg
        elif im.mode == "L":
            im = im.convert("RGB")
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
            im = base.copy()
            im.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            for ext, (fmt, opts) in FORMATS.items():
                dest = out_dir / f"{stem}-{size_name}.{ext}"
                tmp = dest.with_suffix(dest.suffix + ".part")
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
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp, dest)
    ders = make_derivatives(dest, derivatives_dir, digest[:16], base)
    return StoredImage(digest, dest, w, h, ders)
