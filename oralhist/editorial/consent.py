"""Consent, enforced in ONE place.

``set_consent`` records what the narrator agreed to (scope, embargo, anonymisation,
redactions) with a ``Revision`` row. ``public_view`` turns an ``InterviewView`` into what the
public may see — or ``None`` when nothing may be shown. Every public output (pages, audio,
subtitles, search index, IIIF, OHMS, Dublin Core, OAI-PMH, sitemap, JSON-LD) is generated
from ``public_view`` output only; ``silence_ranges`` writes the published audio with the
redacted ranges silenced.

Rules applied by ``public_view``:

- scope must be ``public`` (or, for a museum kiosk build, ``on-site`` when
  ``scopes=("public", "on-site")``); ``research-only`` and ``none`` are never published;
- an embargo hides the interview until the day after ``embargo_until`` (inclusive date);
- anonymisation replaces the narrator's name (full name, first name, surname, any
  capitalisation) by the pseudonym — or the initials when none is set — in the title,
  narrator field, speaker names, segment and word text, topics, link quotes and summary;
  original file names are dropped and the public id becomes an opaque one (the archive id
  usually contains the narrator's name);
- redacted ranges: words overlapping a range are dropped; segment text is rebuilt from the
  words kept (a segment without word timings that overlaps is dropped whole); topics fully
  inside are dropped, overlapping ones are trimmed and lose their synopsis and any keyword (and,
  for a machine title, any title word) not found in the text that remains; an editor's title is
  kept unless it repeats a word the redaction removed (``redaction_title_clashes``: the index
  page warns); links overlapping a range are dropped;
  redaction reasons are never published.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import replace
from datetime import date
from typing import Iterable, Optional, Sequence

from oralhist.errors import BadInput, NotFound

PUBLIC = ("public",)
ON_SITE = ("public", "on-site")
SCOPES = ("public", "on-site", "research-only", "none")
LISTINGS = ("none", "catalogue")  # issue 24: may a non-public interview be listed in the catalogue


# --------------------------------------------------------------------------- times


def parse_time(text: str) -> int:
    """'754', '754.5', '12:34', '1:02:03.5' -> milliseconds."""
    t = str(text).strip()
    if not t:
        raise BadInput(text, "empty time")
    parts = t.split(":")
    if len(parts) > 3:
        raise BadInput(text, "time must be seconds, MM:SS or HH:MM:SS")
    try:
        nums = [float(p.replace(",", ".")) for p in parts]
    except ValueError:
        raise BadInput(text, "time must be seconds, MM:SS or HH:MM:SS") from None
    if any(n < 0 for n in nums) or any(n >= 60 for n in nums[1:]):
        raise BadInput(text, "time out of range (minutes and seconds must be under 60)")
    sec = 0.0
    for n in nums:
        sec = sec * 60 + n
    return int(round(sec * 1000))


def parse_range(text: str) -> tuple[int, int]:
    """'12:34-13:05' or '754-785' -> (start_ms, end_ms)."""
    m = re.fullmatch(r"\s*([0-9:.,]+)\s*-\s*([0-9:.,]+)\s*", str(text))
    if not m:
        raise BadInput(text, "a range is START-END, e.g. 12:34-13:05 or 754-785")
    a, b = parse_time(m.group(1)), parse_time(m.group(2))
    if b <= a:
        raise BadInput(text, "the end of the range must be after its start")
    return a, b


# --------------------------------------------------------------------------- setting


# Over 80 lines on purpose: each consent field (scope, embargo, anonymisation, pseudonym, redactions, rights)
# is checked and recorded in the one Revision of this change, in one transaction.
def set_consent(
    ws,
    interview_id: str,
    *,
    scope: Optional[str] = None,
    embargo_until: Optional[date | str] = None,
    clear_embargo: bool = False,
    anonymise: Optional[bool] = None,
    pseudonym: Optional[str] = None,
    redact: Iterable[tuple[int, int, str]] = (),
    unredact: Iterable[int] = (),
    withdraw: bool = False,
    who: str = "unknown",
    rights: Optional[str] = None,
    license: Optional[str] = None,
    listing: Optional[str] = None,
    reason: str = "",
    address: Optional[str] = None,
):
    """Change an interview's consent; returns the new ``ConsentView``.

    ``listing``: ``none`` | ``catalogue`` (issue 24: a research-only or embargoed interview listed
    in the public catalogue, without audio or text). ``reason``: why (kept in the revision and the
    activity log, with ``who`` and ``address``). A withdrawal ends every access grant at once.

    ``unredact``: ids of Redaction rows to remove (see ``redaction_rows``); ``withdraw``: the
    narrator withdraws consent (scope ``none``, noted in the revision). Everything is checked
    before anything is written; the change and its ``Revision`` row (kind ``consent``,
    before/after) are one transaction.
    """
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Consent, ConsentScope, Interview, Redaction, Revision, own_person, utcnow
    from oralhist.editorial.view import load_interview

    if scope is not None and scope not in SCOPES:
        raise BadInput(scope, f"unknown consent scope; choose one of {', '.join(SCOPES)}")
    if isinstance(embargo_until, str):
        try:
            embargo_until = date.fromisoformat(embargo_until)
        except ValueError:
            raise BadInput(embargo_until, "embargo date must be YYYY-MM-DD") from None
    reds = [(int(a), int(b), str(r or "")) for a, b, r in redact]
    for a, b, _ in reds:
        if a < 0 or b <= a:
            raise BadInput(f"{a}-{b}", "a redaction needs 0 <= start < end")
    if pseudonym is not None and not pseudonym.strip():
        raise BadInput(pseudonym, "the pseudonym is empty")
    if withdraw:
        if scope not in (None, "none"):
            raise BadInput(scope, "a withdrawal sets the scope to none; do not give another scope")
        scope = "none"
    unredact = sorted({int(x) for x in unredact})
    if listing is not None and listing not in LISTINGS:
        raise BadInput(listing, f"unknown listing; choose one of {', '.join(LISTINGS)}")
    if license is not None and license.strip() and not re.match(r"^https?://\S+$", license.strip()):
        raise BadInput(license, "the licence must be a URI (e.g. https://creativecommons.org/licenses/by/4.0/)")

    with db.session(ws) as s:
        iv = s.get(Interview, interview_id)
        if iv is None:
            raise NotFound(interview_id, "no such interview (see `oralhist list`)")
        for a, b, _ in reds:
            if iv.duration_ms and a >= iv.duration_ms:
                raise BadInput(f"{a}-{b}", f"redaction starts after the end of the interview ({iv.duration_ms / 1000:.1f} s)")
        if pseudonym is not None and iv.narrator_id is None:
            raise BadInput(interview_id, "the interview has no narrator to give a pseudonym to")
        for rid in unredact:
            red = s.get(Redaction, rid)
            if red is None or red.interview_id != interview_id:
                raise BadInput(str(rid), f"no redaction #{rid} on {interview_id} (see `oralhist consent {interview_id}`)")
        before = load_interview(s, interview_id, with_words=False).consent
        key_before = iv.public_key
        row = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
        if row is None:
            row = Consent(interview_id=interview_id)
        own_before = {"rights": row.rights, "license": row.license}
        if rights is not None:  # "" goes back to the archive's [site] rights
            row.rights = rights.strip() or None
        if license is not None:
            row.license = license.strip() or None
        if scope is not None:
            row.scope = ConsentScope(scope)
        listed_before = row.listing or "none"
        if listing is not None:
            row.listing = listing
        if clear_embargo:
            row.embargo_until = None
        elif embargo_until is not None:
            row.embargo_until = embargo_until
        if anonymise is not None:
            row.anonymise = anonymise
        if pseudonym is not None:
            # the pseudonym belongs to this interview's consent: set on a narrator no other
            # interview refers to (fork on write), never on another interview's
            person = own_person(s, interview_id, iv.narrator_id)
            person.pseudonym = pseudonym.strip()
            s.add(person)
            if anonymise is None:
                row.anonymise = True
        if row.anonymise or withdraw:  # the narrator's portrait permission goes with anonymity or a withdrawal
            row.portrait = False
        row.updated_at = utcnow()
        s.add(row)
        for a, b, r in reds:
            s.add(Redaction(interview_id=interview_id, start_ms=a, end_ms=min(b, iv.duration_ms or b), reason=r, created_by=who))
        for rid in unredact:
            s.delete(s.get(Redaction, rid))
        iv.updated_at = utcnow()
        s.add(iv)
        s.flush()
        after = load_interview(s, interview_id, with_words=False).consent
        _rotate_public_key(s, iv, before, after)
        s.add(iv)
        from dataclasses import asdict

        own_after = {"rights": row.rights, "license": row.license}
        s.add(Revision(interview_id=interview_id, kind="consent", who=who,
                       before=(asdict(before) | own_before) if before else None, after=asdict(after) | own_after,
                       note="; ".join(filter(None, [
                           "consent withdrawn" if withdraw else None,
                           f"listing: {listed_before} -> {row.listing}" if (row.listing or "none") != listed_before else None,
                           f"pseudonym set to {pseudonym!r}" if pseudonym else None,
                           f"redactions removed: {', '.join(f'#{i}' for i in unredact)}" if unredact else None,
                       ])) or None))
        _after_consent_change(s, interview_id, row, who=who, reason=reason, address=address,
                              withdraw=withdraw, listed_before=listed_before, before=before, after=after)
        if listed(before) and (not listed(after) or iv.public_key != key_before) and key_before \
                and not is_public(before):  # issue 24: a catalogue record that stops answering is deleted in OAI
            from oralhist.records import RetiredId

            s.add(RetiredId(interview_id=interview_id, public_id=key_before))
        s.commit()
        return after


def _after_consent_change(s, interview_id, row, *, who, reason, address, withdraw, listed_before, before, after):
    """The activity-log line of a consent change (who, why, from where), and, when nothing may be
    shown any more (scope none), the end of every access grant or pending request on the interview."""
    from sqlalchemy import update

    from oralhist.editorial.activity import record
    from oralhist.records import AccessRequest, utcnow

    changes = []
    scope_fr = {"public": "publique", "on-site": "sur place", "research-only": "recherche seulement",
                "none": "aucune diffusion"}  # the journal is read by people: never the stored value
    fr = lambda v: scope_fr.get(getattr(v, "value", v), str(v)) if v is not None else "—"  # noqa: E731
    if before is None or before.scope != after.scope:
        changes.append(f"portée : {fr(before.scope) if before else '—'} → {fr(after.scope)}")
    if before is None or before.embargo_until != after.embargo_until:
        changes.append(f"embargo : {(before.embargo_until if before else None) or '—'} → {after.embargo_until or '—'}")
    if before is None or before.anonymise != after.anonymise:
        changes.append("anonymisé" if after.anonymise else "non anonymisé")
    if (row.listing or "none") != listed_before:
        listing_fr = {"none": "non listé", "catalogue": "listé au catalogue"}
        changes.append(f"catalogue : {listing_fr.get(listed_before, listed_before)} → {listing_fr.get(row.listing, row.listing)}")
    if before is not None and len(before.redactions) != len(after.redactions):
        changes.append(f"passages retirés : {len(before.redactions)} → {len(after.redactions)}")
    if withdraw:
        changes.insert(0, "consentement retiré")
    detail = "; ".join(changes) or "aucun changement de portée"
    detail += f" — motif : {reason.strip()}" if reason and reason.strip() else " — motif : non précisé"
    record(s, actor=who, action="consent", interview_id=interview_id, detail=detail, address=address)
    if row.scope == "none" or getattr(row.scope, "value", None) == "none":
        s.exec(update(AccessRequest).where(AccessRequest.interview_id == interview_id,
                                           AccessRequest.status.in_(("pending", "granted")))
               .values(status="revoked", reason="consentement retiré", decided_by=who, decided_at=utcnow(),
                       seen=False))


def redaction_rows(s, interview_id: str) -> list:
    """The interview's Redaction rows (with their ids, for ``unredact``), in time order."""
    from sqlmodel import select

    from oralhist.records import Redaction

    return list(s.exec(select(Redaction).where(Redaction.interview_id == interview_id)
                       .order_by(Redaction.start_ms, Redaction.id)).all())


