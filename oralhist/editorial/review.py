"""Editorial writes shared by the workbench and the CLI: index versions, speaker names and
merges, link decisions, word differences between transcript versions.

Every function takes the workspace and plain values, raises oralhist.errors exceptions, and
records what it changed as a Revision; the web routes (oralhist/web/editor.py) only parse the
request and call these.
"""

from __future__ import annotations

import difflib

from sqlmodel import select

from oralhist import db
from oralhist.errors import BadInput, ConflictError, NotFound

MAX_TOPICS = 1_000
MAX_MS = 1_000 * 3600 * 200  # 200 hours: any time beyond is refused


def _val(x):
    return x.value if hasattr(x, "value") else x


def check_ms(value: int, what: str) -> int:
    if not 0 <= value <= MAX_MS:
        raise BadInput(str(value), f"{what} hors de l’enregistrement")
    return value


def parse_hms(text: str) -> int:
    from oralhist.editorial.corrections import parse_timestamp

    try:
        return parse_timestamp(text.strip())
    except (ValueError, IndexError):
        raise BadInput(text, "temps illisible (hh:mm:ss)") from None


def save_topics(ws, iid: str, data: dict, who: str) -> dict:
    """The editor's index: a new TopicSegment version (source editor) replacing the current one."""
    from oralhist.records import Revision, Segment, TopicSegment, utcnow
    from oralhist.editorial.view import current_topics, current_transcript

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
    from oralhist.records import Person, Revision, Speaker, SpeakerRole, own_person, utcnow

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
                if name != person.name:
                    # the speaker IS this person: rename them, in this interview only (fork on
                    # write: a Person other interviews refer to is copied first)
                    person = own_person(s, iid, person.id)
                    person.name = name
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


def merge_speakers(ws, iid: str, source: str, target: str, *, who: str) -> dict:
    """Give every turn of speaker label ``source`` to ``target``, as a new transcript version.

    Nothing is deleted: older versions keep both labels (restoring one brings ``source`` back);
    the merge is recorded as a Revision of kind speaker.
    """
    from oralhist.recognition.align import AlignedSegment
    from oralhist.editorial.corrections import SAVE_LOCK, commit_saved, write_version, old_segments
    from oralhist.records import Interview, Revision, Speaker, utcnow
    from oralhist.editorial.view import current_transcript

    if source == target:
        raise BadInput(source, "choisissez deux locuteurs différents")
    with SAVE_LOCK, db.session(ws) as s:
        if s.get(Interview, iid) is None:
            raise NotFound(iid, "entretien inconnu")
        labels = {sp.label: sp for sp in s.exec(select(Speaker).where(Speaker.interview_id == iid)).all()}
        for label in (source, target):
            if label not in labels:
                raise BadInput(label, f"locuteur inconnu : {label} (étiquettes de {iid} : "
                                      f"{', '.join(sorted(labels)) or 'aucune'})")
        src, dst = labels[source], labels[target]
        tr = current_transcript(s, iid)
        if tr is None:
            raise NotFound(iid, "pas encore de transcription pour cet entretien")
        old = old_segments(s, tr)
        moved = sum(1 for o in old if o.speaker_id == src.id)
        if not moved:
            raise BadInput(source, f"{source} ne parle dans aucun segment de la version {tr.version}")
        segs = [AlignedSegment(o.start_ms, o.end_ms, o.text, o.words, dst.id if o.speaker_id == src.id else o.speaker_id)
                for o in old]
        new = write_version(s, tr, tr, segs, who=who, source="editor")
        s.add(Revision(interview_id=iid, transcript_id=new.id, kind="transcript", who=who, at=utcnow(),
                       before={"version": tr.version}, after={"version": new.version, "merged": [source, target]},
                       note=f"merged {source} into {target}"))
        s.add(Revision(interview_id=iid, kind="speaker", who=who, at=utcnow(),
                       before={"label": source, "segments": moved}, after={"label": target, "merged": source},
                       note=f"merged {source} into {target}"))
        commit_saved(s, iid)
        return {"version": new.version, "from": source, "into": target, "segments": moved}


def plural(n: int, one: str, many: str) -> str:
    """French: 0 and 1 take the singular."""
    return f"{n} {one if abs(n) < 2 else many}"


def describe_revision(r) -> str:
    """A French sentence for a Revision (the stored note is for logs, in English)."""
    b, a = r.before or {}, r.after or {}
    if r.kind == "transcript":
        if "restored_from" in a:
            return f"version {a['restored_from']} restaurée comme version {a.get('version')}"
        if "merged" in a:
            return f"locuteur {a['merged'][0]} fusionné avec {a['merged'][1]}"
        if a.get("status") == "approved":
            return f"version {a.get('version')} approuvée"
        if "kept" in a:
            return (f"version {b.get('version')} → {a.get('version')} : {plural(a['kept'], 'mot gardé', 'mots gardés')}, "
                    f"{plural(a.get('changed', 0), 'modifié', 'modifiés')}, {plural(a.get('inserted', 0), 'ajouté', 'ajoutés')}, "
                    f"{plural(a.get('deleted', 0), 'supprimé', 'supprimés')}")
        if a.get("version") is not None:
            return f"version {a.get('version')} (depuis la version {b.get('version')})"
    if r.kind == "topic":
        n = len(a.get("topics") or [])
        return f"index : version {b.get('version', 0)} → {a.get('version')} ({plural(n, 'thème', 'thèmes')})"
    if r.kind == "speaker":
        if "merged" in a:
            return f"locuteur {a['merged']} fusionné avec {a.get('label')}"
        name = a.get("name") or "sans nom"
        role = {"narrator": "narrateur", "interviewer": "enquêteur", "other": "autre"}.get(a.get("role"))
        return f"locuteur {a.get('label') or b.get('label')} : {name}" + (f" ({role})" if role else "")
    if r.kind == "link":
        st = {"suggested": "proposé", "accepted": "accepté", "rejected": "rejeté"}.get(a.get("status"), a.get("status"))
        return f"lien {a.get('link')} ajouté ({st})" if r.before is None else f"lien {a.get('link')} {st}"
    if r.kind == "consent":
        return "consentement modifié"
    if r.kind == "consent_form":  # issue 21: the signed scan, attached or replaced on the consent page
        return ("formulaire de consentement signé remplacé (l’ancien reste dans l’archive)" if b.get("form_path")
                else "formulaire de consentement signé joint")
    return r.note or r.kind


def author_fr(who) -> str:
    """Who made a version, as people read it (issue 21): the pipeline's own name (``oralhist
    transcribe``, ``oralhist diarize``…) is « reconnaissance automatique »; a person's name stays."""
    text = str(who or "")
    if text.startswith("oralhist"):
        return "reconnaissance automatique"
    return text
