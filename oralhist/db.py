"""The database: engine made from the workspace's settings, migrations, sessions.

SQLite (WAL) in the workspace by default; ``DATABASE_URL`` (or ``[database] url``) for
PostgreSQL. The schema is always built by the Alembic migrations, never by ``create_all``,
so that an archive made today upgrades cleanly in twenty years.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from oralhist import records  # noqa: F401  (registers the tables on SQLModel.metadata)

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@lru_cache(maxsize=16)
def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def engine_for(ws) -> Engine:
    return make_engine(ws.database_url)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_MIGRATED: set[str] = set()


def migrate(ws) -> None:
    """Bring the database to the newest schema (creating it when new). Checked once per process."""
    if ws.database_url in _MIGRATED:
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = engine_for(ws)
    cfg = alembic_config(ws.database_url)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    _MIGRATED.add(ws.database_url)


@contextmanager
def session(ws) -> Iterator[Session]:
    """A session on the workspace's database, migrated first. Commit is explicit."""
    migrate(ws)
    with Session(engine_for(ws), expire_on_commit=False) as s:
        yield s
