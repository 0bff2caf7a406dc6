"""full-text index of transcript segments (fts_segments, SQLite FTS5) kept up to date by triggers

Revision ID: 0401
Revises: 0001
Create Date: 2026-11-25 13:55:00

On SQLite: an external-content FTS5 table over ``segment.text`` with the unicode61 tokenizer
folding case and accents (remove_diacritics 2), plus triggers so that every insert, update
or delete of a segment (transcription, editor saves) updates the index. On other engines
(PostgreSQL) nothing is created: ``oralhist.editorial.search`` falls back to ILIKE.
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0401"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Kept here verbatim (a migration must not change when the code does); oralhist.editorial.search has
# the same statements to repair the triggers if a later table rebuild drops them.
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts_segments USING fts5(text, content='segment', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS fts_segments_ai AFTER INSERT ON segment BEGIN "
    "INSERT INTO fts_segments(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS fts_segments_ad AFTER DELETE ON segment BEGIN "
    "INSERT INTO fts_segments(fts_segments, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS fts_segments_au AFTER UPDATE OF text ON segment BEGIN "
    "INSERT INTO fts_segments(fts_segments, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO fts_segments(rowid, text) VALUES (new.id, new.text); END",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for stmt in FTS_DDL:
        op.execute(stmt)
    op.execute("INSERT INTO fts_segments(fts_segments) VALUES('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for t in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS fts_segments_{t}")
    op.execute("DROP TABLE IF EXISTS fts_segments")
