"""Where the workbench stages uploaded files (``.oralhist/uploads/``), one folder per account, and
what a person may see of their names (never the server's folders)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def uploads_root(ws) -> Path:
    """``<archive>/.oralhist/uploads`` (a dot-folder: ingest's folder walk and the site skip it)."""
    return ws.root / ".oralhist" / "uploads"


def account_key(account) -> str:
    """The folder name of an account's uploads (a hash: logins never become paths)."""
    name = account.name if account is not None else ""
    return hashlib.sha256(("oralhist-upload:" + name).encode()).hexdigest()[:24]


def user_dir(ws, account) -> Path:
    """The account's own upload folder."""
    return uploads_root(ws) / account_key(account)


def shown_name(ws, text: str) -> str:
    """What a person may see of a file the server staged: its name, never the server's folders
    (``<archive>/.oralhist/uploads/multipart-…/a.wav`` -> ``a.wav``, inside a message too)."""
    text = str(text)
    for base in {str(uploads_root(ws)), str(uploads_root(ws).resolve()), str(ws.root), str(ws.root.resolve())}:
        text = re.sub(re.escape(base) + r"/(?:[^/\s]+/)*", "", text)
    return text
