"""Kill -9 at any moment loses nothing; re-running finishes the job (issue 15, items 8-10).

Real `oralhist` subprocesses killed with SIGKILL, real clips, real SQLite files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

EXE = [sys.executable, "-m", "oralhist"]
CLIPS = ["fleurs_fr_000.ogg", "fleurs_fr_001.ogg", "fleurs_fr_002.ogg", "fleurs_fr_003.ogg", "fleurs_fr_004.ogg",
         "fleurs_fr_005.ogg"]


def _oh(root: Path, *args, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([*EXE, "--workspace", str(root), *map(str, args)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def _kill_when(cmd: list[str], ready, deadline_s: float = 60.0) -> bool:
    """Start ``cmd``; SIGKILL it as soon as ``ready()`` holds. -> True if killed before it ended."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        while p.poll() is None and time.monotonic() - t0 < deadline_s:
            if ready(time.monotonic() - t0):
                p.send_signal(signal.SIGKILL)
                p.wait()
                return True
            time.sleep(0.002)
        return False
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _temps(root: Path) -> list[Path]:
    return (sorted((root / ".oralhist-tmp").glob(".ingest-*")) + sorted(root.glob("interviews/*/derived/.*")))


def _big_part(root: Path) -> bool:
    return any(p.stat().st_size > 1_000_000 for p in (root / ".oralhist-tmp").glob(".ingest-*.part")
               if p.exists())


def _consent_placed(root: Path) -> bool:
    return any((root / "consent_forms").glob("*.pdf")) if (root / "consent_forms").is_dir() else False