def load_for_public(s, interview_id: str):
    """The view used for publishing: newest approved transcript if any (the pseudonym and the
    recordings' secret are in ``extra``, as every view built by ``view.build_view``)."""
    from oralhist.editorial.view import load_interview

    return load_interview(s, interview_id, prefer_approved=True)


# --------------------------------------------------------------------------- filtering


def public_id(view) -> str:
    """The id the public sees (OAI identifier, page and media addresses): the interview's
    stored ``public_key`` (opaque, see records.py); an opaque hash for a row without one."""
    key = (view.extra or {}).get("public_key")
    if key:
        return key
    secret = (view.extra or {}).get("secret") or ""
    return "t-" + hashlib.sha256(f"{view.id}|{secret}".encode()).hexdigest()[:12]


def key_is_opaque(key: Optional[str]) -> bool:
    """False for an id kept from before revision 1906 that is the archive id (it carries the
    narrator's name): it may only answer while that name may be shown."""
    return bool(key) and re.fullmatch(r"(?:iv|t)-[0-9a-f]{12}", key) is not None


def _rotate_public_key(s, iv, before, after) -> None:
    """After a consent change: retire the public id that may no longer answer.

    - public before, not after (withdrawn, embargoed, narrowed): the id is retired (the OAI
      endpoint announces it deleted for a while); an id carrying the name is also replaced;
    - anonymised: always a new id, so that nobody holding the old page or record (even one
      published before a withdrawal) can join the pseudonym to the real name; the old one is
      retired when it answered until now.
    """
    from oralhist.records import RetiredId, new_public_key

    was = is_public(before)
    now = is_public(after)
    key = iv.public_key
    anonymised = bool(after and after.anonymise) and not bool(before and before.anonymise)
    change = anonymised or (not key_is_opaque(key) and not (now and not after.anonymise))
    if was and (not now or change) and key:
        s.add(RetiredId(interview_id=iv.id, public_id=key))
    if change or not key:
        iv.public_key = new_public_key()


