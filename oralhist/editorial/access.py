"""Researchers' access to restricted interviews: profiles, requests, time-limited grants, what they read (issue 24).

The login of a researcher is an ordinary workbench account (role ``researcher``, its name the
e-mail address), made by the web layer with ``web.auth.set_account``; this module keeps the
profile (``Researcher``) and the requests (``AccessRequest``: pending → granted | refused →
revoked). A grant is live while it is granted, not expired, and the consent still allows
anything (a withdrawal ends it at once: ``consent.set_consent`` marks it revoked, and
``live_grant`` checks the consent on every read). What a researcher reads is the approved
version with the consent's redactions and anonymisation applied (``researcher_view``).
Every decision and every read goes to the activity log (``editorial.activity``).
Reasons of errors are in French: these functions serve the workbench's researchers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

from sqlmodel import select

from oralhist.editorial.consent import as_public, listed  # what may be listed and read: consent's one place
from oralhist.errors import BadInput, ConflictError, NotFound

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 3650, 90
MIN_RESEARCH_PASSWORD = 10
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
UNKNOWN = "entretien inconnu"  # the same answer for an unknown, unlisted or withdrawn interview


@dataclass(frozen=True)
class AccessSettings:
    """``[access]`` of oralhist.toml: who decides (admin | editor), the default grant, the workbench address."""

    approvers: str = "admin"
    default_days: int = DEFAULT_DAYS
    # where the public catalogue page sends people: the workbench's /demandes, an http(s) address;
    # "" (default): <[site] base_url>/demandes (the workbench behind the same host), none without base_url
    request_url: str = ""


def access_settings(ws) -> AccessSettings:
    from oralhist.errors import WorkspaceError

    raw = (getattr(ws.settings, "raw", None) or {}).get("access", {})
    if not isinstance(raw, dict):
        raise WorkspaceError(ws.root / "oralhist.toml", "[access] must be a table of settings")
    approvers = raw.get("approvers", "admin")
    days = raw.get("default_days", DEFAULT_DAYS)
    url = raw.get("request_url", "")
    if approvers not in ("admin", "editor"):
        raise WorkspaceError(ws.root / "oralhist.toml", "setting access.approvers must be \"admin\" or \"editor\"")
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise WorkspaceError(ws.root / "oralhist.toml", f"setting access.default_days must be {MIN_DAYS}-{MAX_DAYS}")
    if not isinstance(url, str) or not (url == "" or re.match(r"^https?://\S+$", url)):
        raise WorkspaceError(ws.root / "oralhist.toml", "setting access.request_url must be an http(s) address")
    if not url and ws.settings.base_url:
        url = ws.settings.base_url.rstrip("/") + "/demandes"
    return AccessSettings(approvers=approvers, default_days=days, request_url=url)


# ------------------------------------------------------------------------------ registration


def normalise_email(email: str) -> str:
    e = (email or "").strip()
    if len(e) > 64 or not EMAIL.match(e):
        raise BadInput("email", "adresse électronique invalide (par exemple nom@exemple.fr, 64 caractères au plus)")
    return e.lower()  # one person, one address: « Jean@X.fr » and « jean@x.fr » are the same login


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """A weak password is refused: under 10 characters, a single kind of character (only letters,
    only digits), or one that contains the e-mail's name or the person's name."""
    if not isinstance(password, str) or len(password) < MIN_RESEARCH_PASSWORD:
        raise BadInput("password", f"mot de passe trop faible : au moins {MIN_RESEARCH_PASSWORD} caractères")
    if len(password) > 1000:
        raise BadInput("password", "mot de passe trop long (1000 caractères au plus)")
    kinds = sum(bool(re.search(rx, password)) for rx in (r"[a-zà-ÿ]", r"[A-ZÀ-Þ]", r"\d", r"[^\w]|_"))
    if kinds < 2 or len(set(password)) < 5:
        raise BadInput("password", "mot de passe trop faible : mêlez lettres, chiffres ou signes")
    low = password.casefold()
    for part in [email.split("@")[0]] + name.split():
        if len(part) >= 4 and part.casefold() in low:
            raise BadInput("password", "mot de passe trop faible : il contient votre nom ou votre adresse")


def check_registration(ws, *, name: str, email: str, institution: str, password: str) -> dict:
    """The registration's fields, checked (BadInput naming the field), the e-mail normalised;
    ConflictError when the e-mail (or an account of that name) exists already."""
    from oralhist import db
    from oralhist.records import EditorAccount, Researcher

    for field, value, most in (("name", name, 200), ("institution", institution, 200)):
        if not isinstance(value, str) or (field == "name" and not value.strip()) or len(value) > most:
            raise BadInput(field, f"{'nom' if field == 'name' else 'institution'} : texte de {most} caractères au plus"
                                  + (" (requis)" if field == "name" else ""))
    if any(ord(c) < 32 for c in name + institution):
        raise BadInput("name", "caractères de contrôle refusés")
    email = normalise_email(email if isinstance(email, str) else "")
    check_password_strength(password, email=email, name=name)
    with db.session(ws) as s:
        taken = s.exec(select(Researcher.id).where(Researcher.email == email)).first() is not None or \
            s.exec(select(EditorAccount.id).where(EditorAccount.name == email)).first() is not None
    if taken:
        raise ConflictError("email", "un compte existe déjà pour cette adresse électronique")
    return {"name": name.strip(), "email": email, "institution": institution.strip()}


def add_profile(ws, *, email: str, name: str, institution: str, address: Optional[str] = None) -> None:
    """The profile of the account just made for ``email`` (role researcher), and the log line."""
    from oralhist import db
    from oralhist.editorial.activity import record
    from oralhist.records import EditorAccount, Researcher

    with db.session(ws) as s:
        acc = s.exec(select(EditorAccount).where(EditorAccount.name == email)).one()
        s.add(Researcher(account_id=acc.id, email=email, name=name, institution=institution))
        record(s, actor=email, action="register", detail=f"{name} ({institution or 'sans institution'})", address=address)
        s.commit()


def profile(s, account_name: str) -> Optional[dict]:
    from oralhist.records import EditorAccount, Researcher

    row = s.exec(select(Researcher).join(EditorAccount, EditorAccount.id == Researcher.account_id)
                 .where(EditorAccount.name == account_name)).first()
    return {"name": row.name, "email": row.email, "institution": row.institution} if row else None


# ------------------------------------------------------------------------------ what may be asked for


def by_public_key(s, key: str):
    """(Interview, Consent) of a public id that may be asked for, or None (unknown, unlisted, withdrawn)."""
    from oralhist.records import Consent, Interview

    if not isinstance(key, str) or not key or len(key) > 64:
        return None
    iv = s.exec(select(Interview).where(Interview.public_key == key)).first()
    if iv is None:
        return None
    c = s.exec(select(Consent).where(Consent.interview_id == iv.id)).first()
    return (iv, c) if listed(c) else None


def _account_id(s, name: str) -> int:
    from oralhist.records import EditorAccount

    acc = s.exec(select(EditorAccount).where(EditorAccount.name == name)).first()
    if acc is None:
        raise NotFound(None, "compte inconnu")
    return acc.id


def request_access(ws, account_name: str, keys: list, *, purpose: str, project: str = "", use: str = "",
                   address: Optional[str] = None) -> list[int]:
    """One request per interview named (public ids); every id is checked before anything is
    written. An id that is unknown, not listed or withdrawn answers NotFound « entretien inconnu »."""
    from oralhist import db
    from oralhist.editorial.activity import record
    from oralhist.records import AccessRequest

    if not isinstance(keys, list) or not keys or len(keys) > 50 or not all(isinstance(k, str) for k in keys):
        raise BadInput("interviews", "interviews : liste de 1 à 50 identifiants attendue")
    for field, value, most in (("purpose", purpose, 4000), ("project", project, 500), ("use", use, 500)):
        if not isinstance(value, str) or len(value) > most:
            raise BadInput(field, f"{field} : texte de {most} caractères au plus")
    if len((purpose or "").strip()) < 10:
        raise BadInput("purpose", "purpose : décrivez l’objet de votre recherche (10 caractères au moins)")
    ids = []
    with db.session(ws) as s:
        aid = _account_id(s, account_name)
        found = []
        for key in dict.fromkeys(k.strip() for k in keys):
            hit = by_public_key(s, key)
            if hit is None:
                raise NotFound(None, f"{UNKNOWN} : {key[:64]}")
            found.append(hit[0])
        for iv in found:
            open_ = s.exec(select(AccessRequest).where(AccessRequest.account_id == aid,
                                                       AccessRequest.interview_id == iv.id,
                                                       AccessRequest.status == "pending")).first()
            if open_ is not None:
                ids.append(open_.id)
                continue
            row = AccessRequest(account_id=aid, interview_id=iv.id, purpose=purpose.strip(), project=project.strip(),
                                use=use.strip())
            s.add(row)
            s.flush()
            ids.append(row.id)
            record(s, actor=account_name, action="access.request", interview_id=iv.id,
                   detail=f"demande n° {row.id} : {purpose.strip()[:300]}", address=address)
        s.commit()
    return ids


# ------------------------------------------------------------------------------ decisions


def request_row(s, rid: int):
    from oralhist.records import AccessRequest, Interview

    row = s.get(AccessRequest, rid)
    if row is None:
        raise NotFound(None, "demande inconnue")
    return row, s.get(Interview, row.interview_id)


def decide(ws, rid: int, action: str, *, who: str, days: Optional[int] = None, reason: str = "",
           address: Optional[str] = None) -> dict:
    """grant (for ``days``, default ``[access] default_days``) | refuse (with a reason) | revoke.
    The caller has checked that ``who`` may decide for the interview's museum."""
    from oralhist import db
    from oralhist.editorial.activity import record
    from oralhist.records import utcnow

    if action not in ("grant", "refuse", "revoke"):
        raise BadInput(action, "décision inconnue")
    if action == "grant":
        days = access_settings(ws).default_days if days is None else days
        if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
            raise BadInput("days", f"days : nombre de jours de {MIN_DAYS} à {MAX_DAYS} attendu")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise BadInput("reason", "reason : texte de 2000 caractères au plus")
    if action == "refuse" and not reason.strip():
        raise BadInput("reason", "reason : un refus doit être motivé")
    with db.session(ws) as s:
        row, iv = request_row(s, rid)
        allowed = {"grant": ("pending",), "refuse": ("pending",), "revoke": ("granted", "pending")}[action]
        if row.status not in allowed:
            raise ConflictError(str(rid), f"demande déjà {STATUS_FR.get(row.status, row.status)}")
        if action == "grant":
            from oralhist.records import Consent

            if not listed(s.exec(select(Consent).where(Consent.interview_id == row.interview_id)).first()):
                raise ConflictError(str(rid), "le consentement ne permet plus cet accès")
            row.status, row.days, row.expires_at = "granted", days, utcnow() + timedelta(days=days)
        else:
            row.status = "refused" if action == "refuse" else "revoked"
            row.reason = reason.strip()
        row.decided_by, row.decided_at, row.seen = who, utcnow(), False
        s.add(row)
        detail = f"demande n° {rid}" + (f", {days} jours" if action == "grant" else "") + \
            (f" — motif : {reason.strip()}" if reason.strip() else "")
        record(s, actor=who, action=f"access.{action}", interview_id=row.interview_id, detail=detail, address=address)
        from oralhist.records import Researcher

        researcher = s.exec(select(Researcher.email).where(Researcher.account_id == row.account_id)).first()
        s.commit()
        out = request_dict(s, row, iv)
    if researcher:
        notify(ws, researcher, f"Votre demande n° {rid} : {STATUS_FR[out['status']]}",
               f"Votre demande d’accès à « {out['title']} » est {STATUS_FR[out['status']]}."
               + (f" Motif : {out['reason']}" if out["reason"] else "")
               + (f" Accès jusqu’au {out['expires_at'][:10]}." if out["expires_at"] else ""))
    return out


