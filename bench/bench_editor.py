"""Editor page benchmark (issue 6): a one-hour interview opened in headless Chromium.

    .venv/bin/python bench/bench_editor.py [--repeat 5]

The interview: the one-hour transcript of bench_align.py (real Whisper base words, ~10,400
words, 770 segments, two speakers) and a one-hour MP3 listening copy (the FLEURS clips looped,
48 kb/s, as `normalise` writes it). The editor runs in-process (uvicorn in a thread);
Debian Chromium (headless, Playwright) opens the editor page in a fresh browser context
each run.

Measured (median of --repeat runs):
- load time: from navigation start to every segment rendered with its word spans;
- bytes transferred for everything but the audio (HTML, CSS, JS, transcript JSON; gzip
  on the wire), from Chromium's own request sizes;
- baseline in the same run: the same transcript JSON without gzip (what it would cost
  without compression);
- undo (issue 11): a split (Ctrl+Entrée: one snapshot of the whole editor state, then the
  split) and its undo (Ctrl+Z: the state restored from the snapshot), keypress to the segment
  count changing, against a baseline in the same page: a key that changes nothing (Shift).

Writes bench/results-editor.json; bench/RESULTS-editor.md quotes the figures.
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
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "data"))
CHROMIUM = "/usr/bin/chromium"
IID = "une-heure"


def build(root: Path):
    import imageio_ffmpeg
    from sqlalchemy import insert

    from bench_align import HOUR_MS, one_hour
    from make_fleurs_asr import join_clips
    from oralhist import db
    from oralhist.records import Derivative, Interview, Person, Segment, Speaker, SpeakerRole, Transcript, Word
    from oralhist.archive.workspace import init

    ws = init(root / "archive")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    d = ws.derived_dir(IID)
    d.mkdir(parents=True)
    corpus = REPO / "tests" / "data" / "corpus"
    corpus = corpus if corpus.is_dir() else REPO.parent / "shared" / "corpus"
    clip = join_clips(corpus, root / "clip.mp3", ffmpeg, rate=22050,
                      extra=["-c:a", "libmp3lame", "-b:a", "48k"])
    access = d / "access.mp3"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-stream_loop", "-1", "-i", str(clip), "-t", "3600", "-c", "copy",
                    str(access)], check=True)
    old = one_hour()
    with db.session(ws) as s:
        p = Person(name="Narratrice")
        s.add(p)
        s.flush()
        s.add(Interview(id=IID, title="Une heure de témoignage", narrator_id=p.id, duration_ms=HOUR_MS))
        s.flush()
        sp1 = Speaker(interview_id=IID, label="SPEAKER_1", person_id=p.id, role=SpeakerRole.narrator)
        sp2 = Speaker(interview_id=IID, label="SPEAKER_2", name="Enquêteur", role=SpeakerRole.interviewer)
        s.add(sp1)
        s.add(sp2)
        tr = Transcript(interview_id=IID, version=1)
        s.add(tr)
        s.flush()
        rows = []
        for i, o in enumerate(old):
            sg = Segment(transcript_id=tr.id, idx=i, start_ms=o.start_ms, end_ms=o.end_ms, text=o.text,
                         speaker_id=sp1.id if i % 7 else sp2.id)
            s.add(sg)
            s.flush()
            rows += [dict(transcript_id=tr.id, segment_id=sg.id, idx=len(rows) + j, start_ms=w.start_ms,
                          end_ms=w.end_ms, text=w.text, probability=w.probability) for j, w in enumerate(o.words)]
        s.execute(insert(Word), rows)
        s.add(Derivative(interview_id=IID, kind="access", path=ws.rel(access),
                         sha256=hashlib.sha256(access.read_bytes()).hexdigest(), duration_ms=HOUR_MS))
        s.commit()
    return ws, len(old), len(rows), access.stat().st_size


def undo_times(page, n_segs: int, splits: list, undos: list, noops: list) -> None:
    """Ctrl+Enter (split, after snapshotting the editor) and Ctrl+Z (restore) on the whole hour."""
    count = "document.querySelectorAll('#segments .seg').length"
    page.uncheck("#autosave")
    page.evaluate("""() => { const t = document.querySelectorAll('#segments .text')[300]; t.focus();
        const w = t.querySelectorAll('span.w')[2]; const r = document.createRange(); r.setStart(w.firstChild, 0);
        const s = getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    t0 = time.perf_counter()
    page.keyboard.press("Shift")
    page.evaluate(count)
    noops.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(f"{count} === {n_segs + 1}", polling=10)
    splits.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{count} === {n_segs}", polling=10)
    undos.append(time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from oralhist.web.server import start_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        ws, n_segs, n_words, audio_bytes = build(Path(tmp))
        server, cfg, url = start_in_thread(ws)
        base = url.split("?")[0]
        # baseline: the transcript JSON without compression
        req = urllib.request.Request(f"{base}api/i/{IID}/transcript", headers={"Accept-Encoding": "identity"})
        req.add_header("Cookie", f"oralhist_token={cfg.token}")
        raw_json = len(urllib.request.urlopen(req).read())
        loads, transfers, json_wire = [], [], []
        splits, undos, noops = [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                              "--disable-background-networking"])
            for _ in range(args.repeat):
                ctx = browser.new_context(locale="fr-FR", bypass_csp=True)
                page = ctx.new_page()
                page.goto(url)  # token -> cookie (not counted)
                sizes = []
                page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes())))
                t0 = time.perf_counter()
                page.goto(f"{base}i/{IID}")
                page.wait_for_function(f"() => document.querySelectorAll('#segments .seg').length === {n_segs} "
                                       f"&& document.querySelectorAll('#segments span.w').length > {n_words // 2}",
                                       timeout=60000, polling=50)
                loads.append(time.perf_counter() - t0)
                page.wait_for_timeout(300)
                non_audio = [(u, s) for u, s in sizes if "/audio/" not in u]
                transfers.append(sum(s["responseBodySize"] + s["responseHeadersSize"] for _, s in non_audio))
                json_wire.append(sum(s["responseBodySize"] for u, s in non_audio if "/api/" in u))
                undo_times(page, n_segs, splits, undos, noops)
                ctx.close()
            browser.close()
        server.should_exit = True
    out = {
        "interview": {"duration_min": 60, "segments": n_segs, "words": n_words, "audio_mp3_bytes": audio_bytes},
        "browser": "Debian chromium, headless (Playwright), fresh context per run",
        "load_s_median": round(statistics.median(loads), 3),
        "load_s_runs": [round(x, 3) for x in loads],
        "transferred_without_audio_bytes_median": int(statistics.median(transfers)),
        "transferred_runs": transfers,
        "transcript_json_on_wire_bytes": int(statistics.median(json_wire)),
        "baseline_transcript_json_uncompressed_bytes": raw_json,
        "split_with_undo_snapshot_s_median": round(statistics.median(splits), 3),
        "undo_s_median": round(statistics.median(undos), 3),
        "baseline_noop_key_s_median": round(statistics.median(noops), 3),
        "undo_runs": {"split": [round(x, 3) for x in splits], "undo": [round(x, 3) for x in undos],
                      "noop": [round(x, 3) for x in noops]},
        "load_average": open("/proc/loadavg").read().split()[:3],
    }
    print(json.dumps(out, indent=2))
    (REPO / "bench" / "results-editor.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
