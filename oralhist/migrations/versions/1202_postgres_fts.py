"""full-text search on PostgreSQL: French with accents folded (unaccent), GIN index, triggers

Revision ID: 1202
Revises: 1201

PostgreSQL only (on SQLite, 0401's FTS5 table does this job). ``fts_segments`` holds one
tsvector per segment (configuration ``oralhist_fr``: the French snowball stemmer after
unaccent, so "metier" finds "Métiers"), on a GIN index, kept current by a trigger on
``segment`` whatever writes segments; ``n_words`` (words of the text, stop words included, counted as FTS5 counts tokens)
lets the ranking prefer short segments as BM25 does in FTS5, (transcription, editor, import) — the same role as
the FTS5 table and its triggers.
"""
from typing import Sequence, Union

from alembic import op

revision: str = "1202"
down_revision: Union[str, Sequence[str], None] = "1201"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here verbatim (a migration must not change when the code does).
PG_FTS_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'oralhist_fr') THEN "
    "CREATE TEXT SEARCH CONFIGURATION oralhist_fr (COPY = french); "
    "ALTER TEXT SEARCH CONFIGURATION oralhist_fr ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem; "
    "END IF; END $$",
    "CREATE TABLE IF NOT EXISTS fts_segments (segment_id integer PRIMARY KEY REFERENCES segment(id) ON DELETE CASCADE, "
    "tsv tsvector NOT NULL, n_words integer NOT NULL DEFAULT 1)",
    "CREATE INDEX IF NOT EXISTS fts_segments_tsv ON fts_segments USING gin (tsv)",
    "CREATE OR REPLACE FUNCTION fts_segments_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO fts_segments (segment_id, tsv, n_words) VALUES (NEW.id, to_tsvector('oralhist_fr', NEW.text), "
    "GREATEST(1, (SELECT count(*) FROM regexp_matches(NEW.text, '\\w+', 'g')))) "
    "ON CONFLICT (segment_id) DO UPDATE SET tsv = EXCLUDED.tsv, n_words = EXCLUDED.n_words; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS fts_segments_aiu ON segment",
    "CREATE TRIGGER fts_segments_aiu AFTER INSERT OR UPDATE OF text ON segment FOR EACH ROW "
    "EXECUTE FUNCTION fts_segments_sync()",
    "INSERT INTO fts_segments (segment_id, tsv, n_words) SELECT id, to_tsvector('oralhist_fr', text), "
    "GREATEST(1, (SELECT count(*) FROM regexp_matches(text, '\\w+', 'g'))) FROM segment "
    "ON CONFLICT (segment_id) DO NOTHING",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stmt in PG_FTS_DDL:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS fts_segments_aiu ON segment")
    op.execute("DROP FUNCTION IF EXISTS fts_segments_sync()")
    op.execute("DROP TABLE IF EXISTS fts_segments")
    op.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS oralhist_fr")
