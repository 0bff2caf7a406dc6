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

    from publish_helpers import public_key_of

    page = ws.site / "i" / f"{public_key_of(ws, '2001-jeanne-leroy')}.html"
    assert "voiture" in page.read_text(encoding="utf-8").lower()
    assert cli("verify").exit_code == 0


def test_a_save_and_a_restore_on_postgresql_keep_the_words_times(pg_url, tmp_path, monkeypatch):
    """The editor's save path on PostgreSQL (the driver's executemany, the base version read by the
    driver, the full-text trigger): unchanged words keep their exact times, a restore is exact."""
    from sqlmodel import select

    from editdata import make_interview
    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.editorial.corrections import old_segments, restore_version, save_version
    from oralhist.editorial.search import search
    from oralhist.recognition.align import NewSegment
    from oralhist.records import Transcript, Word

    monkeypatch.setenv("DATABASE_URL", pg_url)
    ws = init(tmp_path / "archive")
    iid = "2003-sauvegarde-pg"
    make_interview(ws, iid, strip=False)

    def words(version):
        with db.session(ws) as s:
            tr = s.exec(select(Transcript).where(Transcript.interview_id == iid, Transcript.version == version)).one()
            return [(w.start_ms, w.end_ms, w.text, w.probability)
                    for w in s.exec(select(Word).where(Word.transcript_id == tr.id).order_by(Word.idx))]

    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == iid, Transcript.version == 1)).one()
        old = old_segments(s, tr)
    texts = [o.text for o in old]
    toks = texts[0].split()
    toks[1] = "boulangerie"
    texts[0] = " ".join(toks)
    res = save_version(ws, iid, [NewSegment(t, o.speaker_id) for t, o in zip(texts, old)], base_version=1, who="x")
    assert res.version == 2 and res.stats.changed == 1 and res.stats.inserted == res.stats.deleted == 0
    v1, v2 = words(1), words(2)
    assert len(v1) == len(v2) and v2[1][2].strip() == "boulangerie" and v2[1][:2] == v1[1][:2]
    assert [w for k, w in enumerate(v2) if k != 1] == [w for k, w in enumerate(v1) if k != 1]
    with db.session(ws) as s:
        assert any(h.interview_id == iid for h in search(s, "boulangerie"))
    assert restore_version(ws, iid, 1, base_version=2, who="x").version == 3
    assert words(3) == v1
