"""Interviews: the JSON list and record (= `list --json` / `show --json` + jobs), import, retry.

Routes only parse, ask the permission function (``guard``), and call the library:
``oralhist.archive.ingest.ingest_paths`` (the same validation and messages as ``oralhist ingest``)
and ``oralhist.jobs``. JSON routes go through ``oralhist.web.api.json_route``; the multipart
import reads its body as it arrives and answers errors with ``api.error_response``.
"""

from __future__ import annotations

import shutil
import uuid

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, NotFound, OralhistError
from oralhist.web.api import Forbidden, error_response, json_route
from oralhist.web.errors_fr import Refused
from oralhist.web.staging import uploads_root

META_FIELDS = ("narrator", "interviewer", "date", "place", "language", "museum", "title", "interview")
MAX_FILES = 50



def _account(request):
    return request.scope.get("state", {}).get("account")


def list_visible(ws, account) -> list[dict]:
    from oralhist import jobs
    from oralhist.editorial.view import list_summaries
    from oralhist.web.permissions import can
    from oralhist.records import Interview

    with db.session(ws) as s:
        views = list_summaries(s)
        museums = {iv.id: iv.museum_id for iv in s.exec(select(Interview)).all()}
    rows = [v.summary_dict() for v in views if can(account, "read", museums.get(v.id))]
    by_iv: dict = {}
    for j in jobs.list_jobs(ws, [r["id"] for r in rows], limit=10_000) if rows else []:
        by_iv.setdefault(j["interview_id"], []).append(_job(j))
    for r in rows:
        r["jobs"] = by_iv.get(r["id"], [])
    return rows


def _job(j: dict) -> dict:
    return {k: j.get(k) for k in ("id", "stage", "status", "progress", "message", "error", "attempts")}


def show_one(ws, iid: str) -> dict:
    from oralhist import jobs
    from oralhist.editorial.view import load_interview

    from oralhist.editorial.view import speechless

    with db.session(ws) as s:
        v = load_interview(s, iid, with_words=False)
        out = v.to_dict(words=False)
        out["no_speech"] = iid in speechless(s, [iid])  # issue 21: « aucune parole détectée »
    out["jobs"] = [_job(j) for j in jobs.list_jobs(ws, [iid])]
    return out


def import_target(ws, account, meta: dict, together: str | None = None) -> None:
    """Check, with the permission function, the interview an import names before anything is
    written: the « interview » field (multipart) or key (JSON) may name a new id or an interview
    of the account's museum; another museum's answers 404 (« entretien inconnu »), like an
    address naming it. The id made for « together » never lands in another museum's interview:
    it takes the next free suffix (-2, -3, ...). ``together``: the first file's name when several
    files make one interview. A tied account imports into its museum."""
    from oralhist.records import Museum
    from oralhist.web.permissions import interview_reach

    with db.session(ws) as s:
        if account is not None and account.museum_id is not None:
            meta["museum"] = s.get(Museum, account.museum_id).name  # a tied account imports into its museum
        if together and not meta["interview"]:  # several files, one interview: year + narrator (else file)
            from oralhist.archive.ingest import slugify

            base = slugify(f"{meta['date'][:4]} {meta['narrator'] or together}")
            meta["interview"], n = base, 1
            while interview_reach(s, account, "import", meta["interview"]) == "unknown":
                n += 1
                meta["interview"] = f"{base}-{n}"
        iid = meta["interview"] or None
        reach = interview_reach(s, account, "import", iid)
    if reach == "unknown":
        raise NotFound(None, f"entretien inconnu : {iid} (pour un nouvel entretien, choisissez un autre identifiant)")
    if reach == "role":
        raise Forbidden(None, "action réservée à un autre rôle")


def _visible_duplicates(ws, account, res: dict) -> None:
    """A file already held by an interview this account may not read: said, without its id."""
    from oralhist.web.permissions import interview_reach

    with db.session(ws) as s:
        hidden = {i for i in {d.get("interview") for d in res["duplicates"]} | {x["id"] for x in res["skipped"]}
                  if i and interview_reach(s, account, "read", i) == "unknown"}
    for d in res["duplicates"]:
        if d.get("interview") in hidden:
            d["interview"] = None
            d["error"] = "déjà dans l’archive (dans un entretien d’un autre musée) ; rien n’a été ajouté"
    res["skipped"] = [{"id": None} if x["id"] in hidden else x for x in res["skipped"]]


