"""The CLI never shows a raw traceback: a bug is called a bug (with a log), a broken or full
archive is one line saying what is wrong and that nothing was lost (issue 15, items 1 and 14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _oralhist(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "oralhist", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_a_bug_is_reported_as_internal_error_with_a_log(ws, cli, monkeypatch):
    import oralhist.archive.fixity

    def bug(*a, **k):  # a programming error inside the library (not the user's file)
        raise TypeError("open() got an unexpected keyword argument 'metadata_errors'")

    monkeypatch.setattr(oralhist.archive.fixity, "verify", bug)
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


@pytest.fixture()
def small_disk(tmp_path):
    """A real 3 MB file system (tmpfs; the tests run as root, as CI does), unmounted afterwards."""
    d = tmp_path / "disk"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(d)], capture_output=True, text=True)
    assert r.returncode == 0, f"these tests mount a small tmpfs and need root: {r.stderr}"
    yield d
    subprocess.run(["umount", "-l", str(d)], check=True)


def test_full_disk_is_one_line_naming_the_file_and_nothing_half_written(small_disk, corpus):
    archive = small_disk / "a"
    assert _oralhist("init", archive).returncode == 0
    assert _oralhist("--workspace", archive, "list").returncode == 0  # the database exists
    avail = int(subprocess.run(["df", "-k", "--output=avail", str(small_disk)], capture_output=True,
                               text=True).stdout.split()[-1])
    (small_disk / "fill").write_bytes(b"\0" * ((avail - 60) * 1024))  # leave 60 KB: the copy cannot fit
    clip = corpus / "fr" / "fleurs_fr_001.ogg"
    r = _oralhist("--workspace", archive, "ingest", clip, "--narrator", "Rose Lefebvre")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "fleurs_fr_001.ogg" in lines[0] and "No space left on device" in lines[0]
    assert not [p for p in archive.rglob("*") if p.is_file() and p.name not in ("oralhist.db", "oralhist.toml")
                and not p.name.startswith("oralhist.db-")], "something half-written remains"
    (small_disk / "fill").unlink()
    r = _oralhist("--workspace", archive, "ingest", clip, "--narrator", "Rose Lefebvre", "--no-normalise")
    assert r.returncode == 0, r.stderr  # space freed: the same command now finishes the job


def test_read_only_archive_is_one_line_nothing_lost(small_disk, corpus):
    archive = small_disk / "a"
    assert _oralhist("init", archive).returncode == 0
    assert _oralhist("--workspace", archive, "ingest", corpus / "fr" / "fleurs_fr_000.ogg", "--narrator", "A",
                     "--no-normalise").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for cmd in (["list"], ["verify"], ["show", "x"]):
        r = _oralhist("--workspace", archive, *cmd)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "read-only" in r.stderr and "nothing was lost" in r.stderr
