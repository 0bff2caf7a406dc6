"""Corrections: save an edited transcript as a new version, import an edited file, approve.

Every save is a NEW Transcript version (status ``corrected``, ``source`` ``editor`` or
``import:<file>``, ``parent_id`` the version edited) with its segments and words re-aligned
by ``oralhist.recognition.align``, plus a ``Revision`` row (who, when, before/after summary) — all in
one database transaction, so a server killed mid-save leaves the last good version.

Optimistic concurrency: the caller says which version it edited (``base_version``); when a
newer version exists the save is refused with ``ConflictError`` and nothing is written.
"""

from __future__ import annotations

import gc
import re
import threading
from contextlib import contextmanager
from itertools import groupby
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from oralhist.recognition.align import AlignStats, AWord, NewSegment, OldSegment, realign
from oralhist.errors import BadInput, ConflictError, NotFound
from oralhist.records import Revision, Speaker, Transcript, TranscriptStatus, utcnow
from oralhist.textsafe import has_control
from oralhist.editorial.view import current_transcript

# One writer at a time inside this process (the web editor's threads); the unique
# (interview_id, version) constraint catches writers in other processes.
SAVE_LOCK = threading.Lock()

MAX_TEXT_FILE_BYTES = 16_000_000  # a corrected .txt/.vtt of 20 hours is ~2 MB
# Words in one saved version: what a person can produce, ~20 hours of speech (an hour is ~9,000
# words). A 2-million-word save took 185 s and 2 GB; a save at this bound takes a few seconds.
MAX_SAVE_WORDS = 200_000


_PAUSED = [0, True]  # saves under way that paused the cycle collector; was it on before the first
_PAUSED_LOCK = threading.Lock()


@contextmanager
def no_cycle_collection():
    """Python's cycle collector paused while a save builds its objects, on again after the last one.

    A save at the bound makes ~1 million small objects (words, units, tuples), none of them in
    cycles; every few thousand of them the collector walked all that were alive: 40% of the
    CPU time of the save (issue 19, item 12). Reference counting still frees everything."""
    with _PAUSED_LOCK:
        if _PAUSED[0] == 0:
            _PAUSED[1] = gc.isenabled()
            gc.disable()
        _PAUSED[0] += 1
    try:
        yield
    finally:
        with _PAUSED_LOCK:
            _PAUSED[0] -= 1
            if _PAUSED[0] == 0 and _PAUSED[1]:
                gc.enable()


def check_save_size(interview_id: str, new_segments) -> None:
    """``BadInput`` when ``new_segments`` hold more than MAX_SAVE_WORDS words (nothing is written)."""
    n = 0
    for ns in new_segments:
        n += len(ns.text.split())
        if n > MAX_SAVE_WORDS:
            raise BadInput(interview_id, f"too many words for one transcript (more than {MAX_SAVE_WORDS:,}, "
                                         "about 20 hours of speech); nothing saved".replace(",", " "))


