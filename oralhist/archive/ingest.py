"""Stage 1: ingest. Files or folders (a recorder's card) into the archive, byte for byte.

For each audio file: probe it (PyAV, whole stream decoded once), hash it (SHA-256), refuse a
duplicate (same bytes already in the archive: say which interview holds it, add nothing),
copy it byte for byte into ``interviews/<id>/original/<safe name>`` through a temporary file
(fsync, rename) and make it read-only. The consent form goes to ``consent_forms/<id>.<ext>``,
hashed like the audio. Rows (Interview, Person, Museum, Recording, Consent, StageRun) are
written in one transaction per interview; a file that is refused leaves no row and no file.

Grouping: every file given separately becomes its own interview, unless ``--interview ID``
(or a manifest key) groups files as the parts of one interview, in order.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date as _date
from pathlib import Path
from typing import Iterable, Optional

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from oralhist import db, stage
from oralhist.errors import BadInput, NotAudio, OralhistError, StageError
from oralhist.archive.probe import AudioInfo, display_name, probe
from oralhist.progress import NULL, Progress
from oralhist.records import Consent, ConsentScope, Interview, Recording, museum_id, person_id, utcnow
from oralhist.stage import StageReport
from oralhist.text import slugify as text_slug

# Extensions looked at when walking a folder (files given by name are probed whatever their name).
AUDIO_EXTENSIONS = frozenset(
    ".wav .wave .bwf .rf64 .w64 .mp3 .mp2 .m4a .m4b .aac .mp4 .m4v .mov .3gp .3ga .flac .ogg .oga .opus "
    ".wma .asf .wmv .amr .awb .aif .aiff .aifc .caf .mka .mkv .webm .ac3 .dts .ape .wv .au .snd .voc .dv .mts .avi".split()
)
HASH_BUFFER = 8 * 1024 * 1024
MANIFEST_COLUMNS = ("interview", "file")
MANIFEST_OPTIONAL = ("part", "title", "narrator", "interviewer", "date", "place", "language", "museum",
                     "consent", "consent_scope")
# French column headers, as `vocab import` accepts them (folded: lower case, no accents, '_' for
# anything else): a museum's spreadsheet says « narrateur », « lieu », « musée ».
MANIFEST_HEADERS_FR = {
    "interview": ("entretien", "identifiant", "id_entretien", "identifiant_entretien"),
    "file": ("fichier", "nom_du_fichier", "enregistrement"),
    "part": ("partie", "numero_de_partie", "ordre"),
    "title": ("titre",),
    "narrator": ("narrateur", "narratrice", "temoin", "personne_interrogee"),
    "interviewer": ("enqueteur", "enquetrice", "intervieweur", "intervieweuse", "interviewer"),
    "date": ("date", "date_de_l_entretien", "date_entretien"),
    "place": ("lieu", "commune", "lieu_de_l_entretien"),
    "language": ("langue",),
    "museum": ("musee", "etablissement"),
    "consent": ("consentement", "formulaire", "formulaire_de_consentement"),
    "consent_scope": ("portee", "diffusion", "portee_du_consentement", "portee_consentement"),
}


def manifest_column(header: str) -> str:
    """The column a manifest header names: the English name itself, or its French equivalent."""
    from oralhist.text import header_key

    key = header_key(header or "")
    if key in MANIFEST_COLUMNS or key in MANIFEST_OPTIONAL:
        return key
    for col, names in MANIFEST_HEADERS_FR.items():
        if key in names:
            return col
    return (header or "").strip().lower()


DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
SCOPES = tuple(s.value for s in ConsentScope)
LATER_STAGES = ("normalise", "transcribe", "diarize", "index", "link", "publish")


@dataclass(frozen=True)
class IngestMeta:
    """What is known about an interview (flags or a manifest row). Every field is optional."""

    narrator: Optional[str] = None
    interviewer: Optional[str] = None
    date: Optional[str] = None  # "1998", "1998-06" or "1998-06-14"
    place: Optional[str] = None
    language: Optional[str] = None  # ISO 639-1; default: the archive's language
    museum: Optional[str] = None
    title: Optional[str] = None
    consent: Optional[Path] = None  # the signed form (scan or PDF)
    consent_scope: Optional[str] = None  # public | on-site | research-only | none (default none)
    interview: Optional[str] = None  # group the files into this interview (created or extended)


@dataclass
class _Group:
    """The files of one interview, in order, and its metadata."""

    key: Optional[str]
    meta: IngestMeta
    files: list[Path] = field(default_factory=list)
    source: str = ""  # manifest line(s), for messages


# --------------------------------------------------------------------------- validation


def check_date(value: Optional[str], where: str = "--date") -> Optional[str]:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD (a real date); return it stripped, or raise BadInput."""
    if value is None or not str(value).strip():
        return None
    v = str(value).strip()
    m = DATE_RE.match(v)
    ok = bool(m)
    if m:
        y, mo, d = m.group(1), m.group(2), m.group(3)
        try:
            if mo and not 1 <= int(mo) <= 12:
                ok = False
            elif d:
                _date(int(y), int(mo), int(d))
        except ValueError:
            ok = False
    if not ok:
        raise BadInput(where, f"bad date {v!r}; write YYYY, YYYY-MM or YYYY-MM-DD (e.g. 1998-06-14)")
    return v


