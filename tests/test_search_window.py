"""Search ranks only a window of the first CANDIDATES matches (issue 22 item 4: a common word
no longer reads every match's row on PostgreSQL), on both engines alike, and still finds hits
beyond the window when a filter needs them."""

from __future__ import annotations

import json

import pytest
from _link_helpers import make_interview

FILLER = ["usine", "atelier", "machine", "ouvrier", "fonderie"]
WINDOW = 50  # CANDIDATES for the test; 300 matches, the ones beyond the window in interview "b"


def _texts(n: int, shift: int = 0) -> list[str]:
    # every segment has 6 words; "mois" 1, 2 or 3 times: the rank order is the same on both engines
    out = []
    for i in range(n):
        r = 1 + (i + shift) % 3
        out.append(" ".join(["mois"] * r + FILLER[:6 - r]))
    return out


def _build(ws):
    make_interview(ws, "a", _texts(200), museum="Musée A", words=False)
    make_interview(ws, "b", _texts(100, shift=1), museum="Musée B", words=False)


def _hits(ws, **kw) -> list[tuple[str, int]]:
    from oralhist import db
    from oralhist.editorial.search import search

    with db.session(ws) as s:
        return [(h.interview_id, h.start_ms) for h in search(s, "mois", **kw)]


@pytest.fixture()
def window(monkeypatch):
    from oralhist.editorial import search

    monkeypatch.setattr(search, "CANDIDATES", WINDOW, raising=False)


def _ranked_rows(pws, statements: list) -> int:
    """Rows the ranking statement read from fts_segments, from EXPLAIN ANALYZE of the very
    statement search() ran."""
    from oralhist import db

    stmt, params = next((st, p) for st, p in statements if "ts_rank_cd" in st)
    with db.engine_for(pws).connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + stmt, params).scalar()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    rows, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        if node.get("Relation Name") == "fts_segments":
            rows.append(node["Actual Rows"])
        todo.extend(node.get("Plans", []))
    assert rows, "the ranking statement does not read fts_segments"
    return max(rows)


def test_common_word_ranks_a_window_on_both_engines(ws, tmp_path, pg_fresh, monkeypatch, window):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from oralhist.archive.workspace import init

    _build(ws)
    lite = {"all": _hits(ws), "b": _hits(ws, museum="Musée B", limit=50)}
    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    pws = init(tmp_path / "pg-archive")
    _build(pws)
    statements: list = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        pg = {"all": _hits(pws), "b": _hits(pws, museum="Musée B", limit=50)}
    finally:
        event.remove(Engine, "before_cursor_execute", keep)
    # 300 segments say "mois": PostgreSQL ranks at most the window (the old code read all 300)
    assert _ranked_rows(pws, statements) <= WINDOW
    assert len(pg["all"]) == 20 and len(lite["all"]) == 20
    # the window is the first matches: interview "a" only; and the same hits on both engines
    assert {i for i, _ in pg["all"]} == {"a"}
    assert pg["all"] == lite["all"]
    # a filter that leaves nothing in the window widens it: all 50 of b's segments, both engines
    assert len(pg["b"]) == 50 and {i for i, _ in pg["b"]} == {"b"}
    assert sorted(pg["b"]) == sorted(lite["b"])
