"""Signals tried for the doubtful-word rule in the third pass (issue 23, catch-rate figure).

    .venv/bin/python bench/doubts_collect.py --nbest 5          # the default decoder, with its beam's 5 best
    .venv/bin/python bench/doubts_collect.py --batch-size 0     # the sequential decoder (once)
    .venv/bin/python bench/doubts_signals.py [--hear]          # --hear: the second hearing below (~90 CPU-s)

Each signal is added to the rule's 9 features (editorial/doubts.py) and scored leave-one-clip-out
at 20 % of words flagged, as bench/bench_doubts.py does (each held-out clip gets the threshold
fitted on the others; also « by rank »: the top 20 % of the pooled held-out scores):

* ``nbest``: the word's posterior in the 5 best hypotheses of the SAME beam search that produced
  it (weights: softmax of the hypotheses' summed log-probabilities, times ``alpha``). Costs
  nothing at transcription (CTranslate2 returns them from the beam it already runs).
* ``second``: the word's agreement with a SECOND decoding of its segment heard alone (its own
  audio ± 0.3 s, no previous text, no timestamps, beam 5), against the sequential decoder's words.
  Its CPU is reported against the first hearing's.
* ``pmin``: the lowest probability of the word's tokens (Whisper's word probability is their mean),
  from the same forced alignment faster-whisper runs for word timings.

Writes bench/results-doubts-signals.json.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))

import bench_doubts as B  # noqa: E402

from oralhist.editorial.doubts import FEATURES, SegInfo, features  # noqa: E402
from oralhist.recognition.evaluate import normalise  # noqa: E402


def tokens_of(words, lang):
    toks, own = [], []
    for k, w in enumerate(words):
        for t in normalise(w[2], lang).split():
            toks.append(t)
            own.append(k)
    return toks, own


def posterior(toks, own, n_words, hyps, weights):
    """Per word: the weight of the hypotheses that hold each of its tokens (aligned in order)."""
    post = np.zeros(len(toks))
    for h, wt in zip(hyps, weights):
        for blk in difflib.SequenceMatcher(a=toks, b=h, autojunk=False).get_matching_blocks():
            post[blk.a:blk.a + blk.size] += wt
    out = [1.0] * n_words
    for j, k in enumerate(own):
        out[k] = min(out[k], float(post[j]))
    return out


def nbest_signal(clip, sg, alpha=1.0):
    """The word's posterior in the beam that produced it (the call whose best hypothesis holds the segment)."""
    lang = clip["language"]
    toks, own = tokens_of(sg["words"], lang)
    calls = clip.get("nbest") or []
    if not toks or not calls:
        return [1.0] * len(sg["words"])

    def held(call):
        h = normalise(call[0][0], lang).split()
        return sum(b.size for b in difflib.SequenceMatcher(a=toks, b=h, autojunk=False).get_matching_blocks())

    call = max(calls, key=held)
    lp = np.array([sc * (n + 1) for _, sc, n in call]) * alpha  # CTranslate2's score is the mean log-probability
    wts = np.exp(lp - lp.max())
    return posterior(toks, own, len(sg["words"]), [normalise(t, lang).split() for t, _, _ in call], wts / wts.sum())


