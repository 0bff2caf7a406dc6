"""Per-account upload quota: ``[server] upload_quota_gb`` (default 20) of what one account holds.

What an account holds = the originals it imported through the workbench (``Recording.added_by``,
their stored ``size``) + its uploads in progress (the ``Upload-Length`` each tus upload declared,
in its own folder of ``.oralhist/uploads/``). Checked, before anything is stored, at tus creation
(the declared length), at every tus PATCH (the total still fits: creations racing each other)
and on the multipart ``POST /api/interviews`` (its announced length, then the bytes as they
arrive). Removing an interview gives its bytes back. Local mode (``oralhist edit``) has no quota.
"""

from __future__ import annotations

import json


def enforced(cfg, account) -> bool:
    return cfg.mode == "accounts" and account is not None


def pending_bytes(ws, account) -> int:
    """Bytes the account's unfinished or unimported tus uploads take or will take."""
    from oralhist.web.staging import user_dir

    d = user_dir(ws, account)
    total = 0
    if not d.is_dir():
        return 0
    for info in d.glob("*.info"):
        try:
            declared = int(json.loads(info.read_text("utf-8")).get("size") or 0)
        except (OSError, ValueError, TypeError):
            declared = 0
        data = info.with_suffix("")
        try:
            on_disk = data.stat().st_size
        except OSError:
            on_disk = 0
        total += max(declared, on_disk)
    return total


def imported_bytes(ws, account) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Recording

    with db.session(ws) as s:
        return int(s.exec(select(func.coalesce(func.sum(Recording.size), 0))
                          .where(Recording.added_by == account.name)).one() or 0)


def used_bytes(ws, account) -> int:
    return imported_bytes(ws, account) + pending_bytes(ws, account)


def left_bytes(cfg, account) -> int | None:
    """Bytes the account may still send; None: no quota (local mode)."""
    if not enforced(cfg, account):
        return None
    return max(0, cfg.upload_quota - used_bytes(cfg.ws, account))


def gb_fr(n: int) -> str:
    """``18,5 Go`` (one decimal, French comma; below 1 Go in Mo)."""
    if n < 1024**3:
        return f"{n / 1024**2:.0f} Mo"
    text = f"{n / 1024**3:.1f}"
    return (text[:-2] if text.endswith(".0") else text).replace(".", ",") + " Go"


def over_message(cfg, left: int) -> str:
    return (f"quota d’envoi dépassé : ce compte peut garder au plus {gb_fr(cfg.upload_quota)} d’enregistrements "
            f"et il vous reste {gb_fr(left)} ; rien n’a été enregistré")


def mark_imported(ws, before_id: int, interview_ids, who: str) -> None:
    """Record ``who`` on the recordings an import just added (ids above ``before_id``)."""
    from sqlalchemy import update

    from oralhist import db
    from oralhist.records import Recording

    if not interview_ids:
        return
    with db.session(ws) as s:
        s.exec(update(Recording).where(Recording.id > before_id, Recording.interview_id.in_(list(interview_ids)),
                                       Recording.added_by.is_(None)).values(added_by=who))
        s.commit()


def last_recording_id(ws) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Recording

    with db.session(ws) as s:
        return int(s.exec(select(func.coalesce(func.max(Recording.id), 0))).one() or 0)
