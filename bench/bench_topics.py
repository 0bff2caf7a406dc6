"""Topic-index benchmark: a gold index made by concatenating corpus clips on different
subjects (the French clips of ../shared/corpus, each its own subject), transcribed with the
default model, then indexed. Boundaries are known (where each clip starts).

    .venv/bin/python bench/bench_topics.py [--corpus ../shared/corpus] [--json out.json]

Reported: boundary precision / recall / F1 within 10 s (and 5 s, 2 s), Pk and WindowDiff
(1 s grid, k = half the mean gold segment length), for (a) the number of segments given
(= number of clips) and (b) the default rate (about 10 per hour, so 1 segment here: no
boundary), and two baselines measured in the same run: boundaries at random sentence edges
(mean of 200 draws) and boundaries evenly spaced in time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oralhist.recognition.diarize import SR, decode_16k  # noqa: E402
from oralhist.editorial.topics import index_sentences, sentences_from_segments  # noqa: E402
from oralhist.editorial.view import SegmentView, WordView  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def transcribe(audio: np.ndarray, language: str = "fr"):
    from oralhist.recognition import models

    spec = models.resolve(None)
    model = models.load(spec, device="cpu", compute_type="int8")
    segs, _info = model.transcribe(audio, language=language, word_timestamps=True, vad_filter=True, beam_size=5)
    out = []
    for s in segs:
        words = tuple(WordView(int(w.start * 1000), int(w.end * 1000), w.word.strip(), w.probability) for w in s.words or ())
        out.append(SegmentView(int(s.start * 1000), int(s.end * 1000), s.text.strip(), words=words))
    return out, spec.label


def prf(hyp, gold, tol_ms):
    hits_h = sum(any(abs(h - g) <= tol_ms for g in gold) for h in hyp)
    hits_g = sum(any(abs(h - g) <= tol_ms for h in hyp) for g in gold)
    p = hits_h / len(hyp) if hyp else 0.0
    r = hits_g / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pk_windowdiff(hyp, gold, total_ms):
    grid = np.arange(0, total_ms, 1000)
    seg_g = np.searchsorted(np.array(sorted(gold)), grid, side="right")
    seg_h = np.searchsorted(np.array(sorted(hyp)), grid, side="right")
    k = max(1, int(round(total_ms / (len(gold) + 1) / 2 / 1000)))
    same_g = seg_g[:-k] == seg_g[k:]
    same_h = seg_h[:-k] == seg_h[k:]
    pk = float(np.mean(same_g != same_h))
    wd = float(np.mean((seg_g[k:] - seg_g[:-k]) != (seg_h[k:] - seg_h[:-k])))
    return pk, wd


def score(hyp, gold, total_ms):
    out = {"boundaries": len(hyp)}
    for tol in (10_000, 5_000, 2_000):
        p, r, f = prf(hyp, gold, tol)
        out[f"p@{tol // 1000}s"], out[f"r@{tol // 1000}s"], out[f"f1@{tol // 1000}s"] = round(p, 3), round(r, 3), round(f, 3)
    pk, wd = pk_windowdiff(hyp, gold, total_ms)
    out["pk"], out["windowdiff"] = round(pk, 3), round(wd, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cache", help="keep the ASR transcript in this JSON file between runs")
    args = ap.parse_args()

    clips = sorted(p for p in (args.corpus / "fr").iterdir() if p.suffix in (".wav", ".ogg", ".mp3"))
    parts, gold, pos = [], [], 0
    pause = np.zeros(SR // 2, np.float32)  # half a second between clips
    for k, c in enumerate(clips):
        a = decode_16k(c)[0]
        if k:
            gold.append(pos * 1000 // SR)
        parts += [a, pause]
        pos += len(a) + len(pause)
    audio = np.concatenate(parts)
    total_ms = len(audio) * 1000 // SR
    cache = Path(args.cache) if args.cache else None
    t0 = time.perf_counter()
    if cache and cache.is_file():
        data = json.loads(cache.read_text())
        model = data["model"]
        segments = [SegmentView(s["start_ms"], s["end_ms"], s["text"], words=tuple(WordView(*w) for w in s["words"]))
                    for s in data["segments"]]
    else:
        segments, model = transcribe(audio)
        if cache:
            cache.write_text(json.dumps({"model": model, "segments": [
                {"start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text,
                 "words": [[w.start_ms, w.end_ms, w.text, w.probability] for w in s.words]} for s in segments]}))
    asr_s = time.perf_counter() - t0
    sents = sentences_from_segments(segments)

    rows = {}
    t0 = time.perf_counter()
    # The gold segments here are ~10 s long, far shorter than an interview's topics: the
    # minimum segment length (20 s by default on long recordings) is scaled to them.
    given = index_sentences(sents, duration_ms=total_ms, n_segments=len(clips),
                            min_ms=int(0.4 * total_ms / len(clips)))
    index_s = time.perf_counter() - t0
    rows["oralhist, count given"] = score([t.start_ms for t in given[1:]], gold, total_ms)
    default = index_sentences(sents, duration_ms=total_ms)
    rows["oralhist, default rate (10/h)"] = score([t.start_ms for t in default[1:]], gold, total_ms)

    edges = [s.start_ms for s in sents[1:]]
    rng = random.Random(0)
    draws = [score(sorted(rng.sample(edges, min(len(edges), len(clips) - 1))), gold, total_ms) for _ in range(200)]
    rows["baseline: random sentence edges"] = {k: round(float(np.mean([d[k] for d in draws])), 3) for k in draws[0]}
    even = [int(total_ms * i / len(clips)) for i in range(1, len(clips))]
    rows["baseline: evenly spaced"] = score(even, gold, total_ms)

    result = {"clips": len(clips), "seconds": round(total_ms / 1000, 1), "sentences": len(sents), "model": model,
              "asr_s": round(asr_s, 1), "index_s": round(index_s, 3), "scores": rows,
              "titles": [(t.start_ms, t.title) for t in given]}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