@pytest.mark.parametrize("moment", ["1200ms", "2500ms", "asr-temp", "consent-copy", "consent-placed"])
def test_kill_during_folder_ingest_then_rerun_finishes(tmp_path, corpus, moment):
    from oralhist import db, stage
    from oralhist.records import Interview
    from oralhist.archive.workspace import init

    ws = init(tmp_path / "archive", title="Kills")
    root = ws.root
    folder = tmp_path / "in"
    folder.mkdir()
    for c in CLIPS:
        shutil.copy(corpus / "fr" / c, folder / c)
    form = tmp_path / "consent.pdf"  # large enough for the copy to take a moment
    form.write_bytes(b"%PDF-1.4\n" + os.urandom(40_000_000))
    cmd = [*EXE, "--workspace", str(root), "ingest", str(folder), "--consent", str(form)]
    if moment.endswith("ms"):
        ready = lambda t, ms=int(moment[:-2]): t * 1000 >= ms  # noqa: E731
    elif moment == "asr-temp":
        ready = lambda t: any(root.glob("interviews/*/derived/.asr.*"))  # noqa: E731
    elif moment == "consent-copy":
        ready = lambda t: _big_part(root)  # noqa: E731
    else:
        ready = lambda t: _consent_placed(root)  # noqa: E731
    assert _kill_when(cmd, ready), f"the ingest ended before the kill ({moment})"

    r = _oh(root, "ingest", folder, "--consent", form, "--json", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    with db.session(ws) as s:
        ids = [iv.id for iv in s.exec(select(Interview)).all()]
        assert len(ids) == len(CLIPS), ids
        assert all(stage.is_done(s, i, "normalise") for i in ids)
    for i in ids:
        assert (ws.derived_dir(i) / "asr.wav").is_file()
    assert _temps(root) == []
    v = json.loads(_oh(root, "verify", "--json").stdout)
    assert v["ok"] and v["problems"] == [] and v["checked"] == 2 * len(CLIPS)


def test_normalise_all_finishes_and_cleans(tmp_path, corpus):
    from oralhist import db, stage
    from oralhist.records import Interview
    from oralhist.archive.workspace import init

    ws = init(tmp_path / "archive", title="Kills")
    folder = tmp_path / "in"
    folder.mkdir()
    for c in CLIPS[:3]:
        shutil.copy(corpus / "fr" / c, folder / c)
    assert _kill_when([*EXE, "--workspace", str(ws.root), "ingest", str(folder)],
                      lambda t: any(ws.root.glob("interviews/*/derived/.asr.*")))
    _oh(ws.root, "normalise", "--all")
    with db.session(ws) as s:
        ids = [iv.id for iv in s.exec(select(Interview)).all()]
        assert ids and all(stage.is_done(s, i, "normalise") for i in ids)
    assert _temps(ws.root) == []


def test_verify_repair_adopts_or_removes_orphans(ws, cli, corpus, tmp_path):
    """Orphans as a kill between the copy and the commit leaves them; each is named with what was done."""
    import stat

    cli("ingest", corpus / "fr" / CLIPS[0], "--no-normalise")
    from oralhist import db
    from oralhist.records import Interview, Recording

    with db.session(ws) as s:
        iid = s.exec(select(Interview)).one().id
    odir = ws.original_dir(iid)
    dup = odir / "again.ogg"  # same bytes as a recorded original
    shutil.copy(corpus / "fr" / CLIPS[0], dup)
    new = odir / "part2.ogg"  # an interrupted extension of a known interview
    shutil.copy(corpus / "fr" / CLIPS[1], new)
    stray = ws.interviews / "ghost" / "original" / "x.ogg"  # no interview, unknown bytes: left for a person
    stray.parent.mkdir(parents=True)
    shutil.copy(corpus / "fr" / CLIPS[2], stray)
    ws.consent_forms.mkdir(exist_ok=True)
    (ws.consent_forms / f"{iid}.pdf").write_bytes(b"%PDF-1.4 form\n")
    part = ws.tmp / f".ingest-{2**22 + 7}-abc.part"  # a pid no process holds
    part.write_bytes(b"x" * 1000)
    os.chmod(dup, stat.S_IRUSR)

    before = json.loads(_oh(ws.root, "verify", "--json", check=False).stdout)
    assert {p["path"] for p in before["problems"] if p["problem"] == "unrecorded"} == {
        ws.rel(dup), ws.rel(new), ws.rel(stray), f"consent_forms/{iid}.pdf"}

    r = _oh(ws.root, "verify", "--repair", "--json", check=False)
    rep = json.loads(r.stdout)
    acts = {x["path"]: x["action"] for x in rep["repaired"]}
    assert acts == {ws.rel(dup): "removed", ws.rel(new): "adopted", f"consent_forms/{iid}.pdf": "adopted",
                    ws.rel(part): "removed"}
    assert not dup.exists() and not part.exists() and new.exists()
    assert [p["path"] for p in rep["problems"]] == [ws.rel(stray)] and r.returncode == 1
    with db.session(ws) as s:
        parts = s.exec(select(Recording).where(Recording.interview_id == iid).order_by(Recording.part)).all()
        assert [p.part for p in parts] == [1, 2] and parts[1].path == ws.rel(new)
        assert parts[1].offset_ms == parts[0].duration_ms
    shutil.rmtree(ws.interviews / "ghost")
    assert json.loads(_oh(ws.root, "verify", "--json").stdout)["ok"]


# --------------------------------------------------------------------------- item 9: diarize


def _machine_transcript(ws, iid, text: str, duration_ms: int) -> None:
    """A transcript as the recogniser leaves it (no speakers): the clip's reference words,
    timed evenly, in segments of 8 words."""
    from oralhist import db, stage
    from oralhist.records import Segment, Transcript, Word

    words = text.split()
    step = duration_ms / max(1, len(words))
    with db.session(ws) as s:
        tr = Transcript(interview_id=iid, version=1, model="reference", language="fr", duration_ms=duration_ms)
        s.add(tr)
        s.flush()
        for g in range(0, len(words), 8):
            chunk = list(enumerate(words))[g:g + 8]
            sg = Segment(transcript_id=tr.id, idx=g // 8, start_ms=int(chunk[0][0] * step),
                         end_ms=int((chunk[-1][0] + 1) * step), text=" ".join(w for _, w in chunk))
            s.add(sg)
            s.flush()
            for k, w in chunk:
                s.add(Word(transcript_id=tr.id, segment_id=sg.id, idx=k, start_ms=int(k * step),
                           end_ms=int((k + 1) * step), text=w))
        stage.mark_done(s, iid, "transcribe", {"model": "reference"})
        s.commit()


@pytest.mark.parametrize("then", ["rerun", "publish"])
def test_kill_during_diarize_exports_follow_the_data(tmp_path, corpus, then):
    import sqlite3

    from oralhist import db
    from oralhist.archive.audio import normalise_interviews
    from oralhist.outputs.exports import default_path
    from oralhist.archive.ingest import IngestMeta, ingest_paths
    from oralhist.outputs.exports.staff import write_staff_exports
    from oralhist.records import Recording
    from oralhist.archive.workspace import init

    ws = init(tmp_path / "archive", title="Kills")
    clips = [corpus / "fr" / c for c in CLIPS[:4]]
    rep = ingest_paths(ws, clips, IngestMeta(narrator="Jeanne Martin", language="fr", consent_scope="public"))
    ids = rep.done
    assert len(ids) == 4
    normalise_interviews(ws, ids)
    with db.session(ws) as s:
        for iid, clip in zip(ids, clips):
            dur = s.exec(select(Recording).where(Recording.interview_id == iid)).one().duration_ms
            _machine_transcript(ws, iid, clip.with_suffix(".txt").read_text(encoding="utf-8"), dur)
    assert write_staff_exports(ws, ids).done == ids  # exports made before speakers are known
    assert not any("<v " in default_path(ws, i, "vtt").read_text(encoding="utf-8") for i in ids)

    def diarized(t):
        with sqlite3.connect(ws.db_path) as c:
            return c.execute("select count(*) from stagerun where stage='diarize'").fetchone()[0] >= 1

    assert _kill_when([*EXE, "--workspace", str(ws.root), "diarize", "--all"], diarized, deadline_s=240)
    with sqlite3.connect(ws.db_path) as c:
        n_done = c.execute("select count(*) from stagerun where stage='diarize'").fetchone()[0]
    assert 1 <= n_done < len(ids)
    if then == "rerun":
        r = _oh(ws.root, "diarize", "--all", "--json")
        assert set(json.loads(r.stdout)["details"]["exports_rewritten"]) == set(ids)
    else:  # publish alone rewrites the exports of the interviews diarized before the kill
        with sqlite3.connect(ws.db_path) as c:
            ids = [r[0] for r in c.execute("select interview_id from stagerun where stage='diarize'")]
        _oh(ws.root, "publish", "--local")
    for i in ids:
        vtt = default_path(ws, i, "vtt").read_text(encoding="utf-8")
        assert "<v " in vtt, (i, vtt[:300])


# --------------------------------------------------------------------------- item 10: long transcription


def _long_interview(prepared_archives, tmp_path, corpus, name):
    """A ~35 s recording made of FLEURS clips one after the other, ingested and normalised
    (once per test process; each call gets its own copy of that archive)."""

    def build(ws):
        import numpy as np

        from tests._asr_helpers import decode, write_wav

        pieces, total = [], 0
        for c in sorted((corpus / "fr").glob("fleurs_fr_*.ogg")):
            a = decode(c)
            pieces += [a, np.zeros(8000, dtype=np.float32)]
            total += a.shape[0] + 8000
            if total >= 30 * 16000:
                break
        wav = write_wav(ws.root.parent / "long.wav", np.concatenate(pieces))
        _oh(ws.root, "ingest", wav, "--language", "fr")

    ws = prepared_archives("kills: 35 s of FLEURS fr, ingested", build, tmp_path / name)
    from oralhist import db
    from oralhist.records import Interview

    with db.session(ws) as s:
        return ws, s.exec(select(Interview)).one().id


def _segments(ws, iid):
    from oralhist import db
    from oralhist.records import Segment, Transcript

    with db.session(ws) as s:
        trs = s.exec(select(Transcript).where(Transcript.interview_id == iid)).all()
        segs = s.exec(select(Segment).where(Segment.transcript_id == trs[-1].id).order_by(Segment.idx)).all()
        return [t.version for t in trs], [(g.start_ms, g.end_ms, g.text) for g in segs]


def test_killed_long_transcription_resumes_at_the_block_it_was_hearing(prepared_archives, tmp_path, corpus):
    from oralhist.recognition.transcribe import CHECKPOINT

    ws, iid = _long_interview(prepared_archives, tmp_path, corpus, "killed")
    ckpt = ws.derived_dir(iid) / CHECKPOINT
    cmd = [*EXE, "--workspace", str(ws.root), "transcribe", iid, "--block-seconds", "20"]
    assert _kill_when(cmd, lambda t: ckpt.is_file(), deadline_s=240)
    kept = json.loads(ckpt.read_text())["blocks"]
    assert len(kept) >= 1
    r = _oh(ws.root, "transcribe", iid, "--block-seconds", "20", "--json")
    d = json.loads(r.stdout)["details"]["interviews"][iid]
    assert d["blocks_reused"] == len(kept)
    assert not ckpt.exists()
    versions, segs = _segments(ws, iid)
    assert versions == [1] and segs

    ws2, iid2 = _long_interview(prepared_archives, tmp_path, corpus, "whole")  # the same recording, never interrupted
    r2 = _oh(ws2.root, "transcribe", iid2, "--block-seconds", "20", "--json")
    assert json.loads(r2.stdout)["details"]["interviews"][iid2]["blocks_reused"] == 0
    versions2, segs2 = _segments(ws2, iid2)
    assert versions2 == [1] and segs2 == segs
