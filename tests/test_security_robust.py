"""Issue 19, robustness: control characters (9), a .docx bomb (10), an XML entity bomb (11), the
size of an editor save (12), numeric settings' bounds (14), French manifest headers (23a) and
read-only archives (23b). Real files, real SQLite, the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def oralhist(*args, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "oralhist", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, **kw)


# ------------------------------------------------------------------------------------ item 14


@pytest.mark.parametrize("section, line, key, allowed", [
    ("transcribe", "beam_size = 100000", "transcribe.beam_size", "from 1 to 20"),
    ("site", "link_threshold = 5", "site.link_threshold", "from 0 to 1"),
    ("site", "search_shards = 0", "site.search_shards", "from 1 to 64"),
    ("server", "port = 70000", "server.port", "from 1 to 65535"),
    ("site", "link_threshold = nan", "site.link_threshold", "from 0 to 1"),
])
def test_numeric_setting_out_of_range_is_refused_naming_key_and_range(tmp_path, section, line, key, allowed):
    from oralhist.errors import WorkspaceError
    from oralhist.workspace import Settings, init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    text = p.read_text(encoding="utf-8").replace("\nbeam_size = 5", "\n# beam_size = 5")
    if f"[{section}]" not in text:
        text += f"\n[{section}]\n"
    p.write_text(text.replace(f"[{section}]", f"[{section}]\n{line}", 1), encoding="utf-8")
    with pytest.raises(WorkspaceError) as e:
        Settings.from_toml(p)
    assert key in str(e.value) and allowed in str(e.value), str(e.value)


def test_beam_size_100000_cli_exits_2_one_line(tmp_path):
    from oralhist.workspace import init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 100000"), encoding="utf-8")
    r = oralhist("--workspace", ws.root, "list")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "transcribe.beam_size" in r.stderr and "from 1 to 20" in r.stderr, r.stderr


def test_numeric_settings_in_range_are_accepted(tmp_path):
    from oralhist.workspace import Settings, init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    p.write_text(p.read_text(encoding="utf-8").replace("beam_size = 5", "beam_size = 20")
                 + "\n[server]\nport = 8080\n", encoding="utf-8")
    assert Settings.from_toml(p).beam_size == 20
