"""« Replace everywhere » on a large archive (issue 23, item 2).

    .venv/bin/python bench/bench_replace.py [--interviews 1000] [--touched 50] [--runs 3] [--every]

The archive: --interviews one-hour interviews (the one-hour transcript of bench_align.py: real
Whisper base words, ~10,400 words and 770 segments each), 8 per museum (~120 museums), cloned
with SQL inside SQLite so generating 10 million words takes seconds. « Roubé » is planted in
three segments of --touched interviews (every 20th: a misheard name in some museums).

Measured, median of --runs (each run: apply, then undo, so the next run starts from the same text):
- `oralhist replace Roubé Roubaix --all --json` — the real command in a subprocess (start-up,
  search of every newest version, one new version per touched interview, one transaction);
- baseline in the same run: `--dry-run --all` (the same search, nothing written);
- `--undo` of that replace;
- the preview of one museum's occurrences (`editorial.replace.preview(museum=...)`, in process,
  what the web page calls), and `--dry-run --museum` through the command.
--every: also one run of a word in every interview (« atlettes », ~70 times an hour).
Wall and CPU (user+sys of the child) seconds; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
PER_MUSEUM = 8


def build(root: Path, n: int, touched_every: int):
    from bench_align import HOUR_MS, one_hour
    from oralhist.archive.workspace import init

    if root.exists():
        shutil.rmtree(root)
    ws = init(root / "archive", title="Banc remplacer")
    old = one_hour()
    con = sqlite3.connect(ws.root / "oralhist.db")
    cur = con.cursor()
    n_mus = (n + PER_MUSEUM - 1) // PER_MUSEUM
    cur.executemany("INSERT INTO museum (id, name) VALUES (?, ?)", [(m + 1, f"Musée {m}") for m in range(n_mus)])
    now = "2026-01-01 00:00:00.000000"
    cur.executemany(
        "INSERT INTO interview (id, title, museum_id, language, status, duration_ms, created_at, updated_at) "
        "VALUES (?, ?, ?, 'fr', 'transcribed', ?, ?, ?)",
        [(f"iv-{k:04d}", f"Entretien {k}", k // PER_MUSEUM + 1, HOUR_MS, now, now) for k in range(n)])
    cur.executemany("INSERT INTO transcript (id, interview_id, version, status, source, model, language, duration_ms, "
                    "created_at) VALUES (?, ?, 1, 'machine', 'machine', 'base', 'fr', ?, ?)",
                    [(k + 1, f"iv-{k:04d}", HOUR_MS, now) for k in range(n)])
    # the template (transcript 1), then clones by SQL: segment ids in blocks of len(old)
    ns = len(old)
    cur.executemany("INSERT INTO segment (id, transcript_id, idx, start_ms, end_ms, text) VALUES (?, 1, ?, ?, ?, ?)",
                    [(i + 1, i, o.start_ms, o.end_ms, o.text) for i, o in enumerate(old)])
    rows, idx = [], 0
    for i, o in enumerate(old):
        for w in o.words:
            rows.append((1, i + 1, idx, w.start_ms, w.end_ms, w.text, w.probability))
            idx += 1
    cur.executemany("INSERT INTO word (transcript_id, segment_id, idx, start_ms, end_ms, text, probability) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    for k in range(1, n):
        cur.execute("INSERT INTO segment (id, transcript_id, idx, start_ms, end_ms, text) "
                    "SELECT id + ?, ?, idx, start_ms, end_ms, text FROM segment WHERE transcript_id = 1", (k * ns, k + 1))
        cur.execute("INSERT INTO word (transcript_id, segment_id, idx, start_ms, end_ms, text, probability) "
                    "SELECT ?, segment_id + ?, idx, start_ms, end_ms, text, probability FROM word WHERE transcript_id = 1",
                    (k + 1, k * ns))
    # « Roubé » planted in 3 segments of every touched_every-th interview (its first word, text and word row)
    planted = 0
    for k in range(0, n, touched_every):
        for i in (5, ns // 2, ns - 5):
            sid = k * ns + i + 1
            first = cur.execute("SELECT id, text FROM word WHERE segment_id = ? ORDER BY idx LIMIT 1", (sid,)).fetchone()
            text = cur.execute("SELECT text FROM segment WHERE id = ?", (sid,)).fetchone()[0]
            cur.execute("UPDATE segment SET text = ? WHERE id = ?", (text.replace(first[1], "Roubé", 1), sid))
            cur.execute("UPDATE word SET text = 'Roubé' WHERE id = ?", (first[0],))
            planted += 1
    con.commit()
    words = cur.execute("SELECT COUNT(*) FROM word").fetchone()[0]
    con.close()
    return ws, {"interviews": n, "museums": n_mus, "segments": n * ns, "words": words, "planted": planted}


def oralhist(ws, *args, code: Path = REPO) -> tuple[float, float, dict | str]:
    """Run the real command (the package under ``code``); (wall s, child CPU s, its JSON output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), *args], capture_output=True, cwd=str(code),
                       text=True, env={**os.environ, "PYTHONPATH": str(code)})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = p.stdout
    return round(wall, 2), round(cpu, 2), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interviews", type=int, default=1000)
    ap.add_argument("--touched", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--every", action="store_true")
    ap.add_argument("--root", default=os.environ.get("ORALHIST_BENCH_TMP", "/var/tmp/oralhist-doubts-replace-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the generated archive, and reuse one kept before")
    ap.add_argument("--baseline", default=None, help="a folder holding an older oralhist package: its apply, undo "
                    "and dry-run are measured in the same runs (git archive COMMIT oralhist | tar -x -C DIR)")
    args = ap.parse_args()
    from oralhist.editorial.replace import preview

    t0 = time.perf_counter()
    kept = Path(args.root) / "size.json"
    if args.keep and kept.is_file():
        from oralhist.archive.workspace import open_workspace

        ws, size = open_workspace(Path(args.root) / "archive"), json.loads(kept.read_text())
    else:
        ws, size = build(Path(args.root), args.interviews, max(1, args.interviews // args.touched))
        size["generate_s"] = round(time.perf_counter() - t0, 1)
        kept.write_text(json.dumps(size))
    size["db_mb"] = round((ws.root / "oralhist.db").stat().st_size / 1e6)
    print(json.dumps(size), flush=True)
    res: dict = {"size": size, "load_before": os.getloadavg(), "runs": []}
    for _ in range(args.runs):
        r = {}
        if args.baseline:  # the older code first, on the same archive (its undo puts the text back)
            base = Path(args.baseline)
            r["baseline_dry_run_all"] = oralhist(ws, "replace", "Roubé", "Roubaix", "--all", "--dry-run", "--json",
                                                 code=base)[:2]
            w, c, out = oralhist(ws, "replace", "Roubé", "Roubaix", "--all", "--json", code=base)
            r["baseline_apply_all"] = (w, c)
            r["baseline_undo"] = oralhist(ws, "replace", "--undo", str(out["batch"]), "--json", code=base)[:2]
        r["dry_run_all"] = oralhist(ws, "replace", "Roubé", "Roubaix", "--all", "--dry-run", "--json")[:2]
        w, c, out = oralhist(ws, "replace", "Roubé", "Roubaix", "--all", "--json")
        r["apply_all"] = (w, c)
        r["replaced"], r["interviews_touched"] = out["replaced"], out["interviews"]
        r["undo"] = oralhist(ws, "replace", "--undo", str(out["batch"]), "--json")[:2]
        t1, c1 = time.perf_counter(), time.process_time()
        found = preview(ws, "Roubé", "Roubaix", museum="Musée 0")
        r["preview_museum_in_process"] = (round(time.perf_counter() - t1, 3), round(time.process_time() - c1, 3))
        r["preview_museum_occurrences"] = found.total
        r["dry_run_museum_cli"] = oralhist(ws, "replace", "Roubé", "Roubaix", "--museum", "Musée 0", "--dry-run", "--json")[:2]
        res["runs"].append(r)
        r["load"] = os.getloadavg()
        print(json.dumps(r), flush=True)
    med = {k: [statistics.median(r[k][0] for r in res["runs"]), statistics.median(r[k][1] for r in res["runs"])]
           for k in ("dry_run_all", "apply_all", "undo", "preview_museum_in_process", "dry_run_museum_cli",
                     "baseline_dry_run_all", "baseline_apply_all", "baseline_undo") if k in res["runs"][0]}
    res["median_wall_cpu_s"] = med
    if args.every:
        w, c, out = oralhist(ws, "replace", "atlettes", "athlètes", "--all", "--json")
        res["every_interview_one_run"] = {"wall_s": w, "cpu_s": c, "replaced": out["replaced"],
                                          "interviews": out["interviews"]}
    res["load_after"] = os.getloadavg()
    print(json.dumps(res, indent=1))
    (REPO / "bench" / "results-replace.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(args.root, ignore_errors=True)


if __name__ == "__main__":
    main()
