"""Alembic environment: runs on the connection handed over by oralhist.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

from oralhist import records  # noqa: F401

target_metadata = SQLModel.metadata
config = context.config


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is None:
        from oralhist.db import make_engine

        with make_engine(config.get_main_option("sqlalchemy.url")).begin() as conn:
            _run(conn)
    else:
        _run(conn)


def include_name(name, type_, parent_names) -> bool:
    """Full-text tables (fts_*) are built by hand in migrations, not from records.py."""
    return not (type_ == "table" and name and name.startswith("fts_"))


def _run(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
