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


# --- running fast: pytest-xdist workers, one model load per process, heavy files first ---
# scripts/test.sh runs the suite with `-n auto --dist loadfile` (each file stays whole on one
# worker, so a module fixture is built once); plain `pytest` and `pytest -p no:xdist` work too.
# Rules for new tests are in docs/testing.md.

# Files that take a minute or more (the real model, a browser, worker processes): under xdist
# they are handed out first, so that none of them is left to run alone at the end.
SLOW_FILES = (  # slowest first (whole suite, -n 2, 2 Dec 2026)
    "test_outages.py", "test_transcribe.py", "test_kills.py", "test_network.py", "test_hallucination.py", "test_readme.py",
    "test_site_visitors.py", "test_jobs.py", "test_workbench_browser.py", "test_editor_fixes.py",
    "test_workbench_tasks.py", "test_upload_browser.py", "test_diarize.py", "test_editor.py",
    "test_corrections_runs.py", "test_workbench_exhibits.py", "test_research.py", "test_research_catalogue.py",
    "test_screens_browser.py",
    "test_site_front.py",  # issue 26: one published archive, one Chromium walk with axe on seven pages
    "test_accounts_browser.py", "test_doubts_browser.py", "test_corrections_browser.py", "test_partners_validators.py",
    "test_jobs_reconcile.py", "test_transcribe_batched.py",
)


def _xdist_workers() -> int:
    n = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    return int(n) if n.isdigit() else 0


def pytest_configure(config):
    from oralhist.recognition import models

    # One Whisper load per test process: the model is kept for the next transcription, as the
    # `oralhist worker` and the workbench runner do (the model is read-only once loaded).
    models.KEEP_LOADED = True
    # Under xdist each worker gets its share of the cores for Whisper (CTranslate2), here and in the
    # oralhist processes its tests start, as a worker on a shared machine is told to: two workers
    # with a thread per core each would fight over the same cores.
    n = _xdist_workers()
    if n and "ORALHIST_CPU_THREADS" not in os.environ:
        os.environ["ORALHIST_CPU_THREADS"] = str(max(1, (os.cpu_count() or 1) // n))


def pytest_collection_modifyitems(config, items):
    if _xdist_workers():  # every worker sorts the same way, as xdist requires
        rank = {name: i for i, name in enumerate(SLOW_FILES)}
        items.sort(key=lambda it: rank.get(it.path.name, len(rank)))  # stable: same order inside a file


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The test clips (tests/data/corpus: FLEURS CC BY 4.0 and a public-domain recording)."""
    assert CORPUS.is_dir(), f"the test clips are missing at {CORPUS}"
    return CORPUS


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg is assumed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class PreparedArchives:
    """Archives built once per test process and copied for each test that asks for one.

    ``prepared_archives(key, build, tmp_path)`` returns a fresh copy (``tmp_path/archive``) of the
    SQLite archive that ``build(ws)`` made on an empty workspace the first time ``key`` was asked
    for in this process: ingest, normalise and transcribe once, then each test works on its own
    copy. Paths in an archive are relative to its root, so a copy is a complete archive.
    ``build`` must depend on nothing but ``key``.
    """

    def __init__(self, factory):
        self._factory = factory
        self._built: dict[str, Path] = {}

    def __call__(self, key: str, build, into: Path):
        from oralhist import db
        from oralhist.archive.workspace import init, open_workspace

        src = self._built.get(key)
        if src is None:
            assert not os.environ.get("DATABASE_URL"), "prepared archives are SQLite archives: unset DATABASE_URL"
            folder = self._factory.mktemp("prepared-" + "".join(c if c.isalnum() else "-" for c in key))
            ws = init(folder / "archive", title="Archive de test")
            build(ws)
            db.make_engine(ws.database_url).dispose()  # no connection left open on the original
            self._built[key] = src = ws.root
        dest = Path(into) / "archive"
        # contents and modes, new times: the copy looks as if it had just been written
        shutil.copytree(src, dest, symlinks=True, copy_function=shutil.copy)
        return open_workspace(dest)


@pytest.fixture(scope="session")
def prepared_archives(tmp_path_factory) -> PreparedArchives:
    """See PreparedArchives: ``prepared_archives(key, build, tmp_path)`` -> a Workspace copy."""
    return PreparedArchives(tmp_path_factory)


@pytest.fixture()
def ws(tmp_path, prepared_archives):
    """A fresh, empty archive workspace in a temporary folder: a copy of the one `init` made
    once in this process (the same files `init` writes; its migrations are not run again).
    With DATABASE_URL or ORALHIST_STORAGE_ROOT set, `init` itself runs (the database is elsewhere)."""
    from oralhist.archive.workspace import STORAGE_ENV, init

    if os.environ.get("DATABASE_URL") or os.environ.get(STORAGE_ENV):
        return init(tmp_path / "archive", title="Archive de test")
    return prepared_archives("empty", lambda ws: None, tmp_path)


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
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the pages' CSP forbids;
    # the real policy is checked by tests/test_security_names.py (no violation, pages working).
    ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
    pg = ctx.new_page()
    yield pg
    ctx.close()


# --- a throwaway PostgreSQL server (Debian's binaries), one per test process (one per xdist worker:
# its own data folder and port; each test that needs a clean database gets one from pg_fresh) ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_pg(as_user: list[str], bindir: Path, data: Path) -> int:
    """Start the cluster on a free port; another xdist worker may take that port between the
    check and the start, so a refused start is tried again on another port."""
    for attempt in range(5):
        port = _free_port()
        r = subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"),
                            "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], capture_output=True)
        if r.returncode == 0:
            return port
    raise RuntimeError(f"PostgreSQL did not start: {r.stderr.decode(errors='replace')} "
                       f"{(data / 'log').read_text(errors='replace') if (data / 'log').exists() else ''}")


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
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    port = _start_pg(as_user, bindir, data)
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
