"""Full-text search over the current version of every transcript.

On SQLite: the FTS5 table ``fts_segments`` (migration 0401) indexes ``segment.text`` with the
unicode61 tokenizer folding case and accents ("metier" finds "Métier"); triggers on the
``segment`` table keep it up to date whatever writes segments (transcription, editor, import).
Results are ranked by BM25 and come with interview, time and a snippet. On PostgreSQL: the
``fts_segments`` table of tsvectors (migration 1202, French stemming after unaccent, GIN
index, kept current by a trigger), ranked by ts_rank_cd. Both rank only the first CANDIDATES
matches (a window that widens when filters leave too few hits), so a common word costs the
same at 4,000 hours as at 40. Other engines, and queries made only of stop words, use a
portable substring search.

Filters: ``trade``/``object`` keep interviews with a (not rejected) link to that term,
``speaker`` keeps segments spoken by that speaker (label or name), ``museum`` interviews of
that museum.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Optional

from sqlalchemy import text as sql
from sqlmodel import Session

from oralhist.errors import BadInput

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
TRIGGERS = ("fts_segments_ai", "fts_segments_ad", "fts_segments_au")


@dataclass(frozen=True)
class Hit:
    interview_id: str
    title: str
    start_ms: int
    end_ms: int
    snippet: str
    score: float
    speaker: Optional[str] = None
    version: Optional[int] = None
    museum: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)


def ensure_index(s: Session) -> bool:
    """Make sure the FTS table and its triggers exist (a later table rebuild by a migration drops
    triggers); rebuild the index when they had to be re-created. Returns True if repaired."""
    if s.get_bind().dialect.name != "sqlite":
        return False
    have = {r[0] for r in s.execute(sql("SELECT name FROM sqlite_master WHERE name LIKE 'fts_segments%'")).all()}
    if "fts_segments" in have and all(t in have for t in TRIGGERS):
        return False
    for stmt in FTS_DDL:
        s.execute(sql(stmt))
    reindex(s)
    s.commit()
    return True


def reindex(s: Session) -> None:
    """Rebuild the whole index from the segment table (after a restore, say)."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(sql("INSERT INTO fts_segments(fts_segments) VALUES('rebuild')"))
    elif s.get_bind().dialect.name == "postgresql":  # the same rows the trigger of migration 1202 writes
        s.execute(sql("INSERT INTO fts_segments (segment_id, tsv, n_words) SELECT id, to_tsvector('oralhist_fr', text), "
                      "GREATEST(1, (SELECT count(*) FROM regexp_matches(text, '\\w+', 'g'))) FROM segment "
                      "ON CONFLICT (segment_id) DO UPDATE SET tsv = EXCLUDED.tsv, n_words = EXCLUDED.n_words"))


_WORD = re.compile(r"\w+")


def fts_query(query: str) -> str:
    """User text -> FTS5 query: every word must appear ("quoted phrases" kept together);
    a word also finds its plural in -s (and the singular of a plural)."""
    parts = []
    for phrase, bare in re.findall(r'"([^"]*)"|(\S+)', query.replace("’", "'")):
        if phrase:
            words = _WORD.findall(phrase)
            if words:
                parts.append('"' + " ".join(words) + '"')
            continue
        for w in _WORD.findall(bare):
            if w.upper() in ("AND", "OR", "NOT", "NEAR"):
                w = w.lower()
            alts = {w}
            lw = w.lower()
            if len(lw) > 3 and lw.endswith(("s", "x")):
                alts.add(w[:-1])
            elif len(lw) > 2:
                alts.add(w + "s")
            parts.append("(" + " OR ".join(f'"{a}"' for a in sorted(alts)) + ")" if len(alts) > 1 else f'"{w}"')
    return " AND ".join(parts)


def _term_ids(s: Session, label: str, kind: str) -> list[int]:
    from sqlmodel import select

    from oralhist.records import Term, TermKind
    from oralhist.text import fold

    key = fold(label)
    rows = s.exec(select(Term).where(Term.kind == TermKind(kind))).all()
    ids = [t.id for t in rows if fold(t.label) == key or t.inventory_number == label or t.uri == label
           or any(fold(a) == key for a in (t.alt_labels or []))]
    if not ids:
        raise BadInput(label, f"no {kind} with this label in the vocabulary (see `oralhist vocab list --kind {kind}`)")
    return ids