STATUS_FR = {"pending": "en attente", "granted": "accordée", "refused": "refusée", "revoked": "retirée",
             "expired": "expirée"}


def _aware(dt):
    from datetime import timezone

    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def request_dict(s, row, iv) -> dict:
    from oralhist.records import EditorAccount, Museum, Researcher, utcnow

    status = row.status
    if status == "granted" and row.expires_at and _aware(row.expires_at) <= utcnow():
        status = "expired"
    acc = s.get(EditorAccount, row.account_id)
    who = s.exec(select(Researcher).where(Researcher.account_id == row.account_id)).first()
    museum = s.get(Museum, iv.museum_id) if iv and iv.museum_id else None
    return {"id": row.id, "interview": iv.public_key if iv else None, "title": catalogue_title(s, iv),
            "museum": museum.name if museum else None, "status": status, "status_fr": STATUS_FR[status],
            "purpose": row.purpose, "project": row.project, "use": row.use, "reason": row.reason,
            "days": row.days, "expires_at": _aware(row.expires_at).isoformat(timespec="seconds") if row.expires_at else None,
            "created_at": _aware(row.created_at).isoformat(timespec="seconds"), "decided_by": row.decided_by,
            "researcher": {"login": acc.name if acc else None, "name": who.name if who else None,
                           "institution": who.institution if who else None}}


