"""Doubtful words: the rule that picks the recognised words an editor should check first (issue 23).

Each recognised word gets a score from what is known about it, and is ``doubtful`` when the
score reaches the threshold calibrated for the model that heard it:

* Whisper's word probability (low: doubtful);
* the hallucination guard's scores of its segment: a kept-but-flagged segment, its average
  log-probability and its no-speech probability;
* its duration for its length: a word said in far less (or far more) time than its letters need;
* the language's lexicon: a word rare or absent in wordfreq's list of the interview's language
  (the ``wordfreq`` package, already a dependency of linking), unless it is one of the archive's
  own names (people, places, museums, vocabulary labels and their alternative labels);
* digits, where speech has words (Whisper writes « 110 » for what was said).

The weights are a logistic regression fitted per model on the shipped corpus by
``bench/bench_doubts.py`` and stored in ``oralhist/data/doubts/<model>.json`` with the
precision/recall curve they were chosen from (docs/doubts.md). A word an editor typed or
changed carries no probability (realignment gives it none): it is not doubtful. A word an
editor confirmed (``WordCheck``) is not doubtful either, in this and every later version.

It lives in ``editorial/`` rather than ``recognition/`` because two of its inputs are editorial:
the archive's names and vocabularies, and the editors' confirmations.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Sequence

FEATURES = ("improbable", "flagged", "logprob", "no_speech", "too_short", "too_long", "rare", "unknown", "digits")
DATA = Path(__file__).resolve().parents[1] / "data" / "doubts"
DEFAULT_MODEL = "base"
_LETTER = re.compile(r"\w", re.U)
_EDGE = re.compile(r"^[\W_]+|[\W_]+$", re.U)
_APOS = re.compile(r"['’‘ʼ]")


@dataclass(frozen=True)
class Rule:
    """Weights (one per FEATURES name), bias and threshold of the logistic score, for one model."""

    model: str
    weights: dict
    bias: float
    threshold: float
    calibrated_on: dict = field(default_factory=dict)

    def score(self, x: Sequence[float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * v for name, v in zip(FEATURES, x))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass(frozen=True)
class SegInfo:
    """What the guard knows about a word's segment."""

    flag: Optional[str] = None
    avg_logprob: Optional[float] = None
    no_speech_prob: Optional[float] = None


def model_key(model: Optional[str]) -> str:
    """The calibration file name of a model label (« whisper base (…) » → ``base``)."""
    m = (model or DEFAULT_MODEL).strip().lower()
    for name in ("large-v3-turbo", "large-v3", "large-v2", "large", "medium", "small", "tiny", "base"):
        if name in m:
            return name + (".en" if f"{name}.en" in m else "")
    return re.sub(r"[^a-z0-9.-]+", "_", m)[:60] or DEFAULT_MODEL


@lru_cache(maxsize=16)
def load_rule(model: Optional[str] = None) -> Rule:
    """The calibrated rule of ``model``; a model never calibrated uses the default model's rule."""
    key = model_key(model)
    path = DATA / f"{key}.json"
    if not path.is_file():
        path = DATA / f"{DEFAULT_MODEL}.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    return Rule(d["model"], dict(d["weights"]), float(d["bias"]), float(d["threshold"]), d.get("calibrated_on", {}))


def fold_word(text: str) -> str:
    """A word's key: case, accents and edge punctuation removed (« Roubé, » → ``roube``)."""
    t = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe"))
    t = "".join(c for c in t if not unicodedata.combining(c)).casefold()
    return _EDGE.sub("", t.strip())


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    try:
        return zipf_frequency(word, lang)
    except (LookupError, ValueError):  # a language wordfreq does not know: no lexicon evidence
        return 4.0


def lexicon_frequency(text: str, language: Optional[str]) -> float:
    """wordfreq's Zipf frequency of a word in the language (0: not in its list; 3: once per million)."""
    lang = (language or "fr").split("-")[0].lower()
    core = _EDGE.sub("", text.strip()).lower()
    if not core or not _LETTER.search(core):
        return 4.0
    parts = [p for p in _APOS.split(core) if p]  # l'usine: the word after the elision decides
    return _zipf(parts[-1] if len(parts) > 1 and len(parts[0]) <= 2 else core, lang)


def text_part(text: str, language: Optional[str], known: frozenset = frozenset()) -> tuple:
    """What depends on the word's text alone: (letters, folded key, Zipf frequency, digits 0/1)."""
    letters = max(1, len(_LETTER.findall(text)))
    key = fold_word(text)
    zipf = 4.0 if key in known else lexicon_frequency(text, language)
    digits = 1.0 if any(c.isdigit() for c in text) else 0.0
    return letters, key, zipf, digits


