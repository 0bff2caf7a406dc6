"""Full-text search with Pagefind (its binary from PyPI, run once over a search-source tree).

The site's visible pages are not what is indexed: for each interview a search-only page
(same path as the public page) holds the title, metadata, summary, index and every
transcript segment under a heading whose id is ``t=<seconds>``. Pagefind turns each heading
into a sub-result whose URL is ``i/<id>.html#t=<seconds>``, so a result lands on the
moment; the player reads ``#t=``. Term pages are indexed as they are. The search-only pages
are written to a temporary folder beside the site and removed afterwards.

Large archives split the index into shards (``site/pagefind/<k>/``, pages assigned by a hash
of their path) that the search page merges in the browser (Pagefind's ``mergeIndex``), so
changing one interview re-indexes one shard. Each shard is written into a temporary folder
and swapped in, so a killed publish keeps the previous index. (Pagefind's Python API was tried first: it waits 100 ms per record, far too
slow for thousands of segments; the CLI indexes the same content in seconds.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from oralhist.errors import StageError


def pagefind_binary() -> str:
    env = os.environ.get("PAGEFIND_BINARY_PATH")
    if env:
        return env
    for mod in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            return str(__import__(mod).get_executable())
        except (ImportError, FileNotFoundError):
            continue
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found:
        return found
    raise StageError("pagefind", "the Pagefind binary is missing; pip install 'pagefind[extended]'")


def build_index(src: Path, dest: Path, *, language: str = "fr") -> None:
    """Run Pagefind over the search-source folder ``src``; swap the bundle into ``dest``."""
    tmp_out = dest.parent / f".{dest.name}.new-{os.getpid()}"
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    for p in (tmp_out, old):
        if p.exists():
            shutil.rmtree(p)
    try:
        src.mkdir(parents=True, exist_ok=True)
        cmd = [pagefind_binary(), "--site", str(src), "--output-path", str(tmp_out.resolve()),
               "--force-language", language, "--silent"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 or not (tmp_out / "pagefind.js").is_file():
            raise StageError(dest, f"Pagefind failed: {(r.stderr or r.stdout).strip()[-400:]}")
        # The site has its own small search page: Pagefind's ready-made UIs are not needed.
        for f in tmp_out.glob("pagefind-*"):
            if f.is_file() and ("-ui." in f.name or f.name.startswith("pagefind-highlight")):
                f.unlink()
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp_out, dest)
    finally:
        for p in (tmp_out, old):
            if p.exists():
                shutil.rmtree(p, ignore_errors=True)