def catalogue_title(s, iv) -> str:
    """The title a researcher sees in lists: the interview's title, anonymised as the consent says."""
    from oralhist.editorial.consent import public_view
    from oralhist.editorial.view import load_interview

    if iv is None:
        return ""
    v = load_interview(s, iv.id, with_words=False)
    pv = public_view(as_public(v))
    return (pv.title if pv else "") or "Entretien"


def list_requests(ws, *, account_name: str, mine: bool, museum_id: Optional[int] = None,
                  every_museum: bool = False) -> list[dict]:
    """``mine``: the researcher's own requests (marked seen); else those of ``museum_id``'s
    interviews (``every_museum``: all), newest first."""
    from oralhist import db
    from oralhist.records import AccessRequest, Interview

    with db.session(ws) as s:
        q = select(AccessRequest, Interview).join(Interview, Interview.id == AccessRequest.interview_id)
        if mine:
            q = q.where(AccessRequest.account_id == _account_id(s, account_name))
        elif not every_museum:
            q = q.where(Interview.museum_id == museum_id)
        rows = s.exec(q.order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc()).limit(1000)).all()
        out = [request_dict(s, r, iv) for r, iv in rows]
        if mine:
            for r, _ in rows:
                if not r.seen:
                    r.seen = True
                    s.add(r)
            s.commit()
    return out


