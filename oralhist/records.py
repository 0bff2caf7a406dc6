"""Every table of the archive, in one place (SQLModel).

Times are integer milliseconds on the interview's timeline (an interview made of several
recordings is one timeline: each Recording has an ``offset_ms``). Strings such as
``HH:MM:SS.mmm`` are only made when writing VTT/SRT/XML.

Schema changes go through Alembic migrations in ``oralhist/migrations/versions``; a test
fails when this module and the migrations disagree.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum
from typing import Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # Aware UTC: SQLModel >= 0.0.50 refuses naive datetimes (stored as UTC, read back aware).
    return datetime.now(timezone.utc)


def new_public_key() -> str:
    """An opaque public id (OAI identifiers, public page addresses): random, never from a name."""
    import secrets

    return "iv-" + secrets.token_hex(6)


class ConsentScope(str, Enum):
    public = "public"  # public web site
    on_site = "on-site"  # museum kiosk / reading room only
    research = "research-only"  # researchers on request
    none = "none"  # nothing may be shown


class TranscriptStatus(str, Enum):
    machine = "machine"
    corrected = "corrected"
    approved = "approved"


class LinkStatus(str, Enum):
    suggested = "suggested"
    accepted = "accepted"
    rejected = "rejected"


class TermKind(str, Enum):
    trade = "trade"
    object = "object"
    place = "place"
    subject = "subject"


class SpeakerRole(str, Enum):
    interviewer = "interviewer"
    narrator = "narrator"
    other = "other"


class Museum(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    place: Optional[str] = None
    url: Optional[str] = None
    # --- the museums file (issue 26 item 2, revision 2601): place is the town, url the website ---
    slug: Optional[str] = None  # musees/<slug>/ on the public site
    address: Optional[str] = None
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    logo_path: Optional[str] = None  # the stored original, relative to the archive (museums/originals/)
    logo_sha256: Optional[str] = None
    description: Optional[str] = Field(default=None, sa_column=Column(Text))


class Person(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    # Used instead of the name wherever consent asks for anonymisation.
    pseudonym: Optional[str] = None
    birth_year: Optional[int] = None
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))


class Interview(SQLModel, table=True):
    # Readable slug: "<year>-<narrator>" (+ "-2", "-3" when taken), safe as a folder name.
    id: str = Field(primary_key=True)
    title: str = ""
    narrator_id: Optional[int] = Field(default=None, foreign_key="person.id")
    interviewer_id: Optional[int] = Field(default=None, foreign_key="person.id")
    museum_id: Optional[int] = Field(default=None, foreign_key="museum.id")
    # ISO date, possibly partial: "1998", "1998-06" or "1998-06-14".
    date: Optional[str] = None
    place: Optional[str] = None
    language: str = "fr"
    summary: Optional[str] = Field(default=None, sa_column=Column(Text))
    # Last stage completed: ingested, normalised, transcribed, diarized, indexed, linked, published.
    status: str = "ingested"
    duration_ms: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The id the public sees (OAI identifier, page and media addresses): opaque for every new
    # interview; an archive published before revision 1906 keeps its old id while the narrator's
    # name may be shown (consent.py changes it, and retires the old one, when that stops).
    public_key: Optional[str] = Field(default_factory=new_public_key, index=True, unique=True)


class RetiredId(SQLModel, table=True):
    """A public id that no longer answers: the OAI endpoint announces it deleted for
    ``[oai] deleted_retention_days`` after ``retired_at``, then forgets it."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(index=True)
    public_id: str = Field(index=True)
    retired_at: datetime = Field(default_factory=utcnow)


class Recording(SQLModel, table=True):
    """One original file (a tape side, a recorder file). Several make one interview, in order."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    part: int = 1
    original_name: str  # the volunteer's file name, as given
    path: str  # relative to the workspace: interviews/<id>/original/<file>
    sha256: str = Field(index=True, unique=True)
    size: int
    duration_ms: int
    sample_rate: int
    channels: int
    codec: str
    container: str = ""
    offset_ms: int = 0  # where this part starts on the interview's timeline
    # Normalisation results (audio.py)
    loudness_lufs: Optional[float] = None  # integrated loudness of the original (mono mix)
    channel_lufs: Optional[list] = Field(default=None, sa_column=Column(JSON))  # per channel
    ingested_at: datetime = Field(default_factory=utcnow)
    # the workbench account that imported it (counted in its [server] upload_quota_gb); None: the CLI
    added_by: Optional[str] = Field(default=None, index=True)


class Derivative(SQLModel, table=True):
    """A derived file of an interview: asr.wav, the access copy. Rebuilt by `normalise`."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    kind: str  # "asr" | "access"
    path: str
    sha256: str
    duration_ms: int
    loudness_lufs: Optional[float] = None  # measured on the file as written
    details: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    __table_args__ = (UniqueConstraint("interview_id", "kind"),)


