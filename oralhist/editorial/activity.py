"""The activity log: who logged in, imported, changed consent, approved, published, read what (issues 21.8, 24)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlmodel import select

from oralhist.errors import BadInput

MAX_DETAIL = 4000
PAGE_MAX = 500

# the actions recorded today (others may be added by callers; the journal shows them as they are)
ACTIONS_FR = {
    "login": "connexion", "logout": "déconnexion", "login.failed": "connexion refusée", "import": "import", "consent": "consentement",
    "approve": "approbation", "publish": "publication", "register": "inscription",
    "access.request": "demande d’accès", "access.grant": "accès accordé", "access.refuse": "demande refusée",
    "access.revoke": "accès retiré", "access.page": "consultation (page)", "access.transcript": "consultation (texte)",
    "access.audio": "consultation (écoute)", "access.denied": "accès refusé", "mail": "message",
    "login.disabled": "connexion d’un compte désactivé", "account.created": "compte créé",
    "account.changed": "compte modifié", "account.password_reset": "mot de passe réinitialisé",
    "account.password_changed": "mot de passe changé", "account.removed": "compte supprimé",
}


def record(session, *, actor, action, interview_id=None, museum_id=None, detail="", address=None) -> None:
    """Add one line to the activity log in ``session`` (committed with the caller's transaction).

    ``museum_id`` defaults to the interview's museum. ``detail`` is kept short (4,000 characters).
    """
    from oralhist.records import ActivityEntry, Interview

    if not action or not isinstance(action, str):
        raise BadInput(None, "an activity needs an action")
    if museum_id is None and interview_id:
        iv = session.get(Interview, interview_id)
        museum_id = iv.museum_id if iv is not None else None
    session.add(ActivityEntry(actor=str(actor or "")[:200], action=action[:64], interview_id=interview_id,
                              museum_id=museum_id, detail=str(detail or "")[:MAX_DETAIL],
                              address=(str(address)[:64] if address else None)))


def record_now(ws, **kw) -> None:
    """``record`` in a session of its own, committed at once (for callers without a transaction)."""
    from oralhist import db

    with db.session(ws) as s:
        record(s, **kw)
        s.commit()


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int


def _parse_time(value, name: str) -> Optional[datetime]:
    from datetime import timezone

    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        raise BadInput(str(value), f"{name} must be a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _filtered(stmt, *, actor, interview_id, museum_id, action, since, until):
    from oralhist.records import ActivityEntry as A

    if actor:
        stmt = stmt.where(A.actor == actor)
    if interview_id:
        stmt = stmt.where(A.interview_id == interview_id)
    if museum_id is not None:
        stmt = stmt.where(A.museum_id == museum_id)
    if action:
        stmt = stmt.where(A.action.startswith(action)) if action.endswith(".") else stmt.where(A.action == action)
    if since is not None:
        stmt = stmt.where(A.at >= since)
    if until is not None:
        stmt = stmt.where(A.at < until)
    return stmt


def query(session, *, actor=None, interview_id=None, museum_id=None, action=None, since=None, until=None,
          page: int = 1, per_page: int = 50, count: bool = True) -> Page:
    """Lines of the log, newest first, filtered by person, interview, museum, action (``access.``:
    every action starting so) and time (``since`` inclusive, ``until`` exclusive); one page of them."""
    from sqlalchemy import func

    from oralhist.records import ActivityEntry as A

    if not isinstance(page, int) or page < 1 or not isinstance(per_page, int) or not 1 <= per_page <= PAGE_MAX:
        raise BadInput(f"{page}/{per_page}", f"page must be 1 or more and per_page 1-{PAGE_MAX}")
    kw = dict(actor=actor, interview_id=interview_id, museum_id=museum_id, action=action,
              since=_parse_time(since, "since"), until=_parse_time(until, "until"))
    rows = session.exec(_filtered(select(A), **kw).order_by(A.at.desc(), A.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    total = session.exec(_filtered(select(func.count(A.id)), **kw)).one() if count else len(rows)
    return Page(rows=[as_dict(r) for r in rows], total=int(total), page=page, per_page=per_page)


def as_dict(r) -> dict:
    return {"id": r.id, "at": r.at.isoformat(timespec="seconds") if r.at else None, "actor": r.actor,
            "action": r.action, "interview": r.interview_id, "museum_id": r.museum_id, "detail": r.detail,
            "address": r.address}


CSV_FIELDS = ("at", "actor", "action", "interview", "museum", "detail", "address")


def export_csv(session, **filters) -> str:
    """The filtered log as CSV (UTF-8, header row), oldest first, every page; museum by name.
    A cell opening with = + - @ is prefixed with ' so that a spreadsheet never runs it."""
    from oralhist.records import ActivityEntry as A, Museum

    kw = dict(actor=filters.get("actor"), interview_id=filters.get("interview_id"), museum_id=filters.get("museum_id"),
              action=filters.get("action"), since=_parse_time(filters.get("since"), "since"),
              until=_parse_time(filters.get("until"), "until"))
    museums = {m.id: m.name for m in session.exec(select(Museum)).all()}
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_FIELDS)
    for r in session.exec(_filtered(select(A), **kw).order_by(A.at, A.id)).all():
        cells = [r.at.isoformat(timespec="seconds") if r.at else "", r.actor, r.action, r.interview_id or "",
                 museums.get(r.museum_id, ""), r.detail, r.address or ""]
        w.writerow(["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in cells])
    return out.getvalue()
