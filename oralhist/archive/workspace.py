"""The archive workspace: one folder, its settings file and its paths.

``oralhist init DIR`` makes one; every command finds it from the current folder upwards
(or ``--workspace DIR``).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from oralhist.errors import BadInput, WorkspaceError

SETTINGS_FILE = "oralhist.toml"

# Every numeric setting of oralhist.toml with its allowed range (inclusive) and kind. A value outside
# is refused when the settings are read, naming the key and the range: `beam_size = 100000` took
# 22 GB. A key listed here that the file leaves out keeps its default; new numeric settings belong here.
NUMERIC_SETTINGS: dict[tuple[str, str], tuple[type, float, float]] = {
    ("transcribe", "beam_size"): (int, 1, 20),            # as `--beam-size`; 5 is Whisper's default
    ("site", "link_threshold"): (float, 0.0, 1.0),        # a confidence
    ("site", "search_shards"): (int, 1, 64),
    ("server", "port"): (int, 1, 65535),
    ("server", "upload_quota_gb"): (float, 0, 100_000),
    ("server", "idle_minutes"): (float, 1, 24 * 60),     # a workbench session unused this long ends (default 30)
    ("server", "session_hours"): (float, 0.1, 24 * 30),  # a login lasts at most this long (default 12)
    ("oai", "deleted_retention_days"): (int, 0, 3_650),
    ("jobs", "keep_days"): (int, 0, 3_650),                # finished jobs kept this long (0: for ever)
    ("transcribe", "checkpoint_s"): (float, 10, 3_600),    # seconds of speech between checkpoints
    ("transcribe", "batch_size"): (int, 0, 32),            # pieces of 30 s decoded at once; 0 = sequential
}
DB_FILE = "oralhist.db"
FOLDERS = ("interviews", "transcripts", "consent_forms", "site")

DEFAULT_SETTINGS = """\
# oralhist archive settings. Edit freely; every key is optional.

[archive]
# Name shown on the public site and in exports.
title = "{title}"
# Default language of interviews (ISO 639-1); "auto" lets the recogniser detect it.
language = "fr"
# Museums of the network (names used by --museum and in the site's filters).
museums = []

[transcribe]
# "base" is Whisper base (multilingual) installed from PyPI; a CTranslate2 folder also works.
model = "base"
device = "cpu"
compute_type = "int8"
beam_size = 5

[site]
# Language of the public pages: "fr" or "en".
language = "fr"
# Public address of the published site, used in sitemaps, IIIF and OAI-PMH (optional).
base_url = ""
# The home page's introduction to the archive (a blank line between paragraphs), e.g.
# intro = "Des mineurs, des fileuses et des cheminots racontent leur métier."
# Rights statement and licence (a URI: Creative Commons, rightsstatements.org, Etalab) of every
# public record; an interview may override both (oralhist consent ID --rights ... --license URI).
# rights = "© Musée de la mine. Reproduction sur demande."
# license = "http://creativecommons.org/licenses/by-nc/4.0/"
# Who funded the collection (OHMS <funding>).
# funding = "Région Hauts-de-France"
# Contact address announced to OAI-PMH harvesters (Identify adminEmail).
# admin_email = "archives@musee.example.org"
# OAI identifiers are oai:<this>:<public id>; keep it when the site moves (default: from the title).
# oai_repository_identifier = "musee-mine.example.org"

[database]
# Leave empty for SQLite in this folder; DATABASE_URL in the environment wins.
url = ""