def import_files(ws, staged: list, meta: dict, consent, scope, who: str, account=None) -> dict:
    """Ingest staged uploads with the CLI's code path, then queue the later stages.
    ``account``: the web account importing (ids of other museums' interviews are not shown to it);
    the interview it names was checked by ``import_target``."""
    from oralhist import jobs
    from oralhist.archive.ingest import IngestMeta, ingest_paths

    from oralhist.web import quota
    from oralhist.web.staging import shown_name

    m = IngestMeta(**{k: (meta.get(k) or None) for k in META_FIELDS}, consent=consent, consent_scope=scope or None)
    before = quota.last_recording_id(ws)
    report = ingest_paths(ws, staged, m)
    done = list(report.done)
    quota.mark_imported(ws, before, done, who)  # counted in the account's upload quota
    from oralhist.editorial.activity import record_now  # issue 21 item 8

    for iid in done:
        record_now(ws, actor=who, action="import", interview_id=iid,
                   detail=", ".join(shown_name(ws, str(p)) for p in staged)[:500], address=meta.get("_address"))
    queued = {}
    for iid in done:
        queued[iid] = [_job(j.__dict__ if not isinstance(j, dict) else j) for j in
                       [{"id": x.id, "stage": x.stage, "status": x.status, "progress": x.progress, "message": x.message,
                         "error": x.error, "attempts": x.attempts} for x in jobs.enqueue(ws, iid, who=who)]]
    from oralhist.web.errors_fr import french as fr

    res = {"ids": done, "id": done[0] if done else None, "jobs": queued,
           "failed": [{"file": shown_name(ws, f), "error": shown_name(ws, fr(r))} for f, r in report.failed],
           "skipped": [{"id": i} for i in report.skipped],
           "duplicates": [dict(d, file=shown_name(ws, d.get("file") or ""),
                               error=fr(f"already in the archive (interview {d['interview']}); nothing added"))
                          for d in report.details.get("duplicates", [])]}
    if account is not None:
        _visible_duplicates(ws, account, res)
    return res


# Over 80 lines on purpose: the route table of the interview pages; each handler is a short closure over the
# app's config, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def api_list(request: Request, data: dict):
        return list_visible(ws, _account(request))

    def api_show(request: Request, data: dict):
        try:
            return show_one(ws, request.path_params["iid"])
        except NotFound:
            raise NotFound(None, "entretien inconnu") from None

    async def api_import(request: Request):
        """multipart: files (1..n), consent (optional file), scope, and the ingest flags as fields."""
        from oralhist.archive.ingest import safe_file_name
        from oralhist.web.multipart import stream_form

        stage_dir = uploads_root(ws) / ("multipart-" + uuid.uuid4().hex)
        try:
            def name_for(field, filename, i):
                name = safe_file_name((filename or "").replace("\\", "/").rsplit("/", 1)[-1]) or "fichier"
                if field == "consent":
                    return f"consent/{name}"
                return name if not (stage_dir / name).exists() else f"{i}-{name}"

            stage_dir.mkdir(parents=True)
            try:
                form = await stream_form(request, stage_dir, name_for, max_files=MAX_FILES + 1, max_fields=50)
            except BadInput as exc:  # malformed multipart, too many parts, a cut body
                return error_response(exc)
            staged = [f.path for f in form.files_of("files")]
            if not staged:
                return error_response(Refused(None, "aucun fichier (champ « files »)"))
            consents = form.files_of("consent")
            consent = consents[0].path if consents else None
            meta = {k: str(form.get(k) or "").strip()[:500] for k in META_FIELDS}
            acc = _account(request)
            together = staged[0].stem if form.get("together") and len(staged) > 1 else None
            try:
                await run_in_threadpool(import_target, ws, acc, meta, together)
            except OralhistError as exc:  # another museum's interview: 404, nothing written
                return error_response(exc)
            try:
                res = await run_in_threadpool(import_files, ws, staged, meta, consent, str(form.get("scope") or ""),
                                              acc.name if acc else cfg.who, acc)
            except OralhistError as exc:  # refused before anything was written (the CLI's exit 2)
                from pathlib import Path

                name = Path(exc.path).name if exc.path else None
                return error_response(exc, name, file=name)
            status = 202 if res["ids"] else (200 if res["skipped"] and not res["failed"] else 400)
            if status == 400:
                res["error"] = "; ".join(f"{f['file']} : {f['error']}" for f in res["failed"]) or "rien importé"
            return JSONResponse(res, status)
        finally:
            shutil.rmtree(stage_dir, ignore_errors=True)

    def api_retry(request: Request, data: dict):
        from oralhist import jobs
        from oralhist.records import Job
        from oralhist.web.permissions import can, interview_museum

        jid = request.path_params["jid"]
        with db.session(ws) as s:
            job = s.get(Job, jid)
            mid = interview_museum(s, job.interview_id)[1] if job and job.interview_id else None
        acc = _account(request)
        if job is None or (job.interview_id and not can(acc, "read", mid)):
            raise NotFound(None, "tâche inconnue")
        if not can(acc, "publish" if job.stage == "publish" else "retry", mid):
            raise Forbidden(None, "action réservée à un autre rôle")
        j = jobs.retry(ws, jid, who=acc.name if acc else None)
        return {"id": j.id, "status": j.status}

    return [
        Route("/api/interviews", guard("read", json_route(api_list)), methods=["GET"]),
        Route("/api/interviews", guard("import", api_import), methods=["POST"]),
        Route("/api/interviews/{iid}", guard("read", json_route(api_show)), methods=["GET"]),
        Route("/api/jobs/{jid:int}/retry", json_route(api_retry), methods=["POST"]),
    ]
