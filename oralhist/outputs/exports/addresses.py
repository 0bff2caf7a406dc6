"""Where an interview's public files live and what its public records say: one answer for the site, the OAI endpoint and the staff exports.

The published site (``outputs/publish``), the live OAI-PMH endpoint and the staff exports in
``transcripts/<id>/`` all ask here for the interview's public id, its audio address, the
links that are published (``[site] link_threshold``) and its rights, so that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

# Suggested (machine) links are published when at least this confident; accepted links always;
# rejected never. ``[site] link_threshold`` overrides it.
DEFAULT_LINK_THRESHOLD = 0.8
AUDIO_EXTS = (".mp3", ".m4a", ".ogg", ".opus", ".webm")
MIME = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".webm": "audio/webm"}
# Where a site built with `oralhist publish --local` is served (`python3 -m http.server 8000`).
LOCAL_BASE = "http://localhost:8000"


def site_raw(ws) -> dict:
    return (ws.settings.raw or {}).get("site", {}) if ws.settings.raw else {}


def link_threshold(ws) -> float:
    return float(site_raw(ws).get("link_threshold", DEFAULT_LINK_THRESHOLD))


def published_links(links: Sequence, threshold: float) -> tuple:
    """The links every public output shows: accepted ones, and suggested ones at least ``threshold`` sure."""
    return tuple(ln for ln in links
                 if ln.status == "accepted" or (ln.status == "suggested" and ln.confidence >= threshold))


def audio_source(ws, derivatives: Sequence[dict], recordings: Sequence[dict]):
    """(file, sha256) of the best listening source: access copy, else asr.wav, else a lone original."""
    rows = {d["kind"]: d for d in derivatives}
    for kind in ("access", "asr"):
        d = rows.get(kind)
        if d is not None:
            p = ws.root / d["path"]
            if p.is_file():
                return p, d["sha256"]
    if len(recordings) == 1 and (ws.root / recordings[0]["path"]).is_file():
        return ws.root / recordings[0]["path"], recordings[0]["sha256"]
    return None, None


def audio_ext(src: Optional[Path], silenced: bool, from_originals: bool) -> Optional[str]:
    """The suffix of the published audio (None: no audio): an access copy re-made from the
    originals is MP3; a copied source keeps its suffix when browsers play it; a silenced copy
    is MP3 or M4A."""
    if from_originals:
        return ".mp3"
    if src is None:
        return None
    ext = src.suffix.lower() if src.suffix.lower() in AUDIO_EXTS else ".mp3"
    return ".mp3" if silenced and ext not in (".mp3", ".m4a") else ext


@dataclass(frozen=True)
class PublicAddresses:
    """The absolute addresses of one interview's public files (``base`` is ``[site] base_url``,
    else the local server a ``--local`` build is served from)."""

    base: str
    public_id: str
    audio_path: Optional[str]  # relative to the site root

    @property
    def page(self) -> str:
        return f"{self.base}/i/{self.public_id}.html"

    @property
    def media(self) -> str:
        return f"{self.base}/media/{self.public_id}"

    @property
    def audio(self) -> Optional[str]:
        return f"{self.base}/{self.audio_path}" if self.audio_path else None


def interview_addresses(ws, s, view, public_id: str) -> PublicAddresses:
    """The addresses the site gives the interview ``view`` (an archive view), read from its rows."""
    from sqlmodel import select

    from oralhist.records import Derivative, Recording, Redaction

    iid = view.id
    ders = [{"kind": d.kind, "path": d.path, "sha256": d.sha256}
            for d in s.exec(select(Derivative).where(Derivative.interview_id == iid)).all()]
    recs = [{"path": r.path, "sha256": r.sha256}
            for r in s.exec(select(Recording).where(Recording.interview_id == iid)).all()]
    silenced = bool(s.exec(select(Redaction.id).where(Redaction.interview_id == iid)).first())
    originals = bool(recs) and all((ws.root / r["path"]).is_file() for r in recs)
    src, _ = audio_source(ws, ders, recs)
    ext = audio_ext(src, silenced, silenced and originals)
    base = (ws.settings.base_url or LOCAL_BASE).rstrip("/")
    return PublicAddresses(base, public_id, f"media/{public_id}/audio{ext}" if ext else None)
