"""A topic index like the one an OHMS indexer writes: segments with title, synopsis, keywords.

From the current transcript:

1. **Sentences**: segment texts cut at . ? ! … (a sentence without an ending runs on into the
   next segment of the same speaker); their times come from the words.
2. **Lexical cohesion** (TextTiling, Hearst 1997): each sentence becomes a bag of French
   lemmas (``simplemma``; stop words from YAKE's list dropped). At every gap between two
   sentences the cosine similarity of the blocks before and after is computed, smoothed, and
   turned into a depth score (how deep the valley is between the peaks on either side).
3. **Boundaries**: the deepest gaps, at least a minimum length apart, about ``per_hour`` (10)
   segments per hour and at least one segment. A gap where another speaker starts, or where a
   question starts (the interviewer's questions first), gets a bonus: indexers cut there.
4. **Each segment**: keywords by YAKE (``yake``), an extractive synopsis (its most central
   sentences by lemma cosine similarity), a title from the top keywords, and the partial
   transcript (its opening words).

``index_interviews`` stores them as a new TopicSegment version (source ``machine``). A re-run
skips done interviews; an index saved by an editor (source ``editor``) is never replaced by a
re-run, and ``--force`` adds a new machine version beside it rather than touching it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from oralhist.progress import NULL, Progress
from oralhist.stage import StageReport

STAGE = "index"
PER_HOUR = 10
_END = re.compile(r"(?<=[.!?…])[\"»)\]]*\s+")
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Sentence:
    start_ms: int
    end_ms: int
    text: str
    speaker: Optional[str] = None  # label
    new_turn: bool = False  # another speaker starts here
    question: bool = False
    by_interviewer: bool = False


@dataclass(frozen=True)
class Topic:
    start_ms: int
    end_ms: int
    title: str
    synopsis: str
    keywords: tuple[str, ...]
    partial_transcript: str

    def to_dict(self) -> dict:
        return {"start_ms": self.start_ms, "end_ms": self.end_ms, "title": self.title, "synopsis": self.synopsis,
                "keywords": list(self.keywords), "partial_transcript": self.partial_transcript}


# ---------------------------------------------------------------- sentences


def _split_text_times(text: str, start_ms: int, end_ms: int, words=()) -> list[tuple[int, int, str]]:
    """Cut a segment's text into sentences, each with times (from its words when known)."""
    parts = [p.strip() for p in _END.split(text.strip()) if p.strip()]
    if len(parts) <= 1:
        return [(start_ms, end_ms, text.strip())] if text.strip() else []
    out = []
    if words:
        # walk the words: each sentence takes as many words as it has tokens
        wi = 0
        for k, p in enumerate(parts):
            n = max(1, len(p.split()))
            chunk = words[wi : wi + n] if k < len(parts) - 1 else words[wi:]
            if chunk:
                out.append((chunk[0].start_ms, chunk[-1].end_ms, p))
            else:
                last = out[-1][1] if out else start_ms
                out.append((last, max(last, end_ms), p))
            wi += n
        return out
    total = sum(len(p) for p in parts) or 1
    pos = start_ms
    for p in parts:
        dur = (end_ms - start_ms) * len(p) / total
        out.append((int(pos), int(pos + dur), p))
        pos += dur
    return out


def sentences_from_segments(segments: Sequence, interviewers: Sequence[str] = ()) -> list[Sentence]:
    """Sentences of a transcript (SegmentView-like objects: start_ms, end_ms, text, speaker, words)."""
    out: list[Sentence] = []
    pending: Optional[list] = None  # [start, end, text, speaker, new_turn]
    prev_speaker = None

    def flush():
        nonlocal pending
        if pending:
            st, en, tx, spk, turn = pending
            out.append(Sentence(st, en, tx, spk, turn, tx.rstrip(" »\"").endswith("?"), spk in interviewers))
        pending = None

    for sg in segments:
        spk = getattr(sg, "speaker", None)
        if spk != prev_speaker or (pending and sg.start_ms - pending[1] > 3000):
            flush()
        turn_start = spk is not None and prev_speaker is not None and spk != prev_speaker
        for k, (st, en, tx) in enumerate(_split_text_times(sg.text, sg.start_ms, sg.end_ms, getattr(sg, "words", ()))):
            if pending is not None:
                pending[1] = en
                pending[2] = f"{pending[2]} {tx}"
            else:
                pending = [st, en, tx, spk, turn_start and k == 0]
            if re.search(r"[.!?…][\"»)\]]*$", tx):
                flush()
        prev_speaker = spk
    flush()
    return out


