"""Narrators' portraits (issue 26 item 5): shown on the public site only with the consent's ``portrait`` permission.

``set_portrait(ws, interview, image)`` stores the picture (hashed read-only original, WebP +
JPEG derivatives, EXIF/GPS dropped: archive/images.py) and records the permission on the
interview's consent; ``allow=False`` withdraws it (the picture stays in the archive, unused).
An anonymised interview never gets a portrait: refused here, and left out at publish time even
if the consent is anonymised later (publish/model.py reads both flags).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from oralhist.errors import BadInput, NotFound


def set_portrait(ws, interview_id: str, image: Optional[Path] = None, *, allow: bool = True) -> dict:
    """Give (or withdraw, ``allow=False``) the portrait permission; returns the consent's portrait fields."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.archive.images import store_image
    from oralhist.records import Consent, Interview, utcnow

    with db.session(ws) as s:
        if s.get(Interview, interview_id) is None:
            raise NotFound(interview_id, "no such interview")
        row = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
        if allow and row is not None and row.anonymise:
            raise BadInput(interview_id, "the interview is anonymised: its narrator's portrait may never be published")
        if allow and image is None and (row is None or not row.portrait_path):
            raise BadInput(interview_id, "no portrait stored yet: give the picture (oralhist portrait ID photo.jpg)")
    stored = None
    if allow and image is not None:
        root = ws.root / "portraits"
        stored = store_image(Path(image), root / "originals", root / "derived")
    with db.session(ws) as s:
        row = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
        if row is None:
            row = Consent(interview_id=interview_id)
        row.portrait = bool(allow)
        if stored is not None:
            row.portrait_path, row.portrait_sha256 = ws.rel(stored.original), stored.sha256
        row.updated_at = utcnow()
        s.add(row)
        s.commit()
        return {"interview": interview_id, "portrait": row.portrait, "path": row.portrait_path}


def portrait_derivative(ws, sha256: str, ext: str) -> Path:
    """The card-size derivative of a stored portrait (made when it was stored)."""
    return ws.root / "portraits" / "derived" / f"{sha256[:16]}-card.{ext}"
