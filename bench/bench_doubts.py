"""Calibrate and measure the doubtful-word rule (issue 23, item 1) on the shipped corpus.

    .venv/bin/python bench/doubts_collect.py            # once per model: recognise the corpus
    .venv/bin/python bench/bench_doubts.py [--model base] [--runs 3] [--share 0.20] [--write-rule]

A machine word is WRONG when the project's WER alignment (recognition/evaluate.py: the same
normaliser, jiwer's word alignment) makes any of its normalised tokens a substitution or an
insertion; words that normalise to nothing (fillers, « euh ») are left out of every count.

The rule (editorial/doubts.py) is a logistic regression over its features. Reported:

* in-sample: fitted on every clip, threshold at the given share of words flagged;
* leave-one-clip-out: fitted on the other clips, its threshold (the same share on them)
  applied to the held-out clip — the honest figure for unseen speech;
* baselines in the same run at the same share flagged: Whisper's probability alone
  (the lowest-probability words) and random flagging (median of --runs seeds);
* the curve: catch rate and precision for shares 5 % … 50 %.

--write-rule stores the in-sample fit in oralhist/data/doubts/<model>.json (what the archive uses).
Results are printed as JSON and written to bench/results-doubts.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from oralhist.editorial.doubts import FEATURES, SegInfo, features, model_key  # noqa: E402
from oralhist.recognition.evaluate import normalise  # noqa: E402


def label_clip(clip: dict) -> list[dict]:
    """The clip's words with features and ``wrong`` (None: no normalised token)."""
    import jiwer

    lang = clip["language"]
    words, owner, toks = [], [], []
    for sg in clip["segments"]:
        info = SegInfo(sg["flag"], sg["avg_logprob"], sg["no_speech_prob"])
        for a, b, text, p in sg["words"]:
            k = len(words)
            words.append({"text": text, "p": p, "x": features(text, a, b, p, info, lang), "wrong": None})
            for t in normalise(text, lang).split():
                toks.append(t)
                owner.append(k)
    ref = normalise(clip["reference"], lang)
    if not toks:
        return []
    wrong_tok = [False] * len(toks)
    if ref:
        out = jiwer.process_words(ref, " ".join(toks))
        for ch in out.alignments[0]:
            if ch.type in ("substitute", "insert"):
                for j in range(ch.hyp_start_idx, ch.hyp_end_idx):
                    wrong_tok[j] = True
    else:
        wrong_tok = [True] * len(toks)
    for j, k in enumerate(owner):
        words[k]["wrong"] = bool(words[k]["wrong"]) or wrong_tok[j]
    return [w for w in words if w["wrong"] is not None]