def search(s: Session, query: str, *, trade: Optional[str] = None, object: Optional[str] = None,
           speaker: Optional[str] = None, museum: Optional[str] = None, limit: int = 20) -> list[Hit]:
    """Segments of the current transcripts matching ``query``, best first."""
    if not _WORD.search(query or ""):
        raise BadInput(query, "the search has no words")
    dialect = s.get_bind().dialect.name
    where = ["t.version = (SELECT MAX(t2.version) FROM transcript t2 WHERE t2.interview_id = t.interview_id)"]
    params: dict = {"limit": int(limit)}
    for kind, label in (("trade", trade), ("object", object)):
        if label:
            ids = _term_ids(s, label, kind)
            names = ", ".join(f":{kind}{i}" for i in range(len(ids)))
            where.append(f"t.interview_id IN (SELECT l.interview_id FROM link l WHERE l.status != 'rejected' "
                         f"AND l.term_id IN ({names}))")
            params.update({f"{kind}{i}": v for i, v in enumerate(ids)})
    if speaker:
        where.append("(LOWER(sp.label) = LOWER(:speaker) OR LOWER(sp.name) LIKE LOWER(:speaker_like) "
                     "OR LOWER(p.name) LIKE LOWER(:speaker_like))")
        params.update(speaker=speaker, speaker_like=f"%{speaker}%")
    if museum:
        where.append("LOWER(m.name) LIKE LOWER(:museum)")
        params["museum"] = f"%{museum}%"
    joins = ("JOIN transcript t ON t.id = seg.transcript_id JOIN interview i ON i.id = t.interview_id "
             "LEFT JOIN museum m ON m.id = i.museum_id LEFT JOIN speaker sp ON sp.id = seg.speaker_id "
             "LEFT JOIN person p ON p.id = sp.person_id")
    cols = ("i.id, i.title, seg.start_ms, seg.end_ms, COALESCE(p.name, sp.name, sp.label), t.version, m.name")
    if dialect == "sqlite":
        ensure_index(s)
        params["q"] = fts_query(query)
        # Rank inside the full-text index first (cheap), then join and filter only the best
        # candidates; widen the window when filters or old versions leave too few. Only the
        # first CANDIDATES matches (in segment order) are ranked, as on PostgreSQL (parity).
        # Only stop words ("de", "la"): ranking every segment of the archive says nothing useful
        # and costs seconds; take them in archive order instead.
        ranked = "rank" if not _only_stop_words(query) else "0 AS rank"
        c, k = CANDIDATES, max(50, limit * 3)  # k: how many ranked candidates are joined and filtered
        while True:
            params.update(c=c, k=k)
            stmt = (f"SELECT {cols}, seg.text, f.rank FROM (SELECT rowid, rank FROM (SELECT rowid, {ranked} "
                    f"FROM fts_segments WHERE fts_segments MATCH :q LIMIT :c) ORDER BY rank, rowid LIMIT :k) f "
                    f"JOIN segment seg ON seg.id = f.rowid {joins} "
                    f"WHERE {' AND '.join(where)} ORDER BY f.rank, seg.id LIMIT :limit")
            try:
                rows = s.execute(sql(stmt), params).all()
            except Exception as exc:  # FTS syntax the user typed
                if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
                    raise BadInput(query, f"cannot search for this ({getattr(exc, 'orig', exc)})") from None
                raise
            if len(rows) >= limit:
                break
            found = s.execute(sql("SELECT count(*) FROM (SELECT rowid FROM fts_segments WHERE fts_segments MATCH :q "
                                  "LIMIT :c + 1)"), params).scalar()
            c, k, more = _widen(found, c, k)
            if not more:
                break
        words = _query_words(query)
        return [Hit(r[0], r[1], r[2], r[3], _snip(r[7], words), round(-r[8], 4), r[4], r[5], r[6]) for r in rows]
    if dialect == "postgresql" and not _only_stop_words(query):
        hits = _search_postgres(s, query, cols, joins, where, params, limit)
        if hits is not None:
            return hits
    # Portable fallback (other engines, and queries made only of stop words): every word,
    # case-insensitive substring.
    words = _WORD.findall(query)
    for n, w in enumerate(words):
        where.append(f"LOWER(seg.text) LIKE LOWER(:w{n})")
        params[f"w{n}"] = f"%{w}%"
    stmt = f"SELECT {cols}, seg.text FROM segment seg {joins} WHERE {' AND '.join(where)} ORDER BY i.id, seg.start_ms LIMIT :limit"
    rows = s.execute(sql(stmt), params).all()
    return [Hit(r[0], r[1], r[2], r[3], _snip(r[7], _query_words(query)), 1.0, r[4], r[5], r[6]) for r in rows]