def features(text: str, start_ms: int, end_ms: int, probability: Optional[float], seg: SegInfo,
             language: Optional[str], known: frozenset = frozenset(), part: Optional[tuple] = None) -> list[float]:
    """The FEATURES of one recognised word, in order (``part``: its ``text_part``, when known)."""
    p = 1.0 if probability is None else max(0.0, min(1.0, float(probability)))
    letters, _key, zipf, digits = part or text_part(text, language, known)
    per = max(1, end_ms - start_ms) / letters
    return [
        1.0 - p,
        1.0 if seg.flag else 0.0,
        min(3.0, max(0.0, -(seg.avg_logprob or 0.0))),
        max(0.0, min(1.0, seg.no_speech_prob or 0.0)),
        max(0.0, math.log(25.0 / per)) if letters >= 2 else 0.0,  # under 25 ms a letter
        max(0.0, math.log(per / 300.0)),  # over 300 ms a letter
        0.0 if digits else max(0.0, 3.5 - zipf) / 3.5,
        1.0 if zipf == 0.0 and not digits else 0.0,
        digits,
    ]


def judge(words: Iterable[tuple], seg_of: dict, language: Optional[str], rule: Rule,
          known: frozenset = frozenset(), confirmed: frozenset = frozenset()) -> list[bool]:
    """``doubtful`` for each word (start_ms, end_ms, text, probability, segment key), in order.

    A word without probability (typed by an editor) and a confirmed word (start_ms, folded
    text) are never doubtful. The same score as ``rule.score(features(...))``, worked out in
    parts: a transcript says the same few thousand words again and again (the text's part once
    per distinct text) in a few hundred segments (the segment's part once per segment)."""
    wt = dict(zip(FEATURES, (rule.weights.get(name, 0.0) for name in FEATURES)))
    t = min(max(rule.threshold, 1e-12), 1 - 1e-12)
    z_min = math.log(t / (1 - t)) - rule.bias  # score >= threshold  <=>  logit >= logit(threshold)
    texts: dict[str, tuple] = {}
    segs: dict = {}
    w_p, w_short, w_long = wt["improbable"], wt["too_short"], wt["too_long"]
    out = []
    for start, end, text, prob, sk in words:
        tp = texts.get(text)
        if tp is None:
            letters, key, zipf, digits = text_part(text, language, known)
            z = (wt["rare"] * (0.0 if digits else max(0.0, 3.5 - zipf) / 3.5)
                 + wt["unknown"] * (1.0 if zipf == 0.0 and not digits else 0.0) + wt["digits"] * digits)
            tp = texts[text] = (letters, key, z)
        if prob is None or (confirmed and (start, tp[1]) in confirmed):
            out.append(False)
            continue
        sz = segs.get(sk)
        if sz is None:
            g = seg_of.get(sk) or SegInfo()
            sz = segs[sk] = (wt["flagged"] * (1.0 if g.flag else 0.0)
                             + wt["logprob"] * min(3.0, max(0.0, -(g.avg_logprob or 0.0)))
                             + wt["no_speech"] * max(0.0, min(1.0, g.no_speech_prob or 0.0)))
        z = tp[2] + sz + w_p * (1.0 - max(0.0, min(1.0, prob)))
        per = max(1, end - start) / tp[0]
        if per < 25.0 and tp[0] >= 2:
            z += w_short * math.log(25.0 / per)
        elif per > 300.0:
            z += w_long * math.log(per / 300.0)
        out.append(z >= z_min)
    return out


# ---------------------------------------------------------------------------- the archive's side


def known_names(s, interview_id: Optional[str] = None) -> frozenset:
    """Folded words of the archive's names: people, places, museums, vocabulary labels."""
    from sqlmodel import select

    from oralhist.records import Interview, Museum, Person, Term

    texts: list[str] = []
    texts += [n for n in s.exec(select(Person.name)).all() if n]
    texts += [n for n in s.exec(select(Museum.name)).all() if n]
    texts += [n for n in s.exec(select(Museum.place)).all() if n]
    for label, alts in s.exec(select(Term.label, Term.alt_labels)).all():
        texts.append(label or "")
        texts += [a for a in (alts or []) if isinstance(a, str)]
    if interview_id is not None:
        iv = s.get(Interview, interview_id)
        if iv is not None:
            texts += [iv.place or "", iv.title or ""]
    words = {fold_word(w) for t in texts for w in re.split(r"[\s'’\-]+", t)}
    return frozenset(w for w in words if w)