def fit(X: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 3000) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent (Newton would do; this is small and has no dependency)."""
    w = np.zeros(X.shape[1])
    b = 0.0
    lr = 0.5
    for _ in range(steps):
        z = X @ w + b
        p = 1 / (1 + np.exp(-np.clip(z, -40, 40)))
        g = p - y
        w -= lr * (X.T @ g / len(y) + l2 * w)
        b -= lr * g.mean()
    return w, b


def scores(X, w, b):
    return 1 / (1 + np.exp(-np.clip(X @ w + b, -40, 40)))


def threshold_at(s: np.ndarray, share: float) -> float:
    """The score from which at most ``share`` of these words are flagged."""
    k = int(np.floor(share * len(s)))
    if k <= 0:
        return float("inf")
    return float(np.sort(s)[::-1][k - 1])


def catch(flags: np.ndarray, y: np.ndarray) -> dict:
    n_wrong = int(y.sum())
    hit = int((flags & (y == 1)).sum())
    return {"flagged_share": round(float(flags.mean()), 4), "catch": round(hit / n_wrong, 4) if n_wrong else None,
            "precision": round(hit / int(flags.sum()), 4) if flags.sum() else None}


def top_share(s: np.ndarray, share: float) -> np.ndarray:
    """Flag exactly the ``share`` highest scores (ties broken by order)."""
    k = int(np.floor(share * len(s)))
    flags = np.zeros(len(s), dtype=bool)
    flags[np.argsort(-s, kind="stable")[:k]] = True
    return flags


def run(data: dict, share: float, seed: int) -> dict:
    clips = [(c["clip"], c["language"], label_clip(c)) for c in data["clips"]]
    clips = [c for c in clips if c[2]]
    X = np.array([w["x"] for _, _, ws in clips for w in ws], dtype=float)
    y = np.array([1.0 if w["wrong"] else 0.0 for _, _, ws in clips for w in ws])
    p = np.array([w["p"] for _, _, ws in clips for w in ws], dtype=float)
    lang = np.array([lg for _, lg, ws in clips for _ in ws])
    clip_of = np.array([i for i, (_, _, ws) in enumerate(clips) for _ in ws])
    t0 = time.process_time()
    w, b = fit(X, y)
    s_all = scores(X, w, b)
    thr = threshold_at(s_all, share)
    in_sample = s_all >= thr
    # leave one clip out
    loco = np.zeros(len(y), dtype=bool)
    loco_s = np.zeros(len(y))
    for i in range(len(clips)):
        tr, te = clip_of != i, clip_of == i
        wi, bi = fit(X[tr], y[tr])
        st = scores(X[tr], wi, bi)
        loco_s[te] = scores(X[te], wi, bi)
        loco[te] = loco_s[te] >= threshold_at(st, share)
    rng = random.Random(seed)
    rand = np.zeros(len(y), dtype=bool)
    rand[rng.sample(range(len(y)), int(round(in_sample.mean() * len(y))))] = True
    prob_alone = top_share(1 - p, float(in_sample.mean()))
    prob_loco_share = top_share(1 - p, float(loco.mean()))
    res = {
        "words": int(len(y)), "wrong_words": int(y.sum()), "clips": len(clips),
        "wer_like_share_wrong": round(float(y.mean()), 4),
        "fit_cpu_s": round(time.process_time() - t0, 2),
        "weights": dict(zip(FEATURES, [round(float(v), 4) for v in w])), "bias": round(float(b), 4),
        "threshold": round(thr, 6),
        "rule_in_sample": catch(in_sample, y),
        "rule_leave_one_clip_out": catch(loco, y),
        "probability_alone_same_share": catch(prob_alone, y),
        "probability_alone_at_loco_share": catch(prob_loco_share, y),
        "random_same_share": catch(rand, y),
        "curve": [],
        "french": {},
    }
    for sh in (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50):
        res["curve"].append({"share": sh, "rule_in_sample": catch(top_share(s_all, sh), y),
                             "rule_leave_one_clip_out": catch(top_share(loco_s, sh), y),
                             "probability_alone": catch(top_share(1 - p, sh), y)})
    fr = lang == "fr"
    if fr.any():
        rfr = np.zeros(int(fr.sum()), dtype=bool)
        rfr[rng.sample(range(int(fr.sum())), int(round(loco[fr].mean() * fr.sum())))] = True
        res["french"] = {"words": int(fr.sum()), "wrong_words": int(y[fr].sum()),
                         "rule_in_sample": catch(in_sample[fr], y[fr]),
                         "rule_leave_one_clip_out": catch(loco[fr], y[fr]),
                         "probability_alone_at_loco_share": catch(top_share(1 - p[fr], float(loco[fr].mean())), y[fr]),
                         "random_at_loco_share": catch(rfr, y[fr])}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--share", type=float, default=0.20)
    ap.add_argument("--write-rule", action="store_true")
    args = ap.parse_args()
    src = REPO / "bench" / "data" / f"doubts-words-{model_key(args.model)}.json"
    if not src.is_file():  # the collector names the file by the model's label
        src = next((REPO / "bench" / "data").glob("doubts-words-*.json"))
    data = json.loads(src.read_text(encoding="utf-8"))
    runs = [run(data, args.share, seed) for seed in range(args.runs)]
    med = lambda key, sub="catch": statistics.median(r[key][sub] for r in runs)  # noqa: E731
    out = {"model": data["model"], "source": src.name, "share": args.share, "runs": len(runs),
           "median": {k: med(k) for k in ("rule_in_sample", "rule_leave_one_clip_out", "probability_alone_same_share",
                                          "probability_alone_at_loco_share", "random_same_share")},
           "median_flagged_share": {k: med(k, "flagged_share") for k in ("rule_in_sample", "rule_leave_one_clip_out")},
           "run": runs[0], "random_catch_each_run": [r["random_same_share"]["catch"] for r in runs]}
    print(json.dumps(out, indent=1, ensure_ascii=False))
    (REPO / "bench" / "results-doubts.json").write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    if args.write_rule:
        r = runs[0]
        rule = {"model": model_key(args.model), "weights": r["weights"], "bias": r["bias"], "threshold": r["threshold"],
                "calibrated_on": {"corpus": data.get("corpus"), "model_label": data["model"], "words": r["words"],
                                  "wrong_words": r["wrong_words"], "share": args.share,
                                  "in_sample": r["rule_in_sample"], "leave_one_clip_out": r["rule_leave_one_clip_out"],
                                  "curve": r["curve"]}}
        dest = REPO / "oralhist" / "data" / "doubts" / f"{model_key(args.model)}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(rule, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(dest, file=sys.stderr)


if __name__ == "__main__":
    main()
