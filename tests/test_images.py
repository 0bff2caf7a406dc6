"""Object pictures (issue 14): real Pillow images, bad input, bounded memory."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from oralhist.errors import BadInput
from oralhist.archive.images import check_image, resolve_inside, store_image


def _photo(path: Path, size=(1200, 800), exif_orient=None, gps=False):
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    ex = Image.Exif()
    if exif_orient:
        ex[0x0112] = exif_orient
    if gps:
        ex[0x8825] = {1: "N", 2: (50.0, 37.0, 0.0)}
    ex[0x010F] = "CameraMaker"
    im.save(path, "JPEG", exif=ex.tobytes(), quality=90)
    return path


def test_derivatives_strip_metadata_and_apply_orientation(tmp_path):
    src = _photo(tmp_path / "obj.jpg", (1200, 800), exif_orient=6, gps=True)
    st = store_image(src, tmp_path / "orig", tmp_path / "der")
    assert st.original.read_bytes() == src.read_bytes()
    assert not (st.original.stat().st_mode & 0o222), "original must be read-only"
    from PIL import features

    avif = {"card.avif", "page.avif"} if features.check("avif") else set()  # issue 26: AVIF where Pillow writes it
    assert set(st.derivatives) == {"card.webp", "card.jpg", "page.webp", "page.jpg"} | avif
    for name, p in st.derivatives.items():
        with Image.open(p) as im:
            # orientation 6 = rotated 90°: the derivative is portrait
            assert im.height > im.width, name
            assert max(im.size) <= (480 if name.startswith("card") else 1600)
            assert not im.getexif(), f"{name} still has EXIF"
            assert b"CameraMaker" not in p.read_bytes()
    # re-running is safe: same original, same derivatives
    again = store_image(src, tmp_path / "orig", tmp_path / "der")
    assert again.sha256 == st.sha256


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("ceci n'est pas une image")
    with pytest.raises(BadInput, match="not an image"):
        store_image(p, tmp_path / "orig", tmp_path / "der")
    assert not (tmp_path / "orig").exists()


def test_truncated_jpeg(tmp_path):
    src = _photo(tmp_path / "full.jpg", (1600, 1200))
    data = src.read_bytes()
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="cut.jpg: damaged image"):
        store_image(bad, tmp_path / "orig", tmp_path / "der")
    assert not (tmp_path / "orig").exists() and not (tmp_path / "der").exists()


def test_path_outside_import_folder(tmp_path):
    (tmp_path / "secret.jpg").write_bytes(b"x")
    folder = tmp_path / "import"
    folder.mkdir()
    with pytest.raises(BadInput, match="outside the import folder"):
        resolve_inside(folder, "../secret.jpg", folder / "objets.csv")


def test_huge_png_refused(tmp_path):
    p = tmp_path / "huge.png"
    Image.new("1", (10_000, 10_000)).save(p)  # 100 MP, 1 bit: cheap to write
    with pytest.raises(BadInput, match="too large"):
        check_image(p)


def test_100_megapixel_jpeg_downscaled_in_bounded_memory(tmp_path):
    p = tmp_path / "big.jpg"
    Image.new("L", (10_000, 10_000), 128).save(p, "JPEG", quality=50)  # 100 MP
    code = (
        "import sys;from pathlib import Path;from oralhist.archive.images import store_image;"
        f"st=store_image(Path({str(p)!r}),Path({str(tmp_path / 'o')!r}),Path({str(tmp_path / 'd')!r}));"
        # VmHWM, the peak of this process's own memory: ru_maxrss would keep the high-water mark
        # of the forked parent (a long pytest run) across exec.
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak_mb = int(out.stdout.strip()) / 1024
    assert peak_mb < 250, f"peak RSS {peak_mb:.0f} MB"  # full decode alone would be ≥ 300 MB (RGB)
    with Image.open(tmp_path / "d" / f"{__import__('hashlib').sha256(p.read_bytes()).hexdigest()[:16]}-page.jpg") as im:
        assert max(im.size) == 1600


def test_draft_decoding_keeps_exif_orientation_right(tmp_path):
    """A 12-MP camera JPEG stored sideways (orientation 6) is decoded at reduced scale and
    turned upright: the derivative matches a full decode + exif_transpose + resize."""
    from PIL import ImageChops, ImageOps, ImageStat

    im = Image.new("RGB", (4000, 3000), (230, 230, 230))
    im.paste((200, 20, 20), (0, 0, 1000, 750))  # red block top-left as stored
    im.paste((20, 20, 200), (3000, 2250, 4000, 3000))  # blue block bottom-right as stored
    ex = Image.Exif()
    ex[0x0112] = 6
    src = tmp_path / "sideways.jpg"
    im.save(src, "JPEG", quality=90, exif=ex.tobytes())
    st = store_image(src, tmp_path / "o", tmp_path / "d")
    with Image.open(src) as full:
        want = ImageOps.exif_transpose(full).convert("RGB")
    with Image.open(st.derivatives["page.jpg"]) as got:
        assert got.size == (1200, 1600), got.size  # portrait, longest side 1600
        ref = want.resize(got.size, Image.Resampling.LANCZOS)
        diff = ImageStat.Stat(ImageChops.difference(got.convert("RGB"), ref)).mean
        assert max(diff) < 4, diff
        # orientation 6: the stored top-left ends at the top-right once upright
        assert got.getpixel((1150, 50))[0] > 150 and got.getpixel((1150, 50))[2] < 80
        assert min(got.getpixel((50, 50))) > 200  # stored bottom-left: grey
        assert got.getpixel((50, 1550))[2] > 150


def test_pool_of_two_reports_the_bad_picture(tmp_path):
    from oralhist.archive.images import store_images

    good = [_photo(tmp_path / f"p{i}.jpg", (800, 600)) for i in range(4)]
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(good[0].read_bytes()[:3000])
    stats = {}
    done = store_images(good, tmp_path / "o", tmp_path / "d", workers=2, stats=stats)
    assert [d.original.name[:64] for d in done] == [__import__("hashlib").sha256(p.read_bytes()).hexdigest() for p in good]
    assert 0 < stats["peak_rss_mb"] < 500
    with pytest.raises(BadInput, match="cut.jpg: damaged image"):
        store_images(good[:2] + [bad] + good[2:], tmp_path / "o2", tmp_path / "d2", workers=2)