# ---------------------------------------------------------------- lemmas


@lru_cache(maxsize=8)
def stopwords(language: str) -> frozenset[str]:
    from importlib import resources

    words: set[str] = set()
    for lang in (language, "noLang"):
        try:
            txt = resources.files("yake.core").joinpath("StopwordsList", f"stopwords_{lang}.txt").read_text(
                encoding="utf-8", errors="ignore")
        except (FileNotFoundError, ModuleNotFoundError, OSError):
            continue
        words.update(w.strip().lower() for w in txt.splitlines() if w.strip())
    # spoken French fillers and very common verbs that carry no topic
    if language == "fr":
        words.update("euh ben bah hein ouais oui non voilà alors donc quoi enfin bon ah oh mh hum "
                     "être avoir faire dire aller voir savoir pouvoir falloir vouloir venir mettre prendre "
                     "chose truc gens fois peu beaucoup aussi toujours jamais rien tout tous".split())
    return frozenset(words)


def lemmas(text: str, language: str = "fr") -> list[str]:
    import simplemma

    stop = stopwords(language)
    out = []
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        for part in tok.split("'"):
            if len(part) < 3 or part in stop:
                continue
            try:
                lem = simplemma.lemmatize(part, lang=language).lower()
            except ValueError:  # a language simplemma does not know
                lem = part
            if len(lem) >= 3 and lem not in stop:
                out.append(lem)
    return out


def _vector(bags: Sequence[dict]) -> dict:
    v: dict[str, float] = {}
    for b in bags:
        for k, c in b.items():
            v[k] = v.get(k, 0.0) + c
    return v


def _cos(a: dict, b: dict) -> float:
    if not a or not b:
        return 0.0
    num = sum(c * b.get(k, 0.0) for k, c in a.items())
    den = np.sqrt(sum(c * c for c in a.values()) * sum(c * c for c in b.values()))
    return float(num / den) if den else 0.0


# ---------------------------------------------------------------- segmentation