def initials(name: str) -> str:
    parts = [p for p in re.split(r"[\s\-]+", name) if p]
    return " ".join(p[0].upper() + "." for p in parts) or "X."


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).casefold()


class _Anonymiser:
    def __init__(self, name: str, pseudonym: str):
        self.name = name
        self.pseudonym = pseudonym
        parts = [p for p in re.split(r"[\s\-']+", name) if len(p) >= 2]
        self.parts_folded = {_fold(p) for p in parts}
        alts = sorted({name, *parts, *(p for p in name.split() if len(p) >= 2)}, key=len, reverse=True)
        pat = "|".join(re.escape(a) for a in alts if a)
        self.rx = re.compile(rf"(?<!\w)(?:{pat})(?!\w)", re.IGNORECASE) if pat else None
        folded = sorted({_fold(a) for a in alts}, key=len, reverse=True)
        self.rx_folded = re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(a) for a in folded)})(?!\w)") if folded else None

    def text(self, s: Optional[str]) -> Optional[str]:
        if not s or self.rx is None:
            return s
        out = self.rx.sub(self.pseudonym, s)
        # Accent-insensitive pass (e.g. "Helene" for "Hélène"): only when lengths are kept.
        f = _fold(out)
        if len(f) == len(out) and self.rx_folded.search(f):
            pieces, last = [], 0
            for m in self.rx_folded.finditer(f):
                pieces.append(out[last:m.start()])
                pieces.append(self.pseudonym)
                last = m.end()
            pieces.append(out[last:])
            out = "".join(pieces)
        # Collapse "P. P." produced by "Marcel Dupont" -> pseudonym twice.
        dup = re.escape(self.pseudonym)
        out = re.sub(rf"{dup}(\s+{dup})+", self.pseudonym, out)
        return out

    def is_name_word(self, word: str) -> bool:
        w = _fold(re.sub(r"^\W+|\W+$", "", word))
        return bool(w) and w in self.parts_folded