def _search_postgres(s: Session, query: str, cols: str, joins: str, where: list[str], params: dict,
                     limit: int) -> Optional[list[Hit]]:
    """PostgreSQL full-text search (migration 1202): ``oralhist_fr`` (unaccent + French stemmer,
    so plurals and accents match), ranked by ts_rank_cd with BM25's preference for short segments (as FTS5 ranks), the GIN index of ``fts_segments``
    finding the candidates. None when the query leaves no searchable word (the caller falls
    back to substrings)."""
    tsq = " & ".join(_pg_parts(query))
    if not tsq:
        return None
    params = {**params, "q": tsq}
    # The first CANDIDATES matches the GIN index gives are ranked, not all: ranking reads each
    # match's row (its tsvector), one heap page per match, which for a common word at 4,000
    # hours is 17,000 pages (issue 22: « mois » 162 ms). The LIMIT inside stops the bitmap heap
    # scan after the window; filters that leave too few hits widen it. One round trip: the
    # first row also says how many matches the window held (n) and whether the query kept
    # any word once stop words were dropped (nn), even when no hit survives the filters.
    c, k = CANDIDATES, max(50, limit * 3)  # k: how many ranked candidates are joined and filtered
    while True:
        params.update(c=c, k=k)
        stmt = (f"WITH w AS MATERIALIZED (SELECT segment_id, tsv, n_words, q FROM fts_segments, "
                f"to_tsquery('oralhist_fr', :q) q WHERE tsv @@ q LIMIT :c), "
                f"f AS (SELECT segment_id, ts_rank_cd(tsv, q) / (1 + 1.2 * (0.25 + 0.75 * n_words::float8 / 15)) "
                f"AS rank FROM w ORDER BY rank DESC, segment_id LIMIT :k) "  # ties: lowest id first, as on FTS5
                f"SELECT r.*, n.n, n.nn FROM (SELECT count(*) AS n, numnode(to_tsquery('oralhist_fr', :q)) AS nn "
                f"FROM w) n LEFT JOIN LATERAL (SELECT {cols}, seg.text, f.rank, seg.id AS sid FROM f "
                f"JOIN segment seg ON seg.id = f.segment_id {joins} "
                f"WHERE {' AND '.join(where)} ORDER BY f.rank DESC, seg.id LIMIT :limit) r ON true "
                f"ORDER BY r.rank DESC, r.sid")
        got = s.execute(sql(stmt), params).all()
        rows = [r for r in got if r[0] is not None]
        if len(rows) >= limit:
            break
        n, nn = got[0][-2], got[0][-1]
        if not n and nn == 0:
            return None  # only stop words
        c, k, more = _widen(n + (n >= c), c, k)  # a full window may hide more matches
        if not more:
            break
    words = _query_words(query)
    return [Hit(r[0], r[1], r[2], r[3], _snip(r[7], words), round(float(r[8]), 4), r[4], r[5], r[6]) for r in rows]


# How many matches are ranked at most (the first ones in index order, i.e. segment order on a
# freshly written archive), on both engines; a query matching fewer ranks them all.
CANDIDATES = 1000


def _widen(found: int, c: int, k: int) -> tuple[int, int, bool]:
    """After a pass that gave fewer hits than asked: ``found`` matches in the window of ``c``
    (``c + 1`` when the window was full), ``k`` of them ranked and filtered. (c, k, whether
    another, wider pass can find more)."""
    if found <= min(c, k) or k >= 10_000_000:
        return c, k, False
    k *= 10
    return max(c, k), k, True


def _pg_parts(query: str) -> list[str]:
    """User text -> to_tsquery parts: every word (AND), "quoted phrases" as word <-> word.
    Only letters and digits reach to_tsquery, so no user text is read as its syntax."""
    parts = []
    for phrase, bare in re.findall(r'"([^"]*)"|(\S+)', query.replace("’", "'")):
        words = _WORD.findall(phrase or bare)
        if not words:
            continue
        if phrase:
            parts.append("(" + " <-> ".join(words) + ")")
        else:
            parts.extend(words)
    return parts


def _only_stop_words(query: str) -> bool:
    """True when every word of the query is among the most frequent French words."""
    words = _WORD.findall(query)
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover
        return False
    return bool(words) and all(zipf_frequency(w, "fr") >= 6.0 for w in words)


def _fold(w: str) -> str:
    import unicodedata

    w = unicodedata.normalize("NFKD", w.lower())
    return "".join(c for c in w if not unicodedata.combining(c))


def _query_words(query: str) -> set[str]:
    out = set()
    for w in _WORD.findall(query.replace("’", "'")):
        f = _fold(w)
        out.add(f)
        out.add(f[:-1] if len(f) > 3 and f.endswith(("s", "x")) else f + "s")
    return out


def _snip(text: str, words: set[str], context: int = 12) -> str:
    """The words of the query in [brackets], with ``context`` words around the first one."""
    toks = list(re.finditer(r"\w+", text))
    hits = [i for i, m in enumerate(toks) if _fold(m.group(0)) in words]
    if not toks:
        return text
    first = hits[0] if hits else 0
    a, b = max(0, first - context), min(len(toks) - 1, first + 2 * context)
    start, end = toks[a].start(), toks[b].end()
    out, pos = [], start
    for i in hits:
        if a <= i <= b:
            m = toks[i]
            out.append(text[pos:m.start()] + "[" + m.group(0) + "]")
            pos = m.end()
    out.append(text[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text.rstrip(" .!?…")) else "")
