"""The archive on PostgreSQL (DATABASE_URL): migrations, every stage, search and publish.

A throwaway PostgreSQL cluster is started for the session (Debian's server binaries, which
scripts/test.sh installs), on a free port, and removed afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


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


def test_every_stage_runs_on_postgresql(pg_url, corpus, tmp_path, monkeypatch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel
    from typer.testing import CliRunner

    from oralhist import db
    from oralhist.cli import app
    from oralhist.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_url)
    ws = init(tmp_path / "archive")
    assert ws.database_url == pg_url and not ws.db_path.exists()

    with db.engine_for(ws).connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []

    runner = CliRunner()

    def cli(*args):
        return runner.invoke(app, ["--workspace", str(ws.root), *map(str, args)], catch_exceptions=False)

    clip = corpus / "fr" / "fleurs_fr_005.ogg"
    res = cli("run", clip, "--narrator", "Jeanne Leroy", "--date", "2001", "--scope", "public")
    assert res.exit_code == 0, res.output

    shown = json.loads(cli("show", "2001-jeanne-leroy", "--json").stdout)
    assert shown["status"] == "published" and shown["transcript"]["segments"]
    text = " ".join(s["text"] for s in shown["transcript"]["segments"]).lower()
    assert "voiture" in text

    hits = json.loads(cli("search", "voiture", "--json").stdout)
    assert hits and hits[0]["interview_id"] == "2001-jeanne-leroy"

    page = ws.site / "i" / "2001-jeanne-leroy.html"
    assert "voiture" in page.read_text(encoding="utf-8").lower()
    assert cli("verify").exit_code == 0