def _overlaps(a: int, b: int, ranges: Sequence[tuple[int, int, str]]) -> bool:
    return any(a < re_ and b > rs for rs, re_, _ in ranges)


def _join_words(words) -> str:
    if any(w.text[:1].isspace() for w in words):
        return "".join(w.text for w in words).strip()
    return " ".join(w.text.strip() for w in words)


def _redacted_words(segments, reds) -> set[str]:
    """The folded words a redaction removes (words, or whole segments without word timings)."""
    out = set()
    for sg in segments:
        if not _overlaps(sg.start_ms, sg.end_ms, reds):
            continue
        if not sg.words:
            out |= _words_of(sg.text)
        else:
            out |= {_fold(w) for x in sg.words if _overlaps(x.start_ms, x.end_ms, reds)
                    for w in re.findall(r"\w+", x.text or "")}
    return out


def title_reveals(title: str, removed: set) -> bool:
    """True when a word of ``title`` (4 letters or more) is one of the ``removed`` words."""
    return any(_fold(w) in removed for w in re.findall(r"\w{4,}", title or ""))


def redaction_title_clashes(view) -> list:
    """The editor's topics whose title the public site withholds because it repeats words a
    redaction removed: [(topic, the words)], for the warning on the index page."""
    reds = tuple(sorted(view.consent.redactions)) if view.consent else ()
    out = []
    for t in view.topics:
        if t.source != "editor" or not _overlaps(t.start_ms, t.end_ms, reds):
            continue
        removed = _redacted_words(view.segments, reds)
        kept = _words_of(" ".join(sg.text for sg in view.segments
                                  if sg.start_ms < t.end_ms and sg.end_ms > t.start_ms
                                  and not _overlaps(sg.start_ms, sg.end_ms, reds)))
        hits = [w for w in re.findall(r"\w{4,}", t.title or "") if _fold(w) in removed - kept]
        if hits:
            out.append((t, hits))
    return out


