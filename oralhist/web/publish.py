"""Publishing from the workbench: POST /api/publish (admins) queues the whole-archive job."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route


def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    async def api_publish(request):
        from oralhist import jobs

        acc = request.scope.get("state", {}).get("account")
        job = await run_in_threadpool(jobs.enqueue_publish, ws, who=acc.name if acc else None)
        return JSONResponse({"job": {"id": job.id, "stage": job.stage, "status": job.status}}, 202)

    return [Route("/api/publish", guard("publish", api_publish), methods=["POST"])]
