"""The interview editor's pages and JSON API: transcript, index, links, speakers, history, audio.

``routes(cfg, page, guard)`` as the other page groups of the workbench. Handlers only read the
request and call the library (oralhist.editorial.corrections, oralhist.editorial.review, oralhist.editorial.view); every JSON
route goes through ``oralhist.web.api.json_route`` (one body parser, one error mapping).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Optional

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from oralhist import db
from oralhist.errors import BadInput, ConflictError, NotFound
from oralhist.web.api import TooLarge, json_route, who as who_of

LOW_CONFIDENCE = 0.5
MAX_SEGMENTS = 20_000  # an hour is ~600; a save beyond this is refused (413)
SAMPLE_MS = 6_000  # « écouter » plays this much of a speaker's first long turn
LONG_TURN_MS = 3_000


def _val(x):
    return x.value if hasattr(x, "value") else x


def iso(dt) -> str:
    """An ISO 8601 timestamp with its offset (the page formats it in the reader's time zone)."""
    from datetime import timezone

    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.isoformat()


def transcript_payload(s, interview_id: str, version: Optional[int] = None) -> dict:
    """Compact JSON of one version for the editor page: arrays, times in ms, confidence in %."""
    from oralhist.recognition.align import AWord, group_units
    from oralhist.editorial.corrections import get_version
    from oralhist.records import Speaker

    tr = get_version(s, interview_id, version)
    latest = get_version(s, interview_id)
    # issue 23: the driver's rows (2,300 segments of three hours: SQLAlchemy's row processing took 0.2 s)
    segs = s.connection().exec_driver_sql("SELECT id, start_ms, end_ms, speaker_id, text FROM segment WHERE "
                                          f"transcript_id = {int(tr.id)} ORDER BY idx").fetchall()
    # issue 23: the words are read ONCE, by the doubt rule (the driver's rows), with its verdict on each
    from oralhist.editorial.doubts import judged_words

    rows, flags = judged_words(s, tr)
    by_seg: dict[int, tuple[list, list]] = {}
    for (_wid, ws_, we, wt, wp, sid), f in zip(rows, flags):
        got = by_seg.get(sid)
        if got is None:
            got = by_seg[sid] = ([], [])
        got[0].append(AWord(ws_, we, wt, wp))
        got[1].append(f)
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
        words, doubt = by_seg.get(gid, ([], []))
        k = 0  # group_units keeps the words in order (it skips blank ones): walk them alongside
        for text, members in group_units(words):
            d = 0
            for m in members:
                while words[k] is not m:
                    k += 1
                d |= doubt[k]
                k += 1
            if len(members) == 1:
                p = members[0].probability
                toks.append([members[0].start_ms, members[0].end_ms, text, 100 if p is None else round(p * 100), d])
            else:
                probs = [m.probability for m in members if m.probability is not None]
                toks.append([members[0].start_ms, members[-1].end_ms, text, round(min(probs) * 100) if probs else 100, d])
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



def _review_status(s, interview_id: str):
    from oralhist.editorial.view import current_transcript

    tr = current_transcript(s, interview_id)
    if tr is None:
        return None, None
    approved = current_transcript(s, interview_id, prefer_approved=True)
    return _val(tr.status), (approved.version if approved and _val(approved.status) == "approved" else None)


def _audio_path(ws, s, interview_id: str) -> Optional[Path]:
    from oralhist.records import Derivative

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



def conflict_message(ws, interview_id: str, base) -> tuple[str, str]:
    """(French message, ISO time of the newer version) for a save that lost the race."""
    from oralhist.editorial.view import current_transcript

    with db.session(ws) as s:
        tr = current_transcript(s, interview_id)
    by = (tr.created_by or "le système") if tr else "?"
    return (f"une version plus récente (v{tr.version if tr else '?'}, enregistrée par {by}) existe que celle que vous "
            f"modifiez (v{base}). Rien n’a été écrasé : rechargez la page pour la voir, puis refaites votre "
            "modification.", iso(tr.created_at) if tr else "")


def speaker_samples(s, interview_id: str) -> dict[int, tuple[int, int]]:
    """speaker id -> (start, end) ms of a short sample: their first turn of 3 s or more, else their longest."""
    from oralhist.records import Segment
    from oralhist.editorial.view import current_transcript

    tr = current_transcript(s, interview_id)
    if tr is None:
        return {}
    out: dict[int, tuple[int, int]] = {}
    longest: dict[int, tuple[int, int]] = {}
    for sid, a, b in s.exec(select(Segment.speaker_id, Segment.start_ms, Segment.end_ms)
                            .where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all():
        if sid is None:
            continue
        if b - a >= LONG_TURN_MS and sid not in out:
            out[sid] = (a, min(b, a + SAMPLE_MS))
        if sid not in longest or b - a > longest[sid][1] - longest[sid][0]:
            longest[sid] = (a, min(b, a + SAMPLE_MS))
    return {sid: out.get(sid, span) for sid, span in longest.items()}


# ------------------------------------------------------------------------------------- routes


def interview_page(ws, page, template: str, *, tab: Optional[str] = None, load=None, **extra):
    """The handler of an interview's page: its view (404 page when unknown), the tab, whether it
    has audio, what ``load(session, iid, request)`` adds, and ``extra`` (editor.py, tasks.py)."""

    def handler(request: Request):
        iid = request.path_params["iid"]
        from oralhist.editorial.view import load_interview

        with db.session(ws) as s:
            try:
                v = load_interview(s, iid, with_words=False)
            except NotFound:
                return page(request, "notfound.html", 404, iid=iid)
            ctx = {"v": v, "tab": tab, "has_audio": _audio_path(ws, s, iid) is not None, **extra}
            ctx.update(load(s, iid, request) if load else {})
        return page(request, template, **ctx)

    return handler


def cleaned(fn):
    """``fn(request, data)`` with every text of the JSON body without control characters (tab and
    newline kept): transcript, topic titles, speaker names, link quotes (issue 19: a NUL saved in a
    transcript blocked every later publish)."""
    from oralhist.textsafe import clean_text

    def walk(x):
        if isinstance(x, str):
            return clean_text(x)
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in x.items()}
        return x

    def handler(request: Request, data):
        return fn(request, walk(data))

    return handler


# Over 80 lines on purpose: the route table of the editor; each handler is a short closure over the app's
# config, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    ws = cfg.ws

    def who(request: Request) -> str:
        return who_of(request, cfg.who)

    def conflict(iid: str, base) -> JSONResponse:
        msg, at = conflict_message(ws, iid, base)
        return JSONResponse({"error": msg, "conflict": True, "at": at}, status_code=409)

    # ---------------------------------------------------------------- pages

    def load_editor(s, iid, request):
        review, approved = _review_status(s, iid)
        return {"review": review, "approved": approved}

    def load_topics(s, iid, request):
        from oralhist.editorial.view import current_topics

        rows = current_topics(s, iid)
        clashes = []
        from oralhist.records import Redaction

        if s.exec(select(Redaction.id).where(Redaction.interview_id == iid)).first() is not None:
            from oralhist.editorial.consent import redaction_title_clashes  # issue 21: warn, never rewrite
            from oralhist.editorial.view import load_interview

            clashes = redaction_title_clashes(load_interview(s, iid))
        return {"topics": rows, "topic_version": rows[0].version if rows else 0, "title_clashes": clashes}

    def load_links(s, iid, request):
        from oralhist.records import Link, Term

        links = s.exec(select(Link, Term).where(Link.interview_id == iid, Link.term_id == Term.id)
                       .order_by(Link.start_ms)).all()
        from oralhist.web.permissions import can_shared

        acc = request.scope.get("state", {}).get("account")  # the archive's terms and this museum's only
        terms = [t for t in s.exec(select(Term).order_by(Term.kind, Term.label)).all()
                 if can_shared(acc, "read", t.museum_id)]
        q = request.query_params
        prefill = {"start": q.get("start", ""), "end": q.get("end", ""), "quote": q.get("quote", "")}
        return {"links": links, "terms": terms, "prefill": prefill}

    def load_speakers(s, iid, request):
        from oralhist.records import Speaker
        from oralhist.editorial.view import load_interview

        v = load_interview(s, iid, with_words=False)
        talk = {sp.label: sp.talk_ms for sp in v.speakers}
        rows = s.exec(select(Speaker).where(Speaker.interview_id == iid).order_by(Speaker.label)).all()
        names = {sp.label: sp.name for sp in v.speakers}
        samples = speaker_samples(s, iid)
        speakers = [{"id": r.id, "label": r.label, "name": names.get(r.label) or "", "role": _val(r.role),
                     "talk_ms": talk.get(r.label, 0), "sample": samples.get(r.id)} for r in rows]
        # a label merged into another has no speech left in the current version: not listed
        speaking = [sp for sp in speakers if sp["sample"] is not None or sp["talk_ms"]]
        return {"speakers": speaking if speaking else speakers, "hidden": len(speakers) - len(speaking) if speaking else 0}

    def load_history(s, iid, request):
        from oralhist.editorial.corrections import old_segments
        from oralhist.records import Revision, Transcript
        from oralhist.editorial.review import describe_revision, word_diff

        versions = s.exec(select(Transcript).where(Transcript.interview_id == iid)
                          .order_by(Transcript.version.desc())).all()
        notes = {}
        for r in s.exec(select(Revision).where(Revision.interview_id == iid, Revision.kind == "transcript")
                        .order_by(Revision.at)).all():
            if r.transcript_id is not None:
                notes.setdefault(r.transcript_id, []).append(describe_revision(r))
        other = [(iso(r.at), r.who, describe_revision(r))
                 for r in s.exec(select(Revision).where(Revision.interview_id == iid, Revision.kind != "transcript")
                                 .order_by(Revision.at.desc())).all()]
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
        return {"versions": versions, "notes": notes, "other": other, "diff": diff, "iso": iso,
                "latest": versions[0].version if versions else None}

    # ---------------------------------------------------------------- API

    def api_transcript_get(request: Request, data: dict):
        iid = request.path_params["iid"]
        from oralhist.web.jsonbody import query_int

        version = query_int(request.query_params.get("version"), "version")
        try:
            with db.session(ws) as s:
                return transcript_payload(s, iid, version)
        except NotFound as exc:
            if "no transcript yet" in exc.reason:
                raise NotFound(iid, "pas encore de transcription pour cet entretien (lancez « oralhist transcribe »)") from None
            raise NotFound(None, f"introuvable : {exc.reason}") from None

    def api_transcript_save(request: Request, data: dict):
        from oralhist.recognition.align import NewSegment
        from oralhist.editorial.corrections import save_version
        from oralhist.records import Speaker

        iid = request.path_params["iid"]
        base = data.get("base_version")
        segs = data.get("segments")
        if not isinstance(base, int) or not isinstance(segs, list):
            raise BadInput(None, "base_version (entier) et segments (liste) sont requis")
        if len(segs) > MAX_SEGMENTS:
            raise TooLarge(None, f"trop de segments (au plus {MAX_SEGMENTS})")
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
                raise TooLarge(None, "segment trop long")
            new.append(NewSegment(text=sg.get("text", ""), speaker_id=sid if isinstance(sid, int) else None))
        new = [n for n in new if n.text.strip()] or new
        from oralhist.editorial.corrections import MAX_SAVE_WORDS

        if sum(len(n.text.split()) for n in new) > MAX_SAVE_WORDS:
            raise TooLarge(None, f"transcription trop longue : au plus {MAX_SAVE_WORDS:,} mots (environ 20 heures de "
                                 "parole) par enregistrement ; rien n’a été enregistré".replace(",", "\u202f"))
        try:
            res = save_version(ws, iid, new, base_version=base, who=who(request), source="editor")
        except ConflictError:
            return conflict(iid, base)
        except BadInput as exc:
            if "is empty" in exc.reason:
                raise BadInput(iid, "la transcription modifiée est vide ; rien n’a été enregistré") from None
            raise
        return res.to_dict()

    def api_approve(request: Request, data: dict):
        from oralhist.editorial.corrections import approve

        v = data.get("version")
        version = approve(ws, request.path_params["iid"], v if isinstance(v, int) else None, who=who(request))
        return {"version": version, "status": "approved"}

    def api_restore(request: Request, data: dict):
        from oralhist.editorial.corrections import restore_version

        v, base = data.get("version"), data.get("base_version")
        if not isinstance(v, int) or not isinstance(base, int):
            raise BadInput(None, "version et base_version sont requis")
        iid = request.path_params["iid"]
        try:
            return restore_version(ws, iid, v, base_version=base, who=who(request)).to_dict()
        except ConflictError:
            return conflict(iid, base)
        except NotFound:
            raise NotFound(iid, f"pas de version {v} pour cet entretien") from None

    def api_topics(request: Request, data: dict):
        from oralhist.editorial.review import save_topics

        return save_topics(ws, request.path_params["iid"], data, who(request))

    def api_speaker(request: Request, data: dict):
        from oralhist.editorial.review import save_speaker

        return save_speaker(ws, request.path_params["iid"], request.path_params["sid"], data, who(request))

    def api_speakers_merge(request: Request, data: dict):
        from oralhist.editorial.review import merge_speakers

        src, dst = data.get("from"), data.get("into")
        if not isinstance(src, str) or not isinstance(dst, str):
            raise BadInput(None, "from et into (étiquettes de locuteurs) sont requis")
        return merge_speakers(ws, request.path_params["iid"], src, dst, who=who(request))

    def api_link_status(request: Request, data: dict):
        from oralhist.editorial.review import set_link_status

        return set_link_status(ws, request.path_params["lid"], data.get("status"), who(request))

    def api_link_add(request: Request, data: dict):
        from oralhist.records import Term
        from oralhist.editorial.review import add_link
        from oralhist.web.permissions import can_shared

        try:  # read as add_link reads it
            tid = int(data.get("term_id"))
        except (TypeError, ValueError, OverflowError):
            tid = None
        if tid is not None and abs(tid) < 2**62:
            with db.session(ws) as s:  # a term of the archive or of this account's museum; another's: unknown
                t = s.get(Term, tid)
            if t is not None and not can_shared(request.scope.get("state", {}).get("account"), "links", t.museum_id):
                raise NotFound(str(tid), "terme inconnu")

        return add_link(ws, request.path_params["iid"], data, who(request))

    def audio(request: Request):
        iid = request.path_params["iid"]
        with db.session(ws) as s:
            p = _audio_path(ws, s, iid)
        if p is None:
            return Response("pas d’enregistrement d’écoute", status_code=404)
        mt = {".ogg": "audio/ogg", ".opus": "audio/ogg", ".oga": "audio/ogg", ".m4a": "audio/mp4",
              ".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".webm": "audio/webm"}.get(
            p.suffix.lower()) or mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        return FileResponse(p, media_type=mt)

    return [
        Route("/i/{iid}", guard("read", interview_page(ws, page, "editor.html", tab="transcript", load=load_editor))),
        Route("/i/{iid}/index", guard("read", interview_page(ws, page, "topics.html", tab="index", load=load_topics))),
        Route("/i/{iid}/links", guard("read", interview_page(ws, page, "links.html", tab="links", load=load_links))),
        Route("/i/{iid}/speakers", guard("read", interview_page(ws, page, "speakers.html", tab="speakers", load=load_speakers))),
        Route("/i/{iid}/history", guard("read", interview_page(ws, page, "history.html", tab="history", load=load_history))),
        Route("/audio/{iid}", guard("read", audio)),
        Route("/api/i/{iid}/transcript", guard("read", json_route(api_transcript_get)), methods=["GET"]),
        Route("/api/i/{iid}/transcript", guard("correct", json_route(cleaned(api_transcript_save))), methods=["POST"]),
        Route("/api/i/{iid}/approve", guard("approve", json_route(api_approve)), methods=["POST"]),
        Route("/api/i/{iid}/restore", guard("restore", json_route(api_restore)), methods=["POST"]),
        Route("/api/i/{iid}/topics", guard("index", json_route(cleaned(api_topics))), methods=["POST"]),
        Route("/api/i/{iid}/speakers/merge", guard("speakers", json_route(cleaned(api_speakers_merge))), methods=["POST"]),
        Route("/api/i/{iid}/speakers/{sid:int}", guard("speakers", json_route(cleaned(api_speaker))), methods=["POST"]),
        Route("/api/i/{iid}/links", guard("links", json_route(cleaned(api_link_add))), methods=["POST"]),
        Route("/api/links/{lid:int}", guard("links", json_route(cleaned(api_link_status))), methods=["POST"]),
    ]
