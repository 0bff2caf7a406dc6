"""Recognise every corpus clip once and keep what the doubt rule reads (words, probabilities, guard scores).

    .venv/bin/python bench/doubts_collect.py [--model base] [--corpus DIR]

Writes bench/data/doubts-words-<model>.json: per clip its language, the reference text and the
kept segments (guard scores and flag) with their words (times, text, probability). The same
recogniser and guard as `oralhist transcribe` / `oralhist eval` (int8, beam 5, CPU).
bench/bench_doubts.py calibrates and scores the doubt rule from this file.
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
from oralhist.recognition.transcribe import DecodeOptions, recognise  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--corpus", default=str(CORPUS))
    args = ap.parse_args()
    folder = Path(args.corpus)
    spec = models.resolve(args.model)
    t0 = time.process_time()
    whisper = models.load(spec, cpu_threads=int(os.environ.get("ORALHIST_CPU_THREADS", "2")))
    clips = []
    for audio_path, ref_path in find_clips(folder):
        lang = clip_language(audio_path, folder, None)
        rec = recognise(whisper, decode_16k(audio_path), language=None if lang == "auto" else lang,
                        options=DecodeOptions(), guard_options=GuardOptions())
        clips.append({
            "clip": audio_path.relative_to(folder).as_posix(),
            "language": rec.language or lang,
            "reference": ref_path.read_text(encoding="utf-8"),
            "segments": [{"avg_logprob": sg.avg_logprob, "no_speech_prob": sg.no_speech_prob,
                          "compression_ratio": sg.compression_ratio, "flag": sg.flag,
                          "words": [[w.start_ms, w.end_ms, w.text, w.probability] for w in sg.words]}
                         for sg in rec.result.kept],
        })
        print(clips[-1]["clip"], len(clips[-1]["segments"]), file=sys.stderr)
    from oralhist.editorial.doubts import model_key

    out = REPO / "bench" / "data" / f"doubts-words-{model_key(spec.label)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": spec.label, "corpus": str(folder), "cpu_s": round(time.process_time() - t0, 1),
                               "clips": clips}, ensure_ascii=False, indent=0), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
