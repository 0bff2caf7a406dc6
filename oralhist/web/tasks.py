"""Task pages of the workbench: consent and redactions, corrections by Word, vocabulary import.

Each page has its JSON twin; routes only parse, ask the permission function (``guard``) and
call the library functions the CLI calls:

- consent:      ``oralhist.editorial.consent.set_consent`` (= ``oralhist consent``), ``redaction_rows``;
                what it does to the site: ``oralhist.outputs.publish.status.effect_of_consent``;
                the waveform: ``oralhist.archive.waveform.peaks``;
- corrections:  ``oralhist.outputs.exports.exporter("docx")`` (= ``oralhist export -f docx``) and
                ``oralhist.editorial.corrections.import_corrections`` (= ``oralhist import-corrections``);
- vocabulary:   ``oralhist.editorial.vocab.import_vocab`` (= ``oralhist vocab import``).

JSON routes go through ``oralhist.web.api`` (``json_route``; the multipart ones read their
form themselves and answer errors with ``api.error_response``, which words the library's
English one-liners in French, naming the file the user sent, never a server path).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oralhist import db
from oralhist.errors import NotFound, OralhistError
from oralhist.web.api import error_response, json_route, who
from oralhist.web.errors_fr import Refused

SCOPE_FR = {"public": "publique (site web)", "on-site": "sur place seulement (borne du musée)",
            "research-only": "recherche seulement", "none": "aucune diffusion"}
KIND_FR = {"trade": "métiers", "object": "objets", "place": "lieux", "subject": "sujets"}
MAX_REDACTIONS = 200


# ------------------------------------------------------------------------------------ consent


def consent_payload(ws, iid: str) -> dict:
    from oralhist.editorial.consent import redaction_rows
    from oralhist.outputs.publish.status import effect_of_consent
    from oralhist.outputs.publish.typography import long_date
    from oralhist.records import Interview, Person
    from oralhist.editorial.view import load_interview

    with db.session(ws) as s:
        v = load_interview(s, iid, with_words=False)
        iv = s.get(Interview, iid)
        person = s.get(Person, iv.narrator_id) if iv.narrator_id else None
        rows = redaction_rows(s, iid)
        portrait = _portrait_state(s, iid)
    c = v.consent
    scope = c.scope if c else "none"
    return {
        "interview": iid,
        "narrator": v.narrator,
        "duration_ms": v.duration_ms,
        "scope": scope,
        "scope_fr": SCOPE_FR.get(scope, scope),
        "embargo_until": c.embargo_until if c else None,
        "embargo_fr": long_date(c.embargo_until) if c and c.embargo_until else None,
        "anonymise": bool(c and c.anonymise),
        "listing": c.listing if c else "none",
        "pseudonym": person.pseudonym if person else None,
        # issue 26 item 5: the narrator's portrait, only with this permission, never when anonymised
        "portrait": portrait["portrait"] and not (c and c.anonymise),
        "portrait_stored": portrait["stored"],
        "redactions": [{"id": r.id, "start_ms": r.start_ms, "end_ms": r.end_ms, "reason": r.reason,
                        "created_by": r.created_by} for r in rows],
        "effect": effect_of_consent(ws, iid),
    }


def _portrait_state(s, iid: str) -> dict:
    from oralhist.records import Consent

    row = s.exec(select(Consent).where(Consent.interview_id == iid)).first()
    return {"portrait": bool(row and row.portrait), "stored": bool(row and row.portrait_path),
            "anonymise": bool(row and row.anonymise)}


def check_portrait_change(ws, iid: str, data: dict, kw: dict):
    """The consent page's « portrait » box (issue 26 item 5) -> True/False to set, or None (unchanged).

    Checked before anything is written: never for an interview that is (or is being made) anonymised,
    and only once a picture is stored (``oralhist portrait ID photo.jpg`` or the page's picture form)."""
    want = data.get("portrait")
    if want is None:
        return None
    if not isinstance(want, bool):
        raise Refused(None, "portrait : vrai ou faux attendu")
    with db.session(ws) as s:
        now = _portrait_state(s, iid)
    anonymised = kw["anonymise"] if "anonymise" in kw else now["anonymise"]
    if want and (anonymised or kw.get("withdraw")):
        raise Refused(None, "portrait : un entretien anonymisé ne montre jamais le portrait du narrateur ; rien n’a été enregistré")
    if want and not now["stored"]:
        raise Refused(None, "portrait : aucune photographie du narrateur n’est enregistrée pour cet entretien ; "
                            "joignez-la d’abord ; rien n’a été enregistré")
    return want if want != now["portrait"] else None


def _int(x, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or x != x:
        raise Refused(None, f"{what} : nombre entier de millisecondes attendu")
    return int(x)


def parse_consent_change(data: dict) -> dict:
    """The JSON body of POST /api/i/{id}/consent -> keyword arguments of ``set_consent``."""
    kw: dict = {}
    if "scope" in data and data["scope"] is not None:
        if not isinstance(data["scope"], str):
            raise Refused(None, "scope : texte attendu")
        kw["scope"] = data["scope"]
    if "embargo_until" in data:
        e = data["embargo_until"]
        if e in (None, ""):
            kw["clear_embargo"] = True
        elif isinstance(e, str):
            kw["embargo_until"] = e.strip()
        else:
            raise Refused(None, "embargo_until : date AAAA-MM-JJ attendue")
    for k in ("anonymise", "withdraw"):
        if k in data and data[k] is not None:
            if not isinstance(data[k], bool):
                raise Refused(None, f"{k} : vrai ou faux attendu")
            kw[k] = data[k]
    if data.get("pseudonym") not in (None, ""):
        if not isinstance(data["pseudonym"], str) or len(data["pseudonym"]) > 200:
            raise Refused(None, "pseudonym : texte de 200 caractères au plus attendu")
        kw["pseudonym"] = data["pseudonym"]
    red = data.get("redact") or []
    if not isinstance(red, list) or len(red) > MAX_REDACTIONS:
        raise Refused(None, f"redact : liste de {MAX_REDACTIONS} passages au plus attendue")
    out = []
    for i, r in enumerate(red):
        if not isinstance(r, dict):
            raise Refused(None, f"passage {i + 1} invalide")
        reason = r.get("reason") or ""
        if not isinstance(reason, str) or len(reason) > 1000:
            raise Refused(None, f"passage {i + 1} : motif de 1000 caractères au plus attendu")
        out.append((_int(r.get("start_ms"), f"passage {i + 1}, début"), _int(r.get("end_ms"), f"passage {i + 1}, fin"),
                    reason.strip()))
    if out:
        kw["redact"] = out
    # issue 24: catalogue listing; and why the consent changes (activity log), both optional here
    if data.get("listing") is not None:
        if data["listing"] not in ("none", "catalogue"):
            raise Refused(None, "listing : « none » ou « catalogue » attendu")
        kw["listing"] = data["listing"]
    why = data.get("why")
    if why is not None and (not isinstance(why, str) or len(why) > 1000):
        raise Refused(None, "why : motif de 1000 caractères au plus attendu")
    un = data.get("unredact") or []
    if not isinstance(un, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in un):
        raise Refused(None, "unredact : liste de numéros de passages attendue")
    if un:
        kw["unredact"] = un
    if not kw and data.get("portrait") is None:  # the portrait box alone is a change (check_portrait_change)
        raise Refused(None, "aucun changement demandé")
    return kw


# ------------------------------------------------------------------------------------ corrections


def docx_bytes(ws, iid: str) -> bytes:
    """The Word export of the newest version, as `oralhist export ID -f docx` writes it."""
    from oralhist.outputs.exports import exporter
    from oralhist.editorial.view import load_interview

    write = exporter("docx")
    with db.session(ws) as s:
        view = load_interview(s, iid)
    with tempfile.TemporaryDirectory(prefix="oralhist-docx-") as tmp:
        return write(view, Path(tmp) / f"{iid}.docx", archive=ws.settings.title).read_bytes()  # creator: the archive


def corrections_report(res) -> dict:
    from oralhist.web.errors_fr import french

    d = res.to_dict()
    d["notes"] = [french(n) for n in d.get("notes") or []]  # issue 21: the library's notes are English
    st = res.stats
    if res.unchanged:
        d["message"] = f"Aucune différence avec la version {res.version} : rien n’a été enregistré."
    else:
        from oralhist.outputs.publish.typography import plural

        def n(k, one, many):
            return f"{k} {plural(k, one, many)}"

        d["message"] = (f"Version {res.version} enregistrée (à partir de la version {res.base_version}) : "
                        f"{n(st.kept, 'mot gardé', 'mots gardés')} avec leurs temps, {n(st.changed, 'modifié', 'modifiés')}, "
                        f"{n(st.inserted, 'ajouté', 'ajoutés')}, {n(st.deleted, 'supprimé', 'supprimés')}.")
        if st.unplaced:
            d["message"] += f" Mots sans place dans l’audio (temps nul) : {' '.join(st.unplaced)}."
    return d


# ------------------------------------------------------------------------------------ uploads


async def _one_file(request: Request, field: str = "file"):
    """(form, upload) of a multipart request with one file; BadInput in French otherwise."""
    try:
        form = await request.form(max_files=2, max_fields=10)
    except Exception as exc:  # malformed multipart
        if type(exc).__name__ == "BodyTooLarge":
            raise
        raise Refused(None, "formulaire illisible (envoyez le fichier en multipart/form-data)") from None
    f = form.get(field)
    if f is None or not hasattr(f, "filename"):
        raise Refused(None, f"aucun fichier (champ « {field} »)")
    return form, f


def _staged_name(filename: str, fallback: str) -> str:
    from oralhist.archive.ingest import safe_file_name

    return safe_file_name((filename or "").replace("\\", "/").rsplit("/", 1)[-1]) or fallback


async def _stage(ws, upload, fallback: str) -> tuple[Path, str]:
    """Write the upload to a private folder under .uploads/ under a safe name; (path, name to show)."""
    from oralhist.archive.probe import display_name

    name = _staged_name(upload.filename, fallback)
    shown = display_name((upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1])[:200] or name
    folder = ws.root / ".uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    dest = folder / name
    with open(dest, "wb") as out:
        await run_in_threadpool(shutil.copyfileobj, upload.file, out, 1024 * 1024)
    if dest.stat().st_size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise Refused(shown, "le fichier est vide")
    return dest, shown


async def answer_one_file(ws, request: Request, fallback: str, act) -> Response:
    """The one-file upload routes' common path: read the request's file, stage it under a safe name,
    ``act(form, path, shown_name)`` in the thread pool (its dict is the JSON answer), library errors
    worded in French naming the file, and the staged copy removed whatever happens."""
    dest = name = None
    try:
        form, upload = await _one_file(request)
        dest, name = await _stage(ws, upload, fallback)
        return JSONResponse(await run_in_threadpool(act, form, dest, name))
    except OralhistError as exc:
        return error_response(exc, name)
    finally:
        if dest is not None:
            shutil.rmtree(dest.parent, ignore_errors=True)


# ------------------------------------------------------------------------------------ routes


# Over 80 lines on purpose: the route table of the task pages; each handler is a short closure over the app's
# config, kept together so the URL map reads in one place.
def routes(cfg, page, guard) -> list:
    from oralhist.web.editor import interview_page

    ws = cfg.ws

    # consent -----------------------------------------------------------------------------

    def api_consent_get(request: Request, data: dict):
        return consent_payload(ws, request.path_params["iid"])

    def api_consent_set(request: Request, data: dict):
        from oralhist.editorial.consent import set_consent
        from oralhist.editorial.portrait import set_portrait

        iid = request.path_params["iid"]
        kw = parse_consent_change(data)
        portrait = check_portrait_change(ws, iid, data, kw)
        why = (data.get("why") or "").strip() or "; ".join(r for _, _, r in kw.get("redact", ()) if r)
        if kw:
            set_consent(ws, iid, who=who(request, cfg.who), reason=why,
                        address=request.client.host if request.client else None, **kw)
        if portrait is not None:  # (anonymising or withdrawing takes the permission away in set_consent)
            set_portrait(ws, iid, allow=portrait)
        return consent_payload(ws, iid)

    async def api_consent_portrait(request: Request):
        """The narrator's photograph (issue 26 item 5), stored like object pictures; the permission is
        given with it (« Publier le portrait »), except for an anonymised interview (refused)."""
        from oralhist.editorial.portrait import set_portrait

        iid = request.path_params["iid"]
        with db.session(ws) as s:
            if _portrait_state(s, iid)["anonymise"]:
                return error_response(Refused(None, "un entretien anonymisé ne montre jamais le portrait du narrateur ; "
                                                    "rien n’a été enregistré"), None)

        def store(form, dest, name):
            set_portrait(ws, iid, dest)
            res = consent_payload(ws, iid)
            res["message"] = ("Portrait enregistré : il paraîtra avec l’entretien à la prochaine publication "
                              "(décochez « Publier le portrait » pour qu’il n’y paraisse pas).")
            return res

        return await answer_one_file(ws, request, "portrait.jpg", store)

    # the signed consent form (issue 21, item 3): seen, attached or replaced (a new revision) ---------

    def load_forms(s, iid, request):
        from oralhist.editorial.consent import form_versions

        return {"forms": form_versions(s, iid)}

    def consent_form_file(request: Request):
        """One of the interview's signed forms (the current one, or ``?empreinte=`` an older one)."""
        from starlette.responses import FileResponse

        from oralhist.editorial.consent import FORM_TYPES, form_versions

        iid = request.path_params["iid"]
        want = request.query_params.get("empreinte")
        with db.session(ws) as s:
            forms = form_versions(s, iid)
        f = next((x for x in forms if (x["sha256"] or "")[:12] == want), None) if want else (forms[0] if forms else None)
        if f is None or not f["path"]:
            return Response("aucun formulaire signé pour cet entretien", status_code=404, media_type="text/plain; charset=utf-8")
        p = ws.abs(f["path"])
        if not p.is_file():
            return Response("formulaire absent du dossier de l’archive", status_code=404, media_type="text/plain; charset=utf-8")
        ext = p.suffix.lower().lstrip(".")
        mt = FORM_TYPES.get("jpg" if ext == "jpeg" else "tif" if ext == "tiff" else ext, "application/octet-stream")
        return FileResponse(p, media_type=mt, headers={"cache-control": "private, no-store",
                                                       "content-disposition": "inline",
                                                       "x-content-type-options": "nosniff"})

    async def api_consent_form(request: Request):
        from oralhist.editorial.consent import attach_form

        iid = request.path_params["iid"]
        by = who(request, cfg.who)

        def attach(form, dest, name):
            res = attach_form(ws, iid, dest, name, who=by)
            res["message"] = ("Formulaire signé remplacé ; l’ancien reste dans l’archive." if res.pop("replaced")
                              else "Formulaire signé joint à l’entretien.")
            return res

        return await answer_one_file(ws, request, "formulaire.pdf", attach)

    def api_peaks(request: Request, data: dict):
        from oralhist.archive.waveform import peaks

        try:
            n = int(request.query_params.get("n", "800"))
        except ValueError:
            n = 800
        try:
            res = peaks(ws, request.path_params["iid"], n)
        except NotFound:
            raise NotFound(None, "pas encore d’audio normalisé pour cet entretien") from None
        return JSONResponse(res, headers={"cache-control": "private, max-age=60"})

    # corrections by Word -----------------------------------------------------------------

    def api_docx(request: Request, data: dict):
        iid = request.path_params["iid"]
        try:
            raw = docx_bytes(ws, iid)
        except NotFound:
            raise NotFound(None, "pas encore de transcription pour cet entretien") from None
        return Response(raw, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        headers={"content-disposition": f'attachment; filename="{iid}.docx"'})

    async def api_corrections(request: Request):
        from oralhist.editorial.corrections import import_corrections

        iid = request.path_params["iid"]

        def act(form, dest, name):
            force = str(form.get("force") or "").lower() in ("1", "true", "on", "oui")
            return corrections_report(import_corrections(ws, iid, dest, who=who(request, cfg.who), force=force))

        return await answer_one_file(ws, request, f"{iid}.docx", act)

    # vocabulary ----------------------------------------------------------------------------

    def vocab_counts(account=None) -> dict:
        """Terms per kind: the archive's and, for an account tied to a museum, its museum's only."""
        from sqlalchemy import func

        from oralhist.records import Term
        from oralhist.web.permissions import can_shared

        with db.session(ws) as s:
            rows = s.exec(select(Term.kind, Term.museum_id, func.count()).group_by(Term.kind, Term.museum_id)).all()
        out: dict = {}
        for k, mid, n in rows:
            if account is None or can_shared(account, "vocab", mid):
                out[getattr(k, "value", k)] = out.get(getattr(k, "value", k), 0) + n
        return out

    def api_vocab_get(request: Request, data: dict):
        return {"terms": vocab_counts(request.scope.get("state", {}).get("account"))}

    async def api_vocab_import(request: Request):
        from oralhist.outputs.publish.typography import plural
        from oralhist.editorial.vocab import KINDS, import_vocab

        account = request.scope.get("state", {}).get("account")

        def n(k, one, many):
            return f"{k} {plural(k, one, many)}"

        def act(form, dest, name):
            kind = str(form.get("kind") or "").strip() or None
            if kind is not None and kind not in KINDS:
                raise Refused(None, "type inconnu (métier, objet, lieu ou sujet)")
            vocab_museums_check(account, dest, kind)
            rep = import_vocab(ws, dest, kind)
            d = rep.to_dict()
            d["file"] = name
            d["counts"] = {"created": len(rep.created), "updated": len(rep.updated), "unchanged": len(rep.unchanged)}
            d["message"] = (f"{name} : {n(len(rep.created), 'terme créé', 'termes créés')}, "
                            f"{n(len(rep.updated), 'mis à jour', 'mis à jour')}, {n(len(rep.unchanged), 'inchangé', 'inchangés')}.")
            d["terms"] = vocab_counts(account)
            return d

        return await answer_one_file(ws, request, "vocabulaire.csv", act)

    def vocab_museums_check(account, dest, kind) -> None:
        """An admin tied to a museum imports terms of the archive (no museum) and of its museum:
        a row naming another museum refuses the file (nothing written), in the permission function's
        words (« musée » rows are ids of museums, checked like the ids of a request)."""
        from oralhist.records import Museum
        from oralhist.editorial.vocab import read_vocab
        from oralhist.text import fold
        from oralhist.web.permissions import can_shared

        if account is None or account.museum_id is None:
            return
        _fmt, terms, _warnings = read_vocab(dest, kind)
        with db.session(ws) as s:
            museums = {fold(m.name): m.id for m in s.exec(select(Museum)).all()}
        for t in terms:
            if t.museum and not can_shared(account, "vocab", museums.get(fold(t.museum), -1)):
                raise Refused(None, f"ligne {t.line} : le musée « {t.museum} » n’est pas le vôtre ; rien n’a été importé")

    def vocab_page(request: Request):
        return page(request, "vocab.html", counts=vocab_counts(request.scope.get("state", {}).get("account")), KIND_FR=KIND_FR)

    return [
        Route("/i/{iid}/consent", guard("consent", interview_page(ws, page, "consent.html", tab="consent", SCOPE_FR=SCOPE_FR,
                                                                  load=load_forms))),
        Route("/i/{iid}/consent/formulaire", guard("consent", consent_form_file)),  # issue 21: the signed scan
        Route("/api/i/{iid}/consent/formulaire", guard("consent", api_consent_form), methods=["POST"]),
        Route("/api/i/{iid}/consent/portrait", guard("consent", api_consent_portrait), methods=["POST"]),  # issue 26
        Route("/api/i/{iid}/consent", guard("consent", json_route(api_consent_get)), methods=["GET"]),
        Route("/api/i/{iid}/consent", guard("consent", json_route(api_consent_set)), methods=["POST"]),
        Route("/api/i/{iid}/peaks", guard("read", json_route(api_peaks)), methods=["GET"]),
        Route("/i/{iid}/word", guard("correct", interview_page(ws, page, "word.html", tab="word"))),
        Route("/api/i/{iid}/docx", guard("read", json_route(api_docx)), methods=["GET"]),
        Route("/api/i/{iid}/corrections", guard("correct", api_corrections), methods=["POST"]),
        Route("/vocab", guard("vocab", vocab_page)),
        Route("/api/vocab", guard("vocab", json_route(api_vocab_get)), methods=["GET"]),
        Route("/api/vocab", guard("vocab", api_vocab_import), methods=["POST"]),
    ]