[storage]
# Network mode: on a worker machine, the mounted shared archive folder (NFS/SMB) holding the
# media; ORALHIST_STORAGE_ROOT in the environment wins. Empty: this folder.
root = ""
"""


@dataclass(frozen=True)
class Settings:
    title: str = "Archive orale"
    language: str = "fr"
    museums: tuple[str, ...] = ()
    model: str = "base"
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    site_language: str = "fr"
    base_url: str = ""
    database_url: str = ""
    trusted_proxies: tuple[str, ...] = ()  # [server]: reverse proxies whose X-Forwarded-* are believed
    upload_quota_gb: float = 20.0  # [server]: what one workbench account may hold (imports + uploads)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_toml(cls, path: Path) -> "Settings":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(path, f"settings file is not valid TOML ({exc})") from None
        def table(name):
            t = data.get(name, {})
            if not isinstance(t, dict):
                raise WorkspaceError(path, f"[{name}] must be a table of settings, not {type(t).__name__}")
            return t

        def get(t, section, key, kind, default):
            v = t.get(key, default)
            ok = isinstance(v, kind) and not (kind is int and isinstance(v, bool))
            if kind is int and ok and v < 1:
                ok = False
            if not ok:
                want = {str: "a text in quotes", int: "a whole number of at least 1", list: "a list"}[kind]
                raise WorkspaceError(path, f"setting {section}.{key} = {v!r} is not valid: it must be {want}")
            return v

        archive, tr, site, db = table("archive"), table("transcribe"), table("site"), table("database")
        check_numeric(path, data)
        museums = get(archive, "archive", "museums", list, [])
        if isinstance(site.get("license"), str):
            _http_setting(path, "[site] license", site["license"])
        if not all(isinstance(m, str) for m in museums):
            raise WorkspaceError(path, "setting archive.museums must be a list of names in quotes")
        return cls(
            title=get(archive, "archive", "title", str, cls.title),
            language=get(archive, "archive", "language", str, cls.language),
            museums=tuple(museums),
            model=get(tr, "transcribe", "model", str, cls.model),
            device=get(tr, "transcribe", "device", str, cls.device),
            compute_type=get(tr, "transcribe", "compute_type", str, cls.compute_type),
            beam_size=get(tr, "transcribe", "beam_size", int, cls.beam_size),
            site_language=get(site, "site", "language", str, cls.site_language),
            base_url=_http_setting(path, "[site] base_url", get(site, "site", "base_url", str, cls.base_url)),
            database_url=get(db, "database", "url", str, ""),
            **_server_settings(path, table("server")),
            raw=data,
        )


def _server_settings(path: Path, server: dict) -> dict:
    """[server] trusted_proxies (addresses or networks) and upload_quota_gb (0.001-1000000), checked."""
    import ipaddress

    proxies = server.get("trusted_proxies", [])
    try:
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise ValueError
        for p in proxies:
            ipaddress.ip_network(p.strip(), strict=False)
    except ValueError:
        raise WorkspaceError(path, f"setting server.trusted_proxies = {proxies!r} is not valid: it must be a list of "
                                   "addresses or networks in quotes, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]") from None
    quota = server.get("upload_quota_gb", Settings.upload_quota_gb)
    if isinstance(quota, bool) or not isinstance(quota, (int, float)) or not 0.001 <= quota <= 1_000_000:
        raise WorkspaceError(path, f"setting server.upload_quota_gb = {quota!r} is not valid: it must be a number "
                                   "of gigabytes between 0.001 and 1000000")
    return {"trusted_proxies": tuple(p.strip() for p in proxies), "upload_quota_gb": float(quota)}


def _http_setting(path: Path, name: str, value: str) -> str:
    """A link setting: empty, or an http(s) address (issue 19 item 17)."""
    from oralhist.errors import BadInput
    from oralhist.links import check_http

    try:
        check_http(value, path, f"setting {name}: the address")
    except BadInput as e:
        raise WorkspaceError(path, e.reason) from None
    return value


def check_numeric(path: Path, data: dict) -> None:
    """Refuse a numeric setting of the wrong kind or outside its range (NUMERIC_SETTINGS)."""
    for (section, key), (kind, low, high) in NUMERIC_SETTINGS.items():
        t = data.get(section)
        if not isinstance(t, dict) or key not in t:
            continue
        v = t[key]
        number = isinstance(v, (int, float)) and not isinstance(v, bool) and (kind is float or isinstance(v, int))
        if not number or v != v or not low <= v <= high:  # v != v: nan
            what = "a whole number" if kind is int else "a number"
            raise WorkspaceError(path, f"setting {section}.{key} = {v!r} is not valid: it must be {what} "
                                       f"from {low:g} to {high:g}")


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: Settings

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def database_url(self) -> str:
        return os.environ.get("DATABASE_URL") or self.settings.database_url or f"sqlite:///{self.db_path}"

    @property
    def interviews(self) -> Path:
        return self.root / "interviews"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def consent_forms(self) -> Path:
        return self.root / "consent_forms"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def tmp(self) -> Path:
        """Scratch space inside the workspace (same filesystem, so renames are atomic)."""
        p = self.root / ".oralhist-tmp"
        p.mkdir(exist_ok=True)
        return p

    def interview_dir(self, interview_id: str) -> Path:
        return self.inside(self.interviews / interview_id)

    def original_dir(self, interview_id: str) -> Path:
        return self.interview_dir(interview_id) / "original"

    def derived_dir(self, interview_id: str) -> Path:
        return self.interview_dir(interview_id) / "derived"

    def transcript_dir(self, interview_id: str) -> Path:
        return self.inside(self.transcripts / interview_id)

    def inside(self, path: Path) -> Path:
        """Resolve ``path`` and refuse anything that escapes the workspace."""
        resolved = path.resolve()
        root = self.root.resolve()
        if resolved != root and root not in resolved.parents:
            raise BadInput(path, "path escapes the archive folder")
        return resolved

    def rel(self, path: Path) -> str:
        """Path relative to the workspace root, as stored in the database (POSIX form)."""
        return Path(path).resolve().relative_to(self.root.resolve()).as_posix()

    def abs(self, rel: str) -> Path:
        return self.inside(self.root / rel)


def init(directory: Path, title: str | None = None) -> Workspace:
    """Make a workspace in ``directory`` (created if needed) and its database. Idempotent."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise WorkspaceError(directory, "exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    settings_path = directory / SETTINGS_FILE
    if not settings_path.exists():
        # A TOML basic string: JSON's escapes (\\ \" \n \t \uXXXX) are TOML's too; DEL is not
        # allowed raw in TOML, so it is escaped as well. The quotes come from json.dumps.
        name = json.dumps(title or "Archive orale", ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")
        tmp = settings_path.with_suffix(".toml.tmp")
        tmp.write_text(DEFAULT_SETTINGS.format(title=name), encoding="utf-8")
        os.replace(tmp, settings_path)
    for name in FOLDERS:
        (directory / name).mkdir(exist_ok=True)
    ws = open_workspace(directory)
    from oralhist import db

    db.migrate(ws)
    return ws


STORAGE_ENV = "ORALHIST_STORAGE_ROOT"


def open_workspace(directory: Path) -> Workspace:
    """The archive in ``directory``; or, when its settings say ``[storage] root = "/mnt/archive"``
    (or ``ORALHIST_STORAGE_ROOT`` is set), the shared archive folder there (a worker machine
    keeps only a small local settings file; its ``[database] url`` wins over the shared one)."""
    directory = Path(directory).resolve()
    settings_path = directory / SETTINGS_FILE
    shared = os.environ.get(STORAGE_ENV)
    local = Settings.from_toml(settings_path) if settings_path.is_file() else None
    if not shared and local is not None:
        shared = str((local.raw.get("storage") or {}).get("root") or "")
    if shared:
        root = (directory / Path(shared).expanduser()).resolve()
        if root != directory:
            if not (root / SETTINGS_FILE).is_file():
                raise WorkspaceError(root, f"the shared archive folder is not reachable or has no {SETTINGS_FILE} "
                                           "(is the share mounted?)")
            settings = Settings.from_toml(root / SETTINGS_FILE)
            if local is not None and local.database_url:
                from dataclasses import replace

                settings = replace(settings, database_url=local.database_url)
            return Workspace(root=root, settings=settings)
    if local is None:
        raise WorkspaceError(directory, f"not an oralhist archive (no {SETTINGS_FILE}); run `oralhist init` first")
    return Workspace(root=directory, settings=local)


def find_workspace(start: Path | None = None) -> Workspace:
    """The workspace containing ``start`` (default: the current folder), searching upwards."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return open_workspace(folder)
    if os.environ.get(STORAGE_ENV):
        return open_workspace(Path(os.environ[STORAGE_ENV]))
    raise WorkspaceError(here, f"no {SETTINGS_FILE} here or in any parent folder; run `oralhist init DIR` or pass --workspace")