def pending_count(ws, *, account_name: str, researcher: bool, museum_id: Optional[int] = None,
                  every_museum: bool = False) -> int:
    """The header's count: a researcher's decisions not yet seen; a decider's pending requests."""
    from sqlalchemy import func

    from oralhist import db
    from oralhist.records import AccessRequest, EditorAccount, Interview

    with db.session(ws) as s:
        if researcher:
            q = select(func.count(AccessRequest.id)).join(EditorAccount, EditorAccount.id == AccessRequest.account_id) \
                .where(EditorAccount.name == account_name, AccessRequest.seen == False)  # noqa: E712
        else:
            q = select(func.count(AccessRequest.id)).where(AccessRequest.status == "pending")
            if not every_museum:
                q = q.join(Interview, Interview.id == AccessRequest.interview_id).where(Interview.museum_id == museum_id)
        return int(s.exec(q).one())


# ------------------------------------------------------------------------------ reading


def live_grant(s, account_name: str, key: str):
    """(Interview, AccessRequest) when ``account_name`` holds a live grant on the interview of
    public id ``key``: granted, not expired, and the consent still allowing it; else None."""
    from oralhist.records import AccessRequest, Consent, EditorAccount, Interview, utcnow

    if not isinstance(key, str) or not key or len(key) > 64:
        return None
    row = s.exec(select(Interview, AccessRequest)
                 .join(AccessRequest, AccessRequest.interview_id == Interview.id)
                 .join(EditorAccount, EditorAccount.id == AccessRequest.account_id)
                 .where(Interview.public_key == key, EditorAccount.name == account_name,
                        AccessRequest.status == "granted", AccessRequest.expires_at > utcnow())
                 .order_by(AccessRequest.expires_at.desc())).first()
    if row is None:
        return None
    c = s.exec(select(Consent).where(Consent.interview_id == row[0].id)).first()
    if c is None or getattr(c.scope, "value", c.scope) == "none":
        return None
    return row


