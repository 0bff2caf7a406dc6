"""Shared fixtures. Tests use real audio (the clips in tests/data/corpus, CC BY / public domain,
and recordings built from them with the bundled ffmpeg), the real default model, real SQLite
files in temporary folders, and Chromium. Nothing outside the repository is read."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
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
    from oralhist.archive.workspace import init

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


# --- a throwaway PostgreSQL server (Debian's binaries), one per test session ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_url():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL server binaries are missing (scripts/test.sh installs Debian's postgresql)"
    bindir = Path(found[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="oralhist-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"), "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "oralhist"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/oralhist"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture()
def pg_fresh(pg_url):
    """A new, empty database on the session's PostgreSQL server, for one test."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url.rsplit("/", 1)[0] + "/" + name
