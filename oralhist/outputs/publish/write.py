"""Writing the site: atomic files, in an order that keeps every link working, the cache and the search shards.

Writing is incremental (a content hash per output file in ``site/.oralhist-build.json``;
unchanged files are not rewritten, files no longer in the model are removed) and atomic per
file (temporary file + rename; the manifest is written last), so a killed publish leaves
every file either as it was or as it should be.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from oralhist.progress import NULL

MANIFEST = ".oralhist-build.json"
BUILD_VERSION = 5  # 5: issue 26 speed (deferred scripts, media-src blob:, AVIF sources); 4: issue 26 keeps each interview's front-page facts (clips, years); 3: issue 25 (IIIF rights http form, bilingual IIIF metadata, terms with URIs); 2: issue 13's interview pages and home-data.js


@dataclass(frozen=True)
class OutFile:
    """One file of the site. ``content`` for generated text; ``source`` for audio (re-encoded
    with ``silence`` ranges, or copied). ``key`` decides whether it must be rewritten."""

    path: str
    key: str
    content: Optional[bytes] = None
    source: Optional[Path] = None
    silence: tuple[tuple[int, int], ...] = ()
    # "copy" / "silence" (from ``source``) or "access" (area 1's write_access_copy from the
    # originals, sample-exact silences) — for audio only.
    recipe: str = ""
    archive_id: str = ""
    keep: bool = False  # unchanged since the last build (not re-rendered)


_REF = re.compile(r'(?:href|src)="([^"#?:]+)(?:[#?][^"]*)?"')


def local_refs(path: str, content: bytes) -> list[tuple[str, str]]:
    """(reference, site path it points at) for every relative href/src of the page ``path``
    (Pagefind's files, made after the pages, are left out)."""
    here = Path(path).parent
    out = []
    for ref in _REF.findall(content.decode("utf-8")):
        if ref.startswith("pagefind/") or "/pagefind/" in ref or not ref:
            continue
        out.append((ref, os.path.normpath((here / ref).as_posix()).replace("\\", "/")))
    return out


# Files that list the site's pages without an href/src (home-data.js names interviews by id,
# the sitemap and the OAI file by address): written after every page they may list.
LISTINGS = ("home-data.js", "extraits.js", "sitemap.xml", "oai-pmh.xml", "robots.txt")
_ATTR = re.compile(r'\s+(?:href|src)="([^"#?:]+)(?:[#?][^"]*)?"')


def write_order(files: dict, todo: list[str], present) -> list[tuple[str, Optional[bytes]]]:
    """The order in which to write the ``todo`` paths of ``files`` so that, at every moment,
    each written file's local links and sources point at files that exist (``present(path)``:
    on disk before this build).

    Each file comes after the new files it points at: media and data first, then the pages
    (each after the new pages it links to), then the listings (after every new page). Pages
    that link to each other and are all new (a new interview and a new term page) cannot all
    come first: one of them (the one most waited for) is first written without its links to
    files not there yet, ``(path, first version)``, then in full once they are. ``(path, None)``
    writes the file itself."""
    import heapq

    missing = {p for p in todo if not present(p)}

    def tier(p: str) -> int:
        f = files[p]
        return 3 if p in LISTINGS else 2 if p.endswith(".html") else 0 if f.content is None else 1

    deps: dict[str, set] = {}
    for p in todo:
        f = files[p]
        if p in LISTINGS:
            deps[p] = {q for q in missing if q.endswith(".html") or (p == "robots.txt" and q == "sitemap.xml")}
        elif p.endswith(".html") and f.content is not None:
            deps[p] = {t for _, t in local_refs(p, f.content) if t in missing and t != p}
        else:
            deps[p] = set()
    waited_by: dict[str, list] = {}
    for p, d in deps.items():
        for t in d:
            waited_by.setdefault(t, []).append(p)
    waiting = {p: len(d) for p, d in deps.items()}
    ready = [(tier(p), p) for p in todo if not waiting[p]]
    heapq.heapify(ready)
    # Pages that may go first in a cycle, most waited for first.
    cycle_breakers = [(-len(waited_by.get(p, ())), p) for p in todo if tier(p) == 2 and files[p].content is not None]
    heapq.heapify(cycle_breakers)
    released, done, steps = set(), set(), []

    def release(p: str) -> None:
        released.add(p)
        for q in waited_by.get(p, ()):
            waiting[q] -= 1
            if not waiting[q] and q not in done:
                heapq.heappush(ready, (tier(q), q))

    while len(done) < len(todo):
        if ready:
            _, p = heapq.heappop(ready)
            if p in done:
                continue
            steps.append((p, None))
            done.add(p)
            if p not in released:
                release(p)
            continue
        while cycle_breakers and (cycle_breakers[0][1] in done or cycle_breakers[0][1] in released):
            heapq.heappop(cycle_breakers)
        if not cycle_breakers:  # (not expected: only pages wait for pages) the rest as it comes
            for p in sorted((p for p in todo if p not in done), key=lambda p: (tier(p), p)):
                steps.append((p, None))
                done.add(p)
            break
        _, p = heapq.heappop(cycle_breakers)
        unmet = {t for t in deps[p] if t not in released}
        steps.append((p, without_links(p, files[p].content, unmet)))
        release(p)
    return steps


def without_links(path: str, content: bytes, targets: set) -> bytes:
    """The page ``content`` without its href/src attributes that point at ``targets``."""
    here = Path(path).parent

    def drop(m):
        target = os.path.normpath((here / m.group(1)).as_posix()).replace("\\", "/")
        return "" if target in targets else m.group(0)

    return _ATTR.sub(drop, content.decode("utf-8")).encode("utf-8")


def atomic_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_audio(ws, f: OutFile, dest: Path) -> None:
    from oralhist.editorial.consent import silence_ranges

    if f.recipe == "access":
        from oralhist.archive.audio import write_access_copy

        dest.parent.mkdir(parents=True, exist_ok=True)
        write_access_copy(ws, f.archive_id, dest, silences=f.silence)
    elif f.recipe == "copy":
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        shutil.copyfile(f.source, tmp)
        os.replace(tmp, dest)
    else:
        silence_ranges(f.source, dest, f.silence)


def cache_dir(out: Path, ws=None) -> Path:
    """The publisher's private cache for the site at ``out``: the search-only pages and what
    unchanged interviews produced last time. It is keyed by archive ids, so it lives inside the
    archive (``.oralhist-cache/site-<hash of out>/``), never beside or inside the published
    output (a web root). Without ``ws`` (old callers) the archive is not known: a folder in
    the system's temporary space, never next to ``out``."""
    key = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]
    if ws is not None:
        return ws.root / ".oralhist-cache" / f"site-{key}"
    import tempfile

    return Path(tempfile.gettempdir()) / "oralhist-site-cache" / key


