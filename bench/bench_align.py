"""Re-alignment benchmark (issue 6): a one-hour transcript with 5 % of its words edited.

    .venv/bin/python bench/bench_align.py [--repeat 5] [--edit 0.05] [--seed 1]

The hour is made of REAL recogniser output (tests/data/fleurs_fr_asr.json: Whisper base
on four FLEURS French clips, 149 words in 50 s) laid end to end with time offsets until it
lasts 60 minutes (~10,700 words, 792 segments; the repetition makes alignment harder, not
easier: the same sentences recur). Then 5 % of the tokens are edited the way correctors do
(60 % replaced by another spelling, 20 % deleted, 20 % a word inserted after), and 2 % of
the segments are split or merged.

Measured (median of --repeat runs, one process, same machine):
- ``align.realign`` time for the whole hour, and the share of UNTOUCHED words whose
  (start, end, text) is not found unchanged in the result (must be 0);
- the full save (``corrections.save_version``: realign + a new version of ~10,700 word rows +
  a Revision, one SQLite transaction);
- baseline, in the same run: what an editor without word alignment does (keep each
  segment's span, spread its words evenly over it) — the share of untouched words it moves.

Writes bench/results-align.json; bench/RESULTS-editor.md quotes the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ASR = json.loads((REPO / "tests" / "data" / "fleurs_fr_asr.json").read_text(encoding="utf-8"))
HOUR_MS = 3_600_000


def one_hour():
    """OldSegments of a one-hour transcript built from real recognised words (stripped, as stored)."""
    from oralhist.recognition.align import AWord, OldSegment

    period = ASR["duration_ms"] + 1000
    segs = []
    offset = 0
    while offset + period <= HOUR_MS:
        for s in ASR["segments"]:
            words = tuple(AWord(w[0] + offset, w[1] + offset, w[2].strip(), w[3]) for w in s["words"])
            segs.append(OldSegment(s["start_ms"] + offset, s["end_ms"] + offset, s["text"], words))
        offset += period
    return segs


def edit(old, rate: float, seed: int):
    """New segment texts with ``rate`` of the tokens edited; returns (texts, touched word times)."""
    from oralhist.recognition.align import group_units

    rng = random.Random(seed)
    touched: set[tuple[int, int]] = set()
    texts = []
    for o in old:
        out = []
        for text, members in group_units(o.words):
            r = rng.random()
            if r < rate * 0.6:
                out.append(text[:-1] + "é" if len(text) > 2 else text + "s")
                touched.update((m.start_ms, m.end_ms) for m in members)
            elif r < rate * 0.8:
                touched.update((m.start_ms, m.end_ms) for m in members)
            elif r < rate:
                out += [text, "donc"]
            else:
                out.append(text)
        texts.append(" ".join(out))
    # split or merge 2 % of the segments
    final = []
    i = 0
    while i < len(texts):
        r = rng.random()
        toks = texts[i].split()
        if r < 0.01 and len(toks) > 4:
            final += [" ".join(toks[: len(toks) // 2]), " ".join(toks[len(toks) // 2:])]
        elif r < 0.02 and i + 1 < len(texts):
            final.append(texts[i] + " " + texts[i + 1])
            i += 1
        else:
            final.append(texts[i])
        i += 1
    return final, touched


def moved_share(old, result_words, touched) -> tuple[int, int]:
    after = {(w.start_ms, w.end_ms, w.text) for w in result_words}
    untouched = [w for o in old for w in o.words if (w.start_ms, w.end_ms) not in touched]
    moved = sum(1 for w in untouched if (w.start_ms, w.end_ms, w.text) not in after)
    return moved, len(untouched)


def baseline_spread(old, texts):
    """No alignment: each new segment keeps an old segment's span; words spread evenly (no split/merge)."""
    from oralhist.recognition.align import _spread

    out = []
    for o, t in zip(old, texts):
        out += _spread(t.split(), o.start_ms, o.end_ms, None)
    return out


def bench_save(old, texts, repeat: int) -> list[float]:
    """Full save in a real archive: realign + new version rows + Revision, one transaction."""
    from oralhist import db
    from oralhist.recognition.align import NewSegment
    from oralhist.editorial.corrections import save_version
    from oralhist.records import Interview, Segment, Transcript, Word
    from oralhist.archive.workspace import init
    from sqlalchemy import insert

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            ws = init(Path(tmp) / f"a{k}")
            with db.session(ws) as s:
                s.add(Interview(id="heure", title="Une heure", duration_ms=HOUR_MS))
                tr = Transcript(interview_id="heure", version=1)
                s.add(tr)
                s.flush()
                rows = []
                for i, o in enumerate(old):
                    sg = Segment(transcript_id=tr.id, idx=i, start_ms=o.start_ms, end_ms=o.end_ms, text=o.text)
                    s.add(sg)
                    s.flush()
                    rows += [dict(transcript_id=tr.id, segment_id=sg.id, idx=len(rows) + j, start_ms=w.start_ms,
                                  end_ms=w.end_ms, text=w.text, probability=w.probability) for j, w in enumerate(o.words)]
                s.execute(insert(Word), rows)
                s.commit()
            t0 = time.perf_counter()
            res = save_version(ws, "heure", [NewSegment(t) for t in texts], base_version=1, who="bench")
            times.append(time.perf_counter() - t0)
            assert res.version == 2
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--edit", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from oralhist.recognition.align import NewSegment, realign

    old = one_hour()
    n_words = sum(len(o.words) for o in old)
    texts, touched = edit(old, args.edit, args.seed)
    new = [NewSegment(t) for t in texts]
    times, res = [], None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = realign(old, new)
        times.append(time.perf_counter() - t0)
    words = [w for sg in res.segments for w in sg.words]
    moved, untouched = moved_share(old, words, touched)

    same_seg_texts, same_touched = edit(old, args.edit, args.seed + 1)
    same_seg_texts = same_seg_texts[: len(old)]
    base_times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        base = baseline_spread(old, same_seg_texts)
        base_times.append(time.perf_counter() - t0)
    # the baseline needs one text per old segment: measure it on an edit without split/merge
    b_moved, b_untouched = moved_share(old, base, same_touched)

    save_times = bench_save(old, texts, max(3, args.repeat // 2 + 1))
    out = {
        "transcript": {"duration_min": round(old[-1].end_ms / 60000, 1), "segments": len(old), "words": n_words,
                       "source": "tests/data/fleurs_fr_asr.json tiled (real Whisper base output)"},
        "edit_rate": args.edit,
        "edited_tokens": len(touched),
        "segments_after_split_merge": len(texts),
        "realign_s_median": round(statistics.median(times), 4),
        "realign_s_runs": [round(t, 4) for t in times],
        "untouched_words": untouched,
        "untouched_moved": moved,
        "untouched_moved_share": moved / untouched,
        "stats": {k: v for k, v in res.stats.to_dict().items() if k not in ("changes", "unplaced")},
        "unplaced": len(res.stats.unplaced),
        "save_version_s_median": round(statistics.median(save_times), 3),
        "save_version_s_runs": [round(t, 3) for t in save_times],
        "baseline_spread_even": {"s_median": round(statistics.median(base_times), 4),
                                 "untouched_moved_share": round(b_moved / b_untouched, 4)},
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    (REPO / "bench" / "results-align.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
