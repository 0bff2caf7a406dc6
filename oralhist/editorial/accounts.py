"""Workbench accounts and their sessions: roles, passwords, museums, disabling, the one place both `oralhist user` and the web use.

Roles are a table of what each may do (``ROLES``, read by ``web/permissions.can``); a new role
is one line. Every write names its actor (``by``): ``None`` is the terminal (`oralhist user`),
which may do anything; an account tied to a museum manages only that museum's accounts and may
give no other museum (an account of another museum is « unknown » to it, as interviews are).
The last enabled admin can be neither removed, disabled nor given another role from the workbench.

Passwords are scrypt hashes (``hash_password``); a weak one (under 8 characters, or one that
zxcvbn scores below 2: common words, the login itself) is refused. Sessions are stored (the
SHA-256 of the cookie); they end at logout, on a password change, when the account is
disabled or removed, after ``idle`` without a request and ``lifetime`` after the login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, func, update
from sqlmodel import select

from oralhist import db
from oralhist.errors import BadInput, ConflictError, NotFound
from oralhist.records import EditorAccount, Museum, WebSession, utcnow

# role -> the actions it may do (web/permissions.can). Add a role with one line.
_READ = frozenset({"read"})
_VOLUNTEER = _READ | {"import", "correct", "retry"}
_EDITOR = _VOLUNTEER | {"approve", "index", "links", "speakers", "restore", "curate"}
ROLES: dict[str, frozenset] = {
    "volunteer": _VOLUNTEER,
    "editor": _EDITOR,
    "curator": _READ | {"curate"},  # exhibitions and objects of its museum; transcripts read-only
    "admin": _EDITOR | {"consent", "vocab", "accounts", "publish"},
    # issue 24: registers at /inscription; no staff action: reads only what an access grant opens (web/research.py)
    "researcher": frozenset(),
}
STAFF_ROLES = ("volunteer", "editor", "curator", "admin")  # the roles an admin gives on /comptes
ROLE_FR = {"volunteer": "bénévole", "editor": "éditeur", "curator": "conservateur", "admin": "administrateur",
           "researcher": "chercheur"}  # as the activity log says them
ACTIONS = frozenset().union(*ROLES.values())

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
MIN_SCORE = 2  # zxcvbn 0-4: 0-1 are guessed in under ~10^6 tries (common words, "azertyuiop", the login)
MAX_LOGIN = 64
IDLE_MINUTES = 30  # [server] idle_minutes
SESSION_HOURS = 12  # [server] session_hours: the absolute lifetime of a login
SEEN_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often (one write, not one per request)


# ------------------------------------------------------------------------------ passwords


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def check_strength(password: str, login: str = "") -> None:
    """BadInput for a password too short, too long, or too easy to guess (zxcvbn score < 2)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise BadInput(login or None, f"weak password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadInput(login or None, f"password too long (at most {MAX_PASSWORD} characters)")
    from zxcvbn import zxcvbn

    if zxcvbn(password[:100], user_inputs=[login] if login else [])["score"] < MIN_SCORE:
        raise BadInput(login or None, "weak password: too easy to guess (a common word or close to the login); "
                                      "add one or two uncommon words")


def temporary_password() -> str:
    """A password an admin hands over after a reset (four groups, read aloud easily)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def check_login(login) -> str:
    """The login, stripped; BadInput when empty, over 64 characters, or with spaces, '/' or controls."""
    name = login.strip() if isinstance(login, str) else ""
    if not name:
        raise BadInput(None, "empty login")
    if len(name) > MAX_LOGIN:
        raise BadInput(name[:20] + "…", f"login too long ({len(name)} characters, at most {MAX_LOGIN})")
    if any(c.isspace() or c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadInput(name, "a login has no spaces, no '/' and no '\\'")
    return name


def check_role(role) -> str:
    if role not in ROLES:
        raise BadInput(str(role), "unknown role (" + ", ".join(ROLES) + ")")
    return role


# ------------------------------------------------------------------------------ who manages whom


@dataclass(frozen=True)
class Scope:
    """What an actor may manage: ``museum_id`` None = every museum (the terminal, untied admins)."""

    museum_id: Optional[int] = None
    actor: Optional[str] = None


def scope_of(s, by: Optional[str]) -> Scope:
    if by is None:
        return Scope()
    acc = s.exec(select(EditorAccount).where(EditorAccount.name == by)).first()
    if acc is None:
        raise NotFound(by, "no such account")
    return Scope(acc.museum_id, by)


def _find(s, login: str, scope: Scope) -> EditorAccount:
    row = s.exec(select(EditorAccount).where(EditorAccount.name == login)).first()
    if row is None or (scope.museum_id is not None and row.museum_id != scope.museum_id):
        raise NotFound(login, "no such account")  # another museum's account is not revealed
    return row


def _museum(s, museum, scope: Scope, *, create: bool = False) -> Optional[int]:
    """The id of ``museum`` (a name; "" or None: no museum). It must exist (in the database or
    in [archive] museums, passed by the caller as existing) unless ``create``; a museum-tied actor
    may only give its own museum."""
    if museum is None or (isinstance(museum, str) and not museum.strip()):
        if scope.museum_id is not None:
            raise BadInput(None, "an account of a museum's admin belongs to that museum")
        return None
    if not isinstance(museum, str):
        raise BadInput(None, "museum must be a name")
    from oralhist.records import museum_id as find_or_create

    if not create:
        from oralhist.text import fold

        m = s.exec(select(Museum).where(Museum.name == museum.strip())).first() or next(
            (o for o in s.exec(select(Museum)).all() if fold(o.name) == fold(museum)), None)
        if m is None:
            raise BadInput(museum, "unknown museum")
        mid = m.id
    else:
        mid = find_or_create(s, museum.strip())
    if scope.museum_id is not None and mid != scope.museum_id:
        raise BadInput(museum, "a museum's admin gives accounts of that museum only")
    return mid


def _enabled_admins(s) -> int:
    return s.exec(select(func.count()).select_from(EditorAccount)
                  .where(EditorAccount.role == "admin", EditorAccount.disabled == False)).one()  # noqa: E712


def _keep_an_admin(s, row: EditorAccount, *, by, role=None, disabled=None, removing=False) -> None:
    """Refuse, to a person in the workbench (``by``), the change that would leave no enabled admin
    (the terminal, the archive's owner, may: `oralhist user add` makes a new one)."""
    if by is None or row.role != "admin" or row.disabled:
        return
    if removing or disabled or (role is not None and role != "admin"):
        if _enabled_admins(s) <= 1:
            raise BadInput(row.name, "the last admin account cannot be removed, disabled or given another role")


def end_sessions(s, account_id: int, *, keep: Optional[str] = None) -> int:
    """Delete every stored session of an account now (``keep``: one session id left open)."""
    q = delete(WebSession).where(WebSession.account_id == account_id)
    if keep:
        q = q.where(WebSession.id != keep)
    return s.exec(q).rowcount or 0


# ------------------------------------------------------------------------------ accounts


def _known_museums(ws) -> tuple:
    return tuple(getattr(ws.settings, "museums", ()) or ())


def create_account(ws, login, password, role, museum=None, *, by: Optional[str] = None,
                   create_museum: bool = False) -> dict:
    """A new account; ConflictError when the login exists, BadInput for a weak password, an
    unknown role or museum (a museum listed in [archive] museums is created). Nothing is written
    on any error."""
    name = check_login(login)
    check_role(role)
    check_strength(password, name)
    with db.session(ws) as s:
        scope = scope_of(s, by)
        if role == "admin" and scope.museum_id is not None and museum is None:
            raise BadInput(name, "a museum's admin gives accounts of that museum only")
        listed = isinstance(museum, str) and museum.strip() in _known_museums(ws)
        mid = _museum(s, museum, scope, create=create_museum or listed)
        if s.exec(select(EditorAccount.id).where(func.lower(EditorAccount.name) == name.lower())).first() is not None:
            raise ConflictError(name, "an account with this login exists already")
        # a password chosen by someone else (an admin in the workbench) is changed by its owner at the first login
        row = EditorAccount(name=name, password_hash=hash_password(password), role=role, museum_id=mid,
                            must_change_password=by is not None)
        s.add(row)
        s.flush()
        _log(s, by, "account.created", row, f"{name} ({ROLE_FR.get(role, role)})")
        s.commit()
        return _row(s, row)


def update_account(ws, login: str, *, role=None, museum=..., disabled=None, password=None,
                   by: Optional[str] = None, create_museum: bool = False) -> dict:
    """Change what is given (``museum=...``: kept; None or "": no museum). A password set by
    someone else must be changed by its owner at the next login; a new password, a disabled
    account, another role or museum end every session of the account at once."""
    if role is not None:
        check_role(role)
    if disabled is not None and not isinstance(disabled, bool):
        raise BadInput(login, "disabled must be true or false")
    with db.session(ws) as s:
        scope = scope_of(s, by)
        row = _find(s, login, scope)
        if password is not None:
            check_strength(password, row.name)
        _keep_an_admin(s, row, by=by, role=role, disabled=disabled)
        ends = False
        if museum is not ...:
            listed = isinstance(museum, str) and museum.strip() in _known_museums(ws)
            mid = _museum(s, museum, scope, create=create_museum or listed)
            ends |= mid != row.museum_id
            row.museum_id = mid
        if role is not None:
            ends |= role != row.role
            row.role = role
        if disabled is not None:
            ends |= disabled and not row.disabled
            row.disabled = disabled
        if password is not None:
            row.password_hash = hash_password(password)
            row.must_change_password = by is not None and by != row.name
            ends = True
        if ends:
            end_sessions(s, row.id)
        s.add(row)
        changed = [w for w, v in (("rôle", role), ("désactivé" if disabled else "réactivé", disabled),
                                  ("mot de passe", password)) if v is not None] + (["musée"] if museum is not ... else [])
        _log(s, by, "account.changed", row, f"{row.name} : {', '.join(changed) or 'rien'}")
        s.commit()
        return _row(s, row)


def reset_password(ws, login: str, *, by: Optional[str] = None) -> str:
    """A temporary password for ``login`` (returned once, never stored): its sessions end, and
    at the next login the person must choose a new password."""
    temp = temporary_password()
    with db.session(ws) as s:
        row = _find(s, login, scope_of(s, by))
        row.password_hash = hash_password(temp)
        row.must_change_password = True
        end_sessions(s, row.id)
        s.add(row)
        _log(s, by, "account.password_reset", row, row.name)  # never the temporary password
        s.commit()
    return temp


def change_own_password(ws, login: str, current: str, new: str, *, keep_session: Optional[str] = None) -> None:
    """The person's own change: the current password is checked; every other session ends."""
    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == login)).first()
        if row is None or not check_password(current or "", row.password_hash):
            raise BadInput(login, "the current password is wrong")
        if new == current:
            raise BadInput(login, "the new password must differ from the current one")
        check_strength(new, login)
        row.password_hash = hash_password(new)
        row.must_change_password = False
        end_sessions(s, row.id, keep=keep_session)
        s.add(row)
        _log(s, login, "account.password_changed", row, login)
        s.commit()