def _words_of(text: str) -> set[str]:
    return {_fold(w) for w in re.findall(r"\w+", text or "")}


def is_public(consent, today: Optional[date] = None, scopes: Sequence[str] = PUBLIC) -> bool:
    if consent is None or consent.scope not in scopes:
        return False
    if consent.embargo_until:
        today = today or date.today()
        if date.fromisoformat(consent.embargo_until) >= today:
            return False
    return True


# Over 80 lines on purpose: every public field is filtered here on purpose: consent is enforced in ONE place
# (docs/publish.md); splitting it would spread that rule.
def public_view(view, today: Optional[date] = None, *, scopes: Sequence[str] = PUBLIC):
    """What the public may see of ``view``, or ``None`` when the interview may not be shown."""
    from oralhist.editorial.view import ConsentView, RecordingView

    if not is_public(view.consent, today, scopes):
        return None
    reds = tuple(sorted(view.consent.redactions))

    # 1. Redactions.
    segments = []
    for sg in view.segments:
        if not _overlaps(sg.start_ms, sg.end_ms, reds):
            segments.append(sg)
            continue
        if not sg.words:
            continue  # no word timings: the whole segment goes
        kept = tuple(w for w in sg.words if not _overlaps(w.start_ms, w.end_ms, reds))
        if not kept:
            continue
        segments.append(replace(sg, words=kept, text=_join_words(kept),
                                start_ms=kept[0].start_ms,
                                end_ms=kept[-1].end_ms))
    public_text = lambda a, b: " ".join(sg.text for sg in segments if sg.start_ms < b and sg.end_ms > a)  # noqa: E731

    topics = []
    for t in view.topics:
        if not _overlaps(t.start_ms, t.end_ms, reds):
            topics.append(t)
            continue
        pieces, cur = [], t.start_ms
        for rs, re_, _ in reds:
            if re_ <= cur or rs >= t.end_ms:
                continue
            if rs > cur:
                pieces.append((cur, rs))
            cur = max(cur, re_)
        if cur < t.end_ms:
            pieces.append((cur, t.end_ms))
        if not pieces:
            continue
        a, b = max(pieces, key=lambda p: p[1] - p[0])
        remaining = public_text(a, b)
        if not remaining.strip():
            continue
        vocab = _words_of(remaining)
        title_ok = all(_fold(w) in vocab for w in re.findall(r"\w{4,}", t.title))
        if not title_ok and t.source == "editor":
            # issue 21: an editor's title is theirs, not the machine's reading of the text; it is
            # withheld only when it repeats a word that the redaction removed (``redaction_title_clashes``)
            title_ok = not title_reveals(t.title, _redacted_words(view.segments, reds) - vocab)
        topics.append(replace(
            t, start_ms=a, end_ms=b,
            title=t.title if title_ok else "",
            synopsis="",
            keywords=tuple(k for k in t.keywords if _words_of(k) <= vocab),
            partial_transcript=remaining[:300],
        ))
    # a link whose mention a correction changed waits for an editor before it is public again
    links = tuple(ln for ln in view.links if not _overlaps(ln.start_ms, ln.end_ms, reds) and not ln.review)

    # 2. Anonymisation.
    narrator, title, summary = view.narrator, view.title, view.summary
    speakers = view.speakers
    pid = public_id(view)
    if view.consent.anonymise and view.narrator:
        pseudo = (view.extra or {}).get("narrator_pseudonym") or initials(view.narrator)
        an = _Anonymiser(view.narrator, pseudo)
        narrator = pseudo
        title = an.text(title)
        summary = an.text(summary)
        speakers = tuple(replace(sp, name=an.text(sp.name)) for sp in speakers)
        new_segments = []
        for sg in segments:
            words, prev_name = [], False
            for w in sg.words:
                if an.is_name_word(w.text):
                    if not prev_name:
                        lead = " " if w.text[:1].isspace() else ""
                        trail = re.search(r"[^\w]*$", w.text.strip()).group(0)
                        words.append(replace(w, text=f"{lead}{pseudo}{trail}"))
                    prev_name = True
                else:
                    words.append(replace(w, text=an.text(w.text)))
                    prev_name = False
            new_segments.append(replace(sg, text=an.text(sg.text), speaker_name=an.text(sg.speaker_name),
                                        words=tuple(words)))
        segments = new_segments
        topics = [replace(t, title=an.text(t.title), synopsis=an.text(t.synopsis),
                          keywords=tuple(an.text(k) for k in t.keywords),
                          partial_transcript=an.text(t.partial_transcript)) for t in topics]
        links = tuple(replace(ln, quote=an.text(ln.quote)) for ln in links)

    recordings = tuple(
        RecordingView(part=r.part, original_name="", path="", sha256="", size=0, duration_ms=r.duration_ms,
                      sample_rate=r.sample_rate, channels=r.channels, codec=r.codec, offset_ms=r.offset_ms)
        for r in view.recordings
    )
    consent = ConsentView(scope=view.consent.scope, embargo_until=None, anonymise=view.consent.anonymise,
                          form=None, redactions=tuple((a, b, "") for a, b, _ in reds))
    if not (title or "").strip():  # issue 21: never the archive id (« 1998-marcel-dupont ») on the public site
        title = f"Entretien avec {narrator}" if (narrator or "").strip() else "Entretien sans titre"
    return replace(
        view,
        id=pid,
        title=title or "",
        narrator=narrator,
        summary=summary,
        recordings=recordings,
        consent=consent,
        speakers=speakers,
        segments=tuple(segments),
        topics=tuple(topics),
        links=links,
        extra={"archive_id": view.id, "public": True},
    )