def check_scope(value: Optional[str], where: str = "--scope") -> Optional[str]:
    if value is None or not str(value).strip():
        return None
    v = str(value).strip().lower()
    if v not in SCOPES:
        raise BadInput(where, f"unknown consent scope {value!r}; choose one of {', '.join(SCOPES)}")
    return v


def check_meta(meta: IngestMeta, where: str = "") -> IngestMeta:
    """Validate a metadata set (dates, scope, consent file, interview id) before anything is written.

    ``where`` names the source in messages (a manifest line); flags are named otherwise.
    """
    pre = f"({where}) " if where else ""
    from oralhist.textsafe import clean_line

    meta = replace(meta, **{f: " ".join(clean_line(getattr(meta, f)).split()) or None  # no control characters
                            for f in ("narrator", "interviewer", "date", "place", "language", "museum", "title",
                                      "consent_scope", "interview") if isinstance(getattr(meta, f), str)})
    date = check_date(meta.date, where or "--date")
    scope = check_scope(meta.consent_scope, where or "--scope")
    consent = meta.consent
    if consent is not None:
        consent = Path(consent)
        if not consent.is_file():
            raise BadInput(display_name(consent), f"{pre}consent form not found")
        if consent.stat().st_size == 0:
            raise BadInput(display_name(consent), f"{pre}consent form is an empty file")
    if meta.interview is not None and not SLUG_RE.match(meta.interview):
        raise BadInput(
            meta.interview,
            "not a valid interview id (lower-case letters, digits and '-', e.g. 1998-marcel-dupont); "
            "paths are not allowed",
        )
    language = meta.language.strip().lower() if meta.language and meta.language.strip() else None
    return replace(meta, date=date, consent_scope=scope, consent=consent, language=language)


# --------------------------------------------------------------------------- names


#: letters NFKD does not take apart, spelled out in an id (« Dubœuf » -> « duboeuf », not « dubuf »;
#: the Polish ł of many mining families: « Łukaszewski » -> « lukaszewski »)
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ß": "ss", "ł": "l", "Ł": "L",
                            "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})


def slugify(text: str) -> str:
    """An interview id's words: the archive's one slug rule (:func:`oralhist.text.slugify`), with
    ligatures spelled out, '' when nothing is left and no '-' left at the end by the 60-character cut."""
    return text_slug(text.translate(_LIGATURES), "").strip("-")


def safe_file_name(name: str) -> str:
    """A folder-safe, ASCII version of a file name that keeps its extension."""
    p = Path(display_name(name))
    ext = re.sub(r"[^a-z0-9]", "", p.suffix.lower())[:8]
    stem = unicodedata.normalize("NFKD", p.stem if ext else p.name).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:80] or "enregistrement"
    return f"{stem}.{ext}" if ext else stem


def _base_id(meta: IngestMeta, first_file: Path) -> str:
    year = (meta.date or "")[:4]
    who = slugify(meta.narrator or "") or slugify(display_name(first_file.stem)) or "entretien"
    return "-".join(p for p in (year, who) if p)[:70].strip("-") or "entretien"


