"""The CLI never shows a raw traceback: a bug is called a bug (with a log), a broken or full
archive is one line saying what is wrong and that nothing was lost (issue 15, items 1 and 14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _oralhist(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "oralhist", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_a_bug_is_reported_as_internal_error_with_a_log(ws, cli, monkeypatch):
    import oralhist.fixity

    def bug(*a, **k):  # a programming error inside the library (not the user's file)
        raise TypeError("open() got an unexpected keyword argument 'metadata_errors'")

    monkeypatch.setattr(oralhist.fixity, "verify", bug)
    res = cli("verify")
    assert res.exit_code == 1
    assert "internal error (TypeError)" in res.output and "not a problem with your files" in res.output
    assert "Traceback" not in res.output
    [log] = (ws.root / ".oralhist" / "logs").glob("error-*.log")
    assert "metadata_errors" in log.read_text() and str(log) in res.output.replace("\n", "")


def test_library_errors_keep_their_message_and_code(ws, cli):
    res = cli("show", "nobody")
    assert res.exit_code == 2 and "internal error" not in res.output


def test_unusable_database_is_one_line_nothing_lost(ws):
    from oralhist import db

    db.engine_for(ws).dispose()
    for side in ws.root.glob(ws.db_path.name + "-*"):  # WAL files of the fixture's connection
        side.unlink()
    ws.db_path.write_bytes(b"this is not a database" * 100)
    for cmd in (["list"], ["verify"]):
        r = _oralhist("--workspace", ws.root, *cmd)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "database cannot be used" in r.stderr and "nothing was lost" in r.stderr
