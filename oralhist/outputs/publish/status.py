"""What the next ``publish`` would change on the public site, computed without writing anything.

The truth is the publisher's own cache (``build.read_cache``): for each interview on the
site it keeps the fingerprint of what was written. The same fingerprint is computed now from
the database (``view.read_rows`` + ``build.site_settings_key``, exactly as ``load_model``
does), so "à jour" means the next publish would rewrite no interview, and every pending
change is one interview the next publish adds, rewrites or removes.

French strings: this module feeds the workbench's "Publier" page (web/publish.py).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional

from oralhist.outputs.publish.typography import long_date, plural

SCOPE_FR = {"public": "public", "on-site": "sur place seulement", "research-only": "recherche seulement",
            "none": "aucune diffusion"}


@dataclass
class Entry:
    id: str
    title: str
    museum: Optional[str] = None
    public: bool = False
    reason: Optional[str] = None  # why withheld (French)
    anonymise: bool = False
    redactions: int = 0
    change: Optional[str] = None  # new | changed | removed | None (unchanged)
    change_fr: Optional[str] = None  # what the next publish does to it (French)


@dataclass
class SiteStatus:
    entries: list[Entry] = field(default_factory=list)
    last_published: Optional[str] = None  # ISO time of the last successful publish (any kind)
    ever_published: bool = False
    others: list[dict] = field(default_factory=list)  # pending changes beside interviews (``extras_changes``)
    warnings: list[str] = field(default_factory=list)  # French, each with its fix (``site_warnings``)

    @property
    def pending(self) -> list[Entry]:
        return [e for e in self.entries if e.change]

    @property
    def up_to_date(self) -> bool:
        return self.ever_published and not self.pending and not self.others

    def summary_fr(self) -> str:
        n = len(self.pending) + len(self.others)
        if not self.ever_published:
            return f"jamais publié : {n} " + plural(n, "entretien sera mis en ligne", "entretiens seront mis en ligne")
        return "à jour" if n == 0 else f"{n} " + plural(n, "modification en attente", "modifications en attente")

    def to_dict(self) -> dict:
        public = [e for e in self.entries if e.public]
        return {
            "up_to_date": self.up_to_date,
            "status": self.summary_fr(),
            "pending": len(self.pending) + len(self.others),
            "others": self.others,
            "warnings": self.warnings,
            "ever_published": self.ever_published,
            "last_published": self.last_published,
            "counts": {"public": len(public), "withheld": len(self.entries) - len(public),
                       "new": sum(e.change == "new" for e in self.entries),
                       "changed": sum(e.change == "changed" for e in self.entries),
                       "removed": sum(e.change == "removed" for e in self.entries)},
            "interviews": [asdict(e) for e in self.entries],
        }


def withheld_reason(consent: Optional[dict], today: date, withdrawn: bool = False) -> Optional[str]:
    """None when the interview may be public today, else why not (French)."""
    from oralhist.editorial.view import scope_value

    if consent is None:
        return "aucun consentement enregistré"
    scope = scope_value(consent["scope"])
    if scope != "public":
        if scope == "none" and withdrawn:
            return "consentement retiré"
        return {"none": "pas d’accord de diffusion", "on-site": "consultation sur place seulement",
                "research-only": "réservé à la recherche"}.get(scope, scope)
    emb = consent.get("embargo_until")
    if emb:
        emb_d = emb if isinstance(emb, date) else date.fromisoformat(str(emb)[:10])
        if emb_d >= today:
            return f"sous embargo jusqu’au {long_date(emb_d)} inclus"
    return None


def site_status(ws, *, today: Optional[date] = None, out: Optional[Path] = None) -> SiteStatus:
    """Compare the database with the last publish of ``out`` (default: the archive's site/)."""
    import hashlib

    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.publish.model import site_settings_key
    from oralhist.outputs.publish.write import cache_dir, read_cache
    from oralhist.editorial.view import read_rows
    from oralhist.records import Revision

    today = today or date.today()
    out = Path(out) if out is not None else ws.site
    lang = ws.settings.site_language or "fr"
    key = site_settings_key(ws, lang, ("public",))
    cache = read_cache(out, ws)
    with db.session(ws) as s:
        raws = read_rows(s, prefer_approved=True, fingerprints=True)
        consent_changes: dict[str, list] = {}
        for rev in s.exec(select(Revision).where(Revision.kind == "consent").order_by(Revision.at)).all():
            consent_changes.setdefault(rev.interview_id, []).append(rev)
    notes = site_notes(ws, today=today, out=out)
    st = SiteStatus()
    cpath = cache_dir(out, ws) / "interviews.json"
    last = read_published(out, ws)
    if cache or cpath.is_file() or last:
        st.ever_published = True
        st.last_published = last.get("at") or (
            datetime.fromtimestamp(os.path.getmtime(cpath), timezone.utc).isoformat(timespec="seconds")
            if cpath.is_file() else None)
        st.others = extras_changes(last.get("extras"), extras_state(ws))
    st.warnings = site_warnings(ws)
    for iid, r in raws.items():
        iv = r.interview
        revs = consent_changes.get(iid, [])
        withdrawn = bool(revs) and "consent withdrawn" in (revs[-1].note or "")
        reason = withheld_reason(r.consent, today, withdrawn)
        e = Entry(id=iid, title=iv.get("title") or iid, museum=r.museum, public=reason is None, reason=reason,
                  anonymise=bool((r.consent or {}).get("anonymise")), redactions=len(r.redactions))
        hit = cache.get(iid)
        if e.public:
            fp = hashlib.sha256(f"{r.fingerprint}|{key}".encode()).hexdigest()
            files_ok = hit is not None and all((out / p).is_file() for p in hit.get("files", []))
            if hit is None:
                e.change, e.change_fr = "new", "sera mis en ligne à la prochaine publication"
            elif hit.get("fp") != fp or not files_ok:
                e.change = "changed"
                why = notes.get(iid, "")
                why = why.split(" : ", 1)[1] if why.startswith("en ligne, pas à jour : ") else ""
                e.change_fr = "sera mis à jour à la prochaine publication" + (f" ({why})" if why else "")
        elif hit is not None:
            e.change, e.change_fr = "removed", "sera retiré du site à la prochaine publication"
        st.entries.append(e)
    return st


PUBLISHED = "published.json"


def read_published(out: Path, ws=None) -> dict:
    """What the last successful publish into ``out`` recorded (``record_published``): its time
    and the fingerprints of what it read beside interviews; {} when none did."""
    import json

    from oralhist.outputs.publish.write import cache_dir

    try:
        d = json.loads((cache_dir(out, ws) / PUBLISHED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return d if isinstance(d, dict) else {}


def record_published(ws, out: Path, extras: Optional[dict] = None) -> None:
    """Called at the end of every successful publish (``build.publish_site``), even one that
    wrote only exhibitions or nothing: « dernière publication » and the state it published."""
    import json

    from oralhist.outputs.publish.write import atomic_bytes, cache_dir

    d = {"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
         "extras": extras if extras is not None else extras_state(ws)}
    atomic_bytes(cache_dir(out, ws) / PUBLISHED, json.dumps(d, sort_keys=True, ensure_ascii=False).encode())


def _digest(value) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:20]


def extras_state(ws) -> dict:
    """Fingerprints of what the site shows beside the interviews, read as the publisher reads it:
    each exhibition (its stored file), each object (term + inventory record + picture), the
    other vocabularies (one fingerprint) and the site settings (one)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.exhibit import store_dir
    from oralhist.outputs.publish.model import site_settings_key
    from oralhist.records import Museum, ObjectRecord, Term

    exhibitions = {}
    d = store_dir(ws)
    for p in sorted(d.glob("*.json")) if d.is_dir() else []:
        import json

        raw = p.read_bytes()
        try:
            d0 = json.loads(raw)
            title, museum = d0.get("title") or p.stem, d0.get("museum")
        except (ValueError, AttributeError):
            title, museum = p.stem, None
        exhibitions[p.stem] = [_digest(raw.decode("utf-8", "replace")), str(title), museum]
    objects, vocab = {}, []
    with db.session(ws) as s:
        museums = {m.id: m.name for m in s.exec(select(Museum)).all()}
        recs = {r.term_id: r.model_dump() for r in s.exec(select(ObjectRecord)).all()}
        for t in s.exec(select(Term).order_by(Term.id)).all():
            row = t.model_dump()
            row["kind"] = getattr(t.kind, "value", t.kind)
            if row["kind"] == "object":
                objects[str(t.id)] = [_digest([row, recs.get(t.id)]), t.designation or t.label,
                                      museums.get(t.museum_id)]
            else:
                vocab.append(row)
    lang = ws.settings.site_language or "fr"
    site_raw = ws.settings.raw.get("site", {}) if ws.settings.raw else {}
    return {"exhibitions": exhibitions, "objects": objects, "vocabularies": _digest(vocab),
            "settings": _digest([site_settings_key(ws, lang, ("public",)), site_raw])}


def extras_changes(before: Optional[dict], now: dict) -> list[dict]:
    """The pending changes beside interviews: [{kind, name, change, change_fr}] (French).
    ``before`` None (a site published before this was recorded): everything counts as pending."""
    before = before or {}
    out = []
    for kind, what in (("exhibitions", "exposition"), ("objects", "objet")):
        old, new = before.get(kind) or {}, now.get(kind) or {}
        for key in sorted(set(old) | set(new)):
            if key not in old:
                change, fr = "new", "sera mise en ligne" if kind == "exhibitions" else "sera mis en ligne"
            elif key not in new:
                change, fr = "removed", "sera retirée du site" if kind == "exhibitions" else "sera retiré du site"
            elif old[key][0] != new[key][0]:
                change, fr = "changed", "sera mise à jour" if kind == "exhibitions" else "sera mis à jour"
            else:
                continue
            item = new.get(key) or old.get(key)
            name, museum = item[1], (item[2] if len(item) > 2 else None)
            out.append({"kind": kind, "name": name, "museum": museum, "change": change,
                        "change_fr": f"{what} « {name} » : {fr} à la prochaine publication"})
    if before.get("vocabularies") != now.get("vocabularies"):
        out.append({"kind": "vocabularies", "name": "", "museum": None, "change": "changed",
                    "change_fr": "vocabulaires modifiés : les pages des termes seront mises à jour"})
    if before.get("settings") != now.get("settings"):
        out.append({"kind": "settings", "name": "", "museum": None, "change": "changed",
                    "change_fr": "réglages du site modifiés : tout le site sera mis à jour"})
    return out


def site_warnings(ws) -> list[str]:
    """What the admin should fix before publishing (French, each with its fix)."""
    out = []
    if not (ws.settings.base_url or "").strip():
        out.append("L’adresse publique du site n’est pas réglée : sans elle, le plan du site, les flux et les "
                   "liens de partage sont incomplets. Ajoutez dans oralhist.toml, section [site], la ligne "
                   "base_url = \"https://votre-musee.fr/temoignages/\" (l’adresse où le site sera en ligne), "
                   "puis publiez.")
    return out


def site_notes(ws, *, today: Optional[date] = None, out: Optional[Path] = None) -> dict[str, str]:
    """interview id -> what the next publish will do to it (French), for the archive list.

    Cheap (no segment is read: fit for a list of 1,000 interviews): the interview's consent
    today against its presence in the last build, the version to publish against the version
    published (``StageRun`` publish), consent changes after that publish. Interviews the site
    is up to date for are absent. ``site_status`` is the full comparison (the Publier page).
    """
    return {iid: st.note for iid, st in _site_states(ws, today=today, out=out).items()}


def publication_note(ws, interview_id: str, *, today: Optional[date] = None,
                     out: Optional[Path] = None) -> Optional[str]:
    """The one interview's line of ``site_notes`` (None: the site is up to date for it), for
    ``oralhist show``. When a newer approved version waits, said as "publié — version 1, une
    version approuvée plus récente attend la publication"."""
    st = _site_states(ws, today=today, out=out, only=interview_id).get(interview_id)
    if st is None:
        return None
    if st.waiting is not None and st.waiting_approved and st.published is not None:
        return f"publié — version {st.published}, une version approuvée plus récente attend la publication"
    return st.note


@dataclass
class _State:
    note: str  # French, for the archive list
    published: Optional[int] = None  # the transcript version the last publish wrote
    waiting: Optional[int] = None  # the version the next publish writes, when it differs
    waiting_approved: bool = False


def _site_states(ws, *, today: Optional[date] = None, out: Optional[Path] = None,
                 only: Optional[str] = None) -> dict[str, _State]:
    """The one rule of "the site is not up to date for this interview" (``only``: one interview)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.publish.write import read_cache
    from oralhist.records import Consent, Interview, Revision, StageRun, Transcript
    from oralhist.editorial.view import pick_current

    today = today or date.today()
    out = Path(out) if out is not None else ws.site
    cache = read_cache(out, ws)

    def of(q, col):
        return q if only is None else q.where(col == only)

    with db.session(ws) as s:
        ids = s.exec(of(select(Interview.id), Interview.id)).all()
        consents = {c.interview_id: c for c in s.exec(of(select(Consent), Consent.interview_id)).all()}
        runs = {r.interview_id: r for r in s.exec(of(select(StageRun).where(StageRun.stage == "publish"),
                                                     StageRun.interview_id)).all()}
        versions: dict[str, list] = {}
        for iid, v, st in s.exec(of(select(Transcript.interview_id, Transcript.version, Transcript.status),
                                    Transcript.interview_id)).all():
            versions.setdefault(iid, []).append({"version": v, "status": getattr(st, "value", st)})
        revs: dict[str, list] = {}
        for row in s.exec(of(select(Revision.interview_id, Revision.kind, Revision.transcript_id, Revision.at,
                                    Revision.note), Revision.interview_id).order_by(Revision.at)).all():
            revs.setdefault(row[0], []).append(row[1:])
        tr_ids = dict(((iid, v), tid) for tid, iid, v in s.exec(of(select(Transcript.id, Transcript.interview_id,
                                                                            Transcript.version),
                                                                     Transcript.interview_id)).all())
    states = {}
    for iid in ids:
        c = consents.get(iid)
        cd = None if c is None else {"scope": c.scope, "embargo_until": c.embargo_until, "anonymise": c.anonymise}
        consent_revs = [r for r in revs.get(iid, []) if r[0] == "consent"]
        withdrawn = bool(consent_revs) and "consent withdrawn" in (consent_revs[-1][3] or "")
        reason = withheld_reason(cd, today, withdrawn)
        on_site = iid in cache
        if reason is not None:
            if on_site:
                states[iid] = _State(f"sera retiré du site à la prochaine publication ({reason})")
            continue
        if not on_site:
            states[iid] = _State("pas encore en ligne : sera mis en ligne à la prochaine publication")
            continue
        run = runs.get(iid)
        t = pick_current(versions.get(iid, []), prefer_approved=True)
        published_v = (run.options or {}).get("transcript_version") if run is not None else None
        since = run.finished_at.replace(tzinfo=None) if run is not None and run.finished_at else None
        later = [r for r in revs.get(iid, []) if since is None or (r[2] is not None and r[2].replace(tzinfo=None) > since)]
        parts = []
        label = ""
        waiting = None
        if t is not None:
            label = f"version {t['version']}{' approuvée' if t['status'] == 'approved' else ''}"
        if t is not None and published_v is not None and t["version"] != published_v:
            parts.append(f"{label} en attente de publication (en ligne : version {published_v})")
            waiting = t["version"]
        elif t is not None and any(k == "transcript" and tid == tr_ids.get((iid, t["version"])) for k, tid, _, _ in later):
            parts.append(f"{label} en attente de publication")
        if any(k == "consent" for k, *_ in later):
            parts.append("consentement modifié depuis la dernière publication")
        if any(k in ("speaker", "topic", "link") for k, *_ in later):
            parts.append("index, liens ou locuteurs modifiés depuis la dernière publication")
        if parts:
            states[iid] = _State("en ligne, pas à jour : " + " ; ".join(parts), published=published_v,
                                 waiting=waiting, waiting_approved=waiting is not None and t["status"] == "approved")
    return states


def effect_of_consent(ws, interview_id: str, *, today: Optional[date] = None) -> str:
    """One French sentence: what the current consent does to the public site at the next publish."""
    from oralhist.outputs.publish.write import read_cache

    note = site_notes(ws, today=today).get(interview_id)
    on_site = interview_id in read_cache(ws.site, ws)
    if note is None:
        if on_site:
            return "Cet entretien est en ligne ; le site est à jour pour lui."
        from sqlmodel import select

        from oralhist import db
        from oralhist.records import Consent

        with db.session(ws) as s:
            c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
            cd = None if c is None else {"scope": c.scope, "embargo_until": c.embargo_until}
        reason = withheld_reason(cd, today or date.today())
        return ("Cet entretien n’est pas sur le site public et n’y sera pas mis à la prochaine publication"
                + (f" ({reason})." if reason else "."))
    return note[:1].upper() + note[1:] + "."