def remove_account(ws, login: str, *, by: Optional[str] = None) -> None:
    with db.session(ws) as s:
        row = _find(s, login, scope_of(s, by))
        _keep_an_admin(s, row, by=by, removing=True)
        end_sessions(s, row.id)  # a statement, before the account's own delete (FK order)
        _log(s, by, "account.removed", row, f"{row.name} ({ROLE_FR.get(row.role, row.role)})")
        s.delete(row)
        s.commit()


def _log(s, by: Optional[str], action: str, row: EditorAccount, detail: str) -> None:
    """One line of the activity log for an account write (issue 21 item 8), in the write's transaction."""
    from oralhist.editorial.activity import record

    record(s, actor=by or "terminal", action=action, museum_id=row.museum_id, detail=detail)


def _row(s, r: EditorAccount, museums: Optional[dict] = None) -> dict:
    if museums is None:
        m = s.get(Museum, r.museum_id) if r.museum_id else None
        museum = m.name if m else None
    else:
        museum = museums.get(r.museum_id)
    return {"login": r.name, "name": r.name, "role": r.role, "museum": museum, "disabled": bool(r.disabled),
            "must_change_password": bool(r.must_change_password),
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "last_login_at": r.last_login_at.isoformat(timespec="seconds") if r.last_login_at else None}