def _unique_id(s: Session, base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken or s.get(Interview, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# --------------------------------------------------------------------------- manifest


def _inside(base: Path, name: str, where: str, what: str, allow_outside: bool) -> Path:
    """``name`` (relative to the manifest's folder) as a path, refused when it leaves that folder.

    A manifest names files beside it; an absolute path or ``../`` reaching elsewhere (a typo,
    or a manifest received from someone else naming /etc/passwd) needs ``--allow-outside``.
    """
    p = Path(name)
    full = p if p.is_absolute() else base / p
    if not allow_outside:
        try:
            full.resolve().relative_to(base.resolve())
        except ValueError:
            raise BadInput(where, f"{what} {name!r} is outside the manifest's folder {base}; "
                                  "move it there, or pass --allow-outside") from None
    return full


# Over 80 lines on purpose: one check per manifest column, in the CSV's order, each naming its line; any error
# refuses the whole manifest before anything is written.
def read_manifest(path: Path, *, allow_outside: bool = False) -> list[_Group]:
    """Parse and validate a CSV manifest completely; raise BadInput (whole manifest refused).

    The CSV is read strictly (an unclosed quote is an error naming the line, never a narrator
    called "unterminated"); files and consent forms must lie in the manifest's folder or below
    unless ``allow_outside``.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(display_name(path), "manifest not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(display_name(path), "manifest is not UTF-8 text (save it as CSV UTF-8)") from None
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    import io

    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise BadInput(f"{display_name(path)} line {reader.line_num}",
                       f"not valid CSV ({exc}; an unclosed quote?)") from None
    header = [manifest_column(h) for h in (reader.fieldnames or [])]
    missing = [c for c in MANIFEST_COLUMNS if c not in header]
    if missing:
        raise BadInput(
            display_name(path),
            f"manifest is missing the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(needs: {', '.join(MANIFEST_COLUMNS)}; optional: {', '.join(MANIFEST_OPTIONAL)})",
        )
    base = path.parent
    groups: dict[str, _Group] = {}
    order: list[tuple[str, int, int, Path]] = []
    for lineno, raw in enumerate(rows, start=2):
        row = {manifest_column(k or ""): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        where = f"{display_name(path)} line {lineno}"
        key = row.get("interview", "")
        if not key:
            raise BadInput(where, "empty 'interview' cell (every row names its interview)")
        fname = row.get("file", "")
        if not fname:
            raise BadInput(where, "empty 'file' cell")
        fpath = _inside(base, fname, where, "file", allow_outside)
        if not fpath.is_file():
            raise BadInput(where, f"file not found: {fname}")
        part_txt = row.get("part", "")
        if part_txt and not part_txt.isdigit():
            raise BadInput(where, f"bad part number {part_txt!r} (a whole number: 1, 2, ...)")
        consent = row.get("consent") or None
        if consent:
            _inside(base, consent, where, "consent form", allow_outside)
        g = groups.get(key)
        meta = IngestMeta(
            narrator=row.get("narrator") or None,
            interviewer=row.get("interviewer") or None,
            date=row.get("date") or None,
            place=row.get("place") or None,
            language=row.get("language") or None,
            museum=row.get("museum") or None,
            title=row.get("title") or None,
            consent=(base / consent) if consent and not Path(consent).is_absolute() else (Path(consent) if consent else None),
            consent_scope=row.get("consent_scope") or None,
            interview=key if SLUG_RE.match(key) else None,
        )
        meta = check_meta(meta, where=where)
        if g is None:
            g = groups[key] = _Group(key=key, meta=meta, source=where)
        else:
            # Blank cells inherit the interview's first row; filled cells must agree with it.
            merged = {}
            for fld in ("narrator", "interviewer", "date", "place", "language", "museum", "title", "consent", "consent_scope"):
                first, now = getattr(g.meta, fld), getattr(meta, fld)
                merged[fld] = first if first is not None else now
            g.meta = replace(g.meta, **merged)
        order.append((key, int(part_txt) if part_txt else 10**6, lineno, fpath))
    if not order:
        raise BadInput(display_name(path), "manifest has no rows")
    seen: dict[Path, str] = {}
    for key, _p, lineno, fpath in sorted(order, key=lambda t: (t[0], t[1], t[2])):
        r = fpath.resolve()
        if r in seen:
            raise BadInput(f"{display_name(path)} line {lineno}", f"file listed twice ({fpath.name}, also {seen[r]})")
        seen[r] = f"line {lineno}"
        groups[key].files.append(fpath)
    return list(groups.values())


# --------------------------------------------------------------------------- files


def sha256_file(path: Path, buffer: int = HASH_BUFFER) -> str:
    """SHA-256 of a file, streamed through one reusable buffer (hashlib releases the GIL)."""
    h = hashlib.sha256()
    buf = bytearray(buffer)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


def copy_hashed(src: Path, dest_dir: Path, buffer: int = HASH_BUFFER) -> tuple[Path, str, int]:
    """Copy ``src`` into a temporary file in ``dest_dir`` while hashing; fsync. -> (tmp, sha256, size)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".ingest-{os.getpid()}-", suffix=".part", dir=dest_dir)
    h = hashlib.sha256()
    size = 0
    buf = bytearray(buffer)
    view = memoryview(buf)
    try:
        with open(src, "rb", buffering=0) as fin, os.fdopen(fd, "wb", buffering=0) as fout:
            while True:
                n = fin.readinto(buf)
                if not n:
                    break
                h.update(view[:n])
                done = 0
                while done < n:  # a raw write may be short (a nearly full disk): finish it or fail
                    done += fout.write(view[done:n])
                size += n
            os.fsync(fout.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), h.hexdigest(), size


# --------------------------------------------------------------------------- leftovers of a kill

# Temporary files the stages write carry the writer's process id (``.ingest-<pid>-*.part`` in the
# scratch folder, ``.asr.<pid>.*.wav`` / ``.access.<pid>.*`` in derived/); one whose process is
# gone was left by a kill and is removed. Older names without a pid are removed too.
# ".access.<pid>.x.mp3", and "..access.<pid>.x.<pid>.y.mp3": the listening copy written beside the former
_TEMP_PID = re.compile(r"^\.{1,2}(?:ingest-|asr\.|access\.)(\d+)[.-]")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process of another user holds that pid
        return True
    return True


def temp_files(ws, interview_ids: Optional[Iterable[str]] = None) -> list[Path]:
    """Temporary files of the ingest and normalise stages (of ``interview_ids``, or all)."""
    found: list[Path] = []
    tmp = ws.root / ".oralhist-tmp"
    if interview_ids is None and tmp.is_dir():
        found += sorted(tmp.glob(".ingest-*.part"))
    if interview_ids is None:
        dirs = sorted(ws.interviews.glob("*/derived")) if ws.interviews.is_dir() else []
    else:
        dirs = [ws.derived_dir(i) for i in interview_ids]
    for d in dirs:
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if p.name.startswith((".asr.", ".access.", "..asr.", "..access.")))
    return found


