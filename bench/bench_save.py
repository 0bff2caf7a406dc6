"""A maximum-size editor save (issue 19, item 12): time and server memory of POST
/api/i/ID/transcript for a transcript at the editor's bound (MAX_SAVE_WORDS words, ~20 hours of
speech), against a baseline in the same run: the same save of a 2,000-word transcript.

Each size runs in a fresh process: an archive with one interview whose machine transcript has N
words (real French words from the test data, timed 300 ms apart, 20 words a segment), the real
workbench (uvicorn + Starlette) in a thread of that process, a volunteer who GETs the transcript,
changes one word in a hundred and POSTs it back. Figures per save: wall time of the POST, the
CPU time of the process during it (server and client threads; on a busy machine the wall
time waits for a core), the growth of the process's peak RSS during it (VmHWM reset through /proc/self/clear_refs), the GET's
JSON size, the database's growth. Median of 3 saves (each a new version on top of the last).

Usage: python bench/bench_save.py [--words 200000] [--baseline 2000] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, random, sys, time
from pathlib import Path
sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
words_n, runs, root = int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

from sqlalchemy import insert
from oralhist import db
from oralhist.records import Consent, Interview, Person, Segment, Speaker, SpeakerRole, Transcript, Word
from oralhist.archive.workspace import init
ws = init(root / "a")
vocab = sorted({w[2].strip() for s in json.loads((Path(sys.argv[1]) / "tests/data/fleurs_fr_asr.json").read_text())["segments"]
                for w in s["words"] if w[2].strip().isalpha()})
rnd = random.Random(7)
iid = "2024-grand-entretien"
with db.session(ws) as s:
    p = Person(name="Narratrice"); s.add(p); s.flush()
    s.add(Interview(id=iid, title="Grand entretien", narrator_id=p.id, status="diarized", duration_ms=words_n * 300, language="fr"))
    s.flush(); s.add(Consent(interview_id=iid))
    sp = Speaker(interview_id=iid, label="SPEAKER_1", person_id=p.id, role=SpeakerRole.narrator); s.add(sp)
    tr = Transcript(interview_id=iid, version=1, model="base", language="fr", duration_ms=words_n * 300); s.add(tr); s.flush()
    seg_rows, word_rows = [], []
    per = 20
    for i in range(0, words_n, per):
        toks = [rnd.choice(vocab) for _ in range(min(per, words_n - i))]
        seg_rows.append({"transcript_id": tr.id, "idx": i // per, "start_ms": i * 300, "end_ms": (i + len(toks)) * 300,
                         "text": " ".join(toks), "speaker_id": sp.id})
    ids = list(s.execute(insert(Segment.__table__).returning(Segment.__table__.c.id, sort_by_parameter_order=True), seg_rows).scalars())
    k = 0
    for sid, row in zip(ids, seg_rows):
        for j, t in enumerate(row["text"].split()):
            word_rows.append({"transcript_id": tr.id, "segment_id": sid, "idx": k, "start_ms": row["start_ms"] + j * 300,
                              "end_ms": row["start_ms"] + j * 300 + 250, "text": " " + t, "probability": 0.9})
            k += 1
    s.execute(insert(Word.__table__), word_rows)
    s.commit()
from oralhist.web.auth import set_account
from oralhist.web.server import start_workbench_in_thread
from test_workbench import Client, PW
set_account(ws, "vol", PW, role="volunteer")
server, cfg, url, runner = start_workbench_in_thread(ws)
c = Client(url.rstrip("/")); assert c.login("vol")[0] == 200
out = []
for r in range(runs):
    import urllib.request
    with c.opener.open(urllib.request.Request(c.base + f"/api/i/{iid}/transcript")) as resp:
        raw = resp.read()
    p = json.loads(raw)
    segs = []
    for g in p["segments"]:
        toks = g[3].split()
        for j in range(len(toks)):
            if rnd.random() < 0.01:
                toks[j] = rnd.choice(vocab)
        segs.append({"text": " ".join(toks), "speaker_id": g[2]})
    body = {"base_version": p["version"], "segments": segs}
    db_before = (ws.root / "oralhist.db").stat().st_size + sum(f.stat().st_size for f in ws.root.glob("oralhist.db-*"))
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (peak RSS) to the current RSS
    except OSError:
        pass
    rss0 = status("VmRSS")
    c0 = time.process_time()
    t0 = time.perf_counter()
    st, res = c.call("POST", f"/api/i/{iid}/transcript", body)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert st == 200, (st, res)
    peak = status("VmHWM")
    db_after = (ws.root / "oralhist.db").stat().st_size + sum(f.stat().st_size for f in ws.root.glob("oralhist.db-*"))
    out.append({"seconds": dt, "cpu_seconds": cpu, "peak_mb": peak - rss0, "get_json_mb": len(raw) / 1e6, "post_json_mb": len(json.dumps(body)) / 1e6,
                "db_growth_mb": (db_after - db_before) / 1e6, "version": res["version"]})
server.should_exit = True
print(json.dumps(out))
"""


def run_size(words: int, runs: int) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="oralhist-bench-save-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        r = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(words), str(runs), tmp], capture_output=True,
                           text=True, env=env, timeout=1800)
        if r.returncode != 0:
            raise SystemExit(r.stderr[-3000:])
        return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    from oralhist.editorial.corrections import MAX_SAVE_WORDS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=MAX_SAVE_WORDS)
    ap.add_argument("--baseline", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    results = {}
    for label, n in (("baseline", a.baseline), ("max", a.words)):
        rows = run_size(n, a.runs)
        med = {k: round(statistics.median(r[k] for r in rows), 3) for k in rows[0] if k != "version"}
        results[label] = {"words": n, "median": med, "runs": rows}
        print(f"{label:8s} {n:>7} words: save {med['seconds']:.2f} s (CPU {med['cpu_seconds']:.2f} s), peak +{med['peak_mb']:.0f} MB, "
              f"GET {med['get_json_mb']:.2f} MB, POST {med['post_json_mb']:.2f} MB, database +{med['db_growth_mb']:.1f} MB",
              flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
