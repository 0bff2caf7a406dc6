"""A second, cheaper hearing of the corpus for the doubt rule's « second opinion » experiment (issue 23).

    .venv/bin/python bench/doubts_second.py [--model base] [--corpus DIR]

Reads bench/data/doubts-words-<model>-sequential.json (bench/doubts_collect.py --batch-size 0) and adds to each clip the
text of a GREEDY decoding (beam 1, temperature 0 only, no word timestamps, the same voice
detection) of the same audio by the same model: ``second_text``, and the CPU it cost
(``second_cpu_s``, against ``cpu_s`` of the first hearing). bench/bench_doubts.py --second
marks a word where the two hearings disagree.
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

from oralhist.recognition import models  # noqa: E402
from oralhist.recognition.evaluate import decode_16k  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--corpus", default=str(CORPUS))
    args = ap.parse_args()
    from oralhist.editorial.doubts import model_key

    spec = models.resolve(args.model)
    src = REPO / "bench" / "data" / f"doubts-words-{model_key(spec.label)}-sequential.json"
    data = json.loads(src.read_text(encoding="utf-8"))
    whisper = models.load(spec, cpu_threads=int(os.environ.get("ORALHIST_CPU_THREADS", "2")))
    total = 0.0
    for clip in data["clips"]:
        t0 = time.process_time()
        audio = decode_16k(Path(args.corpus) / clip["clip"])
        segs, _info = whisper.transcribe(audio, language=clip["language"], beam_size=1, temperature=[0.0],
                                         word_timestamps=False, vad_filter=True, condition_on_previous_text=True)
        clip["second_text"] = " ".join(s.text.strip() for s in segs)
        clip["second_cpu_s"] = round(time.process_time() - t0, 2)
        total += clip["second_cpu_s"]
        print(clip["clip"], clip["second_cpu_s"], file=sys.stderr)
    data["second"] = {"decoding": "greedy, beam 1, temperature 0, no word timestamps, VAD", "cpu_s": round(total, 1)}
    src.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
    print(src, total)


if __name__ == "__main__":
    main()