def remove_stale_temps(ws, interview_ids: Optional[Iterable[str]] = None) -> list[str]:
    """Remove temporary files left by killed runs (their process is gone); -> relative paths removed."""
    removed: list[str] = []
    for p in temp_files(ws, interview_ids):
        m = _TEMP_PID.match(p.name)
        if m and _pid_alive(int(m.group(1))):
            continue  # another run at work right now
        try:
            p.unlink()
            removed.append(ws.rel(p))
        except FileNotFoundError:
            pass
    return removed


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_read_only(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def walk(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> tuple[list[Path], list[tuple[str, str]], list[tuple[str, str]]]:
    """Expand folders. -> (audio candidates in order, skipped (file, why), missing (path, why)).

    Folders in ``exclude`` (the archive's own interviews/, site/ ...) are not walked.
    """
    excluded = {Path(e).resolve() for e in exclude}
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = False
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and (Path(root) / d).resolve() not in excluded)
                for n in sorted(names):
                    f = Path(root) / n
                    if n.startswith("."):
                        continue
                    if f.suffix.lower() in AUDIO_EXTENSIONS:
                        files.append(f)
                        found = True
                    else:
                        skipped.append((display_name(f), "not an audio file name; skipped"))
            if not found:
                skipped.append((display_name(p), "no audio files in this folder"))
        elif p.is_file():
            files.append(p)
        elif p.exists():
            missing.append((display_name(p), "not a regular file"))
        else:
            missing.append((display_name(p), "no such file or folder"))
    return files, skipped, missing


# --------------------------------------------------------------------------- the stage


def ingest_paths(
    ws,
    paths: Iterable[Path | str],
    meta: IngestMeta | None = None,
    manifest: Path | str | None = None,
    progress: Progress = NULL,
    allow_outside: bool = False,
) -> StageReport:
    """Ingest files and folders (or a CSV manifest) into the archive.

    Validation that concerns the whole command (metadata, manifest, consent form) happens
    first and raises ``BadInput`` before anything is written. Then each interview is done in
    its own transaction: a bad file is reported in ``report.failed`` and the others go on.
    ``report.done`` lists the interviews created or extended; ``report.skipped`` the
    interviews that already held every file given (duplicates, nothing added).
    """
    meta = check_meta(meta or IngestMeta())
    report = StageReport(stage="ingest")
    report.details = {"skipped_files": [], "duplicates": [], "recordings": 0, "orphans_removed": []}
    groups: list[_Group]
    if manifest is not None:
        groups = read_manifest(Path(manifest), allow_outside=allow_outside)
        # Flags given beside a manifest fill what the manifest leaves blank.
        for g in groups:
            g.meta = replace(g.meta, **{k: getattr(meta, k) for k in
                                        ("narrator", "interviewer", "date", "place", "language", "museum",
                                         "title", "consent", "consent_scope")
                                        if getattr(g.meta, k) is None and getattr(meta, k) is not None})
        extra = [Path(p) for p in paths]
        if extra:
            raise BadInput(display_name(extra[0]), "give either files/folders or --manifest, not both")
    else:
        paths = [Path(p) for p in paths]
        if not paths:
            raise BadInput(None, "nothing to ingest: name files or folders, or use --manifest CSV")
        files, skipped, missing = walk(paths, exclude=(ws.interviews, ws.transcripts, ws.site, ws.consent_forms))
        report.details["skipped_files"] = [{"file": f, "reason": r} for f, r in skipped]
        for f, r in missing:
            report.failed.append((f, r))
        if meta.interview is not None:
            groups = [_Group(key=meta.interview, meta=meta, files=files)] if files else []
        else:
            groups = [_Group(key=None, meta=meta, files=[f]) for f in files]
    task = progress.add("ingest", total=sum(len(g.files) for g in groups))
    report.details["temps_removed"] = remove_stale_temps(ws)
    for g in groups:
        _ingest_group(ws, g, report, progress, task)
    return report


@dataclass
class _Staged:
    """One new file of an interview: copied and hashed into a temporary, not yet in place."""

    source: Path
    info: AudioInfo
    tmp: Path
    digest: str
    size: int


@dataclass
class _Undo:
    """What an interview's ingest has written so far, removed again unless it commits."""

    temps: list[Path] = field(default_factory=list)
    placed: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)

    def committed(self) -> None:
        self.placed.clear()
        self.created_dirs.clear()

    def remove(self) -> None:
        """Nothing half-written: temporaries, and any file placed before a failed commit."""
        for t in self.temps:
            Path(t).unlink(missing_ok=True)
        for p in self.placed:
            try:
                os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
                p.unlink()
            except OSError:
                pass
        for d in self.created_dirs:
            shutil.rmtree(d, ignore_errors=True)


