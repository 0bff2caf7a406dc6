"""Full-text search with Pagefind (run over the site's pages plus one record per segment).

Each transcript segment is a Pagefind custom record whose URL is the interview page with
``#t=<seconds>``, so a result lands on the moment. Interview pages (metadata, summary,
index; their transcript is marked ``data-pagefind-ignore``) and term pages are indexed as
HTML. The index is written into a temporary folder and swapped in, so a killed publish
keeps the previous index.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from oralhist.errors import StageError


async def _index(model, tmp_out: Path, language: str) -> None:
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(force_language=language, output_path=str(tmp_out))
    async with PagefindIndex(config=config) as index:
        for path, f in sorted(model.files.items()):
            if f.searchable and f.content is not None:
                await index.add_html_file(content=f.content.decode("utf-8"), url=path)
        for rec in model.search_records:
            await index.add_custom_record(url=rec["url"], content=rec["content"], language=language,
                                          meta=rec["meta"], filters=rec.get("filters"))
        await index.write_files(output_path=str(tmp_out))


def build_index(model, out: Path, *, language: str = "fr") -> None:
    tmp_out = out.parent / f".{out.name}.pagefind-{os.getpid()}"
    if tmp_out.exists():
        shutil.rmtree(tmp_out)
    try:
        try:
            # In its own thread: the caller may already run an event loop (a web app, Playwright).
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _index(model, tmp_out.resolve(), language)).result()
        except FileNotFoundError as exc:
            raise StageError(out, f"the Pagefind binary is missing ({exc}); pip install 'pagefind[extended]'") from None
        final = out / "pagefind"
        old = out.parent / f".{out.name}.pagefind-old-{os.getpid()}"
        if final.exists():
            os.replace(final, old)
        os.replace(tmp_out, final)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp_out.exists():
            shutil.rmtree(tmp_out, ignore_errors=True)
