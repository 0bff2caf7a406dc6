"""Benchmark of the transcription stage (issue 3).

    .venv/bin/python bench/bench_transcribe.py [--repeat 3] [--experiments] [--hints] [--memory-minutes 10]

1. WER/CER (oralhist.recognition.evaluate normaliser) and wall time on ../shared/corpus/fr and /en for
   `transcribe_interviews` (the whole stage: model load, voice detection, recognition, guard,
   database transaction, exports) against raw faster-whisper (model load + `transcribe` with
   the same model and settings: base int8, beam 5, word timestamps, vad_filter=True) on the
   same asr.wav files, alternating, median of --repeat runs.
2. --experiments: decoding variants through the pipeline's `recognise` on French.
3. --hints: vocabulary hints (hotwords vs prompt vs none) on clips whose reference contains
   the hinted words, among 30 distractor trade terms.
4. --memory-minutes N: peak RSS of `oralhist transcribe` on N minutes of concatenated corpus
   audio, in a fresh subprocess (ru_maxrss of the child).
5. --cpu (issue 22 item 5): CPU seconds per audio second, 1 thread (`ORALHIST_CPU_THREADS=1`),
   each path in its own fresh process (model load included, imports not), on the French corpus
   and on a ~4-minute recording made of its clips (whole clips, 0.5 s apart, so its reference is
   theirs joined): bare faster-whisper (sequential, `vad_filter=True`), the stage
   (`transcribe_interviews`) sequential, the same stage of the code in --old-src (the code
   before the change, e.g. `git archive main oralhist | tar -x -C DIR`), and batched
   (`--batch-sizes`). Median of --repeat rounds (order rotated each round); WER and peak RSS
   (ru_maxrss) of each path.
Results are printed as JSON and appended to bench/results-transcribe.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("ORALHIST_BENCH_SRC") or str(REPO))  # --cpu's "old" worker imports the old code
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))

from oralhist import db  # noqa: E402
from oralhist.recognition import models
from oralhist.recognition.evaluate import decode_16k, find_clips, normalise, score  # noqa: E402
from oralhist.recognition.hallucination import GuardOptions  # noqa: E402
from oralhist.outputs.exports.staff import write_transcript_exports  # noqa: E402
from oralhist.recognition.transcribe import DecodeOptions, read_wav, recognise, transcribe_interviews  # noqa: E402
from oralhist.archive.workspace import init  # noqa: E402

DISTRACTORS = [
    "filature", "tissage", "métier à tisser", "navette", "bobinoir", "ourdissoir", "peigneuse", "cardeuse",
    "houillère", "chevalement", "terril", "galibot", "porion", "lampisterie", "berline", "haveuse",
    "verrerie", "souffleur de verre", "canne", "four à bassin", "brasserie", "malterie", "sucrerie",
    "betterave", "dentelle de Calais", "métier Leavers", "Roubaix", "Tourcoing", "Lewarde", "Fourmies",
]


def _private_tmp() -> str:
    """Scratch folder of this benchmark only (others clean /tmp/oralhist-* behind us)."""
    d = Path(os.environ.get("ORALHIST_BENCH_TMP", "/var/tmp/oralhist-transcribe-bench"))
    d.mkdir(parents=True, exist_ok=True)
    return str(d)


def write_wav(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def make_workspace(root: Path, clips: list[tuple[Path, Path, str]]):
    from oralhist.records import Interview, Recording

    ws = init(root)
    with db.session(ws) as s:
        for i, (audio, _ref, lang) in enumerate(clips):
            iid = f"c{i:02d}-{audio.stem}".lower().replace("_", "-")
            samples = decode_16k(audio)
            write_wav(ws.derived_dir(iid) / "asr.wav", samples)
            s.add(Interview(id=iid, title=audio.stem, language=lang, status="normalised",
                            duration_ms=int(len(samples) / 16)))
            s.add(Recording(interview_id=iid, original_name=audio.name, path=f"interviews/{iid}/original/{audio.name}",
                            sha256=f"{i:064d}", size=audio.stat().st_size, duration_ms=int(len(samples) / 16),
                            sample_rate=16000, channels=1, codec="pcm_s16le"))
        s.commit()
    return ws


def _long_workspace(root: Path, samples: np.ndarray):
    """An archive holding one normalised interview, ``long``, of these 16 kHz samples."""
    from oralhist.records import Interview, Recording

    ws = init(root)
    write_wav(ws.derived_dir("long") / "asr.wav", samples)
    with db.session(ws) as s:
        s.add(Interview(id="long", title="long", language="fr", status="normalised", duration_ms=len(samples) // 16))
        s.add(Recording(interview_id="long", original_name="long.wav", path="interviews/long/original/long.wav",
                        sha256="0" * 64, size=len(samples) * 2, duration_ms=len(samples) // 16,
                        sample_rate=16000, channels=1, codec="pcm_s16le"))
        s.commit()
    return ws


def ids_of(ws) -> list[str]:
    from sqlmodel import select

    from oralhist.records import Interview

    with db.session(ws) as s:
        return list(s.exec(select(Interview.id).order_by(Interview.id)).all())


def pipeline_texts(ws, ids) -> dict[str, str]:
    from oralhist.editorial.view import load_interview

    with db.session(ws) as s:
        return {i: " ".join(sg.text for sg in load_interview(s, i, with_words=False).segments) for i in ids}


def run_raw(ws, ids, langs, beam=5):
    c0 = time.process_time()
    t0 = time.perf_counter()
    spec = models.resolve("base")
    m = models.load(spec, cpu_threads=os.cpu_count())
    texts = {}
    for i in ids:
        audio = read_wav(ws.derived_dir(i) / "asr.wav")
        segs, _info = m.transcribe(audio, language=langs[i], beam_size=beam, vad_filter=True, word_timestamps=True)
        texts[i] = " ".join(s.text.strip() for s in segs)
    return time.perf_counter() - t0, time.process_time() - c0, texts


def run_pipeline(ws, ids):
    c0 = time.process_time()
    t0 = time.perf_counter()
    rep = transcribe_interviews(ws, ids, force=True, hints=False, exports=write_transcript_exports)
    assert not rep.failed, rep.failed
    return time.perf_counter() - t0, time.process_time() - c0, pipeline_texts(ws, ids)


def pooled(refs: dict, texts: dict, langs: dict, subset=None) -> dict:
    err = words = cerr = chars = 0
    for i, ref in refs.items():
        if subset and i not in subset:
            continue
        sc = score(ref, texts.get(i, ""), langs[i])
        err += sc["errors"]
        words += sc["ref_words"]
        cerr += sc["char_errors"]
        chars += sc["ref_chars"]
    return {"wer": round(err / words, 4) if words else None, "cer": round(cerr / chars, 4) if chars else None,
            "ref_words": words}


def bench_main(repeat: int) -> dict:
    clips = [(a, r, a.parent.name) for lang in ("fr", "en") for a, r in find_clips(CORPUS / lang)]
    tmp = Path(tempfile.mkdtemp(prefix="ohtr-bench-", dir=_private_tmp()))
    try:
        ws = make_workspace(tmp / "ws", clips)
        ids = ids_of(ws)
        langs = {}
        refs = {}
        from oralhist.records import Interview

        with db.session(ws) as s:
            for i in ids:
                iv = s.get(Interview, i)
                langs[i] = iv.language
        for i, (_a, r, _l) in zip(ids, clips):
            refs[i] = r.read_text(encoding="utf-8")
        audio_s = sum(wave.open(str(ws.derived_dir(i) / "asr.wav")).getnframes() / 16000 for i in ids)
        raw_t, pipe_t, raw_c, pipe_c = [], [], [], []
        raw_texts = pipe_texts = None
        for k in range(repeat):
            order = (("raw", "pipe") if k % 2 == 0 else ("pipe", "raw"))
            for which in order:
                if which == "raw":
                    t, c, raw_texts = run_raw(ws, ids, langs)
                    raw_t.append(t)
                    raw_c.append(c)
                else:
                    t, c, pipe_texts = run_pipeline(ws, ids)
                    pipe_t.append(t)
                    pipe_c.append(c)
            print(f"run {k + 1}: raw {raw_t[-1]:.1f} s (cpu {raw_c[-1]:.1f}), pipeline {pipe_t[-1]:.1f} s "
                  f"(cpu {pipe_c[-1]:.1f}), load {os.getloadavg()[0]:.1f}", file=sys.stderr)
        out = {"audio_s": round(audio_s, 1), "clips": len(ids), "cpu_count": os.cpu_count(), "repeat": repeat,
               "raw_s": [round(x, 2) for x in raw_t], "pipeline_s": [round(x, 2) for x in pipe_t],
               "raw_median_s": round(statistics.median(raw_t), 2),
               "pipeline_median_s": round(statistics.median(pipe_t), 2)}
        out["time_ratio"] = round(out["pipeline_median_s"] / out["raw_median_s"], 3)
        out["raw_cpu_s"] = [round(x, 2) for x in raw_c]
        out["pipeline_cpu_s"] = [round(x, 2) for x in pipe_c]
        out["cpu_ratio"] = round(statistics.median(pipe_c) / statistics.median(raw_c), 3)
        out["ratios_per_run"] = [round(p / r, 3) for p, r in zip(pipe_t, raw_t)]
        out["rtf_raw"] = round(out["raw_median_s"] / audio_s, 4)
        out["rtf_pipeline"] = round(out["pipeline_median_s"] / audio_s, 4)
        for lang in ("fr", "en"):
            sub = {i for i in ids if langs[i] == lang}
            out[f"wer_{lang}"] = {"raw": pooled(refs, raw_texts, langs, sub), "pipeline": pooled(refs, pipe_texts, langs, sub)}
        out["per_clip"] = {
            i: {"lang": langs[i], "raw": score(refs[i], raw_texts[i], langs[i])["errors"],
                "pipeline": score(refs[i], pipe_texts[i], langs[i])["errors"],
                "ref_words": score(refs[i], "", langs[i])["ref_words"]}
            for i in ids
        }
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _recognise_all(m, clips, opts, guard=True, hints_for=None, mode_hints=None):
    refs, texts, langs = {}, {}, {}
    el = 0.0
    for audio_path, ref_path, lang in clips:
        key = audio_path.stem
        audio = decode_16k(audio_path)
        hints = hints_for(ref_path) if hints_for else ""
        rec = recognise(m, audio, language=lang, options=opts, hints=hints,
                        guard_options=GuardOptions() if guard else None)
        el += rec.timing["elapsed_s"]
        refs[key] = ref_path.read_text(encoding="utf-8")
        texts[key] = " ".join(sg.text for sg in rec.result.kept)
        langs[key] = lang
    return {**pooled(refs, texts, langs), "elapsed_s": round(el, 1)}


def bench_experiments() -> dict:
    clips = [(a, r, "fr") for a, r in find_clips(CORPUS / "fr")]
    m = models.load(models.resolve("base"), cpu_threads=os.cpu_count())
    variants = {
        "default (beam 5, VAD defaults, condition on previous text)": DecodeOptions(),
        "guard off": None,
        "condition_on_previous_text=False": DecodeOptions(condition_on_previous_text=False),
        "no temperature fallback (0.0 only)": DecodeOptions(temperature=(0.0,)),
        "VAD speech_pad_ms=200, min_silence_duration_ms=500": DecodeOptions(vad_parameters={"speech_pad_ms": 200, "min_silence_duration_ms": 500}),
        "no VAD": DecodeOptions(vad=False),
    }
    out = {}
    for name, opts in variants.items():
        if opts is None:
            out[name] = _recognise_all(m, clips, DecodeOptions(), guard=False)
        else:
            out[name] = _recognise_all(m, clips, opts)
        print(name, out[name], file=sys.stderr)
    # a generic prompt
    out["initial_prompt 'Entretien enregistré, en français.'"] = _recognise_all(
        m, clips, DecodeOptions(hint_mode="prompt"), hints_for=lambda r: "Entretien enregistré, en français.")
    print(out, file=sys.stderr)
    return out


def _hint_words(ref: Path, lang: str) -> str:
    words = [w for w in normalise(ref.read_text(encoding="utf-8"), lang).split() if len(w) >= 8]
    picked = list(dict.fromkeys(words))[:6]
    return ", ".join(picked + DISTRACTORS)


def bench_hints() -> dict:
    clips = [(a, r, "fr") for a, r in find_clips(CORPUS / "fr")]
    clips = [c for c in clips if any(len(w) >= 8 for w in normalise(c[1].read_text(encoding="utf-8"), "fr").split())]
    m = models.load(models.resolve("base"), cpu_threads=os.cpu_count())
    out = {"clips": len(clips)}
    out["none"] = _recognise_all(m, clips, DecodeOptions(hint_mode="none"))
    out["hotwords"] = _recognise_all(m, clips, DecodeOptions(hint_mode="hotwords"), hints_for=lambda r: _hint_words(r, "fr"))
    out["initial_prompt"] = _recognise_all(m, clips, DecodeOptions(hint_mode="prompt"), hints_for=lambda r: _hint_words(r, "fr"))
    out["distractors only (hotwords)"] = _recognise_all(m, clips, DecodeOptions(hint_mode="hotwords"), hints_for=lambda r: ", ".join(DISTRACTORS))
    print(out, file=sys.stderr)
    return out


def bench_memory(minutes: float) -> dict:
    """Peak RSS of a fresh `oralhist transcribe` process on N minutes of corpus speech."""
    clips = [a for lang in ("fr", "en") for a, _r in find_clips(CORPUS / lang)]
    pieces, total = [], 0
    target = int(minutes * 60 * 16000)
    while total < target:
        for a in clips:
            x = decode_16k(a)
            pieces.append(x)
            pieces.append(np.zeros(8000, dtype=np.float32))
            total += len(x) + 8000
            if total >= target:
                break
    samples = np.concatenate(pieces)[:target]
    tmp = Path(tempfile.mkdtemp(prefix="ohtr-mem-", dir=_private_tmp()))
    try:
        ws = _long_workspace(tmp / "ws", samples)
        del samples, pieces
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), "transcribe", "long",
                               "--json"], capture_output=True, text=True, cwd=REPO)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        assert proc.returncode == 0, proc.stderr
        rep = json.loads(proc.stdout)
        d = rep["details"]["interviews"]["long"]
        return {"minutes": minutes, "peak_rss_mb": round(peak_kb / 1024, 1), "rss_before_kb": before,
                "wall_s": round(time.perf_counter() - t0, 1), "rtf": d["rtf"], "words": d["words"],
                "segments": d["segments"], "dropped": d["dropped"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- issue 22 item 5: CPU per audio second, 1 thread, each path in a fresh process -------------


def _worker(mode: str, root: str, ids: list[str]) -> dict:
    """One path over interviews of the archive at ``root``, in this (fresh) process: CPU from the
    model load on (the imports are done before), peak RSS, and the texts."""
    from oralhist.archive.workspace import open_workspace

    ws = open_workspace(Path(root))
    langs = _langs(ws, ids)
    c0, t0 = time.process_time(), time.perf_counter()
    timing = {}
    if mode == "bare":
        m = models.load(models.resolve("base"), cpu_threads=1)
        texts = {}
        for i in ids:
            audio = read_wav(ws.derived_dir(i) / "asr.wav")
            segs, _info = m.transcribe(audio, language=langs[i], beam_size=5, vad_filter=True, word_timestamps=True)
            texts[i] = " ".join(x.text.strip() for x in segs)
    else:
        bs = int(mode.split(":")[1]) if mode.startswith("batched:") else 0
        opts = DecodeOptions(batch_size=bs) if bs else DecodeOptions()
        rep = transcribe_interviews(ws, ids, force=True, options=opts)
        assert not rep.failed, rep.failed
        texts = pipeline_texts(ws, ids)
        for i in ids:
            for k, v in (rep.details["interviews"][i].get("cpu_s") or {}).items():
                timing[k] = round(timing.get(k, 0) + v, 3)
    return {"mode": mode, "cpu_s": round(time.process_time() - c0, 2), "wall_s": round(time.perf_counter() - t0, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "parts_cpu_s": timing, "load": round(os.getloadavg()[0], 1), "texts": texts}


def _langs(ws, ids) -> dict:
    from oralhist.records import Interview

    with db.session(ws) as s:
        return {i: s.get(Interview, i).language for i in ids}


def _run_worker(mode: str, root: Path, ids: list[str], old_src: str = "") -> dict:
    env = {**os.environ, "ORALHIST_CPU_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if mode == "old":
        env["ORALHIST_BENCH_SRC"] = env["PYTHONPATH"] = old_src
    out = subprocess.run([sys.executable, __file__, "--worker", "seq" if mode == "old" else mode, str(root), ",".join(ids)],
                         capture_output=True, text=True, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr[-1500:].replace("\n", " | ")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["mode"] = mode
    return res


def _long_recording(clips, seconds: float) -> tuple[np.ndarray, str]:
    """Whole corpus clips, 0.5 s apart, in turn, until ``seconds``; and their references joined."""
    pieces, refs, total = [], [], 0
    while total < seconds * 16000:
        for audio, ref, _lang in clips:
            x = decode_16k(audio)
            pieces += [x, np.zeros(8000, dtype=np.float32)]
            refs.append(ref.read_text(encoding="utf-8").strip())
            total += len(x) + 8000
            if total >= seconds * 16000:
                break
    return np.concatenate(pieces), "\n".join(refs)


# Over 80 lines on purpose: two archives, rounds of fresh processes per path, then the table; the
# figures stay together.
def bench_cpu(repeat: int, batch_sizes: list[int], old_src: str, long_s: float = 240.0,
              only: tuple[str, ...] = ("corpus", "long"), jobs: int = 1) -> dict:
    clips = [(a, r, "fr") for a, r in find_clips(CORPUS / "fr")]
    tmp = Path(tempfile.mkdtemp(prefix="ohtr-cpu-", dir=_private_tmp()))
    try:
        corpus_ws = make_workspace(tmp / "corpus", clips)
        corpus_ids = ids_of(corpus_ws)
        refs = {i: r.read_text(encoding="utf-8") for i, (_a, r, _l) in zip(corpus_ids, clips)}
        samples, long_ref = _long_recording(clips, long_s)
        long_ws = _long_workspace(tmp / "long", samples)
        sets = {"corpus": (corpus_ws.root, corpus_ids, refs,
                           sum(wave.open(str(corpus_ws.derived_dir(i) / "asr.wav")).getnframes() for i in corpus_ids) / 16000),
                "long": (long_ws.root, ["long"], {"long": long_ref}, len(samples) / 16000)}
        modes = ["bare", "seq", *(f"batched:{b}" for b in batch_sizes)] + (["old"] if old_src else [])
        out: dict = {"threads": 1, "repeat": repeat, "jobs": jobs}
        tasks = [(name, k, mode) for name in sets if name in only for k in range(repeat)
                 for mode in modes[k % len(modes):] + modes[:k % len(modes)]]
        runs: dict[tuple[str, str], list[dict]] = {}

        def one(task):  # --jobs N: N paths at once, each its own process (CPU time is per process)
            name, k, mode = task
            root = tmp / "runs" / f"{name}-{k}-{mode.replace(':', '')}"  # its own copy: the stage writes
            shutil.copytree(sets[name][0], root)
            try:
                r = _run_worker(mode, root, sets[name][1], old_src)
            except Exception as exc:  # one path failing keeps the others' figures
                print(f"{name} round {k + 1} {mode}: FAILED {exc}", file=sys.stderr, flush=True)
                return task, None
            print(f"{name} round {k + 1} {mode}: cpu {r['cpu_s']} s, wall {r['wall_s']} s, rss {r['peak_rss_mb']} MB, "
                  f"load {r['load']} " + json.dumps({**r, "set": name, "texts": None}), file=sys.stderr, flush=True)
            return task, r

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for (name, _k, mode), r in pool.map(one, tasks):
                if r is not None:
                    runs.setdefault((name, mode), []).append(r)
        for name, (_root, ids, rf, audio_s) in sets.items():
            if name not in only:
                continue
            runs_of = {m: runs.get((name, m), []) for m in modes}
            table = {}
            bare = statistics.median(r["cpu_s"] for r in runs_of["bare"])
            for mode, rs in runs_of.items():
                if not rs:
                    continue
                cpu = statistics.median(r["cpu_s"] for r in rs)
                texts = rs[-1]["texts"]
                table[mode] = {"cpu_s": [r["cpu_s"] for r in rs], "cpu_median_s": cpu,
                               "cpu_per_audio_s": round(cpu / audio_s, 4), "vs_bare": round(cpu / bare, 3),
                               "vs_bare_per_round": [round(r["cpu_s"] / b["cpu_s"], 3) for r, b in zip(rs, runs_of["bare"])],
                               "peak_rss_mb": max(r["peak_rss_mb"] for r in rs), "parts_cpu_s": rs[-1]["parts_cpu_s"],
                               "load": [r["load"] for r in rs],
                               "wer": pooled(rf, texts, {i: "fr" for i in ids})["wer"]}
            out[name] = {"audio_s": round(audio_s, 1), "paths": table}
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-main", action="store_true")
    ap.add_argument("--experiments", action="store_true")
    ap.add_argument("--hints", action="store_true")
    ap.add_argument("--memory-minutes", type=float, default=0)
    ap.add_argument("--cpu", action="store_true", help="issue 22: CPU per audio second, 1 thread, per path")
    ap.add_argument("--batch-sizes", default="4", help="--cpu: batch sizes to measure, e.g. 4,8")
    ap.add_argument("--old-src", default="", help="--cpu: a folder holding the old oralhist package")
    ap.add_argument("--long-s", type=float, default=240.0, help="--cpu: length of the long recording")
    ap.add_argument("--sets", default="corpus,long", help="--cpu: corpus, long or both")
    ap.add_argument("--jobs", type=int, default=1, help="--cpu: paths measured at once (separate processes)")
    ap.add_argument("--worker", nargs=3, metavar=("MODE", "ARCHIVE", "IDS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(_worker(a.worker[0], a.worker[1], a.worker[2].split(","))))
        return
    res: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if a.memory_minutes:  # first, while this process is small (ru_maxrss of children only)
        res["memory"] = bench_memory(a.memory_minutes)
        print(json.dumps(res["memory"]), file=sys.stderr)
    if not a.skip_main:
        res["main"] = bench_main(a.repeat)
    if a.experiments:
        res["experiments"] = bench_experiments()
    if a.hints:
        res["hints"] = bench_hints()
    if a.cpu:
        res["cpu"] = bench_cpu(a.repeat, [int(x) for x in a.batch_sizes.split(",") if x], a.old_src, a.long_s,
                               tuple(a.sets.split(",")), a.jobs)
    print(json.dumps(res, indent=1, ensure_ascii=False))
    with open(REPO / "bench" / "results-transcribe.json", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(res, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