def _ingest_group(ws, g: _Group, report: StageReport, progress: Progress, task=None) -> None:
    """One interview in one transaction: probe, copy, the Interview row, originals, consent."""
    infos = _probe_all(g, report, progress, task)
    if not infos:
        return
    ws.tmp  # make sure the scratch folder exists
    undo = _Undo()
    try:
        with db.session(ws) as s:
            staged = _copy_new(s, ws, infos, report, progress, task, undo)
            if not staged:
                return
            iv, created = _interview_for(s, ws, g.meta, staged)
            _place_originals(s, ws, iv, staged, created, report, undo)
            _record_consent(s, ws, iv.id, g.meta, report, undo)
            if not created:
                # New parts: derived files, transcript, speakers, topics and links must be remade
                # (editors' transcript versions are kept by those stages).
                for later in LATER_STAGES:
                    stage.clear_done(s, iv.id, later)
                iv.status = "ingested"
                s.add(iv)
            stage.mark_done(s, iv.id, "ingest", {"files": [display_name(st.source) for st in staged]})
            s.commit()
            report.details["recordings"] += len(staged)
            if iv.id not in report.done:
                report.done.append(iv.id)
            if iv.id in report.skipped:
                report.skipped.remove(iv.id)
            undo.committed()
    except OralhistError as exc:
        report.failed.append((display_name(exc.path or g.files[0]), exc.reason))
    except OSError as exc:
        report.failed.append((display_name(g.files[0]), f"could not copy into the archive ({exc.strerror or exc})"))
    except SQLAlchemyError as exc:  # e.g. the same file ingested at the same moment by another process
        report.failed.append((display_name(g.files[0]), f"not recorded in the database ({type(exc).__name__}); nothing added"))
    finally:
        undo.remove()