def researcher_view(ws, interview_id: str):
    """What a granted researcher reads: the approved version (else the newest), redactions and
    anonymisation applied as on the public site."""
    from oralhist import db
    from oralhist.editorial.consent import load_for_public, public_view

    with db.session(ws) as s:
        v = load_for_public(s, interview_id)
    return public_view(as_public(v))


def researcher_json(ws, interview_id: str, key: str) -> dict:
    """``GET /api/interviews/{id}`` for a researcher: the filtered record, its text, the citation."""
    pv = researcher_view(ws, interview_id)
    return {"id": key, "title": pv.title, "narrator": pv.narrator, "museum": pv.museum, "date": pv.date,
            "duration_ms": pv.duration_ms, "language": pv.language,
            "segments": [{"start_ms": sg.start_ms, "end_ms": sg.end_ms, "speaker": sg.speaker_name, "text": sg.text}
                         for sg in pv.segments],
            "redactions": [[a, b] for a, b, _ in pv.consent.redactions],
            "citation": citation(ws, pv, key)}


def citation(ws, pv, key: str) -> str:
    """« Narrateur, « titre », date, musée. Archive, référence KEY. Consulté le JJ/MM/AAAA. »"""
    parts = [pv.narrator or "", f"« {pv.title} »" if pv.title else "", pv.date or "", pv.museum or ""]
    head = ", ".join(p for p in parts if p)
    return f"{head}. {ws.settings.title}, référence {key}. Consulté le {date.today():%d/%m/%Y}."


def _audio_source(s, ws, interview_id: str):
    """(listening copy, its sha256, redacted ranges) of an interview; (None, None, []) without one."""
    from oralhist.records import Derivative, Redaction

    src = sha = None
    for d in s.exec(select(Derivative).where(Derivative.interview_id == interview_id,
                                             Derivative.kind.in_(("access", "asr")))).all():
        if ws.abs(d.path).is_file() and (src is None or d.kind == "access"):
            src, sha = ws.abs(d.path), d.sha256
    reds = [(r.start_ms, r.end_ms) for r in s.exec(select(Redaction).where(Redaction.interview_id == interview_id)
                                                   .order_by(Redaction.start_ms)).all()]
    return src, sha, reds


def research_audio(ws, interview_id: str, source=None):
    """The file a researcher listens to: the listening copy, with the redacted ranges silenced
    (written once per set of ranges next to the listening copy, ``research-<hash>.ogg``).
    ``source``: ``_audio_source``'s answer when the caller has it."""
    from oralhist import db
    from oralhist.editorial.consent import silence_ranges

    if source is None:
        with db.session(ws) as s:
            source = _audio_source(s, ws, interview_id)
    src, sha, reds = source
    if src is None:
        return None
    if not reds:
        return src
    tag = hashlib.sha256(f"{sha}|{reds}".encode()).hexdigest()[:16]
    out = ws.derived_dir(interview_id) / f"research-{tag}.ogg"
    if not out.is_file():
        silence_ranges(src, out, reds)
    return out