def gap_scores(bags: Sequence[dict], block: int) -> np.ndarray:
    """Depth score of each gap (between sentence i-1 and i, i = 1..n-1), TextTiling-style."""
    n = len(bags)
    if n < 2:
        return np.zeros(0)
    counts = [sum(b.values()) for b in bags]
    sims = np.zeros(n - 1)
    for i in range(1, n):
        left, got, j = [], 0, i - 1
        while j >= 0 and got < block:
            left.append(bags[j])
            got += counts[j]
            j -= 1
        right, got, j = [], 0, i
        while j < n and got < block:
            right.append(bags[j])
            got += counts[j]
            j += 1
        sims[i - 1] = _cos(_vector(left), _vector(right))
    if len(sims) >= 3:
        sm = np.convolve(np.pad(sims, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    else:
        sm = sims
    depth = np.zeros_like(sm)
    for i in range(len(sm)):
        lp = sm[i]
        for j in range(i - 1, -1, -1):
            if sm[j] < lp:
                break
            lp = sm[j]
        rp = sm[i]
        for j in range(i + 1, len(sm)):
            if sm[j] < rp:
                break
            rp = sm[j]
        depth[i] = (lp - sm[i]) + (rp - sm[i])
    return depth


def choose_boundaries(sentences: Sequence[Sentence], *, n_segments: int, language: str = "fr",
                      min_ms: Optional[int] = None) -> list[int]:
    """Indices of the sentences that start a new topic segment (0 excluded), in order."""
    n = len(sentences)
    if n_segments <= 1 or n < 2:
        return []
    bags = []
    for s in sentences:
        b: dict[str, float] = {}
        for lem in lemmas(s.text, language):
            b[lem] = b.get(lem, 0.0) + 1.0
        bags.append(b)
    total = sum(sum(b.values()) for b in bags)
    block = int(np.clip(total / (n_segments * 3), 10, 150))
    depth = gap_scores(bags, block)
    duration = sentences[-1].end_ms - sentences[0].start_ms
    if min_ms is None:
        min_ms = int(max(20_000, 0.4 * duration / n_segments)) if duration > 120_000 else int(0.4 * duration / n_segments)
    score = depth.copy()
    for i in range(1, n):
        s = sentences[i]
        bonus = 0.0
        if s.question:
            bonus += 0.06 if s.by_interviewer else 0.03
        if s.new_turn:
            bonus += 0.04 if s.by_interviewer else 0.02
        score[i - 1] += bonus
    chosen: list[int] = []
    for g in np.argsort(-score, kind="stable"):
        i = _snap(sentences, int(g) + 1)
        t = sentences[i].start_ms
        if t - sentences[0].start_ms < min_ms or sentences[-1].end_ms - t < min_ms:
            continue
        if any(abs(t - sentences[c].start_ms) < min_ms for c in chosen):
            continue
        chosen.append(i)
        if len(chosen) >= n_segments - 1:
            break
    return sorted(chosen)


def _snap(sentences: Sequence[Sentence], i: int) -> int:
    """Move a boundary back onto the question that opens the new topic (up to 2 sentences)."""
    for _ in range(2):
        if i - 1 <= 0:
            break
        prev = sentences[i - 1]
        asked = prev.question and (prev.by_interviewer or prev.speaker != sentences[i].speaker)
        if not asked:
            break
        i -= 1
    # a turn of the same speaker that began with a question: start at that turn's question
    return i


def target_segments(duration_ms: int, per_hour: float = PER_HOUR) -> int:
    return max(1, int(round(duration_ms / 3_600_000 * per_hour)))


# ---------------------------------------------------------------- describing a segment


def keywords(text: str, language: str = "fr", top: int = 6) -> list[str]:
    import yake

    text = " ".join(text.split())
    if len(text) < 3:
        return []
    try:
        kw = yake.KeywordExtractor(lan=language, n=2, top=top * 2, dedup_lim=0.7)
    except TypeError:  # older yake spells it dedupLim
        kw = yake.KeywordExtractor(lan=language, n=2, top=top * 2, dedupLim=0.7)
    stop = stopwords(language)
    out: list[str] = []
    seen: set[str] = set()
    for phrase, _score in kw.extract_keywords(text):
        words = phrase.split()
        lem = lemmas(phrase, language)
        # every word must carry content: "fois d'après" or "crois qu'elle" are not keywords
        if not lem or len(lem) < len(words) or any(w.lower() in stop for w in words):
            continue
        key = " ".join(lem)
        # "montagneux" after "terrain montagneux" (or the reverse) says nothing new
        if key in seen or any(set(lem) <= set(k.split()) or set(k.split()) <= set(lem) for k in seen):
            continue
        seen.add(key)
        out.append(phrase)
        if len(out) >= top:
            break
    return out


def synopsis(sentences: Sequence[Sentence], language: str = "fr", max_sentences: int = 2, max_chars: int = 400) -> str:
    """The most central sentences of the segment (cosine similarity of lemma bags), in order."""
    if not sentences:
        return ""
    bags = []
    for s in sentences:
        b: dict[str, float] = {}
        for lem in lemmas(s.text, language):
            b[lem] = b.get(lem, 0.0) + 1.0
        bags.append(b)
    # sum of cosines to every other sentence = u_i . (sum of unit vectors - u_i): linear, not
    # one cosine per pair (a 5-minute topic has ~70 sentences, a re-derive after a save must be fast)
    units = []
    for b in bags:
        norm = float(np.sqrt(sum(c * c for c in b.values())))
        units.append({k: c / norm for k, c in b.items()} if norm else {})
    total: dict[str, float] = {}
    for u in units:
        for k, c in u.items():
            total[k] = total.get(k, 0.0) + c
    centrality = [sum(c * total[k] for k, c in u.items()) - sum(c * c for c in u.values()) if u else 0.0
                  for u in units]
    # prefer sentences with content over fillers and the interviewer's questions
    order = sorted(range(len(sentences)), key=lambda i: (-(centrality[i] + 0.01 * min(len(bags[i]), 10)
                                                          - (0.5 if sentences[i].question else 0.0)), i))
    picked: list[int] = []
    length = 0
    for i in order:
        if len(picked) >= max_sentences:
            break
        if length + len(sentences[i].text) > max_chars and picked:
            continue
        picked.append(i)
        length += len(sentences[i].text)
    text = " ".join(sentences[i].text for i in sorted(picked))
    return text if len(text) <= max_chars else text[: max_chars - 1].rsplit(" ", 1)[0] + " …"


# Noun phrases for titles (French): a determiner opens a phrase, content words and "de / à /
# en" links continue it ("la sortie de piste", "le rugissement du tigre"), a stop word or a
# conjugated verb ends it. No tagger: simplemma tells a verb form (its lemma is an infinitive).
_NP_DET = {"le": "le", "la": "la", "les": "les", "l'": "l'", "un": "un", "une": "une", "du": "le", "des": "les",
           "au": "le", "aux": "les", "ce": "le", "cet": "l'", "cette": "la", "ces": "les", "son": "le", "sa": "la",
           "ses": "les", "mon": "mon", "ma": "ma", "mes": "mes", "notre": "notre", "nos": "nos", "leur": "leur",
           "leurs": "leurs", "votre": "votre", "vos": "vos"}
_NP_LINK = {"de", "d'", "du", "des", "à", "au", "aux", "en"}
# adjectives that come before the noun and are stop words for keywords ("un autre avion")
_NP_PRE = {"autre", "même", "premier", "première", "deuxième", "dernier", "dernière", "grand", "grande", "petit",
           "petite", "vieux", "vieille", "nouveau", "nouvelle", "bon", "bonne", "seul", "seule"}
_NP_INNER_DET = {"l'", "la", "le", "les", "sa", "son", "ses", "leur", "leurs", "notre", "nos", "un", "une", "mon", "ma", "mes"}
_NP_NOT = {"mieux", "plus", "moins", "très", "trop", "bien", "mal", "ainsi", "justement", "vraiment", "exactement"}
_NP_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*'|[^\W\d_]+(?:-[^\W\d_]+)*|\S")
_VERB_END = re.compile(r"(?:ent|ait|aient|ais|ons|ez|ont|iez|ions|era|eront|erait|ant)$")
_INFINITIVE = re.compile(r"(?:er|ir|re|oir)$")


def _verb_like(tok: str, language: str) -> bool:
    import simplemma

    t = tok.lower()
    if not _VERB_END.search(t):
        return False
    try:
        lem = simplemma.lemmatize(t, lang=language).lower()
    except ValueError:
        return False
    return lem != t and bool(_INFINITIVE.search(lem))


def noun_phrases(text: str, language: str = "fr", max_words: int = 4) -> list[tuple[str, list[str]]]:
    """Noun phrases of a French sentence as (determiner, words): "le rugissement du tigre" ->
    ("le", ["rugissement", "du", "tigre"]). At most ``max_words`` content words each."""
    stop = stopwords(language)
    toks = _NP_TOKEN.findall(text.replace("\u2019", "'"))
    n = len(toks)

    def content(t: str) -> bool:
        tl = t.lower()
        return t[:1].isalpha() and len(t) > 1 and tl not in stop and tl not in _NP_NOT and not t.endswith("'")

    out = []
    for i, tok in enumerate(toks):
        det = tok.lower()
        if det not in _NP_DET:
            continue
        j, words, k_content = i + 1, [], 0
        if det in ("leur", "son") and j < n and toks[j].lower().endswith(("er", "ir")):
            continue  # "leur demander": a pronoun before a verb
        while j < n and not k_content and toks[j].lower() in _NP_PRE:
            words.append(toks[j])
            j += 1
        while j < n and k_content < max_words:
            t, tl = toks[j], toks[j].lower()
            if tl in _NP_LINK and k_content:
                k = j + 1
                if k < n and tl in ("de", "d'", "à") and toks[k].lower() in _NP_INNER_DET:
                    k += 1
                # after a link, an infinitive ends the phrase ("en déclarer")
                if (k < n and content(toks[k]) and not _verb_like(toks[k], language)
                        and not toks[k].lower().endswith(("er", "ir"))):
                    words.extend(toks[j:k])
                    j = k
                    continue
                break
            if not content(t) or _verb_like(t, language):
                break
            words.append(t)
            k_content += 1
            j += 1
        if k_content:
            out.append((det, words))
    return out


def _phrase_text(det: str, words: Sequence[str]) -> str:
    shown = _NP_DET.get(det, det)
    first = words[0]
    if shown in ("le", "la") and first[:1].lower() in "aeiouyéèêàâîôûh":
        shown = "l'"
    out = ""
    for w in words:
        out += w if (not out or out.endswith("'")) else " " + w
    text = (shown if shown.endswith("'") else shown + " ") + out
    return text[0].upper() + text[1:]


def title_from(kws: Sequence[str], sentences: Sequence[Sentence], max_chars: int = 70,
               language: str = "fr") -> str:
    """A short noun phrase of the segment ("Le rugissement du tigre"), not a list of keywords.

    Candidates are the noun phrases of its sentences (``noun_phrases``); each is scored by how
    much of the segment's keywords (YAKE, ranked) and repeated lemmas it carries, with a
    preference for two to four content words, for the first phrases of the segment and for the
    narrator's answers over questions.
    Without any noun phrase: the best keyword alone, else the segment's first words."""
    weight: dict[str, float] = {}
    for r, k in enumerate(kws[:6]):
        for lem in lemmas(k, language):
            weight[lem] = max(weight.get(lem, 0.0), 1.0 / (1 + r))
    tf: dict[str, int] = {}
    for s in sentences:
        for lem in lemmas(s.text, language):
            tf[lem] = tf.get(lem, 0) + 1
    best, best_score, rank = None, 0.0, 0
    for si, s in enumerate(sentences):
        for det, words in noun_phrases(s.text, language) if language == "fr" else ():
            rank += 1
            lems = lemmas(" ".join(words), language)
            if not lems:
                continue
            score = sum(2.0 * weight.get(lem, 0.0) + 0.3 * min(tf.get(lem, 1) - 1, 3) for lem in set(lems))
            score += 0.8 if 2 <= len(lems) <= 4 else 0.0
            score -= 0.6 if s.question or s.by_interviewer else 0.0
            # what a segment is about tends to come first (the subject of its opening sentence)
            score += 1.0 / rank
            if score > best_score:
                best, best_score = (det, words), score
    if best is not None:
        t = _phrase_text(*best)
        return t if len(t) <= max_chars else t[:max_chars].rsplit(" ", 1)[0]
    if kws:
        t = kws[0][0].upper() + kws[0][1:]
        return t[:max_chars]
    first = sentences[0].text if sentences else ""
    return first if len(first) <= max_chars else first[: max_chars - 1].rsplit(" ", 1)[0] + " …"


def partial(sentences: Sequence[Sentence], max_chars: int = 200) -> str:
    text = " ".join(s.text for s in sentences)
    return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0] + " …"


def index_sentences(sentences: Sequence[Sentence], *, duration_ms: int, language: str = "fr",
                    per_hour: float = PER_HOUR, n_segments: Optional[int] = None,
                    min_ms: Optional[int] = None) -> list[Topic]:
    """Topic segments covering 0..duration_ms, cut at sentence edges (``min_ms`` apart at least)."""
    if not sentences:
        return []
    n = n_segments or target_segments(duration_ms, per_hour)
    cuts = choose_boundaries(sentences, n_segments=n, language=language, min_ms=min_ms)
    bounds = [0, *cuts, len(sentences)]
    topics = []
    for k in range(len(bounds) - 1):
        group = sentences[bounds[k] : bounds[k + 1]]
        start = 0 if k == 0 else group[0].start_ms
        end = duration_ms if k == len(bounds) - 2 else sentences[bounds[k + 1]].start_ms
        kws = keywords(" ".join(s.text for s in group), language)
        topics.append(Topic(start_ms=start, end_ms=max(end, start), title=title_from(kws, group, language=language),
                            synopsis=synopsis(group, language), keywords=tuple(kws), partial_transcript=partial(group)))
    return topics


# ---------------------------------------------------------------- the stage


def index_view(view, *, per_hour: float = PER_HOUR, n_segments: Optional[int] = None) -> list[Topic]:
    """Topic segments of an InterviewView's current transcript."""
    interviewers = [sp.label for sp in view.speakers if sp.role == "interviewer"]
    sents = sentences_from_segments(view.segments, interviewers)
    duration = max([view.duration_ms] + [s.end_ms for s in view.segments]) if view.segments else view.duration_ms
    language = (view.language or "fr").split("-")[0].lower()
    return index_sentences(sents, duration_ms=duration, language=language, per_hour=per_hour, n_segments=n_segments)


def index_interviews(ws, ids: Sequence[str], *, force: bool = False, progress: Progress = NULL) -> StageReport:
    """Index each interview (own transaction); skip done ones and editors' indexes unless ``force``."""
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist import db, stage
    from oralhist.errors import OralhistError
    from oralhist.records import TopicSegment
    from oralhist.editorial.view import current_topics, load_interview

    rep = StageReport(stage=STAGE)
    task = progress.add("index", total=len(ids))
    for interview_id in ids:
        try:
            with db.session(ws) as s:
                current = current_topics(s, interview_id)
                editor = bool(current) and current[0].source == "editor"
                if not force and (stage.is_done(s, interview_id, STAGE) or editor):
                    rep.skipped.append(interview_id)
                    if editor:
                        rep.details[interview_id] = {"kept": "editor's index (use --force to add a machine version)"}
                    progress.advance(task)
                    continue
                view = load_interview(s, interview_id)
                if view.transcript_version is None:
                    rep.failed.append((interview_id, f"no transcript yet; run `oralhist transcribe {interview_id}` first"))
                    progress.advance(task)
                    continue
                t0 = time.perf_counter()
                topics = index_view(view)
                newest = s.exec(select(func.max(TopicSegment.version)).where(TopicSegment.interview_id == interview_id)).one()
                version = (newest or 0) + 1
                for t in topics:
                    s.add(TopicSegment(interview_id=interview_id, version=version, source="machine",
                                       start_ms=t.start_ms, end_ms=t.end_ms, title=t.title, synopsis=t.synopsis,
                                       keywords=list(t.keywords), partial_transcript=t.partial_transcript,
                                       made_from=view.transcript_id))
                stage.mark_done(s, interview_id, STAGE, {"version": version, "per_hour": PER_HOUR,
                                                         "transcript_version": view.transcript_version,
                                                         "elapsed_s": round(time.perf_counter() - t0, 3)})
                s.commit()
            rep.done.append(interview_id)
            rep.details[interview_id] = {"version": version, "segments": len(topics)}
        except OralhistError as exc:
            rep.failed.append((interview_id, exc.message))
        except Exception as exc:  # noqa: BLE001 - one bad interview must not stop the others
            rep.failed.append((interview_id, f"indexing failed: {type(exc).__name__}: {exc}"))
        progress.advance(task)
    return rep


# ---------------------------------------------------------------- keeping machine text current


def refresh_machine_text(s, interview_id: str, transcript_id: int) -> int:
    """Store, in the current topic rows that the machine made, the text derived from
    transcript ``transcript_id`` (the version just saved) and mark them made from it.

    Called where a correction is saved (caller commits): later reads of that version find
    nothing to re-derive (``view.derive``). Editors' rows are not touched. Returns how many
    rows changed.
    """
    from oralhist.records import Transcript
    from oralhist.editorial.view import current_topics, load_interview

    tr = s.get(Transcript, transcript_id)
    rows = [r for r in current_topics(s, interview_id) if (r.source or "machine") == "machine"]
    if tr is None or not rows:
        return 0
    view = load_interview(s, interview_id, version=tr.version)
    derived = {(t.start_ms, t.end_ms): t for t in view.topics if t.source == "machine"}
    n = 0
    for r in rows:
        t = derived.get((r.start_ms, r.end_ms))
        if t is None:
            continue
        new = (t.title, t.synopsis, list(t.keywords), t.partial_transcript)
        if new != (r.title, r.synopsis, list(r.keywords or ()), r.partial_transcript):
            r.title, r.synopsis, r.keywords, r.partial_transcript = new
            n += 1
        r.made_from = transcript_id
        s.add(r)
    return n


def reindex_machine(s, interview_id: str) -> Optional[int]:
    """Re-index an interview whose speakers changed (re-diarized; caller commits).

    A new topic version: the machine's segments are made again from the current transcript
    (speaker turns and the interviewer's questions move boundaries); the segments an editor
    made are kept exactly, machine ones never overlap them. Nothing happens when the
    interview was never indexed or every current segment is an editor's. Returns the new
    version, or None.
    """
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist.records import TopicSegment
    from oralhist.editorial.view import current_topics, load_interview

    current = current_topics(s, interview_id)
    if not current or all((r.source or "machine") != "machine" for r in current):
        return None
    view = load_interview(s, interview_id)
    if view.transcript_version is None:
        return None
    editor = sorted((r for r in current if (r.source or "machine") != "machine"), key=lambda r: r.start_ms)
    made = []  # (start, end, topic): the machine's segments less the time the editor's cover
    for t in index_view(view):
        pieces = [(t.start_ms, t.end_ms)]
        for e in editor:
            pieces = [q for a, b in pieces
                      for q in ((a, min(b, e.start_ms)), (max(a, e.end_ms), b)) if q[1] > q[0]]
        made += [(a, b, t) for a, b in pieces]
    newest = s.exec(select(func.max(TopicSegment.version)).where(TopicSegment.interview_id == interview_id)).one()
    version = (newest or 0) + 1
    for e in editor:
        s.add(TopicSegment(interview_id=interview_id, version=version, source=e.source, start_ms=e.start_ms,
                           end_ms=e.end_ms, title=e.title, synopsis=e.synopsis, keywords=list(e.keywords or ()),
                           partial_transcript=e.partial_transcript, made_from=e.made_from))
    for start, end, t in made:
        s.add(TopicSegment(interview_id=interview_id, version=version, source="machine", start_ms=start,
                           end_ms=end, title=t.title, synopsis=t.synopsis, keywords=list(t.keywords),
                           partial_transcript=t.partial_transcript,
                           made_from=view.transcript_id if (start, end) == (t.start_ms, t.end_ms) else None))
    s.flush()
    refresh_machine_text(s, interview_id, view.transcript_id)  # the text of the pieces cut around an editor's
    return version