# --------------------------------------------------------------------------- the catalogue (issue 24)


def listed(consent, today: Optional[date] = None) -> bool:
    """May this consent be listed in the public catalogue and asked for by researchers:
    ``listing`` catalogue, and the interview research-only or under an embargo (a public one is
    on the site itself; scope ``none`` — a withdrawal — never)."""
    if consent is None or getattr(consent, "listing", "none") != "catalogue":
        return False
    scope = getattr(consent.scope, "value", consent.scope)
    if scope == "none":
        return False
    if consent.embargo_until and date.fromisoformat(str(consent.embargo_until)) >= (today or date.today()):
        return True
    return scope == "research-only"


def as_public(view):
    """``view`` with its consent read as public, for ``public_view``: what it removes for the
    public (redactions, the narrator's name when anonymised, file names) is removed here too."""
    if view.consent is None:
        return view
    return replace(view, consent=replace(view.consent, scope="public", embargo_until=None))


def catalogue_card(view, today: Optional[date] = None) -> Optional[dict]:
    """The catalogue fields of a listed interview, or None: public id, title, museum, decade,
    trades and themes (accepted links to vocabulary terms, outside redactions), duration, and the
    narrator's name only when not anonymised. Never audio, text, synopsis, topics or keywords."""
    import re as _re

    if not listed(view.consent, today):
        return None
    pv = public_view(as_public(view), today)
    if pv is None:
        return None
    terms: dict = {"trade": set(), "subject": set()}
    for ln in pv.links:
        if ln.status == "accepted" and ln.kind in terms:
            terms[ln.kind].add(ln.term_label)
    m = _re.match(r"(\d{4})", view.date or "")
    return {"id": pv.id, "title": pv.title or "", "museum": view.museum,
            "decade": f"{m.group(1)[:3]}0" if m else None,
            "trades": sorted(terms["trade"], key=_fold), "themes": sorted(terms["subject"], key=_fold),
            "duration_ms": view.duration_ms,
            "narrator": None if view.consent.anonymise else view.narrator}


