"""Network-mode benchmark (issue 12): queue overhead, transcription throughput, search.

    .venv/bin/python bench/bench_queue.py [--jobs 30] [--clips 8] [--hours 1000] [--repeat 3]

A throwaway PostgreSQL cluster (Debian's binaries) is started for the run and removed after.

1. Queue overhead per job: enqueue -> start of a job whose stage has nothing to do (the
   "empty stage": already done), with one real `oralhist worker` process (procrastinate,
   LISTEN/NOTIFY); median over --jobs jobs. Baseline in the same run: the embedded runner on
   SQLite.
2. Transcription throughput (real model, real clips): --clips FLEURS clips transcribed by 1,
   then 2 worker processes, each with one CPU thread (ORALHIST_CPU_THREADS=1): audio seconds
   per wall second, the speed-up, and the queue's own CPU share (CPU time of PostgreSQL's
   processes / all CPU time of the run).
3. Search on --hours generated hours (600 segments of 15 words per hour, French words drawn
   with their real frequencies from wordfreq, so that stop words are everywhere and content
   words as rare as in speech; FLEURS sentences repeated would make every query match a
   tenth of the archive):
   PostgreSQL full-text search and SQLite FTS5 in the same run, median and p95 over
   --repeat passes of 20 queries.

Writes bench/results-queue.json; bench/RESULTS-network.md quotes the figures.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = REPO / "tests" / "data" / "corpus"
QUERIES = ["metier", "accident", "usine", "rugissement tigre", "voiture course", "chercheurs université",
           "avion", "piste", "comité olympique", "déclaration", "développement", "cristaux", "le tigre",
           "athlètes", "montagneux", "grondements", "score", "organisation", "responsabilité", "mois"]


def load() -> str:
    return os.getloadavg().__repr__()


def start_pg(tmp: Path) -> tuple[str, list]:
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    data = tmp / "pg"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E",
                    "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l", str(data / "log"), "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/", stop


def new_db(base: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return base + name


def workspace(folder: Path, url: str | None):
    from oralhist.archive.workspace import init

    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    return init(folder)


def worker(ws, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "worker"], env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def stop(procs) -> None:
    import signal

    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def fake_done_interviews(ws, n: int) -> list[str]:
    from oralhist import db
    from oralhist.records import Interview
    from oralhist.stage import mark_done

    ids = [f"2001-bench-{k:04d}" for k in range(n)]
    with db.session(ws) as s:
        for iid in ids:
            s.add(Interview(id=iid, title=iid))
        s.flush()
        for iid in ids:
            mark_done(s, iid, "link")
        s.commit()
    return ids


def overhead(ws, ids: list[str], timeout: float = 60.0) -> list[float]:
    """ms from enqueue() to the job's start, one job at a time."""
    from oralhist import jobs

    out = []
    for iid in ids:
        t0 = time.time()
        job = jobs.enqueue(ws, iid, ["link"])[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            j = jobs.get(ws, job.id)
            if j.status == "done":
                break
            time.sleep(0.002)
        out.append((j.started_at.timestamp() - t0) * 1000)
    return out


def bench_overhead(tmp: Path, base: str, n: int) -> dict:
    from oralhist.jobs import EmbeddedRunner

    url = new_db(base, "overhead")
    ws = workspace(tmp / "ov-pg", url)
    ids = fake_done_interviews(ws, n)
    env = {**os.environ, "DATABASE_URL": url}
    w = worker(ws, env, tmp / "ov-worker.log")
    time.sleep(4)  # worker started, model not needed
    pg = overhead(ws, ids)
    stop([w])
    ws2 = workspace(tmp / "ov-lite", None)
    ids2 = fake_done_interviews(ws2, n)
    runner = EmbeddedRunner(ws2, poll_s=0.05).start()
    lite = overhead(ws2, ids2)
    runner.stop()
    return {"jobs": n, "postgres_worker_median_ms": round(statistics.median(pg), 1),
            "postgres_worker_p95_ms": round(sorted(pg)[int(0.95 * (len(pg) - 1))], 1),
            "embedded_sqlite_median_ms": round(statistics.median(lite), 1), "load": load()}


def pg_cpu_ticks() -> int:
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            parts = Path(stat).read_text().rsplit(")", 1)
            name = parts[0].split("(", 1)[1]
            f = parts[1].split()
            if name.startswith("postgres"):
                total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        except (OSError, IndexError, ValueError):
            pass
    return total


def bench_throughput(tmp: Path, base: str, n_clips: int) -> dict:
    import resource

    from oralhist import jobs
    from oralhist.jobs.pipeline import ingest_locked, run_stage
    from oralhist.archive.ingest import IngestMeta

    clips = sorted((CORPUS / "fr").glob("*.ogg"))[:n_clips]
    out = {"clips": len(clips)}
    for n_workers in (1, 2):
        url = new_db(base, f"tp{n_workers}")
        ws = workspace(tmp / f"tp{n_workers}", url)
        rep = ingest_locked(ws, clips, meta=IngestMeta(narrator="Bench", date="2001"))
        ids = rep.done
        run_stage(ws, "normalise", ids)
        audio_s = 0.0
        from oralhist import db
        from oralhist.records import Interview

        with db.session(ws) as s:
            audio_s = sum(s.get(Interview, i).duration_ms for i in ids) / 1000
        env = {**os.environ, "DATABASE_URL": url, "ORALHIST_CPU_THREADS": "1", "OMP_NUM_THREADS": "1"}
        procs = [worker(ws, env, tmp / f"tp{n_workers}-{k}.log") for k in range(n_workers)]
        time.sleep(6)  # workers up (imports) before the clock starts
        pg0 = pg_cpu_ticks()
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        for iid in ids:
            jobs.enqueue(ws, iid, ["transcribe"])
        while jobs.list_jobs(ws, statuses=["queued", "running"]):
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        pg1 = pg_cpu_ticks()
        stop(procs)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        pg_cpu = (pg1 - pg0) / os.sysconf("SC_CLK_TCK")
        failed = jobs.list_jobs(ws, statuses=["failed"])
        out[f"workers_{n_workers}"] = {"audio_s": round(audio_s, 1), "wall_s": round(wall, 1),
                                       "audio_s_per_wall_s": round(audio_s / wall, 3), "failed": len(failed),
                                       "postgres_cpu_s": round(pg_cpu, 2), "worker_cpu_s": round(worker_cpu, 1),
                                       "queue_cpu_share": round(pg_cpu / max(1e-9, pg_cpu + worker_cpu), 4),
                                       "load": load()}
    out["speedup_2_vs_1"] = round(out["workers_2"]["audio_s_per_wall_s"] / out["workers_1"]["audio_s_per_wall_s"], 2)
    return out


def word_sampler(seed: int = 1):
    """French words drawn with their real frequencies (wordfreq's 30,000 most frequent words,
    Zipf's law as in speech: stop words everywhere, most content words rare)."""
    from wordfreq import top_n_list, word_frequency

    words = top_n_list("fr", 30_000)
    weights = [word_frequency(w, "fr") for w in words]
    rng = random.Random(seed)

    def draw(n: int) -> list[str]:
        return rng.choices(words, weights=weights, k=n)

    return draw


def fill(ws, hours: int, per_hour: int = 600, words_per_segment: int = 15) -> int:
    """``hours`` interviews of one transcript each, ``per_hour`` segments of ~15 words each
    (about 9,000 words an hour, the rate of conversational French)."""
    from sqlalchemy import insert

    from oralhist import db
    from oralhist.records import Interview, Segment, Transcript

    draw = word_sampler()
    engine = db.engine_for(ws)
    n = 0
    with engine.begin() as conn:
        conn.execute(insert(Interview.__table__), [dict(id=f"h{h:05d}", title=f"h{h}", language="fr", status="transcribed",
                                                        duration_ms=3_600_000, created_at=_now(), updated_at=_now())
                                                   for h in range(hours)])
        conn.execute(insert(Transcript.__table__), [dict(id=h + 1, interview_id=f"h{h:05d}", version=1, status="machine",
                                                         source="machine", duration_ms=3_600_000, created_at=_now())
                                                    for h in range(hours)])
    for h0 in range(0, hours, 50):
        rows = []
        hs = range(h0, min(hours, h0 + 50))
        pool = draw(len(hs) * per_hour * words_per_segment)
        n_word = 0
        for h in hs:
            for k in range(per_hour):
                text = " ".join(pool[n_word:n_word + words_per_segment])
                n_word += words_per_segment
                rows.append(dict(transcript_id=h + 1, idx=k, start_ms=k * 6000, end_ms=k * 6000 + 5500, text=text))
        with engine.begin() as conn:
            conn.execute(insert(Segment.__table__), rows)
        n += len(rows)
    return n


def _now():
    from oralhist.records import utcnow

    return utcnow()


def time_queries(ws, repeat: int) -> list[float]:
    from oralhist import db
    from oralhist.editorial.search import search

    times = []
    with db.session(ws) as s:
        search(s, "usine")  # warm
        for _ in range(repeat):
            for q in QUERIES:
                t0 = time.perf_counter()
                search(s, q, limit=20)
                times.append((time.perf_counter() - t0) * 1000)
    return times


def bench_search(tmp: Path, base: str, hours: int, repeat: int) -> dict:
    out = {"hours": hours, "queries": len(QUERIES), "repeat": repeat}
    for name, url in (("postgres", new_db(base, "search")), ("sqlite_fts5", None)):
        ws = workspace(tmp / f"s-{name}", url)
        t0 = time.perf_counter()
        n = fill(ws, hours)
        if url:
            from oralhist import db

            with db.engine_for(ws).begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        fill_s = time.perf_counter() - t0
        t = sorted(time_queries(ws, repeat))
        out[name] = {"segments": n, "fill_s": round(fill_s, 1), "median_ms": round(statistics.median(t), 1),
                     "p95_ms": round(t[int(0.95 * (len(t) - 1))], 1), "max_ms": round(t[-1], 1), "load": load()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--hours", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["overhead", "throughput", "search"], default=None)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="oralhist-bench-queue-"))
    base, stop_cmd = start_pg(tmp)
    res: dict = {}
    try:
        if a.only in (None, "overhead"):
            res["overhead"] = bench_overhead(tmp, base, a.jobs)
            print(json.dumps(res["overhead"]), flush=True)
        if a.only in (None, "search"):
            res["search"] = bench_search(tmp, base, a.hours, a.repeat)
            print(json.dumps(res["search"]), flush=True)
        if a.only in (None, "throughput"):
            res["throughput"] = bench_throughput(tmp, base, a.clips)
            print(json.dumps(res["throughput"]), flush=True)
    finally:
        subprocess.run(stop_cmd, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    out = REPO / "bench" / "results-queue.json"
    old = json.loads(out.read_text()) if out.exists() else {}
    old.update(res)
    out.write_text(json.dumps(old, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