def confirmed_words(s, interview_id: str) -> frozenset:
    """(start_ms, folded text) of the words editors confirmed in this interview."""
    from sqlmodel import select

    from oralhist.records import WordCheck

    return frozenset(s.exec(select(WordCheck.start_ms, WordCheck.text).where(WordCheck.interview_id == interview_id)).all())


def judged_words(s, tr) -> tuple[list[tuple], list[bool]]:
    """The words of a Transcript row (id, start_ms, end_ms, text, probability, segment id) in order,
    and ``doubtful`` for each: two queries through the driver (a 3-hour transcript has 30,000 words)."""
    conn = s.connection()
    tid = int(tr.id)
    segs = {sid: SegInfo(fl, lp, ns) for sid, fl, lp, ns in conn.exec_driver_sql(
        f"SELECT id, flag, avg_logprob, no_speech_prob FROM segment WHERE transcript_id = {tid}").fetchall()}
    rows = [tuple(r) for r in conn.exec_driver_sql(
        "SELECT id, start_ms, end_ms, text, probability, segment_id FROM word "
        f"WHERE transcript_id = {tid} ORDER BY idx").fetchall()]
    flags = judge([r[1:] for r in rows], segs, tr.language, load_rule(tr.model),
                  known_names(s, tr.interview_id), confirmed_words(s, tr.interview_id))
    return rows, flags


def transcript_doubts(s, tr) -> dict[int, bool]:
    """``doubtful`` of every word of a Transcript row, by word id."""
    rows, flags = judged_words(s, tr)
    return {r[0]: f for r, f in zip(rows, flags)}


def doubtful_keys(s, tr) -> set:
    """(start_ms, text) of the doubtful words of a Transcript row (the editor marks its tokens with it)."""
    rows, flags = judged_words(s, tr)
    return {(r[1], r[3]) for r, f in zip(rows, flags) if f}


def view_doubts(s, interview_id: str, version: Optional[int]) -> list[list[bool]]:
    """``doubtful`` per word per segment of one version, in the order of the read model's segments."""
    from sqlmodel import select

    from oralhist.records import Segment, Transcript

    if version is None:
        return []
    tr = s.exec(select(Transcript).where(Transcript.interview_id == interview_id,
                                         Transcript.version == version)).first()
    if tr is None:
        return []
    rows, flags = judged_words(s, tr)
    by_seg: dict[int, list[bool]] = {}
    for r, f in zip(rows, flags):
        by_seg.setdefault(r[5], []).append(f)
    return [by_seg.get(sid, []) for sid in s.exec(select(Segment.id).where(Segment.transcript_id == tr.id)
                                                   .order_by(Segment.idx)).all()]


def confirm(ws, interview_id: str, words: Sequence[tuple[int, int]], *, who: str) -> int:
    """Record the recognised words between each (start_ms, end_ms) as confirmed right (the editor's
    word may be several recognised pieces: « d » + « 'accord »); returns how many were new.

    ``BadInput`` for a span that holds no word of the interview's newest version (nothing written)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.errors import BadInput, NotFound
    from oralhist.records import Word, WordCheck, utcnow
    from oralhist.editorial.view import current_transcript

    if not words:
        raise BadInput(interview_id, "no word to confirm")
    if len(words) > 10_000:
        raise BadInput(interview_id, "more than 10 000 words to confirm at once; nothing confirmed")
    with db.session(ws) as s:
        tr = current_transcript(s, interview_id)
        if tr is None:
            raise NotFound(interview_id, "no transcript yet")
        rows = s.exec(select(Word.start_ms, Word.end_ms, Word.text).where(Word.transcript_id == tr.id)
                      .order_by(Word.start_ms)).all()
        starts = [r[0] for r in rows]
        done = set(confirmed_words(s, interview_id))
        new = 0
        import bisect

        for start, end in words:
            start, end = int(start), int(end)
            k = bisect.bisect_left(starts, start)
            hit = [r for r in rows[k:k + 64] if r[0] < max(end, start + 1)]
            if not hit:
                raise BadInput(interview_id, f"no recognised word at {start} ms in version {tr.version}; nothing confirmed")
            for a, b, text in hit:
                key = (a, fold_word(text))
                if key in done:
                    continue
                done.add(key)
                s.add(WordCheck(interview_id=interview_id, start_ms=a, end_ms=b, text=key[1], who=who, at=utcnow()))
                new += 1
        s.commit()
        return new
