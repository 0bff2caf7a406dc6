"""The archive on PostgreSQL (DATABASE_URL): migrations, every stage, search and publish.

A throwaway PostgreSQL cluster is started for the session (``pg_url`` in conftest.py) (Debian's server binaries, which
scripts/test.sh installs), on a free port, and removed afterwards.
"""

from __future__ import annotations

import json


def test_every_stage_runs_on_postgresql(pg_url, corpus, tmp_path, monkeypatch):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel
    from typer.testing import CliRunner

    from oralhist import db
    from oralhist.cli import app
    from oralhist.archive.workspace import init

    monkeypatch.setenv("DATABASE_URL", pg_url)
    ws = init(tmp_path / "archive")
    assert ws.database_url == pg_url and not ws.db_path.exists()

    with db.engine_for(ws).connect() as conn:
        assert conn.dialect.name == "postgresql"
        ctx = MigrationContext.configure(conn, opts={"include_name": lambda name, type_, parents: not (
            type_ == "table" and name.startswith(("procrastinate_", "fts_")))})  # job engine's tables, full-text index
        assert compare_metadata(ctx, SQLModel.metadata) == []

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
