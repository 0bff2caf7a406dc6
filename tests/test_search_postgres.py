"""PostgreSQL full-text search (French, accents folded, ranked, GIN) against SQLite FTS5: the
same texts and queries give the same results, accents and plurals included."""

from __future__ import annotations

from _link_helpers import corpus_text, make_interview

EXTRA = {
    "m": ["Les métiers du textile ont disparu de la vallée après la guerre",
          "Mon père était mineur, un métier dur et mal payé",
          "On fabriquait des casseroles en cuivre à la main dans l'atelier"],
    "n": ["Les fours à chaux fumaient jour et nuit près de l'école",
          "Le forgeron réparait les outils des paysans et les écoles lui commandaient des grilles",
          "Au Musée on garde une casserole de cuivre et deux fours"],
}
QUERIES = ["metier", "métiers", "METIERS", "casserole", "casseroles cuivre", "ecole", "écoles", "four", "fours",
           "accident malveillant", "heurte", "rugissement tigre", '"rugissement du tigre"', "athlete", "interets",
           "forgeron outils", "vallee", "chercheurs université", "grille", "paysan", "montagneux terrain"]


def _build(ws, corpus):
    fleurs = [corpus_text(corpus, f"fleurs_fr_00{n}") for n in (0, 1, 2, 3, 4, 5, 6, 8)]
    make_interview(ws, "a", fleurs[:4], museum="Musée de la Mine", speaker="Marcel")
    make_interview(ws, "b", fleurs[4:], museum="La Manufacture", speaker="Jeanne")
    for iid, sentences in EXTRA.items():
        make_interview(ws, iid, sentences)


def _results(ws) -> dict:
    from oralhist import db
    from oralhist.editorial.search import search

    out = {}
    with db.session(ws) as s:
        assert s.get_bind().dialect.name in ("sqlite", "postgresql")
        for q in QUERIES:
            hits = search(s, q, limit=50)
            out[q] = [(h.interview_id, h.start_ms) for h in hits]
    return out


def test_postgresql_search_matches_sqlite_fts5(ws, corpus, tmp_path, pg_fresh, monkeypatch):
    from oralhist import db
    from oralhist.editorial.search import search
    from oralhist.archive.workspace import init

    _build(ws, corpus)
    lite = _results(ws)
    monkeypatch.setenv("DATABASE_URL", pg_fresh)
    pws = init(tmp_path / "pg-archive")
    _build(pws, corpus)
    with db.engine_for(pws).connect() as conn:  # the GIN index on the trigger-kept tsvectors is there
        assert conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'fts_segments_tsv'").scalar() \
            .lower().count("gin") == 1
    pg = _results(pws)
    differ = [(q, lite[q], pg[q]) for q in QUERIES if sorted(pg[q]) != sorted(lite[q]) or pg[q][:1] != lite[q][:1]]
    assert all(lite[q] for q in QUERIES)
    assert differ == [], "\n".join(f"{q!r}: FTS5 {a} PG {b}" for q, a, b in differ)
    # accents and plurals both ways, explicitly
    assert ("m", 0) in pg["metier"] and len([h for h in pg["metier"] if h[0] == "m"]) == 2
    assert {i for i, _ in pg["fours"]} == {"n"} and len(pg["four"]) == 2
    with db.session(pws) as s:
        hits = search(s, "casseroles cuivre")
        assert "[casseroles]" in hits[0].snippet or "[casserole]" in hits[0].snippet
        assert search(s, "le")  # only stop words: still answered (substring search)
        assert search(s, "cuivre", museum="Manufacture") == []
        # kept current: an editor's change of a segment's text is searchable at once
        from sqlmodel import select

        from oralhist.records import Segment

        seg = s.exec(select(Segment).where(Segment.text.contains("forgeron"))).first()
        seg.text = "Le maréchal-ferrant réparait les outils"
        s.add(seg)
        s.commit()
        assert [h.interview_id for h in search(s, "marechal")] == ["n"]
        assert search(s, "forgeron") == []
        # a rebuild (after a restore) gives the same answers
        from sqlalchemy import text

        from oralhist.editorial.search import reindex

        s.execute(text("DELETE FROM fts_segments"))
        assert search(s, "marechal") == []
        reindex(s)
        s.commit()
        assert [h.interview_id for h in search(s, "marechal")] == ["n"]