# --------------------------------------------------------------------------- audio


def silence_ranges(src, dst, ranges: Sequence[tuple[int, int]], *, bitrate: str = "64k") -> None:
    """Write ``dst`` from ``src`` with every range silenced (encoded by the bundled ffmpeg).

    The output format follows ``dst``'s extension. Written to a temporary file and renamed,
    so a killed run never leaves a half-written file.
    """
    import os
    import subprocess
    from pathlib import Path

    import imageio_ffmpeg

    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp{dst.suffix}")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-vn", "-map_metadata", "-1"]
    if ranges:
        expr = "+".join(f"between(t,{a / 1000:.3f},{b / 1000:.3f})" for a, b in ranges)
        cmd += ["-af", f"volume=enable='{expr}':volume=0"]
    ext = dst.suffix.lower()
    codec = {".mp3": ["-c:a", "libmp3lame"], ".m4a": ["-c:a", "aac"], ".ogg": ["-c:a", "libopus"],
             ".opus": ["-c:a", "libopus"], ".webm": ["-c:a", "libopus"], ".wav": ["-c:a", "pcm_s16le"],
             ".flac": ["-c:a", "flac"]}.get(ext, [])
    if ext not in (".wav", ".flac"):
        codec += ["-b:a", bitrate]
    cmd += codec + [str(tmp)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            from oralhist.errors import StageError

            raise StageError(src, f"could not write the published audio: {r.stderr.strip()[-300:]}")
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


# ------------------------------------------------------------------ the signed form (issue 21)

#: a signed consent form: a scan (PDF or picture), at most this size
FORM_MAX_BYTES = 50 * 1024 * 1024
FORM_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "tif": "image/tiff",
              "webp": "image/webp"}


