"""The job table at scale (issue 22 item 3), on a throwaway PostgreSQL cluster:

- the archive page (GET /, a real workbench) with 100,000 historical jobs, against the same
  page with none (baseline, same run);
- enqueue of every stage of 1,000 interviews: one batch (``enqueue_many``) against one call
  per interview (baseline, same run);
- ``oralhist worker`` start (until procrastinate takes jobs) with that 1,000-interview backlog,
  against an empty archive (baseline, same run);
- queue overhead (enqueue -> start of an already-done stage, 30 jobs) with a 5,000-job backlog
  on another queue, against no backlog (baseline, same run).

Usage: python bench/bench_jobs_scale.py [--repeat 3]   (prints JSON; the load is recorded)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests")]

from bench_queue import fake_done_interviews, new_db, overhead, start_pg, stop, workspace  # noqa: E402


def load() -> float:
    return round(os.getloadavg()[0], 2)


def interviews(ws, n: int, prefix: str) -> list[str]:
    from oralhist import db
    from oralhist.records import Interview

    ids = [f"{prefix}-{k:04d}" for k in range(n)]
    with db.session(ws) as s:
        s.add_all([Interview(id=i, title=i, status="transcribed") for i in ids])
        s.commit()
    return ids


def history(ws, ids: list[str], n: int) -> None:
    """``n`` finished jobs spread over the interviews and the last 20 days (not yet prunable)."""
    from sqlalchemy import insert

    from oralhist import db
    from oralhist.jobs import STAGE_ORDER
    from oralhist.records import Job

    now = datetime.now(timezone.utc)
    rows = [dict(interview_id=ids[k % len(ids)], stage=STAGE_ORDER[k % 5], status="done" if k % 50 else "failed",
                 progress=1.0, message="Terminé", attempts=1, priority=0, queue="default", force=False,
                 created_at=now - timedelta(minutes=k % 28_000), finished_at=now - timedelta(minutes=k % 28_000))
            for k in range(n)]
    with db.engine_for(ws).begin() as conn:
        for i in range(0, n, 10_000):
            conn.execute(insert(Job.__table__), rows[i:i + 10_000])


def page_time(ws, repeat: int) -> float:
    from test_workbench import PW, Client

    from oralhist.web.auth import set_account
    from oralhist.web.server import start_workbench_in_thread

    set_account(ws, "admin", PW, role="admin")
    server, cfg, url, _ = start_workbench_in_thread(ws, runner=False)
    c = Client(url.rstrip("/"))
    c.login("admin")
    times = []
    for _ in range(repeat + 1):
        t = time.perf_counter()
        c.opener.open(urllib.request.Request(url.rstrip("/") + "/")).read()
        times.append(time.perf_counter() - t)
    server.should_exit = True
    return round(statistics.median(times[1:]), 3)


def worker_start(ws, url: str, log: Path) -> float:
    """Seconds from the process's start to procrastinate's 'Starting worker' line."""
    env = {**os.environ, "DATABASE_URL": url}
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "worker", "--queue", "none"],
                         env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        while "Starting worker" not in log.read_text(errors="replace"):
            if p.poll() is not None or time.perf_counter() - t > 120:
                raise RuntimeError(log.read_text(errors="replace")[-2000:])
            time.sleep(0.02)
        return round(time.perf_counter() - t, 3)
    finally:
        stop([p])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--history", type=int, default=100_000)
    ap.add_argument("--backlog", type=int, default=1000)
    ap.add_argument("--baseline-n", type=int, default=100)
    a = ap.parse_args()
    from oralhist import jobs

    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the cluster is stopped on the way out
    tmp = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    os.chmod(tmp, 0o755)
    base, stop_pg = start_pg(tmp)
    out: dict = {"load_start": load()}
    try:
        # 1. enqueue: one batch against one call per interview (fresh databases each)
        batch, single = [], []
        for r in range(a.repeat):
            url = new_db(base, f"enq_b{r}")
            ws = workspace(tmp / f"enq-b{r}", url)
            ids = interviews(ws, a.backlog, "b")
            t = time.perf_counter()
            jobs.enqueue_many(ws, ids)
            batch.append(time.perf_counter() - t)
            print(json.dumps({"enqueue_batch_s": round(batch[-1], 2), "load": load()}), flush=True)
        # baseline: one call per interview, on --baseline-n interviews (scaled to the same count)
        url = new_db(base, "enq_s")
        ws1 = workspace(tmp / "enq-s", url)
        ids1 = interviews(ws1, a.baseline_n, "s")
        t = time.perf_counter()
        for iid in ids1:
            jobs.enqueue(ws1, iid)
        single.append((time.perf_counter() - t) * a.backlog / a.baseline_n)
        out["enqueue"] = {"interviews": a.backlog, "batch_s": [round(x, 2) for x in batch],
                          "one_by_one_s_scaled": [round(x, 2) for x in single], "one_by_one_measured_on": a.baseline_n,
                          "load": load()}
        print(json.dumps(out["enqueue"]), flush=True)
        backlog_ws, backlog_url = ws, ws.database_url  # the last batch database: 1,000 interviews queued
        # 2. worker start: the backlog against an empty archive
        empty_url = new_db(base, "empty")
        empty_ws = workspace(tmp / "empty", empty_url)
        out["worker_start"] = {
            "backlog_s": [worker_start(backlog_ws, backlog_url, tmp / f"wb{r}.log") for r in range(a.repeat)],
            "empty_s": [worker_start(empty_ws, empty_url, tmp / f"we{r}.log") for r in range(a.repeat)],
            "load": load()}
        print(json.dumps(out["worker_start"]), flush=True)
        # 3. queue overhead: 30 jobs on "default" with the backlog on "bulk", against no backlog
        res = {}
        for name, with_backlog in (("no_backlog", False), ("backlog_5000", True)):
            url = new_db(base, f"ov_{name}")
            ws = workspace(tmp / f"ov-{name}", url)
            if with_backlog:
                jobs.enqueue_many(ws, interviews(ws, 1000, "bulk"), queue="bulk")
            ids = fake_done_interviews(ws, 30)
            env = {**os.environ, "DATABASE_URL": url}
            w = subprocess.Popen([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "worker", "--queue",
                                  "default"], env=env, stdout=open(tmp / f"ov-{name}.log", "w"), stderr=subprocess.STDOUT)
            while "Starting worker" not in (tmp / f"ov-{name}.log").read_text(errors="replace"):
                time.sleep(0.05)
            ms = sorted(overhead(ws, ids))
            stop([w])
            res[name] = {"median_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}
        out["overhead"] = {**res, "load": load()}
        print(json.dumps(out["overhead"]), flush=True)
        # 4. the archive page: 1,000 interviews, 100,000 historical jobs, against none
        url = new_db(base, "page")
        ws = workspace(tmp / "page", url)
        ids = interviews(ws, 1000, "p")
        empty_page = page_time(ws, a.repeat)
        history(ws, ids, a.history)
        out["archive_page"] = {"jobs": a.history, "with_history_s": page_time(ws, a.repeat),
                               "no_jobs_s": empty_page, "load": load()}
    finally:
        subprocess.run(stop_pg, capture_output=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
