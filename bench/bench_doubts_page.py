"""Doubtful words on a three-hour transcript in the editor (issue 23, item 1).

    .venv/bin/python bench/bench_doubts_page.py [--hours 3] [--repeat 3]

The interview: bench_align.py's one-hour transcript (real Whisper base words) three times over
(~31,000 words, ~2,300 segments) with a three-hour MP3 listening copy, in a real server; Debian
Chromium (headless, Playwright) opens the editor in a fresh context each run.

Measured (median of --repeat runs):
- page load: navigation to every segment rendered and the doubt counter filled;
- jump: Alt+N's work (`OHDoubts.jump(1)`: find the next doubtful word, place the caret, scroll,
  seek) up to the next painted frame, 20 jumps from the start and 20 from the middle;
  baseline in the same page: a frame with nothing to do;
- in process: the editor's transcript JSON (`transcript_payload`) and, inside it, the doubt
  rule over every word (`doubts.doubtful_keys`), CPU seconds.
Writes bench/results-doubts-page.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "data"))
CHROMIUM = "/usr/bin/chromium"
IID = "trois-heures"


def build(root: Path, hours: int):
    import imageio_ffmpeg
    from sqlalchemy import insert

    from bench_align import HOUR_MS, one_hour
    from make_fleurs_asr import join_clips
    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.records import Derivative, Interview, Person, Segment, Speaker, SpeakerRole, Transcript, Word

    ws = init(root / "archive")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    d = ws.derived_dir(IID)
    d.mkdir(parents=True)
    corpus = REPO / "tests" / "data" / "corpus"
    clip = join_clips(corpus, root / "clip.mp3", ffmpeg, rate=22050, extra=["-c:a", "libmp3lame", "-b:a", "48k"])
    access = d / "access.mp3"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-stream_loop", "-1", "-i", str(clip), "-t", str(3600 * hours),
                    "-c", "copy", str(access)], check=True)
    hour = one_hour()
    with db.session(ws) as s:
        p = Person(name="Narratrice")
        s.add(p)
        s.flush()
        s.add(Interview(id=IID, title="Trois heures de témoignage", narrator_id=p.id, duration_ms=HOUR_MS * hours))
        s.flush()
        sp1 = Speaker(interview_id=IID, label="SPEAKER_1", person_id=p.id, role=SpeakerRole.narrator)
        sp2 = Speaker(interview_id=IID, label="SPEAKER_2", name="Enquêteur", role=SpeakerRole.interviewer)
        s.add(sp1)
        s.add(sp2)
        tr = Transcript(interview_id=IID, version=1, model="base", language="fr", duration_ms=HOUR_MS * hours)
        s.add(tr)
        s.flush()
        rows, n_segs = [], 0
        for h in range(hours):
            off = h * HOUR_MS
            for o in hour:
                sg = Segment(transcript_id=tr.id, idx=n_segs, start_ms=o.start_ms + off, end_ms=o.end_ms + off,
                             text=o.text, speaker_id=sp1.id if n_segs % 7 else sp2.id)
                s.add(sg)
                s.flush()
                n_segs += 1
                rows += [dict(transcript_id=tr.id, segment_id=sg.id, idx=len(rows) + j, start_ms=w.start_ms + off,
                              end_ms=w.end_ms + off, text=w.text, probability=w.probability)
                         for j, w in enumerate(o.words)]
        s.execute(insert(Word), rows)
        s.add(Derivative(interview_id=IID, kind="access", path=ws.rel(access),
                         sha256=hashlib.sha256(access.read_bytes()).hexdigest(), duration_ms=HOUR_MS * hours))
        s.commit()
    return ws, n_segs, len(rows)


JUMPS = """async (n) => {
  const out = [], idle = [], js = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    window.OHDoubts.jump(1);
    js.push(performance.now() - t);
    await new Promise(r => requestAnimationFrame(() => r()));
    out.push(performance.now() - t);
    t = performance.now();
    await new Promise(r => requestAnimationFrame(() => r()));
    idle.push(performance.now() - t);
    document.getElementById('audio').pause();
  }
  return [out, idle, js];
}"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--code", default=None, help="measure the oralhist package in this folder instead (a baseline: "
                    "git archive COMMIT oralhist | tar -x -C DIR)")
    ap.add_argument("--out", default="results-doubts-page.json")
    args = ap.parse_args()
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    from playwright.sync_api import sync_playwright

    from oralhist import db
    from oralhist.editorial.corrections import get_version
    from oralhist.editorial.doubts import doubtful_keys
    from oralhist.web.editor import transcript_payload
    from oralhist.web.server import start_in_thread

    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ws, n_segs, n_words = build(Path(tmp), args.hours)
        payload, rule = [], []
        for _ in range(args.repeat):
            with db.session(ws) as s:
                c0 = time.process_time()
                d = transcript_payload(s, IID)
                c1 = time.process_time()
                doubtful_keys(s, get_version(s, IID))
                c2 = time.process_time()
            payload.append(c1 - c0)
            rule.append(c2 - c1)
        n_doubt = sum(t[4] for sg in d["segments"] for t in sg[4])
        server, cfg, url = start_in_thread(ws)
        base = url.split("?")[0]
        loads, jumps_start, jumps_mid, idle, load_avg, jump_js = [], [], [], [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
                                              "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"])
            for _ in range(args.repeat):
                ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
                page = ctx.new_page()
                page.goto(url)
                t0 = time.perf_counter()
                page.goto(f"{base}i/{IID}")
                page.wait_for_function(f"() => document.querySelectorAll('#segments .seg').length === {n_segs} "
                                       "&& document.getElementById('doubt-count').textContent.includes('douteux')",
                                       timeout=120000, polling=50)
                loads.append(time.perf_counter() - t0)
                load_avg.append(open("/proc/loadavg").read().split()[0])
                page.wait_for_function("document.getElementById('audio').readyState >= 1", timeout=60000)
                j, i, js = page.evaluate(JUMPS, 20)
                jumps_start += j
                idle += i
                jump_js += js
                page.evaluate(f"document.getElementById('audio').currentTime = {args.hours * 1800}")
                page.evaluate("window.OHDoubts && null")
                page.evaluate("() => { document.querySelectorAll('.doubt-cur').forEach(e => e.classList.remove('doubt-cur')); }")
                j, i, js = page.evaluate(JUMPS, 20)
                jumps_mid += j
                jump_js += js
                ctx.close()
            browser.close()
        server.should_exit = True
    out = {
        "interview": {"hours": args.hours, "segments": n_segs, "words": n_words, "doubtful_tokens": n_doubt},
        "load_s_median": round(statistics.median(loads), 3), "load_s_runs": [round(x, 3) for x in loads],
        "jump_ms_median": round(statistics.median(jumps_start + jumps_mid), 2),
        "jump_ms_max": round(max(jumps_start + jumps_mid), 2),
        "jump_ms_median_from_start": round(statistics.median(jumps_start), 2),
        "jump_ms_median_from_middle": round(statistics.median(jumps_mid), 2),
        "baseline_idle_frame_ms_median": round(statistics.median(idle), 2),
        "jump_script_ms_median": round(statistics.median(jump_js), 2), "jump_script_ms_max": round(max(jump_js), 2),
        "transcript_payload_cpu_s_median": round(statistics.median(payload), 3),
        "doubt_rule_cpu_s_median": round(statistics.median(rule), 3),
        "load_average": open("/proc/loadavg").read().split()[:3], "load_average_at_each_load": load_avg,
        "code": str(Path(sys.modules["oralhist"].__file__).parent),
    }
    print(json.dumps(out, indent=2))
    (REPO / "bench" / args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
