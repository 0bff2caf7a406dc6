"""Import in the browser: the page /importer, resumable uploads (tus 1.0) and POST /api/imports.

- ``/api/uploads/`` is a tus 1.0 server (core + creation + termination + expiration): the
  ``tuspyserver`` package's router, run inside this Starlette application. Every request first
  passes the workbench's own checks (session, CSRF on writes, body limits), then this module's:
  the account must be allowed to import (volunteer and above); each account's uploads live in
  its own folder ``.oralhist/uploads/<account key>/`` inside the archive, so nobody else can
  resume, read or delete them. Bodies are streamed to disk chunk by chunk, never held in memory.
- ``POST /api/imports`` (JSON) hands finished uploads to ``oralhist.archive.ingest.ingest_paths``
  through ``interviews.import_files`` — the CLI's code path, its validation and messages (shown
  in French, next to the file they are about).
- Stale uploads (no write for ``STALE_HOURS``) are swept when the application starts and at
  every import.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, OralhistError
from oralhist.web.api import json_route, who

STALE_HOURS = 48
MAX_PARTS = 50
TUS_PREFIX = "/api/uploads"


def uploads_root(ws) -> Path:
    """``<archive>/.oralhist/uploads`` (a dot-folder: ingest's folder walk and the site skip it)."""
    return ws.root / ".oralhist" / "uploads"


def account_key(account) -> str:
    name = account.name if account is not None else ""
    return hashlib.sha256(("oralhist-upload:" + name).encode()).hexdigest()[:24]


def sweep_stale(ws, hours: float = STALE_HOURS) -> list[str]:
    """Remove uploads and staging folders not written to for ``hours``; -> the names removed."""
    root = uploads_root(ws)
    if not root.is_dir():
        return []
    cutoff = time.time() - hours * 3600
    gone = []
    for entry in root.rglob("*"):
        try:
            st = entry.lstat()
        except FileNotFoundError:
            continue
        if entry.is_file() and st.st_mtime < cutoff and not entry.name.endswith(".lock"):
            entry.unlink(missing_ok=True)
            gone.append(str(entry.relative_to(root)))
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            if not any(d.iterdir()) and d.stat().st_mtime < cutoff:
                d.rmdir()
        except OSError:
            pass
    return gone


def _account(request):
    return request.scope.get("state", {}).get("account")


def _user_dir(ws, account) -> Path:
    return uploads_root(ws) / account_key(account)


def finished_upload(ws, account, uid: str) -> tuple[Path, str]:
    """(data file, original file name) of a complete upload of this account; BadInput otherwise."""
    if not uid or len(uid) != 32 or any(c not in "0123456789abcdef" for c in uid):
        raise BadInput(uid, "identifiant d’envoi invalide")
    d = _user_dir(ws, account)
    data, info = d / uid, d / f"{uid}.info"
    try:
        meta = json.loads(info.read_text("utf-8"))
    except (OSError, ValueError):
        raise BadInput(uid, "envoi inconnu (expiré ou fait par un autre compte)") from None
    if not data.is_file() or meta.get("size") is None or meta.get("offset") != meta.get("size") \
            or data.stat().st_size != meta["size"]:
        raise BadInput(uid, "envoi inachevé : reprenez-le avant d’importer")
    md = meta.get("metadata") or {}
    return data, str(md.get("filename") or md.get("name") or uid)


def trim_to_offset(ws, account, uid: str) -> None:
    """Cut an upload's data back to its recorded offset (a server killed mid-PATCH wrote bytes it
    never recorded; tuspyserver appends, so a resumed PATCH would otherwise land after them)."""
    from tuspyserver.lock import acquire_upload_lock

    if len(uid) != 32 or any(c not in "0123456789abcdef" for c in uid):
        return
    d = _user_dir(ws, account)
    data, info = d / uid, d / f"{uid}.info"
    if not data.is_file():
        return
    with acquire_upload_lock(str(data), locks_dir=str(d / ".locks"), blocking=True):
        try:
            offset = int(json.loads(info.read_text("utf-8")).get("offset") or 0)
        except (OSError, ValueError, TypeError):
            return
        if data.stat().st_size > offset:
            with open(data, "r+b") as f:
                f.truncate(offset)


def drop_upload(ws, account, uid: str) -> None:
    d = _user_dir(ws, account)
    for p in (d / uid, d / f"{uid}.info", d / ".locks" / f"{uid}.lock"):
        p.unlink(missing_ok=True)


def import_uploads(ws, account, body: dict, who: str) -> tuple[int, dict]:
    """Stage finished uploads (hard links), ingest them with the CLI's code path; -> (status, JSON)."""
    from oralhist.archive.ingest import safe_file_name, slugify
    from oralhist.web.interviews import META_FIELDS, import_files
    from oralhist.web.errors_fr import french as fr

    sweep_stale(ws)
    uids = body.get("uploads")
    if not isinstance(uids, list) or not uids or not all(isinstance(u, str) for u in uids):
        return 400, {"error": "aucun fichier envoyé (liste « uploads » vide)"}
    if len(uids) > MAX_PARTS or len(set(uids)) != len(uids):
        return 400, {"error": f"au plus {MAX_PARTS} fichiers, chacun une fois"}
    consent_uid = body.get("consent") or None
    if consent_uid is not None and not isinstance(consent_uid, str):
        return 400, {"error": "« consent » : un identifiant d’envoi"}
    errors = []
    found = {}
    for u in uids + ([consent_uid] if consent_uid else []):
        try:
            found[u] = finished_upload(ws, account, u)
        except BadInput as exc:
            errors.append({"upload": u, "file": None, "error": exc.reason})
    if errors:
        return 400, {"error": "; ".join(e["error"] for e in errors), "failed": errors, "kept": True}

    stage = uploads_root(ws) / f"stage-{uuid.uuid4().hex}"
    stage.mkdir(parents=True)
    by_name: dict[str, str] = {}
    keep_uploads = False
    try:
        staged = []
        for i, u in enumerate(uids):
            src, original = found[u]
            name = safe_file_name(original.replace("\\", "/").rsplit("/", 1)[-1]) or "fichier"
            if (stage / name).exists():
                name = f"{i}-{name}"
            os.link(src, stage / name)  # same file system: no copy; the upload stays until the end
            staged.append(stage / name)
            by_name[name] = u
        consent = None
        if consent_uid:
            src, original = found[consent_uid]
            (stage / "consent").mkdir()
            consent = stage / "consent" / (safe_file_name(original.rsplit("/", 1)[-1]) or "formulaire")
            os.link(src, consent)
            by_name[consent.name] = consent_uid
        meta = {k: str(body.get(k) or "").strip()[:500] for k in META_FIELDS}
        if body.get("together") and not meta["interview"] and len(staged) > 1:
            meta["interview"] = slugify(f"{meta['date'][:4]} {meta['narrator'] or staged[0].stem}")
        if account is not None and account.museum_id is not None:
            from oralhist.records import Museum

            with db.session(ws) as s:
                meta["museum"] = s.get(Museum, account.museum_id).name  # a tied account imports into its museum
        try:
            res = import_files(ws, staged, meta, consent, str(body.get("scope") or ""), who)
        except OralhistError as exc:  # refused before anything was written: the uploads are kept
            keep_uploads = True
            name = Path(exc.path).name if exc.path else None
            return 400, {"error": (f"{found[by_name[name]][1]} : " if name in by_name else "") + fr(exc.reason),
                         "failed": [{"upload": by_name.get(name), "error": fr(exc.reason)}], "kept": True}
        for f in res["failed"]:
            name = Path(f["file"]).name
            f["upload"] = by_name.get(name)
            f["file"] = found[f["upload"]][1] if f["upload"] else name
        for d in res.get("duplicates", []):
            name = Path(d["file"]).name
            d["upload"] = by_name.get(name)
            d["file"] = found[d["upload"]][1] if d["upload"] else name
        status = 202 if res["ids"] else (200 if res["skipped"] and not res["failed"] else 400)
        if status == 400:
            res["error"] = "; ".join(f"{f['file']} : {f['error']}" for f in res["failed"]) or "rien importé"
        return status, res
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not keep_uploads:
            for u in found:
                drop_upload(ws, account, u)


# ------------------------------------------------------------------------------------- tus


def make_tus_app(cfg):
    """The tus server: tuspyserver's FastAPI router in its own small ASGI app, per-account folders."""
    from fastapi import FastAPI, HTTPException
    from tuspyserver import create_tus_router

    ws = cfg.ws

    async def files_dir(request: Request):
        d = _user_dir(ws, _account(request))
        return lambda _metadata: {"files_dir": str(d)}

    def pre_create(metadata: dict, info: dict):
        if info.get("defer_length"):
            raise HTTPException(400, "Upload-Length requis (longueur différée non acceptée)")
        size = info.get("size")
        if size is None or size < 0:
            raise HTTPException(400, "Upload-Length requis")
        if size > cfg.max_upload:
            raise HTTPException(413, f"fichier trop volumineux (au plus {cfg.max_upload // 1024**2} Mo)")
        if not (metadata.get("filename") or metadata.get("name")):
            raise HTTPException(400, "métadonnée « filename » requise")
        metadata.setdefault("filetype", "")

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(create_tus_router(
        prefix=TUS_PREFIX, files_dir=str(uploads_root(ws) / "_"), max_size=cfg.max_upload,
        days_to_keep=max(1, STALE_HOURS // 24), file_dep=files_dir, pre_create_hook=pre_create,
        strict_offset_validation=True))
    return app


class TusEndpoint:
    """ASGI: the role check, then the tus app (built on first use: FastAPI is imported only then)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.app = None

    async def __call__(self, scope, receive, send):
        from oralhist.web.permissions import can

        if not can(scope.get("state", {}).get("account"), "import", any_museum=True):
            return await JSONResponse({"error": "action réservée à un autre rôle"}, 403)(scope, receive, send)
        if self.app is None:
            self.app = make_tus_app(self.cfg)
        override = dict(scope.get("headers") or []).get(b"x-http-method-override", b"").decode("latin-1").strip().upper()
        if "PATCH" in (scope["method"], override):
            from starlette.concurrency import run_in_threadpool

            uid = scope["path"].rstrip("/").rsplit("/", 1)[-1]
            await run_in_threadpool(trim_to_offset, self.cfg.ws, scope.get("state", {}).get("account"), uid)
        scope = dict(scope, path_params={})
        await self.app(scope, receive, send)


# ------------------------------------------------------------------------------------- routes


def routes(cfg, page, guard) -> list:
    ws = cfg.ws
    try:
        sweep_stale(ws)
    except OSError:
        pass
    tus = TusEndpoint(cfg)

    def import_page(request: Request):
        from sqlmodel import select

        from oralhist.jobs import LABELS
        from oralhist.records import Museum

        acc = _account(request)
        with db.session(ws) as s:
            museums = [m.name for m in s.exec(select(Museum).order_by(Museum.name)).all()]
            mine = s.get(Museum, acc.museum_id).name if acc and acc.museum_id else None
        return page(request, "upload.html", museums=museums, my_museum=mine, labels=LABELS,
                    max_mb=cfg.max_upload // 1024**2)

    def api_imports(request: Request, data: dict):
        acc = _account(request)
        status, res = import_uploads(ws, acc, data, who(request, cfg.who))
        return JSONResponse(res, status)

    return [
        Route("/importer", guard("import", import_page)),
        Route("/api/imports", guard("import", json_route(api_imports)), methods=["POST"]),
        Route(TUS_PREFIX, tus),
        Route(TUS_PREFIX + "/{rest:path}", tus),
    ]
