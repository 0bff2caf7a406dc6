"""The archive page (/): every interview the account may read, its stage, job and review state."""

from __future__ import annotations

from sqlmodel import select
from starlette.requests import Request
from starlette.routing import Route

from oralhist import db


def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def archive(request: Request):
        from oralhist.editorial.view import list_summaries, review_states

        q = request.query_params
        f_stage, f_review, f_text = q.get("etape", ""), q.get("relecture", ""), q.get("q", "").strip()
        rows = []
        from oralhist import jobs as jobs_mod
        from oralhist.records import Interview
        from oralhist.web.permissions import can

        acc = request.scope.get("state", {}).get("account")
        with db.session(ws) as s:
            museums = dict(s.exec(select(Interview.id, Interview.museum_id)).all())
            views = [v for v in list_summaries(s) if can(acc, "read", museums.get(v.id))]
            reviews = review_states(s)
            from oralhist.editorial.view import speechless

            silent = speechless(s)  # issue 21: a recording with no speech says so
        job_of: dict = {}
        # only what the page shows (a failure, the running or a queued stage): never the history
        shown = ("failed", "running", "queued")
        for j in jobs_mod.list_jobs(ws, [v.id for v in views], statuses=shown, limit=100_000) if views else []:
            cur = job_of.get(j["interview_id"])
            # what a person wants to see: a failure first, else the running or next queued stage
            order = ("normalise", "transcribe", "diarize", "index", "link", "publish")
            rank = ({"failed": 0, "running": 1, "queued": 2}.get(j["status"], 9),
                    order.index(j["stage"]) if j["stage"] in order else 9)
            if rank[0] < 9 and (cur is None or rank < cur[0]):
                job_of[j["interview_id"]] = (rank, j)
        from oralhist.outputs.publish.status import site_notes as _site_notes

        site_notes = _site_notes(ws)  # what the next publish changes (a truthful "publié"; issue 11)
        with db.session(ws) as s:  # issue 23: « 42 % relu » per interview
            from oralhist.editorial.assign import progress

            relu = progress(s)
        for v in views:
            review, approved = reviews.get(v.id, (None, None))
            if f_stage and v.status != f_stage:
                continue
            if f_review and (review or "none") != f_review:
                continue
            hay = " ".join(filter(None, (v.id, v.title, v.narrator, v.place, v.museum))).casefold()
            if f_text and f_text.casefold() not in hay:
                continue
            rows.append({"v": v, "review": review, "approved": approved,
                         "job": job_of.get(v.id, (None, None))[1],
                         "stale": site_notes.get(v.id), "relu": relu.get(v.id), "no_speech": v.id in silent})
        return page(request, "archive.html", rows=rows, can_publish=can(acc, "publish", any_museum=True),
                    STAGE_LABEL=jobs_mod.LABELS, f_stage=f_stage, f_review=f_review, f_text=f_text)

    return [Route("/", guard("read", archive))]