def _probe_all(g: _Group, report: StageReport, progress: Progress, task) -> list[tuple[Path, AudioInfo]]:
    """Step 1: probe every file (nothing written yet). A bad part refuses the whole interview (-> [])."""
    infos: list[tuple[Path, AudioInfo]] = []
    bad = False
    for f in g.files:
        progress.update(task, description=f"check {display_name(f.name)}")
        try:
            infos.append((f, probe(f)))
        except NotAudio as exc:
            report.failed.append((display_name(f), exc.reason))
            bad = True
    if bad:
        progress.advance(task, len(g.files))
        if len(g.files) > 1:
            ok = [display_name(f) for f, _ in infos]
            for f in ok:
                report.failed.append((f, f"not ingested: another part of interview {g.key or ''} was refused".replace("  ", " ")))
        return []
    return infos


def _copy_new(s: Session, ws, infos, report: StageReport, progress: Progress, task, undo: _Undo) -> list[_Staged]:
    """Step 2: copy and hash each file into a temporary; files the archive already holds are reported, not staged."""
    staged: list[_Staged] = []
    for f, info in infos:
        progress.update(task, description=f"copy {display_name(f.name)}")
        tmp, digest, size = copy_hashed(f, ws.tmp)
        undo.temps.append(tmp)
        if sha256_file(tmp) != digest:  # read the copy back: what is archived is what was read
            raise StageError(display_name(f), "the copy in the archive differs from the file read (disk error?)")
        progress.advance(task)
        holder = s.exec(select(Recording).where(Recording.sha256 == digest)).first()
        if holder is None:
            if any(st.digest == digest for st in staged):
                report.details["duplicates"].append({"file": display_name(f), "interview": "(same command)"})
                report.failed.append((display_name(f), "the same file is given twice in this command; nothing added"))
                continue
            staged.append(_Staged(f, info, tmp, digest, size))
        else:
            report.details["duplicates"].append({"file": display_name(f), "interview": holder.interview_id})
            if holder.interview_id not in report.skipped:
                report.skipped.append(holder.interview_id)
    return staged


def _interview_for(s: Session, ws, meta: IngestMeta, staged: list[_Staged]) -> tuple[Interview, bool]:
    """Step 3: the interview the files go to: existing (extended, blanks filled from ``meta``) or new (-> created)."""
    target = meta.interview
    iv: Optional[Interview] = s.get(Interview, target) if target is not None else None
    if iv is None:
        iid = target if target is not None else _unique_id(s, _base_id(meta, staged[0].source), set())
        ws.interview_dir(iid)  # refuses ids escaping the archive
        mid = museum_id(s, meta.museum)
        iv = Interview(
            id=iid,
            title=meta.title or "",
            narrator_id=person_id(s, meta.narrator, museum=mid),  # people are per museum
            interviewer_id=person_id(s, meta.interviewer, museum=mid),
            museum_id=mid,
            date=meta.date,
            place=meta.place,
            language=meta.language or ws.settings.language or "fr",
            status="ingested",
        )
        s.add(iv)
        s.flush()
        return iv, True
    for fld in ("title", "date", "place"):
        if getattr(meta, fld) and not getattr(iv, fld):
            setattr(iv, fld, getattr(meta, fld))
    if meta.museum and iv.museum_id is None:
        iv.museum_id = museum_id(s, meta.museum)
    if meta.narrator and iv.narrator_id is None:
        iv.narrator_id = person_id(s, meta.narrator, museum=iv.museum_id)
    if meta.interviewer and iv.interviewer_id is None:
        iv.interviewer_id = person_id(s, meta.interviewer, museum=iv.museum_id)
    iv.updated_at = utcnow()
    s.add(iv)
    return iv, False


