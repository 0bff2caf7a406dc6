"""The hallucination guard: what Whisper invents on silence, music and noise.

Whisper was trained on subtitled video, so on non-speech it writes the credits it saw most
("Sous-titres réalisés par la communauté d'Amara.org", "Merci d'avoir regardé", "Thanks for
watching"), and it loops on repetitions. ``guard`` looks at each recognised segment and:

* drops it (a ``Dropped`` with its reason, stored as a DroppedSegment row) when it is a known
  phantom phrase, only non-speech symbols or a bracketed annotation ("[Musique]"), lies
  outside the voice the detector found, is the third identical copy in a row of the segment
  before it (the second when doubtful), or when the
  model itself says it was probably not speech (high no-speech probability with a low
  log-probability, or a compression ratio only a loop reaches);
* collapses a loop inside a segment ("je ne sais pas je ne sais pas je ne sais pas ...")
  to one occurrence and flags it;
* keeps but flags (``Segment.flag``) what is doubtful: a weak phantom ("Merci.") without other
  evidence, a high compression ratio, a high no-speech probability, words mostly outside voice.

It works on plain dataclasses (``Seg``/``W``, integer milliseconds) so it is tested without
the model; ``transcribe.py`` converts faster-whisper's segments to them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Iterable, Optional, Sequence

# Phrases no narrator says in an interview: always phantoms (normalised form, see _norm).
STRONG_PHANTOMS = (
    "sous titres realises par la communaute d amara org",
    "sous titres realises para la communaute d amara org",
    "sous titres par la communaute d amara org",
    "amara org",
    "sous titrage st 501",
    "sous titrage st501",
    "sous titrage st 501 amara org",
    "sous titrage societe radio canada",
    "sous titrage fr",
    "sous titres fait par sous titres par amara org",
    "merci d avoir regarde cette video",
    "merci d avoir regarde",
    "merci de votre attention et a bientot pour une nouvelle video",
    "n oubliez pas de vous abonner",
    "abonnez vous",
    "abonne toi",
    "like et abonne toi",
    "a la prochaine pour une nouvelle video",
    "a bientot pour une nouvelle video",
    "transcription by castingwords",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "please subscribe",
    "subscribe to my channel",
    "don t forget to like and subscribe",
    "like and subscribe",
    "subtitles by the amara org community",
    "subtitles by amara org",
    "copyright",
    "www mooji org",
)
# Said in real life too: dropped only with other evidence (no speech, outside voice, low logprob).
WEAK_PHANTOMS = (
    "merci",
    "merci beaucoup",
    "merci a vous",
    "au revoir",
    "a bientot",
    "bonne journee",
    "thank you",
    "thanks",
    "bye",
    "you",
    "music",
    "musique",
    "applaudissements",
    "rires",
    "silence",
)

_ANNOTATION = re.compile(r"^\s*[\[\(\*♪♫#].*[\]\)\*♪♫#]\s*$|^\s*[♪♫]+\s*$")


def _norm(text: str) -> str:
    """Lowercase, no accents, no punctuation: 'Sous-titrés par Amara.org !' -> 'sous titres par amara org'."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[^\w]+", " ", t)
    return " ".join(t.split())


@dataclass(frozen=True)
class W:
    start_ms: int
    end_ms: int
    text: str
    probability: Optional[float] = None


@dataclass(frozen=True)
class Seg:
    start_ms: int
    end_ms: int
    text: str
    words: tuple[W, ...] = ()
    avg_logprob: Optional[float] = None
    no_speech_prob: Optional[float] = None
    compression_ratio: Optional[float] = None
    temperature: Optional[float] = None
    flag: Optional[str] = None


@dataclass(frozen=True)
class Dropped:
    seg: Seg
    reason: str


@dataclass(frozen=True)
class GuardOptions:
    drop_compression: float = 3.0  # above: a loop nothing else caught
    flag_compression: float = 2.4  # whisper's own fallback threshold
    no_speech: float = 0.6
    low_logprob: float = -1.0
    doubt_no_speech: float = 0.4
    doubt_logprob: float = -0.8
    min_voice_overlap: float = 0.1  # share of a segment inside detected voice, below: dropped
    flag_voice_overlap: float = 0.5
    loop_min_repeats: int = 4  # consecutive copies of an n-gram before collapsing
    loop_max_n: int = 8
    repeat_segments: int = 3  # identical consecutive segments: the 3rd copy on is dropped (the 2nd if doubtful)


@dataclass(frozen=True)
class GuardResult:
    kept: tuple[Seg, ...]
    dropped: tuple[Dropped, ...]
    stats: dict = field(default_factory=dict)


def phantom_kind(text: str) -> Optional[str]:
    """'strong', 'weak' or None for a segment's text."""
    n = _norm(text)
    if not n:
        return None
    padded = f" {n} "
    hits = [p for p in STRONG_PHANTOMS if f" {p} " in padded]
    if any(len(p.split()) * 2 >= len(n.split()) for p in hits):
        return "strong"
    if any(len(p) > 12 for p in hits):
        return "strong-part"
    if n in WEAK_PHANTOMS:
        return "weak"
    return None


def voice_overlap(start_ms: int, end_ms: int, speech: Sequence[tuple[int, int]]) -> float:
    """Share of [start, end] covered by the speech regions (1.0 for an empty interval inside one)."""
    if end_ms <= start_ms:
        return 1.0 if any(a <= start_ms <= b for a, b in speech) else 0.0
    covered = 0
    for a, b in speech:
        lo, hi = max(a, start_ms), min(b, end_ms)
        if hi > lo:
            covered += hi - lo
    return covered / (end_ms - start_ms)