class Consent(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", unique=True)
    scope: ConsentScope = ConsentScope.none
    embargo_until: Optional[date] = None
    anonymise: bool = False
    form_path: Optional[str] = None  # consent_forms/<id>.<ext>
    form_name: Optional[str] = None
    form_sha256: Optional[str] = None
    form_size: Optional[int] = None
    signed_on: Optional[date] = None
    notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    # This interview's own rights statement and licence (a URI), overriding [site] rights/license.
    rights: Optional[str] = Field(default=None, sa_column=Column(Text))
    license: Optional[str] = None
    updated_at: datetime = Field(default_factory=utcnow)
    # issue 24: "catalogue" lets a research-only or embargoed interview be listed (catalogue card,
    # OAI record, no audio or text); "none" leaves no trace in public
    listing: str = Field(default="none")
    # --- issue 26 item 5 (revision 2601): the narrator's portrait may be shown with this interview ---
    portrait: bool = False
    portrait_path: Optional[str] = None  # the stored original, relative to the archive (portraits/originals/)
    portrait_sha256: Optional[str] = None


class Redaction(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    start_ms: int
    end_ms: int
    reason: str = ""
    created_by: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class Transcript(SQLModel, table=True):
    """One version of an interview's transcript. Machine output is kept; edits add versions."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    version: int = 1
    status: TranscriptStatus = TranscriptStatus.machine
    source: str = "machine"  # machine | editor | import:<file>
    parent_id: Optional[int] = Field(default=None, foreign_key="transcript.id")
    model: Optional[str] = None
    language: Optional[str] = None
    options: Optional[dict] = Field(default=None, sa_column=Column(JSON))  # options actually used
    timing: Optional[dict] = Field(default=None, sa_column=Column(JSON))  # elapsed, rtf, ...
    duration_ms: int = 0
    created_by: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    __table_args__ = (UniqueConstraint("interview_id", "version"),)


class Speaker(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    label: str  # SPEAKER_1, SPEAKER_2, ...
    person_id: Optional[int] = Field(default=None, foreign_key="person.id")
    name: Optional[str] = None  # display name when no Person is attached
    role: Optional[SpeakerRole] = None
    channel: Optional[int] = None  # for two-microphone recordings split by channel
    __table_args__ = (UniqueConstraint("interview_id", "label"),)


class Segment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="transcript.id", index=True)
    idx: int
    start_ms: int
    end_ms: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    speaker_id: Optional[int] = Field(default=None, foreign_key="speaker.id")
    avg_logprob: Optional[float] = None
    no_speech_prob: Optional[float] = None
    compression_ratio: Optional[float] = None
    # Set when the hallucination guard kept a doubtful segment (reason), None otherwise.
    flag: Optional[str] = None


class Word(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="transcript.id", index=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    idx: int  # position in the transcript
    start_ms: int
    end_ms: int
    text: str
    probability: Optional[float] = None


class DroppedSegment(SQLModel, table=True):
    """What the hallucination guard removed, and why (kept for review)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    transcript_id: int = Field(foreign_key="transcript.id", index=True)
    start_ms: int
    end_ms: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    reason: str


class TopicSegment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    version: int = 1  # each re-index or edit makes a new version; the newest is current
    source: str = "machine"  # machine | editor
    start_ms: int
    end_ms: int
    title: str = ""
    synopsis: str = Field(default="", sa_column=Column(Text, nullable=False))
    keywords: list = Field(default_factory=list, sa_column=Column(JSON))
    partial_transcript: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # machine topics: the transcript (row id) their text was made from; when it is the one a
    # view shows, the stored text is current and nothing is re-derived (view.derive)
    made_from: Optional[int] = None


class Term(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: TermKind = Field(index=True)
    label: str = Field(index=True)
    alt_labels: list = Field(default_factory=list, sa_column=Column(JSON))
    uri: Optional[str] = None
    broader: Optional[str] = None
    inventory_number: Optional[str] = None  # objects
    designation: Optional[str] = None  # objects
    museum_id: Optional[int] = Field(default=None, foreign_key="museum.id")
    source: Optional[str] = None  # file or scheme it came from
    # issue 25 (revision 2501): equivalents elsewhere (Wikidata, AAT, RAMEAU...), and where a place is
    same_as: Optional[list] = Field(default=None, sa_column=Column(JSON))
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    insee: Optional[str] = None  # INSEE commune code
    __table_args__ = (UniqueConstraint("kind", "label", "museum_id"),)


class Link(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    term_id: int = Field(foreign_key="term.id", index=True)
    start_ms: int
    end_ms: int
    quote: str = Field(default="", sa_column=Column(Text, nullable=False))
    confidence: float = 1.0
    status: LinkStatus = LinkStatus.suggested
    source: str = "auto"  # auto | manual
    created_at: datetime = Field(default_factory=utcnow)
    # Set when a correction changed the words the link was made on; cleared when an editor
    # accepts or rejects it again. Shown in the links page and `oralhist link list`.
    review: Optional[str] = None


class Revision(SQLModel, table=True):
    """Who changed what and when (transcripts, speakers, topics, links, consent)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    transcript_id: Optional[int] = Field(default=None, foreign_key="transcript.id")
    kind: str  # transcript | speaker | topic | link | consent
    who: str = "unknown"
    at: datetime = Field(default_factory=utcnow)
    before: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    note: Optional[str] = None


class StageRun(SQLModel, table=True):
    """The last successful run of a stage on an interview (what `run` skips, with options used)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    stage: str
    finished_at: datetime = Field(default_factory=utcnow)
    options: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    __table_args__ = (UniqueConstraint("interview_id", "stage"),)


Index("ix_word_transcript_idx", Word.transcript_id, Word.idx)
Index("ix_segment_transcript_idx", Segment.transcript_id, Segment.idx)


# --- editor ---


class EditorAccount(SQLModel, table=True):
    """A person allowed into the web editor when it listens beyond this computer.

    ``password_hash`` is ``scrypt$n$r$p$<salt b64>$<hash b64>`` (hashlib.scrypt); never the password.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None
    # workbench roles (oralhist/web/permissions.py): volunteer | editor | admin
    role: str = Field(default="editor")
    museum_id: Optional[int] = Field(default=None, foreign_key="museum.id")  # None: every museum
    # issue 21 (accounts in the browser, migration 2101): a disabled person has no session and cannot
    # log in; an admin's password reset makes the person choose a new one at the next login
    disabled: bool = False
    must_change_password: bool = False


class WebSession(SQLModel, table=True):
    """A signed-in browser or script of the workbench; stored, so a restart keeps people signed in.

    ``id`` is the SHA-256 of the cookie's value (the cookie itself is never stored);
    ``csrf`` is sent back by every write in the ``X-CSRF-Token`` header.
    """

    id: str = Field(primary_key=True)
    account_id: int = Field(foreign_key="editoraccount.id", index=True)
    csrf: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    # issue 21 (migration 2101): the idle timeout reads last_seen_at; « Mon compte » lists address and agent
    last_seen_at: Optional[datetime] = None
    address: Optional[str] = None
    agent: Optional[str] = None


# --- people and museums by name (ingest, speakers and vocabularies share these) ---


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold().strip()


def person_id(s, name: Optional[str], *, museum: Optional[int]) -> Optional[int]:
    """The Person with exactly this name among the people of museum ``museum`` (an id; None: the
    interviews tied to no museum), created when missing (None for no name).

    People are per museum: a Person is reused only when an interview of the same museum already
    refers to them (narrator, interviewer or speaker), so two museums' narrators who share a
    name are two Persons. (No column: the museum of a Person is that of its interviews.)
    """
    from sqlalchemy import or_
    from sqlmodel import select

    if not name:
        return None
    same = Interview.museum_id == museum if museum is not None else Interview.museum_id.is_(None)
    ivs = select(Interview.id).where(same)
    p = s.exec(select(Person).where(Person.name == name, or_(
        Person.id.in_(select(Interview.narrator_id).where(same, Interview.narrator_id.is_not(None))),
        Person.id.in_(select(Interview.interviewer_id).where(same, Interview.interviewer_id.is_not(None))),
        Person.id.in_(select(Speaker.person_id).where(Speaker.interview_id.in_(ivs), Speaker.person_id.is_not(None))),
    )).order_by(Person.id)).first()
    if p is None:
        p = Person(name=name)
        s.add(p)
        s.flush()
    return p.id


def own_person(s, interview_id: str, pid: int) -> "Person":
    """Person ``pid`` as the interview's own, before a change made through it (a rename, a
    pseudonym): ``pid`` itself when no other interview refers to it, else a copy (fork on write)
    that this interview's references (narrator, interviewer, speakers) are moved to. A change
    made through one interview never reaches another interview, of any museum."""
    from sqlalchemy import or_
    from sqlmodel import select

    person = s.get(Person, pid)
    others = s.exec(select(Interview.id).where(or_(Interview.narrator_id == pid, Interview.interviewer_id == pid),
                                               Interview.id != interview_id)).first() \
        or s.exec(select(Speaker.id).where(Speaker.person_id == pid, Speaker.interview_id != interview_id)).first()
    if person is None or not others:
        return person
    copy = Person(name=person.name, pseudonym=person.pseudonym, birth_year=person.birth_year, notes=person.notes)
    s.add(copy)
    s.flush()
    iv = s.get(Interview, interview_id)
    if iv is not None:
        if iv.narrator_id == pid:
            iv.narrator_id = copy.id
        if iv.interviewer_id == pid:
            iv.interviewer_id = copy.id
        s.add(iv)
    for sp in s.exec(select(Speaker).where(Speaker.interview_id == interview_id, Speaker.person_id == pid)).all():
        sp.person_id = copy.id
        s.add(sp)
    s.flush()
    return copy


def museum_id(s, name: Optional[str]) -> Optional[int]:
    """The Museum of this name — exact, else ignoring case and accents — created when missing."""
    from sqlmodel import select

    if not name:
        return None
    m = s.exec(select(Museum).where(Museum.name == name)).first()
    if m is None:
        m = next((o for o in s.exec(select(Museum)).all() if _fold(o.name) == _fold(name)), None)
    if m is None:
        m = Museum(name=name)
        s.add(m)
        s.flush()
    return m.id


# --- jobs and locks (network mode, workbench background jobs) ---


class Job(SQLModel, table=True):
    """One stage of one interview to run in the background (``publish``: the whole archive).

    The embedded runner (SQLite) and ``oralhist worker`` (PostgreSQL + procrastinate) both
    call ``oralhist.jobs.run_job``. ``message`` and ``error`` are French, for people.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: Optional[str] = Field(default=None, foreign_key="interview.id", index=True)
    stage: str
    status: str = Field(default="queued", index=True)  # queued | running | done | failed | cancelled
    progress: float = 0.0
    message: Optional[str] = None
    error: Optional[str] = None
    attempts: int = 0
    priority: int = 0  # higher first
    queue: str = "default"
    worker: Optional[str] = None  # host:pid
    who: Optional[str] = None
    force: bool = False  # redo the stage even when done (editor's re-index / re-link)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    not_before: Optional[datetime] = None  # a transient failure waits this long before its retry
    engine_job_id: Optional[int] = None  # procrastinate's job id in network mode


class JobDay(SQLModel, table=True):
    """How many finished jobs of one day, stage and outcome were pruned from ``job`` (issue 22:
    finished jobs older than ``[jobs] keep_days`` are deleted; this count is what stays)."""

    day: date = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    count: int = 0


# The job table is read by (interview, stage) for the last job and by finish time for pruning.
Index("ix_job_interview_stage", Job.interview_id, Job.stage)
Index("ix_job_status_finished", Job.status, Job.finished_at)


class StageLock(SQLModel, table=True):
    """A stage running on an interview ("" = the whole archive): one holder at a time.

    In the database so it holds across machines; ``heartbeat_at`` is refreshed while held,
    so the lock of a killed holder is taken over once it is older than the expiry.
    """

    interview_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    holder: str  # host:pid
    token: str
    acquired_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class ObjectRecord(SQLModel, table=True):
    """A museum object's inventory record and picture (issue 14); one per object term.

    The picture's original is ``image_path`` (archive-relative, read-only, named by its hash);
    web derivatives are ``objects/derived/<sha256[:16]>-{card,page}.{webp,jpg}``.
    """

    term_id: int = Field(foreign_key="term.id", primary_key=True)
    image_sha256: Optional[str] = None
    image_path: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    alt: Optional[str] = None  # required before the object is published
    dates: Optional[str] = None
    materials: Optional[str] = None
    dimensions: Optional[str] = None
    credit_line: Optional[str] = None
    rights: Optional[str] = None


# --- researchers, access requests and the activity log (issue 24, issue 21 item 8) ---


class ActivityEntry(SQLModel, table=True):
    """One line of the activity log (``oralhist.editorial.activity``): who did what, when, from where."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(index=True)  # account name ("" for an anonymous visitor)
    action: str = Field(index=True)  # login | import | consent | approve | publish | access.* | mail ...
    interview_id: Optional[str] = Field(default=None, index=True)
    museum_id: Optional[int] = Field(default=None, index=True)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    address: Optional[str] = None


class Researcher(SQLModel, table=True):
    """A researcher's profile; the login is the EditorAccount (role ``researcher``, name = e-mail)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="editoraccount.id", unique=True)
    email: str = Field(index=True, unique=True)
    name: str
    institution: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class AccessRequest(SQLModel, table=True):
    """A researcher's request for one interview: pending | granted | refused | revoked."""

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="editoraccount.id", index=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    purpose: str = Field(default="", sa_column=Column(Text, nullable=False))
    project: str = ""
    use: str = ""
    status: str = Field(default="pending", index=True)
    reason: str = ""  # the refusal's or revocation's reason
    days: Optional[int] = None
    expires_at: Optional[datetime] = None
    decided_by: Optional[str] = None
    decided_at: Optional[datetime] = None
    seen: bool = True  # False: the researcher has not seen the decision yet (header count)
    created_at: datetime = Field(default_factory=utcnow)


Index("ix_activity_interview_at", ActivityEntry.interview_id, ActivityEntry.at)
# --- correction memory, review progress, assignment, comments (issue 23, items 3 and 5) ---


class CorrectionPair(SQLModel, table=True):
    """A learned correction ``wrong`` → ``right`` for one museum (``museum_id`` None: interviews of
    no museum); the network's memory is every museum's pairs added up. ``key`` is ``wrong``
    folded (lower case, no punctuation) for finding; ``deleted``: an editor removed it (it is
    neither suggested nor learned again)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    museum_id: Optional[int] = Field(default=None, foreign_key="museum.id", index=True)
    key: str = Field(index=True)
    wrong: str
    right: str
    deleted: bool = False
    taught_by: Optional[str] = None  # added by hand (`corrections memory add`): counts as one correction
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CorrectionSource(SQLModel, table=True):
    """Where a pair was learned: the approved version of one interview, and how often there
    (``count``) against how often its wrong form was left as it was (``kept``)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    pair_id: int = Field(foreign_key="correctionpair.id", index=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    version: int
    count: int = 1
    kept: int = 0
    who: Optional[str] = None
    at: datetime = Field(default_factory=utcnow)


class SegmentReview(SQLModel, table=True):
    """A segment marked « relu », by where it starts (kept across versions: a save keeps times)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    start_ms: int
    who: str
    at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """The editor an interview is assigned to (one at a time)."""

    interview_id: str = Field(foreign_key="interview.id", primary_key=True)
    assignee: str = Field(index=True)
    assigned_by: str
    at: datetime = Field(default_factory=utcnow)


class PassageComment(SQLModel, table=True):
    """A comment on a passage (a question for the interviewer, a name's spelling); blocks nothing."""

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    start_ms: int
    end_ms: int
    quote: str = Field(default="", sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    author: str
    created_at: datetime = Field(default_factory=utcnow)
    resolved_by: Optional[str] = None
    resolved_at: Optional[datetime] = None


# --- issue 23 (doubtful words, replace everywhere): one block -------------------------------


class WordCheck(SQLModel, table=True):
    """A recognised word an editor confirmed as right (Alt+Entrée): it stops being doubtful.

    Keyed by the word's times and folded text, which realignment keeps for an unchanged word,
    so a confirmation holds in every later version until the word itself is changed.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True)
    start_ms: int
    end_ms: int
    text: str  # folded (case, accents, punctuation) as editorial.doubts.fold_word makes it
    who: str = "unknown"
    at: datetime = Field(default_factory=utcnow)
    __table_args__ = (UniqueConstraint("interview_id", "start_ms", "text"),)


class ReplaceBatch(SQLModel, table=True):
    """One « remplacer partout »: the versions it made, so that it is undone as one step."""

    id: Optional[int] = Field(default=None, primary_key=True)
    find: str = Field(sa_column=Column(Text, nullable=False))
    replace: str = Field(sa_column=Column(Text, nullable=False))
    who: str = "unknown"
    at: datetime = Field(default_factory=utcnow)
    items: list = Field(default_factory=list, sa_column=Column(JSON))  # [{interview, base, version, count}]
    undone_at: Optional[datetime] = None
    undone_by: Optional[str] = None