def _place_originals(s: Session, ws, iv: Interview, staged: list[_Staged], created: bool,
                     report: StageReport, undo: _Undo) -> None:
    """Step 4: move the originals into place, read-only, each with its Recording row (parts follow the existing ones)."""
    iid = iv.id
    existing = [] if created else s.exec(select(Recording).where(Recording.interview_id == iid)).all()
    first_part = max((r.part for r in existing), default=0) + 1
    used_names = {Path(r.path).name for r in existing}
    odir = ws.original_dir(iid)
    idir = ws.interview_dir(iid)
    if not idir.exists():
        undo.created_dirs.append(idir)
    odir.mkdir(parents=True, exist_ok=True)
    _remove_orphans(s, ws, iid, odir, {st.digest for st in staged}, report)
    used_names |= {p.name for p in odir.iterdir()}
    offset = 0
    if not created:
        offset = sum(r.duration_ms for r in s.exec(select(Recording).where(Recording.interview_id == iid)).all())
    for k, st in enumerate(staged):
        name = _free_name(safe_file_name(st.source.name), used_names)
        used_names.add(name)
        final = ws.inside(odir / name)
        os.replace(st.tmp, final)
        undo.temps.remove(st.tmp)
        undo.placed.append(final)
        _make_read_only(final)
        s.add(Recording(
            interview_id=iid,
            part=first_part + k,
            original_name=display_name(st.source.name),
            path=ws.rel(final),
            sha256=st.digest,
            size=st.size,
            duration_ms=st.info.duration_ms,
            sample_rate=st.info.sample_rate,
            channels=st.info.channels,
            codec=st.info.codec,
            container=st.info.container,
            offset_ms=offset,
        ))
        offset += st.info.duration_ms
    _fsync_dir(odir)
    iv.duration_ms = offset
    s.add(iv)


def _remove_orphans(s: Session, ws, iid: str, odir: Path, digests: set[str], report: StageReport) -> None:
    """A file in original/ that no recording row describes was left by a run killed before
    its commit: if it holds one of the files ingested now, it is that same copy; remove it."""
    recorded = {r.path for r in s.exec(select(Recording).where(Recording.interview_id == iid)).all()}
    for p in sorted(odir.iterdir()):
        if p.is_file() and ws.rel(p) not in recorded and not p.name.startswith(".") and sha256_file(p) in digests:
            os.chmod(p, stat.S_IWUSR | stat.S_IRUSR)
            p.unlink()
            report.details["orphans_removed"].append(ws.rel(p))


def _free_name(name: str, used: set[str]) -> str:
    """``name``, or ``stem-2.ext``, ``stem-3.ext``... when another part already has it."""
    stem, suf = (name.rsplit(".", 1) + [""])[:2] if "." in name else (name, "")
    n = 1
    while name in used:
        n += 1
        name = f"{stem}-{n}.{suf}" if suf else f"{stem}-{n}"
    return name


def _record_consent(s: Session, ws, iid: str, meta: IngestMeta, report: StageReport, undo: _Undo) -> None:
    """Step 5: the Consent row (always one; scope "none" until stated) and the consent form, hashed and read-only."""
    consent = s.exec(select(Consent).where(Consent.interview_id == iid)).first()
    if consent is None:
        consent = Consent(interview_id=iid, scope=ConsentScope(meta.consent_scope or "none"))
    elif meta.consent_scope:
        consent.scope = ConsentScope(meta.consent_scope)
    if meta.consent is not None:
        ext = re.sub(r"[^a-z0-9]", "", meta.consent.suffix.lower())[:8] or "bin"
        ws.consent_forms.mkdir(exist_ok=True)
        ctmp, cdigest, csize = copy_hashed(meta.consent, ws.tmp)
        undo.temps.append(ctmp)
        cfinal = ws.inside(ws.consent_forms / f"{iid}.{ext}")
        if consent.form_sha256 != cdigest:
            if cfinal.exists() and s.exec(select(Consent).where(Consent.form_path == ws.rel(cfinal))).first() is None:
                # Left by a run killed before its commit: no record holds it; replaced.
                os.chmod(cfinal, stat.S_IWUSR | stat.S_IRUSR)
                cfinal.unlink()
                report.details["orphans_removed"].append(ws.rel(cfinal))
            if cfinal.exists():
                raise BadInput(display_name(meta.consent),
                               f"interview {iid} already has a different consent form ({ws.rel(cfinal)}); not replaced")
            os.replace(ctmp, cfinal)
            undo.temps.remove(ctmp)
            undo.placed.append(cfinal)
            _make_read_only(cfinal)
            _fsync_dir(ws.consent_forms)
            consent.form_path = ws.rel(cfinal)
            consent.form_name = display_name(meta.consent.name)
            consent.form_sha256 = cdigest
            consent.form_size = csize
    consent.updated_at = utcnow()
    s.add(consent)
