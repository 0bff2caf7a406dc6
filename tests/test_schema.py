"""The migrations build exactly the schema of records.py, and the workspace basics work."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from oralhist import db
from oralhist.archive.workspace import find_workspace


def test_migrations_match_records(ws):
    engine = db.engine_for(ws)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_name": lambda name, type_, parents: not (type_ == "table" and name.startswith("fts_"))}
        )
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"records.py and the migrations disagree; add a migration: {diff}"


def test_schema_heads_are_alembics_and_an_old_database_is_still_upgraded(ws, tmp_path):
    """db.SCHEMA_HEADS (the fast check every command makes) is exactly the heads Alembic reads in
    the scripts; a database stamped with an older revision still goes through the upgrade."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    heads = set(ScriptDirectory.from_config(db.alembic_config(ws.database_url)).get_heads())
    assert db.SCHEMA_HEADS == heads, f"set db.SCHEMA_HEADS to {sorted(heads)}"
    assert db.stamped_heads(db.engine_for(ws)) == heads
    assert db.stamped_heads(db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")) == set()

    from alembic import command

    newest = max(heads)  # revision ids are ordered by the issue that made them
    engine = db.engine_for(ws)
    cfg = db.alembic_config(ws.database_url)
    with engine.begin() as conn:  # as if made by an oralhist older than the newest migration
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, f"{newest}@-1")
    assert newest not in db.stamped_heads(engine)
    db._MIGRATED.discard(ws.database_url)
    db.migrate(ws)
    assert db.stamped_heads(engine) == heads
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(
            conn, opts={"include_name": lambda name, type_, parents: not (type_ == "table" and name.startswith("fts_"))}),
            SQLModel.metadata)
    assert diff == []


def test_sqlite_is_in_wal_mode(ws):
    with db.engine_for(ws).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_workspace_is_found_from_a_subfolder(ws, monkeypatch):
    sub = ws.root / "interviews"
    monkeypatch.chdir(sub)
    assert find_workspace().root == ws.root


def test_init_twice_keeps_settings(ws):
    from oralhist.archive.workspace import init

    (ws.root / "oralhist.toml").write_text((ws.root / "oralhist.toml").read_text().replace("Archive de test", "Mine"))
    again = init(ws.root)
    assert again.settings.title == "Mine"


def test_every_command_has_help_with_an_example():
    """Docs are tested: each command documents itself with an Example line."""
    import typer.main

    from oralhist.cli import app

    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        for c in (sub.values() if sub else [cmd]):
            if not c.help or "Example" not in c.help:
                missing.append(f"{name} {c.name if sub else ''}".strip())
    assert not missing, f"commands without help or example: {missing}"


def test_brackets_in_names_are_printed_as_they_are(cli, tmp_path):
    """Rich markup is off for archive data: '[1998] face A.wav' must not lose its brackets."""
    bad = tmp_path / "[1998] face [bold]A.wav"
    bad.write_text("not audio")
    res = cli("ingest", bad)
    assert res.exit_code == 1
    assert "[1998] face [bold]A.wav" in res.output