def list_accounts(ws, *, by: Optional[str] = None) -> list[dict]:
    """Every account the actor manages (by login), with its open session count."""
    with db.session(ws) as s:
        scope = scope_of(s, by)
        q = select(EditorAccount).order_by(EditorAccount.name)
        if scope.museum_id is not None:
            q = q.where(EditorAccount.museum_id == scope.museum_id)
        museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
        counts = dict(s.exec(select(WebSession.account_id, func.count()).group_by(WebSession.account_id)).all())
        out = []
        for r in s.exec(q).all():
            d = _row(s, r, museums)
            d["sessions"] = counts.get(r.id, 0)
            out.append(d)
        return out


def museum_names(ws, *, by: Optional[str] = None) -> list[str]:
    """The museums an actor may give: those in the database and in [archive] museums."""
    with db.session(ws) as s:
        scope = scope_of(s, by)
        rows = s.exec(select(Museum).order_by(Museum.name)).all()
    if scope.museum_id is not None:
        return [m.name for m in rows if m.id == scope.museum_id]
    return sorted({m.name for m in rows} | set(_known_museums(ws)), key=str.casefold)


def account_exists(ws, name: str) -> bool:
    with db.session(ws) as s:
        return s.exec(select(EditorAccount.id).where(EditorAccount.name == name.strip())).first() is not None


