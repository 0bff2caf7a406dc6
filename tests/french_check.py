"""The check that no page shows English (issue 21, item 2), without a hand list of English words.

A word is English when wordfreq's word lists (a dependency already: the link stage uses its
French list) say it is a common English word (Zipf ≥ 3, once in a million words or more) at
least ten times more frequent in English than in French. A French dictionary alone cannot
tell English from a name, an id or a typo; the two frequency lists can, and French words that
English shares (« version », « page », « date », « train ») are as frequent in French and pass.
Allowed: the archive's own data (titles, names, transcripts, terms: ``data_words``), and proper
nouns: a capitalised word inside a sentence, and the one product name the interface names
(``NAMES``: Microsoft Word, for the corrections by Word file).
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿŒœ]+(?:['’][A-Za-zÀ-ÖØ-öø-ÿŒœ]+)?(?:[-_][A-Za-zÀ-ÖØ-öø-ÿŒœ0-9]+)*")
NAMES = {"Word"}  # proper nouns the interface itself names: a product
IDENTIFIER = re.compile(r"\b[A-Za-z]+_\d+\b")


def _fold(w: str) -> str:
    return unicodedata.normalize("NFC", w).lower()


def is_english(word: str) -> bool:
    from wordfreq import zipf_frequency

    w = _fold(word)
    if len(w) < 3:
        return False
    en, fr = zipf_frequency(w, "en"), zipf_frequency(w, "fr")
    return en >= 3.0 and en - fr >= 1.0


def english_words(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """The English words of ``text`` (in order, once each); the parts of ``a_b`` / ``a-b`` too."""
    out = []
    start = True  # at the start of a line or sentence, a capital is not a proper noun
    for m in re.finditer(WORD.pattern + r"|[.!?:;…\n\t]", text):
        tok = m.group(0)
        if not WORD.fullmatch(tok):
            start = True
            continue
        proper = (tok[:1].isupper() and not tok.isupper() and not start) or tok in NAMES
        start = False
        if proper or _fold(tok) in allowed or tok in out:
            continue
        parts = [p for p in re.split(r"[-_’']", tok) if p and not p.isdigit()]
        if any(_fold(p) not in allowed and is_english(p) for p in parts):
            out.append(tok)
    return out


def identifiers(text: str) -> list[str]:
    """Machine labels shown as they are stored (``SPEAKER_2``): never for people."""
    return sorted(set(IDENTIFIER.findall(text)))


def data_words(ws) -> set[str]:
    """Every word of the archive's own data: what people typed or said is not the interface's."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Interview, Museum, Person, Segment, Term, TopicSegment, Word

    texts = [ws.settings.title or ""]
    with db.session(ws) as s:
        for model, cols in ((Interview, ("id", "title", "place")), (Person, ("name",)), (Museum, ("name",)),
                            (Segment, ("text",)), (Word, ("text",)), (Term, ("label",)),
                            (TopicSegment, ("title", "synopsis"))):
            for row in s.exec(select(model)).all():
                texts += [str(getattr(row, c) or "") for c in cols]
    return {_fold(p) for t in texts for w in WORD.findall(t) for p in [w, *re.split(r"[-_’']", w)]}