def search_source_dir(out: Path, ws=None) -> Path:
    return cache_dir(out, ws) / "search-src"


def shard_count(ws, n_interviews: int) -> int:
    """How many Pagefind indexes the search is split into (merged in the browser).

    One index for small archives; for large ones several, so that changing one interview
    re-indexes only its shard (Pagefind cannot update an index in place).
    ``[site] search_shards`` overrides it."""
    raw = (ws.settings.raw or {}).get("site", {})
    if raw.get("search_shards"):
        return max(1, min(64, int(raw["search_shards"])))
    return 1 if n_interviews < 100 else min(16, n_interviews // 60)


def shard_of(path: str, n: int) -> int:
    return int(hashlib.sha1(path.encode()).hexdigest()[:8], 16) % n


def search_page_path(out: Path, path: str, n: int, ws=None) -> Path:
    return search_source_dir(out, ws) / str(shard_of(path, n)) / path


def cached_outputs_present(hit: dict, out: Path, n: int, ws=None) -> bool:
    """Whether the files an unchanged interview produced last time are all still there."""
    return (all((out / p).is_file() for p in hit["files"])
            and all(search_page_path(out, p, n, ws).is_file() for p in hit["search"]))


def read_cache(out: Path, ws=None) -> dict:
    try:
        data = json.loads((cache_dir(out, ws) / "interviews.json").read_text(encoding="utf-8"))
        if data.get("version") == BUILD_VERSION and search_source_dir(out, ws).is_dir():
            return data.get("interviews", {})
    except (OSError, ValueError):
        pass
    return {}


def read_manifest(out: Path) -> dict:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if data.get("version") == BUILD_VERSION:
            return data
    except (OSError, ValueError):
        pass
    return {"version": BUILD_VERSION, "files": {}}


def built_kind(folder: Path) -> Optional[str]:
    """The kind of the oralhist build in ``folder`` (``public``, ``local``, ``kiosk``; "" for a
    build made before kinds were recorded), None when the folder holds no build."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return ""
    return str(data.get("kind", "")) if isinstance(data, dict) else ""


def _update_search(ws, model, out: Path, old: dict) -> tuple[list, dict]:
    """Write the search-only pages (beside the site, one folder per shard) and re-index the
    shards whose pages changed. Returns (shards re-indexed, key of every shard)."""
    n = model.search_shards
    # The search-only pages live beside the site, one folder per shard, kept up to date like the site.
    src = search_source_dir(out, ws)
    old_search: dict = old.get("search_pages", {})
    shard_pages: dict[int, list] = {k: [] for k in range(n)}
    for p, (sha, html) in sorted(model.search_pages.items()):
        k = shard_of(p, n)
        shard_pages[k].append((p, sha))
        dest = src / str(k) / p
        if html is not None and (old_search.get(p) != sha or not dest.is_file() or old.get("shards") != n):
            atomic_bytes(dest, html.encode("utf-8"))
    wanted = {f"{shard_of(p, n)}/{p}" for p in model.search_pages}
    if src.is_dir():
        for path in sorted(src.rglob("*")):
            if path.is_file() and path.relative_to(src).as_posix() not in wanted:
                path.unlink()
    from oralhist.outputs.publish.search import build_index

    pf = out / "pagefind"
    old_keys = old.get("search_keys", {}) if old.get("shards") == n else {}
    if pf.exists() and old.get("shards") != n:
        shutil.rmtree(pf)  # a different number of shards: start the index afresh
    keys, indexed = {}, []
    for k in range(n):
        keys[str(k)] = hashlib.sha256(json.dumps([shard_pages[k], model.language_index]).encode()).hexdigest()
        if not shard_pages[k]:
            # Pagefind refuses an empty folder; an empty shard has no index (search.html
            # lists only the shards that hold pages).
            del keys[str(k)]
            continue
        if old_keys.get(str(k)) != keys[str(k)] or not (pf / str(k) / "pagefind.js").is_file():
            indexed.append(k)
    if indexed:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1, len(indexed)))) as pool:
            for fut in [pool.submit(build_index, src / str(k), pf / str(k), language=model.language_index)
                        for k in indexed]:
                fut.result()
    if pf.is_dir():
        for d in pf.iterdir():
            if d.name not in keys:
                shutil.rmtree(d) if d.is_dir() else d.unlink()
    return indexed, keys


def write_site(ws, model, out: Path, *, progress=NULL, kind: str = "") -> dict:
    """Write what changed; remove what is gone; re-index search when needed. Returns figures."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MANIFEST).is_file():
        # Mark the folder as ours before anything else is written, so that a publish killed
        # during the first build is finished by the next one (the full manifest comes last).
        atomic_bytes(out / MANIFEST, json.dumps({"version": BUILD_VERSION, "files": {}, "incomplete": True,
                                                     "kind": kind}).encode())
    old = read_manifest(out)
    old_files: dict = old.get("files", {})
    task = progress.add("publish: writing", total=len(model.files))
    todo = []
    for p, f in sorted(model.files.items()):
        if not ((old_files.get(p) == f.key or f.keep) and (out / p).is_file()):
            todo.append(p)  # (a kept file was written by a build whose cache was saved after it)
    kept = len(model.files) - len(todo)
    progress.advance(task, kept)
    written = []
    for p, early in write_order(model.files, todo, lambda p: (out / p).is_file()):
        f = model.files[p]
        if early is not None:
            atomic_bytes(out / p, early)  # a first version: its links to files not written yet left out
            continue
        if f.content is not None:
            atomic_bytes(out / p, f.content)
        else:
            _write_audio(ws, f, out / p)
        written.append(p)
        progress.advance(task)
    # The search index next (it points at the new pages, all written now); what is gone goes last.
    indexed, keys = _update_search(ws, model, out, old)
    removed = []
    for p in sorted(set(old_files) - set(model.files)):
        dest = out / p
        if dest.is_file():
            dest.unlink()
        removed.append(p)
        d = dest.parent
        while d != out and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent
    # Files in site/ that no build of ours wrote (e.g. an old site, or a file from a previous
    # build whose manifest was lost) are removed too: site/ is fully generated.
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith("pagefind/") and rel not in model.files:
            path.unlink()
            removed.append(rel)
    manifest = {"version": BUILD_VERSION, "files": {p: f.key for p, f in sorted(model.files.items())},
                "shards": model.search_shards, "search_keys": keys, "kind": kind,
                "search_pages": {p: sha for p, (sha, _) in sorted(model.search_pages.items())}}
    cache = {"version": BUILD_VERSION, "interviews": {e.archive_id: (e.cached_out or e.cached) for e in model.interviews}}
    cdata = json.dumps(cache, sort_keys=True, ensure_ascii=False).encode()
    cpath = cache_dir(out, ws) / "interviews.json"
    if not cpath.is_file() or cpath.read_bytes() != cdata:
        atomic_bytes(cpath, cdata)
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    mpath = out / MANIFEST
    if not mpath.is_file() or mpath.read_bytes() != data:
        atomic_bytes(mpath, data)
    return {"written": written, "kept": kept, "removed": removed, "indexed": bool(indexed), "shards_indexed": indexed}

