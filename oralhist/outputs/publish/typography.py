"""French (and English) typography of the public pages: dates, durations, plurals, decades,
quotation marks. Month names come from Babel (CLDR data), not from a hand-made table."""

from __future__ import annotations

import re
from datetime import date

NNBSP = "\u202f"  # narrow no-break space, inside « » in French


def long_date(value, language: str = "fr") -> str:
    """'1998-06-14' -> '14 juin 1998' ('1er juin' for the first), '1998-06' -> 'juin 1998',
    '1998' -> '1998'; anything else is returned as it is."""
    from babel.dates import format_date

    s = str(value or "")
    lang = (language or "fr")[:2]
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", s)
    if not m:
        return s
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        if d:
            dt = date(int(y), int(mo), int(d))
            text = format_date(dt, format="long", locale=lang)
            if lang == "fr" and dt.day == 1:
                text = "1er" + text[1:]
            return text
        if mo:
            return format_date(date(int(y), int(mo), 1), format="LLLL y", locale=lang)
    except ValueError:
        return s
    return y


def duration(ms, language: str = "fr") -> str:
    """'1 min 07 s', '1 h 02 min', '45 s' (French and English use the same unit symbols)."""
    s = max(0, int(ms or 0)) // 1000
    h, mnt, sec = s // 3600, s // 60 % 60, s % 60
    sp = "\u00a0"
    if h:
        return f"{h}{sp}h{sp}{mnt:02d}{sp}min"
    if mnt:
        return f"{mnt}{sp}min{sp}{sec:02d}{sp}s"
    return f"{sec}{sp}s"


def plural(n: int, one: str, many: str, language: str = "fr") -> str:
    """French takes the singular for 0 and 1 ('0 témoignage affiché'); English only for 1."""
    single = n in (0, 1) if (language or "fr")[:2] == "fr" else n == 1
    return one if single else many


def decade(value, language: str = "fr") -> str:
    """'1990' -> 'années 1990' / '1990s'."""
    v = str(value or "")
    if not v:
        return v
    return f"années {v}" if (language or "fr")[:2] == "fr" else f"{v}s"


def quote(text: str, language: str = "fr") -> str:
    """« text » with narrow no-break spaces in French, “text” in English."""
    if (language or "fr")[:2] == "fr":
        return f"«{NNBSP}{text}{NNBSP}»"
    return f"\u201c{text}\u201d"


def number(n, language: str = "fr") -> str:
    """'1 000' (narrow no-break space in French, from CLDR), '1,000' in English."""
    from babel.numbers import format_decimal

    return format_decimal(int(n or 0), locale=(language or "fr")[:2])


def position(ms, language: str = "fr") -> str:
    """A moment in a recording: '0 s', '1 min 07 s', '1 h 02 min 03 s' (never '01:07')."""
    s = max(0, int(ms or 0)) // 1000
    h, mnt, sec = s // 3600, s // 60 % 60, s % 60
    sp = "\u00a0"
    if h:
        return f"{h}{sp}h{sp}{mnt:02d}{sp}min{sp}{sec:02d}{sp}s"
    if mnt:
        return f"{mnt}{sp}min{sp}{sec:02d}{sp}s"
    return f"{sec}{sp}s"


def time_datetime(ms) -> str:
    """The machine-readable form of a position for <time datetime>: an ISO 8601 duration."""
    s = max(0, int(ms or 0)) // 1000
    h, mnt, sec = s // 3600, s // 60 % 60, s % 60
    return "PT" + (f"{h}H" if h else "") + (f"{mnt}M" if mnt or h else "") + f"{sec}S"
