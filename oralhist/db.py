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


# libpq options for every PostgreSQL connection (SQLAlchemy's and procrastinate's).
PG_LINK_OPTIONS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                   "keepalives_count": 3, "tcp_user_timeout": 10000}


@lru_cache(maxsize=16)
def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # A link that drops must fail fast, not hang (issue 22): connect and unanswered-packet
        # limits, and keepalives so a dead peer is noticed on an idle connection.
        engine = create_engine(url, pool_pre_ping=True, connect_args=dict(PG_LINK_OPTIONS))
    return engine


def _sqlite_ro_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@lru_cache(maxsize=16)
def make_read_only_engine(path: str) -> Engine:
    """SQLite opened read-only and immutable: no journal, no -wal/-shm files, no locks (issue 19:
    `verify`, `list` and `search` on an archive on read-only media or a read-only share)."""
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(path)}?mode=ro&immutable=1"
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    event.listen(engine, "connect", _sqlite_ro_pragmas)
    return engine


def sqlite_path(ws) -> Path | None:
    """The SQLite file of the workspace, or None (PostgreSQL, in memory)."""
    url = ws.database_url
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return Path(url[len("sqlite:///"):])


def is_read_only(ws) -> bool:
    """An SQLite archive that cannot be written: its database file, or its folder (where SQLite
    keeps its -wal and -shm files), is not writable."""
    import os

    p = sqlite_path(ws)
    return p is not None and p.is_file() and not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK))


def engine_for(ws) -> Engine:
    if is_read_only(ws):
        return make_read_only_engine(str(sqlite_path(ws)))
    return make_engine(ws.database_url)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_MIGRATED: set[str] = set()

# The heads of migrations/versions (several branches of the schema may stand side by side; the
# database is upgraded to all of them). A database stamped with exactly these is up to date, and
# is opened without loading Alembic and its scripts: about 0.3 s of CPU saved by every command.
# A new migration adds its revision here (and drops its down_revision's); tests/test_schema.py
# checks this set against Alembic's own reading of the scripts.
SCHEMA_HEADS = frozenset({"0401", "1002", "1202", "1302", "1901", "1902", "2101", "2201", "2301", "2302", "2401", "2501", "2601"})


def stamped_heads(engine: Engine) -> set[str]:
    """The revisions the database is stamped with (empty for a new database)."""
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as conn:
        try:
            return {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
        except DBAPIError:  # no alembic_version table yet: a new database
            return set()


def migrate(ws) -> None:
    """Bring the database to the newest schema (creating it when new). Checked once per process."""
    if ws.database_url in _MIGRATED:
        return
    engine = engine_for(ws)
    if stamped_heads(engine) == SCHEMA_HEADS:
        _MIGRATED.add(ws.database_url)
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(ws.database_url)
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads and is_read_only(ws):
        from oralhist.errors import WorkspaceError

        raise WorkspaceError(sqlite_path(ws), "the database is read-only and was made by an older oralhist: "
                                              "upgrade it once on a writable copy (any command does), then read it here")
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
