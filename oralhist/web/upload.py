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
from oralhist.errors import BadInput, NotFound, OralhistError
from oralhist.web.api import json_route, who
from oralhist.web.staging import shown_name, uploads_root, user_dir as _user_dir  # where both upload routes stage files

STALE_HOURS = 48
MAX_PARTS = 50
TUS_PREFIX = "/api/uploads"



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
    from oralhist.archive.ingest import safe_file_name
    from oralhist.web.interviews import META_FIELDS, import_files, import_target
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

    meta = {k: str(body.get(k) or "").strip()[:500] for k in META_FIELDS}
    first = Path(found[uids[0]][1].replace("\\", "/").rsplit("/", 1)[-1]).stem or "fichier"
    try:  # the interview the body names: a new id or one of this account's museum (404 otherwise)
        import_target(ws, account, meta, first if body.get("together") and len(uids) > 1 else None)
    except OralhistError as exc:
        from oralhist.web.api import Forbidden

        return (404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) else 400), \
            {"error": exc.reason, "kept": True}
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
        try:
            res = import_files(ws, staged, meta, consent, str(body.get("scope") or ""), who, account)
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

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.include_router(create_tus_router(
        prefix=TUS_PREFIX, files_dir=str(uploads_root(ws) / "_"), max_size=cfg.max_upload,
        days_to_keep=max(1, STALE_HOURS // 24), file_dep=files_dir, pre_create_hook=pre_create,
        strict_offset_validation=True))
    return app


DEFAULT_FILETYPE = "application/octet-stream"


def _with_filetype(headers: list) -> list:
    """A creation's Upload-Metadata with a ``filetype`` (tuspyserver's HEAD answers 400 without one:
    an upload created without it could never be resumed)."""
    import base64

    out, seen = [], False
    for k, v in headers:
        if k.lower() == b"upload-metadata":
            seen = True
            keys = {kv.strip().split(" ", 1)[0] for kv in v.decode("latin-1").split(",") if kv.strip()}
            if not keys & {"filetype", "type"}:
                v = v + b",filetype " + base64.b64encode(DEFAULT_FILETYPE.encode())
        out.append((k, v))
    return out if seen else out + [(b"upload-metadata", b"filetype " + base64.b64encode(DEFAULT_FILETYPE.encode()))]


def _fill_filetype(ws, account, uid: str) -> None:
    """An upload created before ``_with_filetype`` (no filetype recorded): give it one, so HEAD works."""
    if len(uid) != 32 or any(c not in "0123456789abcdef" for c in uid):
        return
    info = _user_dir(ws, account) / f"{uid}.info"
    try:
        meta = json.loads(info.read_text("utf-8"))
    except (OSError, ValueError):
        return
    md = meta.get("metadata")
    if isinstance(md, dict) and not (md.get("filetype") or md.get("type")):
        md["filetype"] = DEFAULT_FILETYPE
        tmp = info.with_name(info.name + ".tmp")
        tmp.write_text(json.dumps(meta), "utf-8")
        os.replace(tmp, info)


def _no_paths(ws, send):
    """The tus server's error answers, without the server's folders: tuspyserver words an OSError as
    « Internal server error: [Errno 21] Is a directory: '<archive>/.oralhist/uploads/…' ». A 5xx
    becomes one French line; a 4xx keeps its words, file paths cut to their names."""
    held: dict = {}

    async def wrapped(message):
        if message["type"] == "http.response.start" and message["status"] >= 400:
            held["start"], held["body"] = message, b""
            return
        if message["type"] == "http.response.body" and "start" in held:
            held["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            start = held.pop("start")
            if start["status"] >= 500:
                body = json.dumps({"error": "erreur du serveur pendant l’envoi ; réessayez (il reprendra où il "
                                            "s’était arrêté)"}, ensure_ascii=False).encode()
            else:
                body = shown_name(ws, held["body"].decode("utf-8", "replace")).encode()
                if body == held["body"]:  # nothing to hide: sent as it was
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if start["status"] >= 500:
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                headers.append((b"content-type", b"application/json"))
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return wrapped


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
        from starlette.concurrency import run_in_threadpool

        from oralhist.web import quota

        account = scope.get("state", {}).get("account")
        method = scope["method"]  # (method overrides never get here: web.app refuses them)
        uid = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        if method in ("POST", "PATCH") and quota.enforced(self.cfg, account):
            headers = dict(scope.get("headers") or [])
            try:
                adding = int(headers.get(b"upload-length", b"0")) if method == "POST" else 0
            except ValueError:
                adding = 0
            used = await run_in_threadpool(quota.used_bytes, self.cfg.ws, account)
            if used + adding > self.cfg.upload_quota:  # PATCH: `used` counts this upload's declared length
                left = max(0, self.cfg.upload_quota - used)
                return await JSONResponse({"error": quota.over_message(self.cfg, left)}, 413,
                                          headers={"Tus-Resumable": "1.0.0"})(scope, receive, send)
        if method == "POST":
            scope = dict(scope, headers=_with_filetype(scope.get("headers") or []))
        elif method == "HEAD":
            await run_in_threadpool(_fill_filetype, self.cfg.ws, account, uid)
        elif method == "PATCH":
            await run_in_threadpool(trim_to_offset, self.cfg.ws, account, uid)
        scope = dict(scope, path_params={})
        await self.app(scope, receive, _no_paths(self.cfg.ws, send))


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
        from oralhist.web import quota

        left = quota.left_bytes(cfg, acc)
        return page(request, "upload.html", museums=museums, my_museum=mine, labels=LABELS,
                    max_mb=cfg.max_upload // 1024**2,
                    quota_left=None if left is None else quota.gb_fr(left), quota=quota.gb_fr(cfg.upload_quota))

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
