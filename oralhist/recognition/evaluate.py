"""Evaluation: word and character error rates on a folder of clips with references.

``oralhist eval DIR`` transcribes every audio file that has a ``<same name>.txt`` reference
(searching sub-folders; a folder named ``fr`` or ``en`` gives the clip's language) with the
same recogniser and guard as ``oralhist transcribe``, and prints WER and CER per clip and
pooled (errors summed over all clips / reference words summed), plus the real-time factor.

Both sides go through the same normaliser, written to be fair to French: case, accents kept,
punctuation removed, typographic apostrophes unified and elisions split (``l'usine`` ->
``l usine``), hyphens as spaces (``peut-être``), ligatures (``œ``), digits written as words
(``1998`` -> ``mille neuf cent quatre vingt dix huit``; ``2e`` -> ``deuxième``), common
abbreviations (``M.``, ``Mme``) and hesitation fillers (``euh``, ``hein``, ``ben``, ``bah``,
``ouais`` ...) dropped on both sides so that neither their presence nor absence counts.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm")
LANGUAGE_FOLDERS = {"fr", "en", "de", "nl", "es", "it", "pt", "pl"}

FILLERS = {
    "fr": {"euh", "heu", "euhm", "hein", "ben", "bah", "beh", "ouais", "hum", "hm", "hmm", "mmh", "mh", "mm",
           "pff", "bof", "ah", "oh", "eh", "hé", "ha", "ho", "bé", "boh", "mouais", "uh", "um"},
    "en": {"uh", "um", "uhm", "er", "erm", "ah", "oh", "eh", "hmm", "hm", "mm", "mhm", "mmm", "huh", "uh-huh"},
}
ABBREVIATIONS = {
    "fr": {"m.": "monsieur", "mm.": "messieurs", "mme": "madame", "mme.": "madame", "mmes": "mesdames",
           "mlle": "mademoiselle", "mlle.": "mademoiselle", "dr": "docteur", "dr.": "docteur",
           "st": "saint", "ste": "sainte", "n°": "numéro", "etc.": "et cetera", "etc": "et cetera"},
    "en": {"mr.": "mister", "mr": "mister", "mrs.": "missus", "mrs": "missus", "dr.": "doctor", "dr": "doctor",
           "st.": "saint", "etc.": "et cetera", "vs.": "versus"},
}
_APOSTROPHES = "’‘ʼ`´′"
_HYPHENS = "-‐‑‒–—―"
_ORDINAL = re.compile(r"^(\d+)(er|re|ère|ere|e|ème|eme|nd|nde|st|nd|rd|th)$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
# Roman ordinals as French writes centuries and districts: XIXe, XIème, IVème (not "vie", "me").
_ROMAN_ORDINAL = re.compile(r"^(?:([ivx]+)(?:ème|eme)|(x[ivx]*)e)$")
_ROMAN = {"i": 1, "v": 5, "x": 10}


def _roman(r: str) -> int:
    total = 0
    for a, b in zip(r, r[1:] + " "):
        v = _ROMAN[a]
        total += -v if b != " " and _ROMAN[b] > v else v
    return total


def _num2words(n: str, lang: str, ordinal: bool = False) -> str:
    try:
        from num2words import num2words
    except ImportError:  # digits stay digits on both sides: still consistent, less fair
        return n
    try:
        if ordinal:
            return num2words(int(n), lang=lang, to="ordinal")
        if "," in n or "." in n:
            return num2words(float(n.replace(",", ".")), lang=lang)
        return num2words(int(n), lang=lang)
    except (NotImplementedError, ValueError, OverflowError):
        return n


def normalise(text: str, language: str = "fr") -> str:
    """The text both reference and hypothesis are scored as (see the module docstring)."""
    lang = (language or "fr").split("-")[0].lower()
    fillers = FILLERS.get(lang, FILLERS["en"] | FILLERS["fr"])
    abbrev = ABBREVIATIONS.get(lang, {})
    t = unicodedata.normalize("NFC", text).lower()
    t = t.replace("œ", "oe").replace("æ", "ae")
    for ch in _APOSTROPHES:
        t = t.replace(ch, "'")
    t = re.sub(r"(\d)[\u00a0\u202f ](?=\d{3}\b)", r"\1", t)  # 10 000 -> 10000
    t = re.sub(r"(\d)%", r"\1 %", t)
    t = re.sub(r"(\d)\s*h\s*(\d{2})\b", r"\1 heures \2", t) if lang == "fr" else t
    out: list[str] = []
    for tok in t.split():
        if tok in abbrev:
            out.append(abbrev[tok])
            continue
        core = tok.strip(".,;:!?…\"«»()[]{}")
        if core in abbrev and tok.endswith("."):
            out.append(abbrev[core])
            continue
        m = _ROMAN_ORDINAL.match(core) if lang == "fr" else None
        if m:
            out.append(_num2words(str(_roman(m.group(1) or m.group(2))), lang, ordinal=True))
            continue
        m = _ORDINAL.match(core)
        if m:
            out.append(_num2words(m.group(1), lang, ordinal=True))
            continue
        if _NUMBER.match(core):
            out.append(_num2words(core, lang))
            continue
        if core in ("%",):
            out.append("pour cent" if lang == "fr" else "percent")
            continue
        if core in ("€",):
            out.append("euros" if lang == "fr" else "euros")
            continue
        out.append(tok)
    t = " ".join(out)
    for ch in _HYPHENS:
        t = t.replace(ch, " ")
    t = t.replace("'", " ")
    t = re.sub(r"[^\w\s]", " ", t)  # punctuation and symbols
    t = re.sub(r"_", " ", t)
    words = []
    for w in t.split():
        if w.isdigit():  # digits stuck to letters, e.g. "a4" -> "a quatre"
            w = _num2words(w, lang)
            words.extend(w.replace("-", " ").split())
        elif w not in fillers:
            words.append(w)
    return " ".join(w for w in words if w not in fillers)


@dataclass(frozen=True)
class ClipScore:
    clip: str
    language: str
    seconds: float
    elapsed_s: float
    rtf: float
    wer: float
    cer: float
    ref_words: int
    errors: int  # substitutions + deletions + insertions (words)
    char_errors: int
    ref_chars: int
    reference: str  # normalised
    hypothesis: str  # normalised
    text: str  # as recognised

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalReport:
    model: str
    clips: list[ClipScore] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    load_s: float = 0.0

    def pooled(self, language: Optional[str] = None) -> dict:
        cs = [c for c in self.clips if language is None or c.language == language]
        words = sum(c.ref_words for c in cs)
        chars = sum(c.ref_chars for c in cs)
        secs = sum(c.seconds for c in cs)
        el = sum(c.elapsed_s for c in cs)
        return {
            "clips": len(cs),
            "wer": round(sum(c.errors for c in cs) / words, 4) if words else None,
            "cer": round(sum(c.char_errors for c in cs) / chars, 4) if chars else None,
            "audio_s": round(secs, 2),
            "elapsed_s": round(el, 2),
            "rtf": round(el / secs, 4) if secs else None,
        }

    def to_dict(self) -> dict:
        langs = sorted({c.language for c in self.clips})
        return {
            "model": self.model,
            "load_s": self.load_s,
            "options": self.options,
            "pooled": self.pooled(),
            "by_language": {lang: self.pooled(lang) for lang in langs},
            "clips": [c.to_dict() for c in self.clips],
        }


def find_clips(folder: Path) -> list[tuple[Path, Path]]:
    """(audio, reference .txt) pairs under ``folder``, sorted."""
    folder = Path(folder)
    pairs = []
    for audio in sorted(folder.rglob("*")):
        if audio.suffix.lower() in AUDIO_SUFFIXES and audio.is_file():
            ref = audio.with_suffix(".txt")
            if ref.is_file():
                pairs.append((audio, ref))
    return pairs


def clip_language(audio: Path, root: Path, default: Optional[str]) -> str:
    if default and default != "auto":
        return default
    for part in reversed(audio.relative_to(root).parts[:-1]):
        if part.lower() in LANGUAGE_FOLDERS:
            return part.lower()
    return default or "auto"


def score(reference: str, hypothesis: str, language: str) -> dict:
    """WER/CER counts between two texts after normalisation (jiwer)."""
    import jiwer

    ref = normalise(reference, language)
    hyp = normalise(hypothesis, language)
    if not ref:
        return {"ref": ref, "hyp": hyp, "ref_words": 0, "errors": len(hyp.split()), "ref_chars": 0, "char_errors": len(hyp)}
    w = jiwer.process_words(ref, hyp if hyp else "")
    c = jiwer.process_characters(ref, hyp if hyp else "")
    return {
        "ref": ref,
        "hyp": hyp,
        "ref_words": len(ref.split()),
        "errors": w.substitutions + w.deletions + w.insertions,
        "ref_chars": len(ref),
        "char_errors": c.substitutions + c.deletions + c.insertions,
    }


def decode_16k(path: Path):
    """Any audio file as 16 kHz mono float32 (PyAV)."""
    import av

    from oralhist.archive.audio import decode_mono
    from oralhist.errors import BadInput

    try:
        return decode_mono(path, rate=16000)
    except (av.error.FFmpegError, IndexError, UnicodeError, ValueError) as exc:  # not audio: the user's file
        raise BadInput(path, f"cannot decode audio ({exc})") from None


def evaluate_dir(
    folder: Path,
    *,
    model: Optional[str] = None,
    language: Optional[str] = None,
    device: str = "cpu",
    compute_type: str = "int8",
    beam_size: int = 5,
    options=None,
    guard: bool = True,
    on_clip: Callable[[ClipScore], None] = lambda c: None,
) -> EvalReport:
    """Transcribe and score every clip of ``folder`` that has a reference (see module doc)."""
    import os

    from oralhist.recognition import models
    from oralhist.errors import BadInput
    from oralhist.recognition.hallucination import GuardOptions
    from oralhist.recognition.transcribe import DecodeOptions, recognise

    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(folder, "not a folder")
    pairs = find_clips(folder)
    if not pairs:
        raise BadInput(folder, "no audio file with a .txt reference beside it")
    opts = options or DecodeOptions(beam_size=beam_size)
    t0 = time.perf_counter()
    spec = models.resolve(model)
    whisper = models.load(spec, device=device, compute_type=compute_type, cpu_threads=os.cpu_count())
    report = EvalReport(model=spec.label, options={**asdict(opts), "device": device, "compute_type": compute_type,
                                                   "guard": guard}, load_s=round(time.perf_counter() - t0, 3))
    for audio_path, ref_path in pairs:
        lang = clip_language(audio_path, folder, language)
        audio = decode_16k(audio_path)
        rec = recognise(whisper, audio, language=None if lang == "auto" else lang, options=opts,
                        guard_options=GuardOptions() if guard else None)
        text = " ".join(sg.text for sg in rec.result.kept)
        scored_lang = rec.language or lang
        sc = score(ref_path.read_text(encoding="utf-8"), text, scored_lang)
        secs = audio.shape[0] / 16000
        el = rec.timing["elapsed_s"]
        clip = ClipScore(
            clip=audio_path.relative_to(folder).as_posix(),
            language=scored_lang,
            seconds=round(secs, 3),
            elapsed_s=el,
            rtf=round(el / secs, 4) if secs else 0.0,
            wer=round(sc["errors"] / sc["ref_words"], 4) if sc["ref_words"] else 0.0,
            cer=round(sc["char_errors"] / sc["ref_chars"], 4) if sc["ref_chars"] else 0.0,
            ref_words=sc["ref_words"],
            errors=sc["errors"],
            char_errors=sc["char_errors"],
            ref_chars=sc["ref_chars"],
            reference=sc["ref"],
            hypothesis=sc["hyp"],
            text=text,
        )
        report.clips.append(clip)
        on_clip(clip)
    return report
