"""Cutting segments into subtitle cues (shared by the VTT and SRT writers).

A Whisper segment can last 30 seconds; a subtitle should not. Segments with word timings are
cut at word boundaries into cues of at most ``MAX_CHARS`` characters and ``MAX_MS``
milliseconds; a segment without words is one cue. Times stay integer milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

MAX_CHARS = 84  # two lines of 42
MAX_MS = 7000


_NO_SPACE_BEFORE = ("'", "’", "-", ",", ".", "…", ")", "]", "}", "%")


def join_words(texts) -> str:
    """Words back into text: no space before "'accord", "-Unis", ",", "." (the recogniser
    splits "d'accord" and "États-Unis" into pieces)."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if out and not t.startswith(_NO_SPACE_BEFORE) and not out.endswith(("'", "’", "-")):
            out += " "
        out += t
    return out


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str
    speaker: Optional[str] = None


def cues(view, max_chars: int = MAX_CHARS, max_ms: int = MAX_MS) -> Iterator[Cue]:
    last_end = 0
    for sg in view.segments:
        speaker = sg.speaker_name or sg.speaker
        groups: list[tuple[int, int, str]] = []
        if sg.words:
            cur: list = []
            for w in sg.words:
                if cur:
                    text = join_words(x.text for x in cur + [w])
                    # never cut before a piece that glues to the previous word ("-Unis", "'accord")
                    glued = w.text.strip().startswith(_NO_SPACE_BEFORE)
                    if not glued and (len(text) > max_chars or w.end_ms - cur[0].start_ms > max_ms):
                        groups.append((cur[0].start_ms, cur[-1].end_ms, join_words(x.text for x in cur)))
                        cur = []
                cur.append(w)
            if cur:
                groups.append((cur[0].start_ms, cur[-1].end_ms, join_words(x.text for x in cur)))
            if len(groups) == 1:  # keep the segment's own punctuation and spacing
                groups = [(sg.start_ms, sg.end_ms, sg.text)]
        else:
            groups.append((sg.start_ms, sg.end_ms, sg.text))
        for start, end, text in groups:
            text = " ".join(text.split())
            if not text:
                continue
            start = max(start, last_end)
            end = max(end, start + 1)
            last_end = end
            yield Cue(start, end, text, speaker)