def collapse_loops(words: Sequence[W], min_repeats: int = 4, max_n: int = 8) -> tuple[tuple[W, ...], int]:
    """Remove consecutive copies of any n-gram repeated ``min_repeats`` times or more (one kept).

    Single words need one more copy ("non non non non" is speech; eight times is a loop).
    Returns the words kept and how many were removed.
    """
    ws = list(words)
    keys = [_norm(w.text) for w in ws]
    removed = 0
    n = 1
    while n <= max_n:
        need = min_repeats + (1 if n == 1 else 0)
        i = 0
        changed = False
        while i + n * need <= len(keys):
            gram = keys[i : i + n]
            if not any(gram):
                i += 1
                continue
            reps = 1
            j = i + n
            while j + n <= len(keys) and keys[j : j + n] == gram:
                reps += 1
                j += n
            if reps >= need:
                del ws[i + n : j]
                del keys[i + n : j]
                removed += j - (i + n)
                changed = True
            i += 1
        if not changed:
            n += 1
    return tuple(ws), removed


def _text_of(words: Sequence[W]) -> str:
    return "".join(w.text for w in words).strip()


def guard(
    segments: Iterable[Seg],
    speech: Optional[Sequence[tuple[int, int]]] = None,
    options: GuardOptions = GuardOptions(),
) -> GuardResult:
    """Split recognised segments into kept (some flagged) and dropped, with reasons.

    ``speech`` is the list of (start_ms, end_ms) regions where the voice detector heard
    speech; ``None`` skips the voice check.
    """
    o = options
    kept: list[Seg] = []
    dropped: list[Dropped] = []
    prev_norm: Optional[str] = None
    repeat_run = 0
    for seg in segments:
        flags: list[str] = []
        text = seg.text.strip()
        norm = _norm(text)

        # 1. nothing a person said: empty, symbols only, or "[Musique]" / "(rires)" / "♪ ... ♪"
        if not norm or _ANNOTATION.match(text):
            dropped.append(Dropped(seg, "non-speech annotation" if norm else "no words"))
            continue

        # 2. loops inside the segment
        if seg.words:
            words, removed = collapse_loops(seg.words, o.loop_min_repeats, o.loop_max_n)
            if removed:
                seg = replace(seg, words=words, text=_text_of(words), end_ms=max(seg.start_ms, words[-1].end_ms))
                text = seg.text
                norm = _norm(text)
                flags.append(f"loop collapsed ({removed} words removed)")
        else:
            toks = [W(0, 0, " " + t) for t in text.split()]
            words, removed = collapse_loops(toks, o.loop_min_repeats, o.loop_max_n)
            if removed:
                seg = replace(seg, text=_text_of(words))
                text, norm = seg.text, _norm(seg.text)
                flags.append(f"loop collapsed ({removed} words removed)")

        # 3. the same segment again and again
        if norm == prev_norm:
            repeat_run += 1
        else:
            repeat_run = 1
            prev_norm = norm
        overlap = voice_overlap(seg.start_ms, seg.end_ms, speech) if speech is not None else 1.0
        ns = seg.no_speech_prob or 0.0
        lp = seg.avg_logprob if seg.avg_logprob is not None else 0.0
        doubtful = ns >= o.doubt_no_speech or lp <= o.doubt_logprob or overlap < o.flag_voice_overlap
        if repeat_run >= o.repeat_segments or (repeat_run == 2 and doubtful):
            dropped.append(Dropped(seg, f"repeats the previous segment (copy {repeat_run})"))
            continue

        # 4. known phantom phrases
        kind = phantom_kind(text)
        if kind == "strong":
            dropped.append(Dropped(seg, "known phantom phrase"))
            continue
        if kind == "strong-part":
            flags.append("contains a known phantom phrase")
        if kind == "weak" and doubtful:
            dropped.append(Dropped(seg, "phantom phrase with no clear speech"))
            continue
        if kind == "weak":
            flags.append("possible phantom phrase")

        # 5. outside the detected voice
        if overlap < o.min_voice_overlap:
            dropped.append(Dropped(seg, f"outside detected voice ({overlap:.0%} inside)"))
            continue
        if overlap < o.flag_voice_overlap:
            flags.append(f"mostly outside detected voice ({overlap:.0%} inside)")

        # 6. the model's own doubts
        if ns >= o.no_speech and lp <= o.low_logprob:
            dropped.append(Dropped(seg, f"probably not speech (no_speech {ns:.2f}, avg_logprob {lp:.2f})"))
            continue
        cr = seg.compression_ratio or 0.0
        if cr > o.drop_compression:
            dropped.append(Dropped(seg, f"repetitive text (compression ratio {cr:.2f})"))
            continue
        if cr > o.flag_compression:
            flags.append(f"repetitive text (compression ratio {cr:.2f})")
        if ns >= o.no_speech:
            flags.append(f"high no-speech probability ({ns:.2f})")
        elif lp <= o.low_logprob:
            flags.append(f"low confidence (avg_logprob {lp:.2f})")

        kept.append(replace(seg, flag="; ".join(flags) if flags else None))

    return GuardResult(
        kept=tuple(kept),
        dropped=tuple(dropped),
        stats={"kept": len(kept), "dropped": len(dropped), "flagged": sum(1 for s in kept if s.flag)},
    )
