"""The one permission function of the workbench: who may do what, on which museum's interviews.

Roles are a table, role -> actions (``oralhist.editorial.accounts.ROLES``, shared with the
accounts the library checks; a new role is one line there):

volunteer: read, import, correct the interviews of their museum;
editor:    also approve, index, links, speakers, curate (exhibitions and objects' alt text);
curator:   read (transcripts read-only) and curate the exhibitions and objects of their museum;
admin:     also consent, redactions, vocabularies, accounts, publishing; every museum when
           the account is tied to none. The local token mode (``oralhist edit``) is one
           admin on this computer.

Every id a request names — in its address, its query string, a JSON body or a multipart field
(interview ids, job ids, term ids, object references, exhibition slugs, speaker ids and labels,
redaction ids) — is checked with ``can`` against the museum of the row it names, before the
library is called: ``interview_reach`` for interview ids, ``can_shared`` for rows that may
belong to no museum (vocabulary terms shared by the whole archive). Pages ask the same ``can``
to leave out the controls a role may not use (``may`` in the templates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from oralhist.editorial.accounts import ACTIONS, ROLES


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    museum_id: Optional[int]
    csrf: str
    must_change_password: bool = False
    session: str = ""  # the stored session's id (empty in the local token mode)


def can(account: Optional[Account], action: str, interview_museum_id: Optional[int] = None,
        *, any_museum: bool = False) -> bool:
    """True when ``account`` may do ``action`` (on an interview of ``interview_museum_id``).

    An account tied to a museum reaches only that museum's interviews (an interview with no
    museum is reachable by untied accounts only). ``any_museum``: the action is not about one
    interview (list, import, publish).
    """
    if account is None or action not in ACTIONS:
        return False
    if action not in ROLES.get(account.role, ()):
        return False
    if any_museum or account.museum_id is None:
        return True
    return interview_museum_id == account.museum_id


def interview_museum(s, iid: str):
    """(exists, museum_id) of an interview."""
    from oralhist.records import Interview

    iv = s.get(Interview, iid)
    return (iv is not None, iv.museum_id if iv is not None else None)


def can_shared(account: Optional[Account], action: str, museum_id: Optional[int]) -> bool:
    """``can`` for a row that belongs to a museum or to nobody (a vocabulary term shared by the
    archive, with no museum): a shared row is reachable by every account of the role; a
    museum's row only by accounts of that museum (and untied ones)."""
    return can(account, action, museum_id, any_museum=museum_id is None)


def interview_reach(s, account: Optional[Account], action: str, iid: Optional[str]) -> str:
    """What ``account`` may do to the interview ``iid`` named by a request (address, body, field):

    ``"new"``: no interview has this id (an import may create it, in the account's museum);
    ``"ok"``: allowed; ``"unknown"``: another museum's interview (answer 404, as for an unknown
    id: its existence is not revealed); ``"role"``: readable, but ``action`` needs another role (403).
    """
    exists, mid = interview_museum(s, iid) if iid else (False, None)
    if not exists:
        return "new"
    if not can(account, "read", mid):
        return "unknown"
    return "ok" if can(account, action, mid) else "role"