@dataclass
class SaveResult:
    interview_id: str
    version: int
    base_version: int
    transcript_id: int
    unchanged: bool = False
    stats: AlignStats = field(default_factory=AlignStats)
    notes: list[str] = field(default_factory=list)  # e.g. lines of an imported file that were skipped

    def to_dict(self) -> dict:
        return {
            "interview": self.interview_id,
            "version": self.version,
            "base_version": self.base_version,
            "unchanged": self.unchanged,
            **self.stats.to_dict(),
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------- reading


def get_version(s: Session, interview_id: str, version: Optional[int] = None) -> Transcript:
    """A new Transcript version (after ``latest``) with ``segments`` and their words, flushed, not committed."""
    if version is None:
        tr = current_transcript(s, interview_id)
        if tr is None:
            raise NotFound(interview_id, "no transcript yet (run `oralhist transcribe` first)")
        return tr
    tr = s.exec(select(Transcript).where(Transcript.interview_id == interview_id, Transcript.version == version)).first()
    if tr is None:
        raise NotFound(interview_id, f"no transcript version {version}")
    return tr


def old_segments(s: Session, tr: Transcript) -> list[OldSegment]:
    """The segments of a version with their words, for ``align.realign``."""
    segs = _raw(s, "SELECT id, start_ms, end_ms, text, speaker_id FROM segment WHERE transcript_id = ? ORDER BY idx",
                (tr.id,))
    words: dict[int, tuple[AWord, ...]] = {}
    # the driver's rows, not SQLAlchemy's: 200,000 words in a fraction of the time (issue 19, item 12);
    # a segment's words are consecutive (ordered by idx): one tuple per run of the same segment id
    rows = _raw(s, "SELECT start_ms, end_ms, text, probability, segment_id FROM word WHERE transcript_id = ? "
                   "ORDER BY idx", (tr.id,))
    for sid, run in groupby(rows, itemgetter(4)):
        ws_ = tuple([AWord(a, b, c, d) for a, b, c, d, _ in run])
        words[sid] = words[sid] + ws_ if sid in words else ws_
    return [OldSegment(gs, ge, gt, words.get(gid, ()), gspk) for gid, gs, ge, gt, gspk in segs]


def _raw(s: Session, sql: str, params, *, many: bool = False):
    """Run ``sql`` (``?`` placeholders) on the session's connection through the database driver
    itself (SQLite or PostgreSQL): rows as tuples, or ``executemany`` of ``params``."""
    conn = s.connection()
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("?", "%s")
    cur = conn.connection.cursor()
    try:
        if many:
            cur.executemany(sql, params)
            return None
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        cur.close()


# ---------------------------------------------------------------------------- writing


def write_version(
    s: Session,
    base: Transcript,
    latest: Transcript,
    segments,
    *,
    who: str,
    source: str,
    status: TranscriptStatus = TranscriptStatus.corrected,
) -> Transcript:
    tr = Transcript(
        interview_id=base.interview_id,
        version=latest.version + 1,
        status=status,
        source=source,
        parent_id=base.id,
        model=base.model,
        language=base.language,
        options=base.options,
        duration_ms=base.duration_ms,
        created_by=who,
        created_at=utcnow(),
    )
    s.add(tr)
    s.flush()
    seg_ids: list[int] = []
    if segments:  # the driver's executemany, then the ids in order (the transcript is new: no one else writes it)
        _raw(s, "INSERT INTO segment (transcript_id, idx, start_ms, end_ms, text, speaker_id) VALUES (?, ?, ?, ?, ?, ?)",
             [(tr.id, i, sg.start_ms, sg.end_ms, sg.text, sg.speaker_id) for i, sg in enumerate(segments)], many=True)
        seg_ids = [r[0] for r in _raw(s, "SELECT id FROM segment WHERE transcript_id = ? ORDER BY idx", (tr.id,))]
    rows: list[tuple] = []
    tid = tr.id  # once: SQLAlchemy's attribute access 200,000 times took 0.2 s
    for seg_id, sg in zip(seg_ids, segments):
        rows.extend([(tid, seg_id, idx, w.start_ms, w.end_ms, w.text, w.probability)
                     for idx, w in enumerate(sg.words, len(rows))])
    if rows:  # 200,000 rows: SQLAlchemy's per-row parameter processing took longer than SQLite's inserts
        _raw(s, "INSERT INTO word (transcript_id, segment_id, idx, start_ms, end_ms, text, probability) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", rows, many=True)
    return tr


def _check_base(s: Session, interview_id: str, base_version: Optional[int]) -> tuple[Transcript, Transcript]:
    latest = get_version(s, interview_id)
    if base_version is None:
        base_version = latest.version
    if latest.version != base_version:
        when = latest.created_at.strftime("%Y-%m-%d %H:%M") if latest.created_at else "?"
        raise ConflictError(
            interview_id,
            f"version {latest.version} (saved by {latest.created_by or latest.source} at {when} UTC) is newer "
            f"than version {base_version} that was edited; nothing saved — reload to see it, then redo the change",
        )
    return get_version(s, interview_id, base_version), latest


def _inherit_speakers(old: Sequence[OldSegment], new: Sequence[NewSegment], aligned) -> list:
    """Segments that did not name a speaker take the speaker of the old segment they start in."""
    from dataclasses import replace

    import bisect

    starts = [o.start_ms for o in old]
    out = []
    for ns, sg in zip(new, aligned):
        if ns.speaker_id is None and old:
            k = max(0, bisect.bisect_right(starts, sg.start_ms) - 1)  # the old segment it starts in (or before)
            sg = replace(sg, speaker_id=old[k].speaker_id)
        out.append(sg)
    return out


def save_version(
    ws,
    interview_id: str,
    new_segments: Sequence[NewSegment],
    *,
    base_version: Optional[int],
    who: str,
    source: str = "editor",
    note: Optional[str] = None,
    require_overlap: bool = False,
) -> SaveResult:
    """Re-align ``new_segments`` to version ``base_version`` and store them as a new version.

    Raises ``ConflictError`` when a newer version than ``base_version`` exists (nothing is
    written). An edit that changes nothing returns the base version with ``unchanged``.
    """
    with no_cycle_collection():
        return _save_version(ws, interview_id, new_segments, base_version=base_version, who=who, source=source,
                             note=note, require_overlap=require_overlap)


def _save_version(ws, interview_id: str, new_segments: Sequence[NewSegment], *, base_version: Optional[int], who: str,
                  source: str, note: Optional[str], require_overlap: bool) -> SaveResult:
    from dataclasses import replace as _replace

    from oralhist import db
    from oralhist.textsafe import clean_text

    # no control characters (a NUL blocked every later publish); tab and newline stay
    new_segments = [ns if not has_control(ns.text) else _replace(ns, text=clean_text(ns.text)) for ns in new_segments]
    check_save_size(interview_id, new_segments)
    with SAVE_LOCK, db.session(ws) as s:
        base, latest = _check_base(s, interview_id, base_version)
        old = old_segments(s, base)
        if not any(ns.text.strip() for ns in new_segments) and old:
            raise BadInput(interview_id, "the edited transcript is empty; nothing saved")
        same = len(old) == len(new_segments) and all(
            o.text.split() == n.text.split() and (n.speaker_id is None or n.speaker_id == o.speaker_id)
            for o, n in zip(old, new_segments)
        )
        if same and base.version == latest.version:
            return SaveResult(interview_id, base.version, base.version, base.id, unchanged=True)
        result = realign(old, new_segments)
        n_old = sum(len(o.words) or len(o.text.split()) for o in old)
        if require_overlap and n_old >= 20 and result.stats.kept + result.stats.retimed < 0.2 * n_old:
            raise BadInput(None, f"fewer than 20% of the words of version {base.version} of {interview_id} are in "
                                 "this file; is it the right interview? nothing saved")
        segments = _inherit_speakers(old, new_segments, result.segments)
        tr = write_version(s, base, latest, segments, who=who, source=source)
        from oralhist.editorial.link import flag_changed_mentions

        flag_changed_mentions(s, interview_id, old, segments, tr.version)
        s.add(Revision(
            interview_id=interview_id, transcript_id=tr.id, kind="transcript", who=who, at=utcnow(),
            before={"version": base.version, "segments": len(old), "words": n_old},
            after={"version": tr.version, "segments": len(segments),
                   "words": sum(len(sg.words) for sg in segments), **result.stats.to_dict()},
            note=note or f"{source}: v{base.version} -> v{tr.version}",
        ))
        from oralhist.editorial.indexing import refresh_machine_text

        refresh_machine_text(s, interview_id, tr.id)  # machine topic text follows the new version
        commit_saved(s, interview_id)
        return SaveResult(interview_id, tr.version, base.version, tr.id, stats=result.stats)


def commit_saved(s: Session, interview_id: str) -> None:
    """Commit a saved version; a concurrent save of the same transcript becomes a ConflictError."""
    try:
        s.commit()
    except (IntegrityError, OperationalError) as exc:
        s.rollback()
        raise ConflictError(interview_id, f"another save of this transcript happened at the same time; "
                                          f"nothing saved — reload and redo the change ({type(exc).__name__})") from None


def restore_version(ws, interview_id: str, version: int, *, base_version: Optional[int], who: str) -> SaveResult:
    """A new version whose content is exactly that of ``version`` (times included)."""
    from oralhist import db
    from oralhist.recognition.align import AlignedSegment

    with SAVE_LOCK, no_cycle_collection(), db.session(ws) as s:
        _, latest = _check_base(s, interview_id, base_version)
        src = get_version(s, interview_id, version)
        old = old_segments(s, src)
        segs = [AlignedSegment(o.start_ms, o.end_ms, o.text, o.words, o.speaker_id) for o in old]
        tr = write_version(s, src, latest, segs, who=who, source="editor")
        s.add(Revision(
            interview_id=interview_id, transcript_id=tr.id, kind="transcript", who=who, at=utcnow(),
            before={"version": latest.version}, after={"version": tr.version, "restored_from": version},
            note=f"restored v{version} as v{tr.version}",
        ))
        from oralhist.editorial.indexing import refresh_machine_text

        refresh_machine_text(s, interview_id, tr.id)
        commit_saved(s, interview_id)
        return SaveResult(interview_id, tr.version, latest.version, tr.id)


def approve(ws, interview_id: str, version: Optional[int] = None, *, who: str) -> int:
    """Mark a version approved (default: the newest). Publishing prefers the newest approved one."""
    from oralhist import db

    with SAVE_LOCK, db.session(ws) as s:
        tr = get_version(s, interview_id, version)
        before = tr.status.value if hasattr(tr.status, "value") else str(tr.status)
        tr.status = TranscriptStatus.approved
        s.add(tr)
        s.add(Revision(interview_id=interview_id, transcript_id=tr.id, kind="transcript", who=who, at=utcnow(),
                       before={"version": tr.version, "status": before},
                       after={"version": tr.version, "status": "approved"}, note=f"approved v{tr.version}"))
        from oralhist.editorial.activity import record  # issue 21 item 8
        from oralhist.editorial.memory import learn  # issue 23: the correction memory learns from approvals

        record(s, actor=who, action="approve", interview_id=interview_id, detail=f"version {tr.version} approuvée")
        learn(s, interview_id, tr.version, who)
        s.commit()
        return tr.version


# ---------------------------------------------------------------------------- imported files

# "# transcript: version 3 (corrected)" (text export) / "Transcription : version 3 (corrigée)" (Word export;
# "v3 (corrected)" before issue 21, still read)
EXPORTED_VERSION = re.compile(r"^\s*(?:#\s*transcript:\s*version\s*|Transcription\s*:\s*(?:v|version\s*))(\d+)\b", re.I)
TS_LINE = re.compile(r"^\s*\[(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\]\s*(.*)$")
SPEAKER_PREFIX = re.compile(r"^([^:\s][^:]{0,59}?):\s+(.*)$", re.S)


def parse_timestamp(text: str) -> int:
    """'01:02:03.5' / '02:03' / '1:02:03,250' -> milliseconds."""
    text = text.replace(",", ".")
    parts = text.split(":")
    secs = float(parts[-1])
    mins = int(parts[-2]) if len(parts) >= 2 else 0
    hours = int(parts[-3]) if len(parts) >= 3 else 0
    return int(round((hours * 3600 + mins * 60 + secs) * 1000))


@dataclass
class ParsedFile:
    segments: list[tuple[Optional[int], Optional[str], str]]  # (start hint ms, speaker name, text)
    notes: list[str] = field(default_factory=list)
    version: Optional[int] = None  # the transcript version the file was exported from, when it says


def exported_version(lines: Sequence[str]) -> Optional[int]:
    for ln in lines[:40]:
        m = EXPORTED_VERSION.match(ln)
        if m:
            return int(m.group(1))
    return None


def parse_lines(lines: Sequence[str], path: Path) -> ParsedFile:
    """Our text export (``[hh:mm:ss] Speaker: text`` lines) or plain paragraphs.

    Header lines at the top starting with ``# `` (our text export's metadata) are skipped.
    """
    lines = list(lines)
    version = exported_version(lines)
    while lines and (lines[0].startswith("# ") or lines[0].strip() in ("#", "")):
        lines.pop(0)
    stamped = [ln for ln in lines if TS_LINE.match(ln)]
    out: list[tuple[Optional[int], Optional[str], str]] = []
    notes: list[str] = []
    if stamped:
        header = 0
        for ln in lines:
            m = TS_LINE.match(ln)
            if m:
                rest = m.group(2).strip()
                spk, text = None, rest
                sm = SPEAKER_PREFIX.match(rest)
                if sm:
                    spk, text = sm.group(1).strip(), sm.group(2)
                out.append((parse_timestamp(m.group(1)), spk, text))
            elif ln.strip():
                if out:  # a wrapped line continues the current segment
                    h, spk, text = out[-1]
                    out[-1] = (h, spk, f"{text} {ln.strip()}")
                else:
                    header += 1
        if header:
            notes.append(f"{header} line(s) before the first timestamp ignored (title, metadata)")
    else:
        para: list[str] = []
        for ln in list(lines) + [""]:
            if ln.strip():
                para.append(ln.strip())
            elif para:
                out.append((None, None, " ".join(para)))
                para = []
    if not any(t.strip() for _, _, t in out):
        raise BadInput(path, "no transcript text found in the file")
    return ParsedFile(out, notes, version)


def parse_file(path: Path) -> ParsedFile:
    """Read a corrected .txt, .docx or .vtt; ``BadInput`` (one line) if it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "no such file")
    ext = path.suffix.lower()
    if ext in (".txt", ".vtt") and path.stat().st_size > MAX_TEXT_FILE_BYTES:
        raise BadInput(path, f"file too large ({path.stat().st_size // 1_000_000} MB, at most "
                             f"{MAX_TEXT_FILE_BYTES // 1_000_000} MB); nothing imported")
    if ext == ".txt":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(path, f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        return parse_lines(text.splitlines(), path)
    if ext == ".docx":
        import zipfile

        try:
            import docx
            from docx.opc.exceptions import PackageNotFoundError
        except ModuleNotFoundError:
            raise BadInput(path, "reading .docx needs python-docx (pip install -r requirements/edit.txt)") from None
        from oralhist.textsafe import check_docx, docx_paragraphs

        check_docx(path)  # a 158 KB .docx of 100 MB of text kept the server busy for minutes
        try:
            document = docx.Document(str(path))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise BadInput(path, f"not a Word .docx document ({type(exc).__name__})") from None
        return parse_lines(docx_paragraphs(document, path), path)
    if ext == ".vtt":
        import webvtt
        from webvtt.errors import MalformedFileError

        try:
            captions = webvtt.read(str(path))
        except (MalformedFileError, UnicodeDecodeError, ValueError) as exc:
            raise BadInput(path, f"not a valid WebVTT file ({exc})") from None
        out = []
        for c in captions:
            voice = getattr(c, "voice", None)
            out.append((parse_timestamp(c.start), voice, " ".join(c.text.split())))
        if not any(t for _, _, t in out):
            raise BadInput(path, "no caption text found in the file")
        return ParsedFile(out)
    raise BadInput(path, f"unsupported file type {ext or '(none)'}; use .docx, .txt or .vtt")


def _speaker_map(s: Session, interview_id: str) -> dict[str, int]:
    from oralhist.records import Person

    m: dict[str, int] = {}
    for sp in s.exec(select(Speaker).where(Speaker.interview_id == interview_id)).all():
        m[sp.label.casefold()] = sp.id
        if sp.name:
            m[sp.name.casefold()] = sp.id
        if sp.person_id:
            p = s.get(Person, sp.person_id)
            if p:
                m[p.name.casefold()] = sp.id
    return m


def import_corrections(ws, interview_id: str, path: Path, *, who: str, force: bool = False) -> SaveResult:
    """Read an edited export and save it as a new version of the newest transcript.

    A file that says which version it was exported from (our .txt and .docx exports do) is
    refused with ``ConflictError`` when a newer version exists — importing it would undo the
    newer corrections — unless ``force``.
    """
    from oralhist import db

    path = Path(path)
    parsed = parse_file(path)  # BadInput before anything is written
    with db.session(ws) as s:
        base = get_version(s, interview_id)
        speakers = _speaker_map(s, interview_id)
        if parsed.version is not None and parsed.version != base.version and not force:
            exists = s.exec(select(Transcript.id).where(Transcript.interview_id == interview_id,
                                                         Transcript.version == parsed.version)).first()
            if exists is not None and parsed.version < base.version:
                raise ConflictError(
                    path, f"exported from version {parsed.version}, but version {base.version} of {interview_id} "
                          f"(by {base.created_by or base.source}) is newer; importing would undo its changes. "
                          "Export again and redo the corrections, or use --force to import on top of it anyway")
    new: list[NewSegment] = []
    notes = list(parsed.notes)
    unknown: set[str] = set()
    for hint, spk, text in parsed.segments:
        sid = None
        if spk is not None:
            sid = speakers.get(spk.casefold())
            if sid is None:  # not a speaker of this interview: the prefix is part of the text
                unknown.add(spk)
                text = f"{spk}: {text}"
        new.append(NewSegment(text=text, speaker_id=sid, start_hint_ms=hint))
    if unknown:
        notes.append("kept as text (not a speaker of this interview): " + ", ".join(sorted(unknown)))
    res = save_version(ws, interview_id, new, base_version=base.version, who=who, source=f"import:{path.name}",
                       require_overlap=True)
    res.notes = notes
    return res