def admit(ws, account_name: str, key: str, what: str, *, detail: str = "", address: Optional[str] = None):
    """One researcher read, checked and logged in one transaction: the archive id and, for
    ``what == "audio"``, ``_audio_source``'s answer; None (and an ``access.denied`` line) without a
    live grant. Kept to one session and one commit: it runs on every audio range."""
    from sqlalchemy import insert

    from oralhist import db
    from oralhist.records import (AccessRequest, ActivityEntry, Consent, ConsentScope, Derivative, EditorAccount,
                                  Interview, Redaction, utcnow)

    if not isinstance(key, str) or not key or len(key) > 64:
        key = ""
    now = utcnow()
    # plain column queries (no ORM objects): the grant, the consent and the listening copies in one statement
    q = (select(Interview.id, Interview.museum_id, Derivative.kind, Derivative.path, Derivative.sha256)
         .join(AccessRequest, AccessRequest.interview_id == Interview.id)
         .join(EditorAccount, EditorAccount.id == AccessRequest.account_id)
         .join(Consent, Consent.interview_id == Interview.id)
         .outerjoin(Derivative, (Derivative.interview_id == Interview.id) & Derivative.kind.in_(("access", "asr")))
         .where(Interview.public_key == key, EditorAccount.name == account_name, AccessRequest.status == "granted",
                AccessRequest.expires_at > now, Consent.scope != ConsentScope.none))
    with db.session(ws) as s:
        rows = s.execute(q).all() if key else []
        line = {"at": now, "actor": account_name[:200], "detail": str(detail or "")[:4000],
                "address": str(address)[:64] if address else None}
        if not rows:
            s.execute(insert(ActivityEntry).values(**dict(line, detail=f"{what} {key} : {line['detail']}"[:4000]),
                                                   action="access.denied"))
            s.commit()
            return None
        iid, mid = rows[0][0], rows[0][1]
        source = None
        if what == "audio":
            src = sha = None
            for _, _, kind, path, dsha in rows:
                if path and ws.abs(path).is_file() and (src is None or kind == "access"):
                    src, sha = ws.abs(path), dsha
            reds = [tuple(r) for r in s.execute(select(Redaction.start_ms, Redaction.end_ms)
                                                .where(Redaction.interview_id == iid).order_by(Redaction.start_ms)).all()]
            source = (src, sha, reds)
        s.execute(insert(ActivityEntry).values(**line, action=f"access.{what}", interview_id=iid, museum_id=mid))
        s.commit()
        return iid, source


# ------------------------------------------------------------------------------ messages


def mail_settings(ws) -> dict:
    """``[mail]``: enabled (false), host, port (587), sender, user, password, starttls (true)."""
    raw = (getattr(ws.settings, "raw", None) or {}).get("mail", {})
    raw = raw if isinstance(raw, dict) else {}
    return {"enabled": bool(raw.get("enabled", False)), "host": str(raw.get("host", "localhost")),
            "port": int(raw.get("port", 587)), "sender": str(raw.get("from", "oralhist@localhost")),
            "user": raw.get("user"), "password": raw.get("password"), "starttls": bool(raw.get("starttls", True))}


def notify(ws, to: str, subject: str, body: str) -> bool:
    """Send one message by SMTP when ``[mail] enabled``; else (or when sending fails) write it
    to the activity log (action ``mail``). True when sent."""
    import smtplib
    from email.message import EmailMessage

    from oralhist.editorial.activity import record_now

    cfg = mail_settings(ws)
    if cfg["enabled"]:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = cfg["sender"], to, subject
        msg.set_content(body)
        try:
            with smtplib.SMTP(cfg["host"], cfg["port"], timeout=10) as smtp:
                if cfg["starttls"]:
                    smtp.starttls()
                if cfg["user"]:
                    smtp.login(str(cfg["user"]), str(cfg["password"] or ""))
                smtp.send_message(msg)
            return True
        except (OSError, smtplib.SMTPException) as exc:
            record_now(ws, actor="oralhist", action="mail", detail=f"envoi impossible à {to} ({exc}) : {subject} — {body}")
            return False
    record_now(ws, actor="oralhist", action="mail", detail=f"à {to} : {subject} — {body}")
    return False