def form_kind(path) -> Optional[str]:
    """The form's kind from its first bytes (``FORM_TYPES`` key), or None when it is none of them."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def attach_form(ws, interview_id: str, src, shown_name: str, *, who: str = "unknown") -> dict:
    """Attach or replace the signed consent form of an interview. The new scan is stored beside
    the old ones (``consent_forms/<id>-<sha256[:12]>.<ext>``, hashed, read-only): a form already
    stored is never deleted nor overwritten; the change is a Revision (kind ``consent_form``,
    before/after), so the history lists every scan. Checked first: not empty, at most
    ``FORM_MAX_BYTES``, a PDF or a picture (a picture fully decoded: a truncated scan is refused)."""
    import stat
    from pathlib import Path

    from sqlmodel import select

    from oralhist import db
    from oralhist.archive.ingest import copy_hashed
    from oralhist.errors import BadInput, NotFound
    from oralhist.records import Consent, ConsentScope, Interview, Revision, utcnow

    src = Path(src)
    size = src.stat().st_size
    if size == 0:
        raise BadInput(src, "consent form is an empty file")
    if size > FORM_MAX_BYTES:
        raise BadInput(src, f"consent form too large ({size // 1_000_000} MB, at most {FORM_MAX_BYTES // 1_000_000} MB)")
    kind = form_kind(src)
    if kind is None:
        raise BadInput(src, "consent form is neither a PDF nor a picture")
    if kind != "pdf":
        from oralhist.archive.images import check_image

        check_image(src)
    with db.session(ws) as s:
        if s.get(Interview, interview_id) is None:
            raise NotFound(interview_id, "no such interview")
    ws.consent_forms.mkdir(exist_ok=True)
    tmp, digest, size = copy_hashed(src, ws.tmp)
    try:
        final = ws.inside(ws.consent_forms / f"{interview_id}-{digest[:12]}.{kind}")
        if not final.exists():
            os.replace(tmp, final)
            os.chmod(final, stat.S_IRUSR | stat.S_IRGRP)
        with db.session(ws) as s:
            c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
            if c is None:
                c = Consent(interview_id=interview_id, scope=ConsentScope.none)
            before = {"form_path": c.form_path, "form_name": c.form_name, "form_sha256": c.form_sha256}
            c.form_path, c.form_name, c.form_sha256, c.form_size = ws.rel(final), shown_name[:200], digest, size
            c.updated_at = utcnow()
            after = {"form_path": c.form_path, "form_name": c.form_name, "form_sha256": digest}
            s.add(c)
            s.add(Revision(interview_id=interview_id, kind="consent_form", who=who, before=before, after=after,
                           note="consent form replaced" if before["form_path"] else "consent form attached"))
            s.commit()
    finally:
        Path(tmp).unlink(missing_ok=True)
    return {"form_name": shown_name[:200], "form_sha256": digest, "form_size": size, "kind": kind,
            "replaced": before["form_path"]}


def form_versions(s, interview_id: str) -> list[dict]:
    """Every signed form the interview has had, newest first: [{path, name, sha256, at, who, current}]."""
    from sqlmodel import select

    from oralhist.records import Consent, Revision

    c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
    out, seen = [], set()
    if c is not None and c.form_path:
        out.append({"path": c.form_path, "name": c.form_name, "sha256": c.form_sha256, "at": c.updated_at,
                    "who": None, "current": True})
        seen.add(c.form_path)
    revs = s.exec(select(Revision).where(Revision.interview_id == interview_id, Revision.kind == "consent_form")
                  .order_by(Revision.at.desc(), Revision.id.desc())).all()
    for r in revs:
        if out and out[0]["current"] and (r.after or {}).get("form_path") == out[0]["path"] and out[0]["who"] is None:
            out[0]["who"], out[0]["at"] = r.who, r.at
        b = r.before or {}
        if b.get("form_path") and b["form_path"] not in seen:
            seen.add(b["form_path"])
            out.append({"path": b["form_path"], "name": b.get("form_name"), "sha256": b.get("form_sha256"),
                        "at": None, "who": None, "current": False})
    from datetime import timezone

    for f in out:  # ISO with its zone: the page writes it in the reader's time zone
        if f["at"] is not None:
            at = f["at"] if f["at"].tzinfo else f["at"].replace(tzinfo=timezone.utc)
            f["at"] = at.isoformat(timespec="seconds")
    return out
