"""Shared fixtures. Tests use real audio (the clips in tests/data/corpus, CC BY / public domain,
and recordings built from them with the bundled ffmpeg), the real default model, real SQLite
files in temporary folders, and Chromium. Nothing outside the repository is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO / "tests" / "data" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The test clips (tests/data/corpus: FLEURS CC BY 4.0 and a public-domain recording)."""
    assert CORPUS.is_dir(), f"the test clips are missing at {CORPUS}"
    return CORPUS


@pytest.fixture()
def ws(tmp_path):
    """A fresh, empty archive workspace in a temporary folder."""
    from oralhist.workspace import init

    return init(tmp_path / "archive", title="Archive de test")


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg is assumed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture()
def cli(ws):
    """Run `oralhist` in-process against the test workspace: cli("list", "--json")."""
    from typer.testing import CliRunner

    from oralhist.cli import app

    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(app, ["--workspace", str(ws.root), *map(str, args)], input=input, catch_exceptions=False)

    return run


CHROMIUM = os.environ.get("ORALHIST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (its own browser download is not used)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"chromium not found at {CHROMIUM} (scripts/test.sh installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(locale="fr-FR")
    pg = ctx.new_page()
    yield pg
    ctx.close()
