"""Pieces every part of the public site uses: the output-file record, slugs, shards, time formats, the template environment."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

LOCAL_BASE = "http://localhost:8000"


@dataclass(frozen=True)
class OutFile:
    """One file of the site. ``content`` for generated text; ``source`` for audio (re-encoded
    with ``silence`` ranges, or copied). ``key`` decides whether it must be rewritten."""

    path: str
    key: str
    content: Optional[bytes] = None
    source: Optional[Path] = None
    silence: tuple[tuple[int, int], ...] = ()
    # "copy" / "silence" (from ``source``) or "access" (area 1's write_access_copy from the
    # originals, sample-exact silences) — for audio only.
    recipe: str = ""
    archive_id: str = ""
    keep: bool = False  # unchanged since the last build (not re-rendered)


def slugify(text: str, fallback: str = "x") -> str:
    t = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    t = re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()
    return t[:60] or fallback


def clock(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def iso_duration(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S"


def seconds(ms: int) -> str:
    v = f"{max(0, int(ms)) / 1000:.3f}".rstrip("0").rstrip(".")
    return v or "0"


def shard_of(path: str, n: int) -> int:
    return int(hashlib.sha1(path.encode()).hexdigest()[:8], 16) % n


@functools.lru_cache(maxsize=1)
def template_env():
    """The Jinja environment of the site's templates (filters: times, dates, numbers, plurals)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("oralhist.outputs.publish", "templates"),
                      autoescape=select_autoescape(["html", "xml"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["clock"] = clock
    env.filters["seconds"] = seconds
    env.filters["iso_duration"] = iso_duration
    from oralhist.outputs.publish import typography

    env.filters["long_date"] = typography.long_date
    env.filters["duration"] = typography.duration
    env.filters["decade"] = typography.decade
    env.globals["plural"] = typography.plural
    env.filters["number"] = typography.number
    env.filters["position"] = typography.position
    env.filters["time_dt"] = typography.time_datetime
    return env
