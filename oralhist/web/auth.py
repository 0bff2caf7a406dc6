"""Who may use the editor.

Local mode (bound to 127.0.0.1/::1): a random token in the printed address; the first
visit sets it as an HttpOnly cookie. Network mode (any other address): editor accounts
with scrypt-hashed passwords (``oralhist edit user add``); the server refuses to start
without at least one account — the editor is never open on a network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets

from sqlmodel import select

from oralhist.errors import BadInput

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8


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


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_account(ws, name: str, password: str) -> bool:
    """Create (True) or update (False) an account."""
    from oralhist import db
    from oralhist.records import EditorAccount

    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise BadInput(name, "an account name is 1-64 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise BadInput(name, f"the password must have at least {MIN_PASSWORD} characters")
    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        created = row is None
        if created:
            row = EditorAccount(name=name, password_hash=hash_password(password))
        else:
            row.password_hash = hash_password(password)
        s.add(row)
        s.commit()
    return created


def list_accounts(ws) -> list[dict]:
    from oralhist import db
    from oralhist.records import EditorAccount

    with db.session(ws) as s:
        rows = s.exec(select(EditorAccount).order_by(EditorAccount.name)).all()
        return [{"name": r.name, "created_at": r.created_at.isoformat(timespec="seconds"),
                 "last_login_at": r.last_login_at.isoformat(timespec="seconds") if r.last_login_at else None}
                for r in rows]


def verify_login(ws, name: str, password: str) -> bool:
    from oralhist import db
    from oralhist.records import EditorAccount, utcnow

    with db.session(ws) as s:
        row = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
        if row is None:
            hash_password(password)  # same time whether or not the name exists
            return False
        if not check_password(password, row.password_hash):
            return False
        row.last_login_at = utcnow()
        s.add(row)
        s.commit()
        return True