def set_account(ws, name: str, password: str | None, *, role: str | None = None, museum: str | None = None,
                new_role: str = "editor") -> bool:
    """`oralhist user add`: create (True) or update (False); on an existing account only what is
    given changes. A museum named here is created when missing (the terminal is the archive's owner)."""
    name = check_login(name)
    if role is not None:
        check_role(role)
    if account_exists(ws, name):
        update_account(ws, name, role=role, museum=... if museum is None else museum, password=password,
                       create_museum=True)
        return False
    if password is None:
        raise BadInput(name, "a new account needs a password")
    create_account(ws, name, password, role or new_role, museum, create_museum=True)
    return True


# ------------------------------------------------------------------------------ logins and sessions


def verify_login(ws, name: str, password: str) -> bool:
    """True when the login and password are right and the account is enabled."""
    return login_status(ws, name, password) == "ok"


def login_status(ws, name: str, password: str) -> str:
    """"ok", "bad" (unknown login or wrong password, same time either way) or "disabled"
    (right password, disabled account)."""
    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        if row is None:
            hash_password(password)  # same time whether or not the name exists
            return "bad"
        if not check_password(password, row.password_hash):
            return "bad"
        if row.disabled:
            return "disabled"
        row.last_login_at = utcnow()
        s.add(row)
        s.commit()
        return "ok"


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(ws, name: str, *, lifetime: timedelta = timedelta(hours=SESSION_HOURS),
                 address: Optional[str] = None, agent: Optional[str] = None) -> tuple[str, str]:
    """A new stored session for account ``name``: (cookie value, csrf token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    with db.session(ws) as s:
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == name)).one()
        s.add(WebSession(id=session_id(token), account_id=acc.id, csrf=csrf, created_at=now, last_seen_at=now,
                         expires_at=now + lifetime, address=(address or "")[:64] or None,
                         agent=(agent or "")[:200] or None))
        s.commit()
    return token, csrf


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class LiveSession:
    name: str
    role: str
    museum_id: Optional[int]
    csrf: str
    must_change_password: bool
    session: str  # the stored id (SHA-256 of the cookie)


def session_user(ws, token: str, *, idle: timedelta = timedelta(minutes=IDLE_MINUTES),
                 lifetime: timedelta = timedelta(hours=SESSION_HOURS)) -> Optional[LiveSession]:
    """The live session of a cookie, or None: unknown, past its lifetime, idle longer than
    ``idle``, or its account disabled (an expired session is deleted). ``last_seen_at`` is
    written at most every 30 s."""
    if not token or len(token) > 200:
        return None
    sid = session_id(token)
    db.migrate(ws)
    # one statement of plain columns on a bare connection: the check runs on every request, so no
    # ORM session or identity map (half the CPU of two ORM gets)
    with db.engine_for(ws).connect() as conn:
        row = conn.execute(_LIVE.where(WebSession.id == sid)).first()
        if row is None:
            return None
        created, expires, last_seen, csrf, name, role, museum_id, disabled, must_change = row
        now = utcnow()
        seen = _aware(last_seen or created)
        if _aware(expires) < now or _aware(created) + lifetime < now or seen + idle < now:
            conn.execute(delete(WebSession).where(WebSession.id == sid))
            conn.commit()
            return None
        if disabled:
            return None
        if now - seen > SEEN_EVERY:
            conn.execute(update(WebSession).where(WebSession.id == sid).values(last_seen_at=now))
            conn.commit()
        return LiveSession(name, role, museum_id, csrf, bool(must_change), sid)


_LIVE = (select(WebSession.created_at, WebSession.expires_at, WebSession.last_seen_at, WebSession.csrf,
                EditorAccount.name, EditorAccount.role, EditorAccount.museum_id, EditorAccount.disabled,
                EditorAccount.must_change_password)
         .join(EditorAccount, EditorAccount.id == WebSession.account_id))


def close_session(ws, token: str) -> Optional[str]:
    """Delete the session of this cookie (logout); the name of its account when there was one."""
    db.migrate(ws)
    key = session_id(token or "")
    with db.engine_for(ws).connect() as conn:
        name = conn.execute(select(EditorAccount.name).join(WebSession, WebSession.account_id == EditorAccount.id)
                            .where(WebSession.id == key)).scalar()
        gone = conn.execute(delete(WebSession).where(WebSession.id == key)).rowcount
        conn.commit()
    return name if gone else None


def list_sessions(ws, name: str) -> list[dict]:
    """The open sessions of an account, newest first: a short handle (``key``), times, address, browser."""
    with db.session(ws) as s:
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        if acc is None:
            return []
        rows = s.exec(select(WebSession).where(WebSession.account_id == acc.id)
                      .order_by(WebSession.created_at.desc())).all()
        return [{"key": r.id[:16], "id": r.id, "created_at": _aware(r.created_at),
                 "last_seen_at": _aware(r.last_seen_at or r.created_at), "address": r.address or "",
                 "agent": r.agent or ""} for r in rows]


def end_session(ws, name: str, key: str) -> None:
    """End one of ``name``'s own sessions by its handle (NotFound for another's)."""
    if not isinstance(key, str) or not 8 <= len(key) <= 64 or any(c not in "0123456789abcdef" for c in key):
        raise NotFound(str(key)[:20], "no such session")
    with db.session(ws) as s:
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        rows = [r for r in s.exec(select(WebSession).where(WebSession.account_id == (acc.id if acc else -1))).all()
                if r.id.startswith(key)]
        if len(rows) != 1:
            raise NotFound(key, "no such session")
        s.delete(rows[0])
        s.commit()