def hear_again(data) -> float:
    """``second`` and ``pmin`` on each segment of the sequential collection; returns the CPU seconds."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    from oralhist.recognition import models
    from oralhist.recognition.evaluate import decode_16k

    wm = models.load(models.resolve(None), cpu_threads=int(os.environ.get("ORALHIST_CPU_THREADS", "2")))
    t0 = time.process_time()
    for clip in data["clips"]:
        audio = decode_16k(CORPUS / clip["clip"])
        lang = clip["language"]
        tok = Tokenizer(wm.hf_tokenizer, True, task="transcribe", language=lang)
        for sg in clip["segments"]:
            ws = sg["words"]
            a = max(0.0, ws[0][0] / 1000 - 0.3)
            b = min(len(audio) / 16000, ws[-1][1] / 1000 + 0.3)
            feats = wm.feature_extractor(audio[int(a * 16000):int(b * 16000)])
            n_frames = min(feats.shape[-1], 3000)
            feats = np.pad(feats, ((0, 0), (0, max(0, 3000 - feats.shape[-1]))))[:, :3000]
            enc = wm.model.encode(ctranslate2.StorageView.from_array(feats[None].astype(np.float32)), to_cpu=False)
            res = wm.model.generate(enc, [list(tok.sot_sequence) + [tok.no_timestamps]], beam_size=5,
                                    max_length=224, suppress_blank=True, suppress_tokens=[-1])[0]
            toks, own = tokens_of(ws, lang)
            sg["second"] = posterior(toks, own, len(ws), [normalise(tok.decode(res.sequences_ids[0]), lang).split()], [1.0])
            parts = [tok.encode(w[2]) for w in ws]  # a word's tokens, as in the joined text
            probs = np.array(wm.model.align(enc, list(tok.sot_sequence), [[t for p in parts for t in p]], n_frames)[0].text_token_probs)
            sg["pmin"], i = [], 0
            for p in parts:
                sg["pmin"].append(float(probs[i:i + len(p)].min()) if p else 1.0)
                i += len(p)
    return time.process_time() - t0


def rows_of(data, extra):
    """Labelled words (as bench_doubts.label_clip) with the rule's features and ``extra(clip, sg) -> list``."""
    import jiwer

    rows = []
    for ci, clip in enumerate(data["clips"]):
        lang = clip["language"]
        words, toks, owner = [], [], []
        for sg in clip["segments"]:
            info = SegInfo(sg["flag"], sg["avg_logprob"], sg["no_speech_prob"])
            ex = extra(clip, sg)
            for k2, (a, b, text, p) in enumerate(sg["words"]):
                k = len(words)
                words.append({"x": features(text, a, b, p, info, lang), "p": p, "e": ex[k2], "wrong": None, "clip": ci})
                for t in normalise(text, lang).split():
                    toks.append(t)
                    owner.append(k)
        if not toks:
            continue
        wrong = [False] * len(toks)
        for ch in jiwer.process_words(normalise(clip["reference"], lang), " ".join(toks)).alignments[0]:
            if ch.type in ("substitute", "insert"):
                wrong[ch.hyp_start_idx:ch.hyp_end_idx] = [True] * (ch.hyp_end_idx - ch.hyp_start_idx)
        for j, k in enumerate(owner):
            words[k]["wrong"] = bool(words[k]["wrong"]) or wrong[j]
        rows += [w for w in words if w["wrong"] is not None]
    return rows


def loco(X, y, clip_of, share=0.2):
    s = np.zeros(len(y))
    flags = np.zeros(len(y), dtype=bool)
    for i in np.unique(clip_of):
        tr, te = clip_of != i, clip_of == i
        w, b = B.fit(X[tr], y[tr])
        s[te] = B.scores(X[te], w, b)
        flags[te] = s[te] >= B.threshold_at(B.scores(X[tr], w, b), share)
    return {"catch": B.catch(flags, y)["catch"], "flagged_share": round(float(flags.mean()), 4),
            "catch_by_rank": B.catch(B.top_share(s, share), y)["catch"]}


def table(data, extra, names):
    rows = rows_of(data, extra)
    y = np.array([1.0 if w["wrong"] else 0.0 for w in rows])
    c = np.array([w["clip"] for w in rows])
    X = np.array([w["x"] for w in rows])
    E = np.array([w["e"] for w in rows]).reshape(len(rows), -1)
    p = np.array([w["p"] for w in rows])
    out = {"words": len(rows), "wrong_words": int(y.sum()),
           "probability_alone": B.catch(B.top_share(1 - p, 0.2), y)["catch"], "rule": loco(X, y, c)}
    for j, name in enumerate(names):
        out[f"{name}_alone"] = B.catch(B.top_share(1 - E[:, j] + 1e-6 * (1 - p), 0.2), y)["catch"]
        out[f"rule_plus_{name}"] = loco(np.column_stack([X, 1 - E[:, j]]), y, c)
        out[f"{name}_below_1_share"] = round(float((E[:, j] < 0.999).mean()), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hear", action="store_true", help="hear the sequential collection's segments again (second, pmin)")
    args = ap.parse_args()
    res = {"features": FEATURES}
    default = json.loads((BENCH / "data" / "doubts-words-base.json").read_text(encoding="utf-8"))
    if default.get("nbest", 0) > 1:
        res["default_decoder"] = {"decoder": default.get("decoder"), "cpu_s": default.get("cpu_s")}
        for alpha in (1.0, 0.5, 0.25):
            res["default_decoder"][f"alpha_{alpha}"] = table(default, lambda c, sg, a=alpha: [[v] for v in nbest_signal(c, sg, a)], ["nbest"])
    if args.hear:
        seq = json.loads((BENCH / "data" / "doubts-words-base-sequential.json").read_text(encoding="utf-8"))
        cpu = hear_again(seq)
        first = sum(c.get("cpu_s", 0) for c in seq["clips"]) or seq.get("cpu_s")
        res["sequential_decoder"] = {"second_hearing_cpu_s": round(cpu, 1), "first_hearing_cpu_s": first,
                                     **table(seq, lambda c, sg: list(zip(sg["second"], sg["pmin"])), ["second", "pmin"])}
    print(json.dumps(res, indent=1, ensure_ascii=False))
    (BENCH / "results-doubts-signals.json").write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
