"""oralhist.toml: any title is written as valid TOML; a wrong setting is named (issue 15, item 13)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("title", ['Mines\nde "Carmaux" \\ 1948', "tab\there", "del\x7f", "{accolades}"])
def test_init_title_with_newline_and_quotes_is_valid_toml(tmp_path, title):
    from oralhist.archive.workspace import init, open_workspace

    ws = init(tmp_path / "a", title=title)
    assert tomllib.loads((ws.root / "oralhist.toml").read_text(encoding="utf-8"))["archive"]["title"] == title
    assert open_workspace(ws.root).settings.title == title


def test_init_cli_title_with_newline_then_commands_work(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "oralhist", *map(str, a)], cwd=REPO,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    r = run("init", tmp_path / "a", "--title", "Ligne 1\nLigne 2")
    assert r.returncode == 0, r.stderr
    r = run("--workspace", tmp_path / "a", "list")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("line, key", [
    ('beam_size = "five"', "transcribe.beam_size"),
    ("beam_size = 0", "transcribe.beam_size"),
    ("model = 3", "transcribe.model"),
])
def test_bad_setting_is_named(tmp_path, line, key):
    from oralhist.archive.workspace import init

    ws = init(tmp_path / "a")
    p = ws.root / "oralhist.toml"
    text = p.read_text(encoding="utf-8")
    assert "[transcribe]" in text
    p.write_text(text.replace("[transcribe]", "[transcribe]\n" + line, 1).replace("\nbeam_size = 5", "\n# beam_size = 5")
                 .replace('\nmodel = "base"', '\n# model = "base"'), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "list"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert key in r.stderr and "oralhist.toml" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
