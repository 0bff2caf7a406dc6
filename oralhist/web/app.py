"""The editor's ASGI application (Starlette): pages, JSON API, audio, access control.

Pages are Jinja templates with autoescaping; every piece of user data reaches the page
either escaped by Jinja or through JSON read by plain JS that only uses ``textContent``.
A strict Content-Security-Policy (scripts from this server only, no inline script) is a
second line of defence against a transcript or metadata carrying markup.
"""

from __future__ import annotations

import difflib
import hmac
import json
import mimetypes
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, quote, urlencode

from sqlmodel import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from oralhist import db
from oralhist.errors import BadInput, ConflictError, NotFound, OralhistError

HERE = Path(__file__).parent
TOKEN_COOKIE = "oralhist_token"
SESSION_COOKIE = "oralhist_session"
LOW_CONFIDENCE = 0.5
MAX_SEGMENTS = 20_000  # an hour is ~600; a save beyond this is refused (413)
MAX_TOPICS = 1_000
MAX_MS = 1_000 * 3600 * 200  # 200 hours: any time beyond is refused


def check_ms(value: int, what: str) -> int:
    if not 0 <= value <= MAX_MS:
        raise BadInput(str(value), f"{what} hors de l’enregistrement")
    return value

STAGE_FR = {
    "ingested": "importé", "normalised": "normalisé", "transcribed": "transcrit", "diarized": "locuteurs",
    "indexed": "indexé", "linked": "liens", "published": "publié",
}
REVIEW_FR = {None: "pas de transcription", "machine": "à relire", "corrected": "corrigée", "approved": "approuvée"}
ROLE_FR = {"narrator": "narrateur", "interviewer": "enquêteur", "other": "autre"}
LINK_FR = {"suggested": "proposé", "accepted": "accepté", "rejected": "rejeté"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; media-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


@dataclass
class EditorConfig:
    ws: object
    mode: str = "token"  # token (localhost) | accounts (network)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    who: str = "editor"  # local mode: the name recorded with saves
    sessions: dict = field(default_factory=dict)  # unused: sessions are stored in the database (websession)
    secure_cookies: bool = False
    allowed_hosts: tuple = ()  # Host header names accepted (empty: any; `serve` fills it)
    max_body: int = 8 * 1024 * 1024  # JSON writes (413 beyond)
    max_upload: int = 4 * 1024**3  # multipart uploads of /api/interviews
    limiter: object = None

    def __post_init__(self):
        if self.limiter is None:
            from oralhist.web.auth import LoginLimiter

            self.limiter = LoginLimiter()

    @property
    def local_csrf(self) -> str:
        return hmac.new(self.token.encode(), b"csrf", "sha256").hexdigest()


def _val(x):
    return x.value if hasattr(x, "value") else x


def hms(ms: int) -> str:
    s = max(0, int(ms or 0)) // 1000
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def parse_hms(text: str) -> int:
    from oralhist.corrections import parse_timestamp

    try:
        return parse_timestamp(text.strip())
    except (ValueError, IndexError):
        raise BadInput(text, "not a time (hh:mm:ss)") from None


def _templates():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template: user strings are always escaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hms"] = hms
    env.filters["plural"] = lambda n, one, many: f"{n} {one if abs(n) < 2 else many}"  # French: 0 and 1 singular
    env.globals.update(STAGE_FR=STAGE_FR, REVIEW_FR=REVIEW_FR, ROLE_FR=ROLE_FR, LINK_FR=LINK_FR)
    return env


# ------------------------------------------------------------------------------------- access


OAI_PATH = "/oai"  # the OAI-PMH endpoint (oralhist/oai.py), the one address open without login


class AccessControl:
    """Pure ASGI middleware: token (local) or account session (network) on EVERY request."""

    def __init__(self, app, cfg: EditorConfig):
        self.app = app
        self.cfg = cfg

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        req = Request(scope)
        path = scope["path"]
        cfg = self.cfg
        user = None
        account = None
        if "\x00" in path or "\x00" in scope.get("query_string", b"").decode("latin-1"):
            return await self._send(JSONResponse({"error": "adresse invalide (caractère nul)"}, 400), scope, receive, send)
        if cfg.allowed_hosts:
            host = (req.headers.get("host") or "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in cfg.allowed_hosts:
                return await self._send(JSONResponse({"error": "nom d’hôte non autorisé"}, 400), scope, receive, send)
        length = req.headers.get("content-length")
        limit = cfg.max_upload if ((path == "/api/interviews" and req.method == "POST")
                                   or (path.startswith("/api/uploads/") and req.method == "PATCH")) else cfg.max_body
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._send(JSONResponse({"error": f"requête trop volumineuse (au plus {limit // 1024**2} Mo)"}, 413),
                                    scope, receive, send)
        receive = _limited(receive, limit)
        if path == OAI_PATH:  # public: harvesters have no login (and read only public records)
            return await self.app(scope, receive, _with_headers(send))
        from oralhist.web.permissions import Account

        if cfg.mode == "token":
            given = req.query_params.get("token")
            if given is not None and hmac.compare_digest(given.encode(), cfg.token.encode()):
                if req.method == "GET":  # set the cookie and drop the token from the address bar
                    rest = [(k, v) for k, v in req.query_params.multi_items() if k != "token"]
                    resp = RedirectResponse(path + ("?" + urlencode(rest) if rest else ""), status_code=303)
                    self._cookie(resp, TOKEN_COOKIE, cfg.token)
                    return await self._send(resp, scope, receive, send)
                user = cfg.who
            cookie = req.cookies.get(TOKEN_COOKIE, "")
            if user is None and cookie and hmac.compare_digest(cookie.encode(), cfg.token.encode()):
                user = cfg.who
            if user is None:
                return await self._send(_forbidden(), scope, receive, send)
            account = Account(cfg.who, "admin", None, cfg.local_csrf)
        else:
            from starlette.concurrency import run_in_threadpool

            from oralhist.web.auth import session_user

            found = await run_in_threadpool(session_user, cfg.ws, req.cookies.get(SESSION_COOKIE, ""))
            if found is not None:
                account = Account(*found)
                user = account.name
            if user is None and not (path in ("/login", "/api/login", "/favicon.ico") or path.startswith("/static/")):
                if path.startswith("/api/") or req.method != "GET":
                    return await self._send(JSONResponse({"error": "connexion requise"}, 401 if path.startswith("/api/") else 403),
                                            scope, receive, send)
                nxt = path + (("?" + scope["query_string"].decode()) if scope.get("query_string") else "")
                return await self._send(RedirectResponse("/login?next=" + quote(nxt), 303), scope, receive, send)
        # Writes: the session's CSRF token in X-CSRF-Token (login itself checks the Origin instead).
        if req.method not in ("GET", "HEAD") and path not in ("/login", "/api/login"):
            sent = req.headers.get("x-csrf-token", "")
            if account is None or not hmac.compare_digest(sent.encode(), account.csrf.encode()):
                return await self._send(JSONResponse({"error": "requête refusée (jeton CSRF manquant ou faux)"}, 403),
                                        scope, receive, send)
        scope.setdefault("state", {})["account"] = account
        scope.setdefault("state", {})["user"] = user
        return await self.app(scope, receive, _with_headers(send))

    def _cookie(self, resp: Response, name: str, value: str) -> None:
        resp.set_cookie(name, value, httponly=True, samesite="strict", secure=self.cfg.secure_cookies, path="/")

    async def _send(self, resp, scope, receive, send):
        await resp(scope, receive, _with_headers(send))


class GzipExceptAudio:
    """gzip pages and JSON (the transcript of an hour is ~5x smaller); never audio (byte ranges)."""

    def __init__(self, app):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=800)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith("/audio/"):
            return await self.gzip(scope, receive, send)
        return await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    pass


def _limited(receive, limit: int):
    """Count the body as it arrives (chunked requests have no Content-Length)."""
    seen = 0

    async def wrapped():
        nonlocal seen
        msg = await receive()
        if msg["type"] == "http.request":
            seen += len(msg.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return msg

    return wrapped


def _with_headers(send):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers += [
                (b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"),
            ]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _forbidden() -> Response:
    return HTMLResponse(
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Accès refusé</title>"
        "<h1>Accès refusé</h1><p>Ouvrez l’adresse complète affichée par <code>oralhist edit</code> "
        "(elle contient <code>?token=…</code>).</p></html>",
        status_code=403,
    )


# ------------------------------------------------------------------------------------- data


def transcript_payload(s, interview_id: str, version: Optional[int] = None) -> dict:
    """Compact JSON of one version for the editor page: arrays, times in ms, confidence in %."""
    from oralhist.align import AWord, group_units
    from oralhist.corrections import get_version
    from oralhist.records import Segment, Speaker, Word

    tr = get_version(s, interview_id, version)
    latest = get_version(s, interview_id)
    segs = s.exec(select(Segment.id, Segment.start_ms, Segment.end_ms, Segment.speaker_id, Segment.text)
                  .where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
    by_seg: dict[int, list] = {}
    # plain column tuples: ~10x faster than ORM objects for the ~10,000 words of an hour
    for sid, ws_, we, wt, wp in s.exec(select(Word.segment_id, Word.start_ms, Word.end_ms, Word.text, Word.probability)
                                      .where(Word.transcript_id == tr.id).order_by(Word.idx)).all():
        by_seg.setdefault(sid, []).append(AWord(ws_, we, wt, wp))
    speakers = s.exec(select(Speaker).where(Speaker.interview_id == interview_id).order_by(Speaker.label)).all()
    from oralhist.records import Person

    def spname(sp):
        if sp.person_id:
            p = s.get(Person, sp.person_id)
            if p:
                return p.name
        return sp.name

    out_segs = []
    for gid, gs, ge, gspk, gtext in segs:
        toks = []
        for text, members in group_units(by_seg.get(gid, [])):
            probs = [m.probability for m in members if m.probability is not None]
            toks.append([members[0].start_ms, members[-1].end_ms, text, round(min(probs) * 100) if probs else 100])
        out_segs.append([gs, ge, gspk, gtext, toks])
    return {
        "interview": interview_id,
        "version": tr.version,
        "latest": latest.version,
        "status": _val(tr.status),
        "source": tr.source,
        "speakers": [[sp.id, sp.label, spname(sp), _val(sp.role)] for sp in speakers],
        "segments": out_segs,
        "low": round(LOW_CONFIDENCE * 100),
    }


def conflict_message(ws, interview_id: str, base) -> str:
    from oralhist.view import current_transcript

    with db.session(ws) as s:
        tr = current_transcript(s, interview_id)
    when = tr.created_at.strftime("%H:%M:%S") if tr and tr.created_at else "?"
    return (f"une version plus récente (v{tr.version}, enregistrée par {tr.created_by or tr.source} à {when} UTC) "
            f"existe que celle que vous modifiez (v{base}). Rien n’a été écrasé : rechargez la page pour la voir, "
            "puis refaites votre modification.")


def _review_status(s, interview_id: str):
    from oralhist.view import current_transcript

    tr = current_transcript(s, interview_id)
    if tr is None:
        return None, None
    approved = current_transcript(s, interview_id, prefer_approved=True)
    return _val(tr.status), (approved.version if approved and _val(approved.status) == "approved" else None)


def _audio_path(cfg: EditorConfig, s, interview_id: str) -> Optional[Path]:
    from oralhist.records import Derivative

    ws = cfg.ws
    for kind in ("access", "asr"):
        d = s.exec(select(Derivative).where(Derivative.interview_id == interview_id, Derivative.kind == kind)).first()
        if d is not None:
            p = ws.abs(d.path)
            if p.is_file():
                return p
    folder = ws.derived_dir(interview_id)
    for p in sorted(folder.glob("access.*")) + sorted(folder.glob("asr.wav")):
        if p.is_file() and not p.name.endswith(".tmp"):
            return p
    return None


# ------------------------------------------------------------------------------------- app


def make_app(cfg: EditorConfig) -> Starlette:
    env = _templates()
    ws = cfg.ws

    def page(request: Request, template_name: str, status: int = 200, **ctx) -> HTMLResponse:
        acc = request.scope.get("state", {}).get("account")
        ctx.setdefault("user", acc.name if acc and cfg.mode != "token" else None)
        ctx.setdefault("account", acc)
        ctx.setdefault("csrf", acc.csrf if acc else "")
        ctx.setdefault("archive_title", getattr(ws.settings, "title", "Archive"))
        ctx.setdefault("mode", cfg.mode)
        return HTMLResponse(env.get_template(template_name).render(request=request, **ctx), status_code=status)

    def who(request: Request) -> str:
        acc = request.scope.get("state", {}).get("account")
        return acc.name if acc else cfg.who

    def error(exc: OralhistError) -> JSONResponse:
        code = 409 if isinstance(exc, ConflictError) else 404 if isinstance(exc, NotFound) else 400
        return JSONResponse({"error": exc.reason, "conflict": code == 409}, status_code=code)

    async def body(request: Request) -> dict:
        try:
            data = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise BadInput(None, "corps JSON invalide") from None
        if not isinstance(data, dict):
            raise BadInput(None, "corps JSON invalide")
        return data

    def interview_or_404(s, iid: str):
        from oralhist.records import Interview

        iv = s.get(Interview, iid)
        if iv is None:
            raise NotFound(iid, "entretien inconnu")
        return iv

    # ---------------------------------------------------------------- pages

    def archive(request: Request):
        from oralhist.view import list_summaries, publication_note, review_states

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
        job_of: dict = {}
        for j in jobs_mod.list_jobs(ws, [v.id for v in views], limit=100_000) if views else []:
            cur = job_of.get(j["interview_id"])
            # what a person wants to see: a failure first, else the running or next queued stage
            order = ("normalise", "transcribe", "diarize", "index", "link", "publish")
            rank = ({"failed": 0, "running": 1, "queued": 2}.get(j["status"], 9),
                    order.index(j["stage"]) if j["stage"] in order else 9)
            if rank[0] < 9 and (cur is None or rank < cur[0]):
                job_of[j["interview_id"]] = (rank, j)
        from oralhist.publish.status import site_notes as _site_notes

        site_notes = _site_notes(ws)  # what the next publish changes (truthful "publié"; issue 11)
        if True:
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
                             "stale": site_notes.get(v.id)})
        return page(request, "archive.html", rows=rows, can_publish=can(acc, "publish", any_museum=True),
                    STAGE_LABEL=jobs_mod.LABELS, f_stage=f_stage, f_review=f_review, f_text=f_text)

    def interview_page(template: str, **extra):
        def handler(request: Request):
            iid = request.path_params["iid"]
            from oralhist.view import load_interview

            with db.session(ws) as s:
                try:
                    v = load_interview(s, iid, with_words=False)
                except NotFound:
                    return page(request, "notfound.html", 404, iid=iid)
                ctx = {"v": v, "tab": extra.get("tab")}
                ctx.update(extra["load"](s, iid, request) if "load" in extra else {})
            return page(request, template, **ctx)

        return handler

    def load_editor(s, iid, request):
        review, approved = _review_status(s, iid)
        return {"review": review, "approved": approved,
                "has_audio": _audio_path(cfg, s, iid) is not None}

    def load_topics(s, iid, request):
        from oralhist.view import current_topics

        rows = current_topics(s, iid)
        return {"topics": rows, "topic_version": rows[0].version if rows else 0}

    def load_links(s, iid, request):
        from oralhist.records import Link, Term

        links = s.exec(select(Link, Term).where(Link.interview_id == iid, Link.term_id == Term.id)
                       .order_by(Link.start_ms)).all()
        terms = s.exec(select(Term).order_by(Term.kind, Term.label)).all()
        q = request.query_params
        prefill = {"start": q.get("start", ""), "end": q.get("end", ""), "quote": q.get("quote", "")}
        return {"links": links, "terms": terms, "prefill": prefill}

    def load_speakers(s, iid, request):
        from oralhist.view import load_interview
        from oralhist.records import Speaker

        v = load_interview(s, iid, with_words=False)
        talk = {sp.label: sp.talk_ms for sp in v.speakers}
        rows = s.exec(select(Speaker).where(Speaker.interview_id == iid).order_by(Speaker.label)).all()
        names = {sp.label: sp.name for sp in v.speakers}
        return {"speakers": [{"id": r.id, "label": r.label, "name": names.get(r.label) or "", "role": _val(r.role),
                              "talk_ms": talk.get(r.label, 0)} for r in rows]}

    def load_history(s, iid, request):
        from oralhist.corrections import old_segments
        from oralhist.records import Revision, Transcript

        versions = s.exec(select(Transcript).where(Transcript.interview_id == iid)
                          .order_by(Transcript.version.desc())).all()
        notes = {}
        for r in s.exec(select(Revision).where(Revision.interview_id == iid, Revision.kind == "transcript")
                        .order_by(Revision.at)).all():
            if r.transcript_id is not None:
                notes.setdefault(r.transcript_id, []).append(r)
        other = s.exec(select(Revision).where(Revision.interview_id == iid, Revision.kind != "transcript")
                       .order_by(Revision.at.desc())).all()
        diff = None
        try:
            b = int(request.query_params.get("diff", "0"))
        except ValueError:
            b = 0
        by_v = {t.version: t for t in versions}
        if b in by_v:
            new = by_v[b]
            old_v = next((t.version for t in versions if t.id == new.parent_id), None) or (b - 1 if b - 1 in by_v else None)
            try:
                a = int(request.query_params.get("against", old_v or 0))
            except ValueError:
                a = old_v or 0
            if a in by_v:
                diff = {"a": a, "b": b, "chunks": word_diff(old_segments(s, by_v[a]), old_segments(s, new))}
        return {"versions": versions, "notes": notes, "other": other, "diff": diff,
                "latest": versions[0].version if versions else None}

    # ---------------------------------------------------------------- API

    def api_transcript_get(request: Request):
        iid = request.path_params["iid"]
        v = request.query_params.get("version")
        try:
            with db.session(ws) as s:
                data = transcript_payload(s, iid, int(v) if v else None)
        except NotFound as exc:
            msg = ("pas encore de transcription pour cet entretien (lancez « oralhist transcribe »)"
                   if "no transcript yet" in exc.reason else f"introuvable : {exc.reason}")
            return JSONResponse({"error": msg}, status_code=404)
        except OralhistError as exc:
            return error(exc)
        except ValueError:
            return JSONResponse({"error": "version invalide"}, 400)
        return JSONResponse(data, headers={"cache-control": "no-store"})

    async def api_transcript_save(request: Request):
        from starlette.concurrency import run_in_threadpool

        from oralhist.align import NewSegment
        from oralhist.corrections import save_version

        iid = request.path_params["iid"]
        try:
            data = await body(request)
            base = data.get("base_version")
            segs = data.get("segments")
            if not isinstance(base, int) or not isinstance(segs, list):
                raise BadInput(None, "base_version (entier) et segments (liste) sont requis")
            if len(segs) > MAX_SEGMENTS:
                return JSONResponse({"error": f"trop de segments (au plus {MAX_SEGMENTS})"}, 413)
            from oralhist.records import Speaker

            with db.session(ws) as s_:
                known = set(s_.exec(select(Speaker.id).where(Speaker.interview_id == iid)).all())
            new = []
            for sg in segs:
                if not isinstance(sg, dict) or not isinstance(sg.get("text", ""), str):
                    raise BadInput(None, "segment invalide")
                sid = sg.get("speaker_id")
                if sid is not None and (not isinstance(sid, int) or sid not in known):
                    raise BadInput(str(sid), "locuteur inconnu pour cet entretien")
                if len(sg.get("text", "")) > 100_000:
                    return JSONResponse({"error": "segment trop long"}, 413)
                new.append(NewSegment(text=sg.get("text", ""), speaker_id=sid if isinstance(sid, int) else None))
            new = [n for n in new if n.text.strip()] or new
            res = await run_in_threadpool(save_version, ws, iid, new, base_version=base, who=who(request),
                                          source="editor")
        except ConflictError:
            return JSONResponse({"error": conflict_message(ws, iid, base), "conflict": True}, status_code=409)
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res.to_dict())

    async def api_approve(request: Request):
        from starlette.concurrency import run_in_threadpool

        from oralhist.corrections import approve

        iid = request.path_params["iid"]
        try:
            data = await body(request)
            v = data.get("version")
            version = await run_in_threadpool(approve, ws, iid, v if isinstance(v, int) else None, who=who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse({"version": version, "status": "approved"})

    async def api_restore(request: Request):
        from starlette.concurrency import run_in_threadpool

        from oralhist.corrections import restore_version

        iid = request.path_params["iid"]
        try:
            data = await body(request)
            v, base = data.get("version"), data.get("base_version")
            if not isinstance(v, int) or not isinstance(base, int):
                raise BadInput(None, "version et base_version sont requis")
            res = await run_in_threadpool(restore_version, ws, iid, v, base_version=base, who=who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res.to_dict())

    async def api_topics(request: Request):
        from starlette.concurrency import run_in_threadpool

        iid = request.path_params["iid"]
        try:
            data = await body(request)
            res = await run_in_threadpool(save_topics, ws, iid, data, who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res)

    async def api_speaker(request: Request):
        from starlette.concurrency import run_in_threadpool

        iid, sid = request.path_params["iid"], request.path_params["sid"]
        try:
            data = await body(request)
            res = await run_in_threadpool(save_speaker, ws, iid, sid, data, who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res)

    async def api_link_status(request: Request):
        from starlette.concurrency import run_in_threadpool

        lid = request.path_params["lid"]
        try:
            data = await body(request)
            res = await run_in_threadpool(set_link_status, ws, lid, data.get("status"), who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res)

    async def api_link_add(request: Request):
        from starlette.concurrency import run_in_threadpool

        iid = request.path_params["iid"]
        try:
            data = await body(request)
            res = await run_in_threadpool(add_link, ws, iid, data, who(request))
        except OralhistError as exc:
            return error(exc)
        return JSONResponse(res)

    def audio(request: Request):
        iid = request.path_params["iid"]
        with db.session(ws) as s:
            p = _audio_path(cfg, s, iid)
        if p is None:
            return Response("pas d’enregistrement d’écoute", status_code=404)
        mt = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".oga": "audio/ogg", ".m4a": "audio/mp4",
              ".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".webm": "audio/webm"}.get(
            p.suffix.lower()) or mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        return FileResponse(p, media_type=mt)

    # ---------------------------------------------------------------- login (network mode)

    from oralhist.web import auth as auth_views

    login, logout, api_login = auth_views.views(cfg, page)

    def guard(action, handler):
        """Every interview route asks the one permission function (403; 404 for another museum's)."""
        import inspect

        from oralhist.web.permissions import can, interview_museum

        async def wrapped(request: Request):
            acc = request.scope.get("state", {}).get("account")
            iid = request.path_params.get("iid")
            lid = request.path_params.get("lid")
            with db.session(ws) as s_:
                if lid is not None:
                    from oralhist.records import Link

                    ln = s_.get(Link, lid)
                    iid = ln.interview_id if ln else None
                    if iid is None:
                        return JSONResponse({"error": "lien inconnu"}, 404)
                exists, mid = interview_museum(s_, iid) if iid else (False, None)
            if iid and exists and not can(acc, "read", mid):
                return JSONResponse({"error": "entretien inconnu"}, 404)
            if not can(acc, action, mid, any_museum=not iid):
                return JSONResponse({"error": "action réservée à un autre rôle"}, 403)
            res = handler(request)
            return await res if inspect.isawaitable(res) else res

        return wrapped

    from oralhist.web import interviews as interview_views, publish as publish_views

    from oralhist.oai import create_app as create_oai_app

    from oralhist.web import exhibits as exhibit_views
    from oralhist.web import tasks as task_views

    extra_routes = (interview_views.routes(cfg, page, guard) + publish_views.routes(cfg, page, guard)
                    + task_views.routes(cfg, page, guard)
                    + exhibit_views.routes(cfg, page, guard))  # issue 14: curators
    extra_routes += __import__("oralhist.web.upload", fromlist=["routes"]).routes(cfg, page, guard)  # import page, tus

    routes = [
        Route("/", guard("read", archive)),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/login", api_login, methods=["POST"]),
        Route("/i/{iid}", guard("read", interview_page("editor.html", tab="transcript", load=load_editor))),
        Route("/i/{iid}/index", guard("read", interview_page("topics.html", tab="index", load=load_topics))),
        Route("/i/{iid}/links", guard("read", interview_page("links.html", tab="links", load=load_links))),
        Route("/i/{iid}/speakers", guard("read", interview_page("speakers.html", tab="speakers", load=load_speakers))),
        Route("/i/{iid}/history", guard("read", interview_page("history.html", tab="history", load=load_history))),
        Route("/audio/{iid}", guard("read", audio)),
        Route("/api/i/{iid}/transcript", guard("read", api_transcript_get), methods=["GET"]),
        Route("/api/i/{iid}/transcript", guard("correct", api_transcript_save), methods=["POST"]),
        Route("/api/i/{iid}/approve", guard("approve", api_approve), methods=["POST"]),
        Route("/api/i/{iid}/restore", guard("restore", api_restore), methods=["POST"]),
        Route("/api/i/{iid}/topics", guard("index", api_topics), methods=["POST"]),
        Route("/api/i/{iid}/speakers/{sid:int}", guard("speakers", api_speaker), methods=["POST"]),
        Route("/api/i/{iid}/links", guard("links", api_link_add), methods=["POST"]),
        Route("/api/links/{lid:int}", guard("links", api_link_status), methods=["POST"]),
        *extra_routes,
        Route(OAI_PATH, create_oai_app(ws, path=OAI_PATH), methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def too_large(request, exc):
        return JSONResponse({"error": "requête trop volumineuse"}, 413)

    app = Starlette(routes=routes, exception_handlers={BodyTooLarge: too_large}, middleware=[Middleware(GzipExceptAudio), Middleware(AccessControl, cfg=cfg)])
    app.state.cfg = cfg
    return app


# ------------------------------------------------------------------------------------- writes


def save_topics(ws, iid: str, data: dict, who: str) -> dict:
    """The editor's index: a new TopicSegment version (source editor) replacing the current one."""
    from oralhist.records import Revision, Segment, TopicSegment, utcnow
    from oralhist.view import current_topics, current_transcript

    topics = data.get("topics")
    base = data.get("base_version")
    if not isinstance(topics, list) or not isinstance(base, int):
        raise BadInput(None, "topics (liste) et base_version sont requis")
    if len(topics) > MAX_TOPICS:
        raise BadInput(None, f"trop de thèmes (au plus {MAX_TOPICS})")
    rows = []
    for i, t in enumerate(topics):
        if not isinstance(t, dict):
            raise BadInput(None, f"thème {i + 1} invalide")
        try:
            start, end = int(t["start_ms"]), int(t["end_ms"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise BadInput(None, f"thème {i + 1} : début et fin sont requis") from None
        check_ms(start, f"thème {i + 1} : début")
        check_ms(end, f"thème {i + 1} : fin")
        if end < start:
            raise BadInput(None, f"thème {i + 1} : la fin précède le début")
        kws = t.get("keywords") or []
        if isinstance(kws, str):
            kws = [k.strip() for k in kws.split(",")]
        rows.append((start, end, str(t.get("title", "")).strip(), str(t.get("synopsis", "")).strip(),
                     [str(k).strip() for k in kws if str(k).strip()]))
    rows.sort(key=lambda r: r[0])
    for (s0, e0, *_), (s1, *_r) in zip(rows, rows[1:]):
        if s1 < e0:
            raise BadInput(None, "deux thèmes se chevauchent")
    with db.session(ws) as s:
        cur = current_topics(s, iid)
        cur_v = cur[0].version if cur else 0
        newest = max([r.version for r in s.exec(select(TopicSegment).where(TopicSegment.interview_id == iid)).all()],
                     default=0)
        if newest != base:
            raise ConflictError(iid, f"l’index a été modifié entre-temps (version {newest}) ; rechargez la page")
        tr = current_transcript(s, iid)
        segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all() if tr else []
        v = newest + 1
        for start, end, title, synopsis, kws in rows:
            part = " ".join(g.text for g in segs if g.start_ms < end and g.end_ms > start)
            s.add(TopicSegment(interview_id=iid, version=v, source="editor", start_ms=start, end_ms=end, title=title,
                               synopsis=synopsis, keywords=kws, partial_transcript=part))
        s.add(Revision(interview_id=iid, kind="topic", who=who, at=utcnow(),
                       before={"version": cur_v, "topics": [[t.start_ms, t.end_ms, t.title] for t in cur]},
                       after={"version": v, "topics": [[r[0], r[1], r[2]] for r in rows]},
                       note=f"index v{cur_v} -> v{v}"))
        s.commit()
    return {"version": v, "topics": len(rows)}


def save_speaker(ws, iid: str, sid: int, data: dict, who: str) -> dict:
    from oralhist.records import Person, Revision, Speaker, SpeakerRole, utcnow

    name = data.get("name")
    role = data.get("role") or None
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise BadInput(None, "nom invalide")
    if role is not None and role not in {r.value for r in SpeakerRole}:
        raise BadInput(role, "rôle inconnu")
    with db.session(ws) as s:
        sp = s.get(Speaker, sid)
        if sp is None or sp.interview_id != iid:
            raise NotFound(str(sid), "locuteur inconnu")
        person = s.get(Person, sp.person_id) if sp.person_id else None
        before = {"label": sp.label, "name": person.name if person else sp.name, "role": _val(sp.role)}
        if name is not None:
            name = name.strip() or None
            if person is not None and name:
                person.name = name  # the speaker IS this person: rename them
                s.add(person)
            else:
                sp.name = name
        sp.role = SpeakerRole(role) if role else None
        s.add(sp)
        after = {"label": sp.label, "name": (person.name if person else sp.name), "role": role}
        s.add(Revision(interview_id=iid, kind="speaker", who=who, at=utcnow(), before=before, after=after,
                       note=f"speaker {sp.label}"))
        s.commit()
    return after


def set_link_status(ws, lid: int, status, who: str) -> dict:
    from oralhist.records import Link, LinkStatus, Revision, utcnow

    if status not in {x.value for x in LinkStatus}:
        raise BadInput(str(status), "statut inconnu (suggested, accepted, rejected)")
    with db.session(ws) as s:
        ln = s.get(Link, lid)
        if ln is None:
            raise NotFound(str(lid), "lien inconnu")
        before = _val(ln.status)
        ln.status = LinkStatus(status)
        ln.review = None
        s.add(ln)
        s.add(Revision(interview_id=ln.interview_id, kind="link", who=who, at=utcnow(),
                       before={"link": lid, "status": before}, after={"link": lid, "status": status},
                       note=f"link {lid} {status}"))
        s.commit()
    return {"id": lid, "status": status}


def add_link(ws, iid: str, data: dict, who: str) -> dict:
    from oralhist.records import Interview, Link, LinkStatus, Revision, Term, utcnow

    try:
        term_id = int(data.get("term_id"))
        start = int(data["start_ms"]) if not isinstance(data.get("start_ms"), str) else parse_hms(data["start_ms"])
        end = int(data["end_ms"]) if not isinstance(data.get("end_ms"), str) else parse_hms(data["end_ms"])
    except (TypeError, ValueError, KeyError, OverflowError):
        raise BadInput(None, "terme, début et fin sont requis") from None
    check_ms(start, "début")
    check_ms(end, "fin")
    if end < start:
        raise BadInput(None, "la fin précède le début")
    quote_ = str(data.get("quote") or "").strip()[:2000]
    with db.session(ws) as s:
        if s.get(Interview, iid) is None:
            raise NotFound(iid, "entretien inconnu")
        if s.get(Term, term_id) is None:
            raise NotFound(str(term_id), "terme inconnu")
        ln = Link(interview_id=iid, term_id=term_id, start_ms=start, end_ms=end, quote=quote_, confidence=1.0,
                  status=LinkStatus.accepted, source="manual")
        s.add(ln)
        s.flush()
        s.add(Revision(interview_id=iid, kind="link", who=who, at=utcnow(), before=None,
                       after={"link": ln.id, "term": term_id, "start_ms": start, "end_ms": end, "status": "accepted"},
                       note="link added by an editor"))
        s.commit()
        return {"id": ln.id, "status": "accepted"}


def word_diff(old, new, context: int = 6, limit: int = 300) -> list[list[tuple[str, str]]]:
    """Word-level differences between two versions, as chunks of (op, text); op in = - +."""
    a = [t for o in old for t in o.text.split()]
    b = [t for o in new for t in o.text.split()]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    chunks: list[list[tuple[str, str]]] = []
    for group in sm.get_grouped_opcodes(context):
        chunk = []
        for tag, a0, a1, b0, b1 in group:
            if tag == "equal":
                chunk.append(("=", " ".join(a[a0:a1])))
            else:
                if a1 > a0:
                    chunk.append(("-", " ".join(a[a0:a1])))
                if b1 > b0:
                    chunk.append(("+", " ".join(b[b0:b1])))
        chunks.append(chunk)
        if len(chunks) >= limit:
            break
    speakers_changed = [i for i, (o, n) in enumerate(zip(old, new)) if o.speaker_id != n.speaker_id]
    if speakers_changed or len(old) != len(new):
        chunks.append([("~", f"segments : {len(old)} → {len(new)} ; locuteur changé sur {len(speakers_changed)} segment(s)")])
    return chunks
