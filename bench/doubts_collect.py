"""Recognise every corpus clip once and keep what the doubt rule reads (words, probabilities, guard scores).

    .venv/bin/python bench/doubts_collect.py [--model base] [--corpus DIR] [--batch-size N] [--nbest K]

Writes bench/data/doubts-words-<model>.json: per clip its language, the reference text and the
kept segments (guard scores and flag) with their words (times, text, probability). The same
recogniser, decoder and guard as `oralhist transcribe` (int8, beam 5, CPU): by default the batched
decoder with the archive default ``[transcribe] batch_size``; ``--batch-size 0`` the sequential
decoder (written to doubts-words-<model>-sequential.json).
bench/bench_doubts.py calibrates and scores the doubt rule from this file.

``--nbest K`` also keeps, per call of the decoder, the K best hypotheses of its beam (CTranslate2's
``num_hypotheses``; the best one is what the pipeline keeps, unchanged) for the n-best experiment of
bench/doubts_signals.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))
if not CORPUS.is_dir():
    CORPUS = REPO / "tests" / "data" / "corpus"

from oralhist.recognition import models  # noqa: E402
from oralhist.recognition.evaluate import clip_language, decode_16k, find_clips  # noqa: E402
from oralhist.recognition.hallucination import GuardOptions  # noqa: E402
from oralhist.recognition.transcribe import BATCH_SIZE, DecodeOptions, recognise  # noqa: E402


class NBest:
    """The CTranslate2 model, asking every beam search for its ``k`` best and keeping them (best first)."""

    def __init__(self, model, k: int):
        self._model, self.k, self.calls = model, k, []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def generate(self, *args, **kw):
        if kw.get("beam_size", 1) >= self.k:
            kw.update(num_hypotheses=self.k, return_scores=True)
        res = self._model.generate(*args, **kw)
        for r in res:
            if len(r.sequences_ids) > 1:
                self.calls.append([(list(seq), float(sc)) for seq, sc in zip(r.sequences_ids, r.scores)])
        return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--corpus", default=str(CORPUS))
    ap.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="0: the sequential decoder")
    ap.add_argument("--nbest", type=int, default=0, help="keep the beam's K best hypotheses per decoder call")
    args = ap.parse_args()
    folder = Path(args.corpus)
    spec = models.resolve(args.model)
    t0 = time.process_time()
    whisper = models.load(spec, cpu_threads=int(os.environ.get("ORALHIST_CPU_THREADS", "2")))
    nbest = None
    if args.nbest > 1:
        from faster_whisper.tokenizer import Tokenizer

        whisper.model = nbest = NBest(whisper.model, args.nbest)
    clips = []
    for audio_path, ref_path in find_clips(folder):
        lang = clip_language(audio_path, folder, None)
        t1 = time.process_time()
        if nbest:
            nbest.calls.clear()
        rec = recognise(whisper, decode_16k(audio_path), language=None if lang == "auto" else lang,
                        options=DecodeOptions(batch_size=args.batch_size), guard_options=GuardOptions())
        extra = {"cpu_s": round(time.process_time() - t1, 2)}
        if nbest:
            tok = Tokenizer(whisper.hf_tokenizer, True, task="transcribe", language=rec.language or lang)
            # per decoder call: (text, score, tokens) of each hypothesis, the kept one first
            extra["nbest"] = [[(tok.decode([t for t in seq if t < tok.eot]), sc, len(seq)) for seq, sc in call]
                              for call in nbest.calls]
        clips.append({
            "clip": audio_path.relative_to(folder).as_posix(),
            "language": rec.language or lang,
            "reference": ref_path.read_text(encoding="utf-8"),
            "segments": [{"avg_logprob": sg.avg_logprob, "no_speech_prob": sg.no_speech_prob,
                          "compression_ratio": sg.compression_ratio, "flag": sg.flag,
                          "words": [[w.start_ms, w.end_ms, w.text, w.probability] for w in sg.words]}
                         for sg in rec.result.kept],
            **extra,
        })
        print(clips[-1]["clip"], len(clips[-1]["segments"]), file=sys.stderr)
    from oralhist.editorial.doubts import model_key

    suffix = "" if args.batch_size else "-sequential"
    out = REPO / "bench" / "data" / f"doubts-words-{model_key(spec.label)}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": spec.label, "corpus": str(folder), "cpu_s": round(time.process_time() - t0, 1),
                               "decoder": f"batched ({args.batch_size})" if args.batch_size else "sequential",
                               "nbest": args.nbest, "clips": clips}, ensure_ascii=False, indent=0), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
