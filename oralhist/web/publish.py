"""Publishing from the workbench (admins): the « Publier » page, its status and the job.

GET /publish                 the page: what the public will see, what is withheld and why, and a
                             truthful site status ("à jour" / "N modifications en attente");
GET /api/publish             the same as JSON (``oralhist.outputs.publish.status.site_status``) + the last job;
                             an admin tied to a museum sees only its museum's interviews (``status_payload``);
POST /api/publish            queues the whole-archive publish job (``oralhist.jobs.enqueue_publish``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

JOB_FR = {"queued": "en attente", "running": "en cours", "done": "terminée", "failed": "échec", "cancelled": "annulée"}


def last_publish_job(ws):
    from sqlmodel import select

    from oralhist import db, jobs
    from oralhist.records import Job

    with db.session(ws) as s:
        j = s.exec(select(Job).where(Job.stage == jobs.PUBLISH).order_by(Job.id.desc())).first()
        if j is None:
            return None
        d = jobs.job_dict(j)
    d["status_fr"] = JOB_FR.get(d["status"], d["status"])
    return d


def status_payload(ws, account=None) -> dict:
    """The site status as ``account`` may see it: an admin tied to a museum sees that museum's
    interviews only (titles, withheld reasons, pending changes and the counts are of them); the
    job's error text, which may name any interview, only for untied admins."""
    from dataclasses import replace

    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.publish.status import site_status
    from oralhist.records import Museum
    from oralhist.web.permissions import can

    st = site_status(ws)
    job = last_publish_job(ws)
    if account is not None and account.museum_id is not None:
        with db.session(ws) as s:
            ids = {m.name: m.id for m in s.exec(select(Museum)).all()}
        st = replace(st, entries=[e for e in st.entries if can(account, "read", ids.get(e.museum) if e.museum else None)],
                     others=[o for o in st.others if not o.get("museum") or ids.get(o["museum"]) == account.museum_id])
        if job is not None:
            job = {k: job.get(k) for k in ("id", "stage", "label", "status", "status_fr", "progress", "created_at",
                                           "started_at", "finished_at")}
            if job["status"] == "failed":
                job["error"] = "le détail de l’échec est réservé aux administrateurs de toute l’archive"
    d = st.to_dict()
    d["last_published_fr"] = when_fr(d["last_published"])
    d["job"] = job
    return d


def when_fr(iso) -> str | None:
    """'2026-12-01T04:20:00+00:00' -> '1er décembre 2026 à 05:20' (the server's time zone; the page's
    script rewrites it in the reader's, as every workbench date: ``<time class="local">``)."""
    if not iso:
        return None
    from datetime import datetime

    from oralhist.outputs.publish.typography import long_date

    t = datetime.fromisoformat(iso).astimezone()
    return f"{long_date(t.date().isoformat())} à {t:%H:%M}"


def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    async def api_publish(request):
        from oralhist import jobs

        acc = request.scope.get("state", {}).get("account")
        job = await run_in_threadpool(jobs.enqueue_publish, ws, who=acc.name if acc else None)
        from oralhist.editorial.activity import record_now  # issue 21 item 8

        await run_in_threadpool(record_now, ws, actor=acc.name if acc else cfg.who, action="publish",
                                detail=f"publication demandée (tâche {job.id})",
                                address=request.client.host if request.client else None)
        return JSONResponse({"job": {"id": job.id, "stage": job.stage, "status": job.status}}, 202)

    async def api_status(request):
        return JSONResponse(await run_in_threadpool(status_payload, ws, request.scope.get("state", {}).get("account")))

    async def publish_page(request):
        st = await run_in_threadpool(status_payload, ws, request.scope.get("state", {}).get("account"))
        return page(request, "publish.html", st=st, JOB_FR=JOB_FR)

    return [
        Route("/publish", guard("publish", publish_page)),
        Route("/api/publish", guard("publish", api_status), methods=["GET"]),
        Route("/api/publish", guard("publish", api_publish), methods=["POST"]),
    ]
