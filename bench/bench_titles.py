"""Topic titles against editors' titles (issue 13 item 6).

    .venv/bin/python bench/bench_titles.py [--json out.json]

Input: the Whisper-base transcripts of corpus clips (bench/data/asr-fr-base.json), one topic
segment each, as the index stage sees them. Reference: titles written by hand
(bench/data/topic-titles-ref.json). Reported, for the old title (YAKE keywords joined by
commas) and the new one (a noun phrase of the segment), both computed in this run:

- lemma F1: overlap of content lemmas (simplemma, YAKE's stop words removed) between the
  machine title and the editor's, averaged over segments (ROUGE-1 on lemmas);
- list-like: titles that read as a word list (two commas or more, or a comma between
  fragments), the review's complaint;
- length: mean number of words.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from oralhist.editorial import topics  # noqa: E402


def old_title(kws, sentences, max_chars: int = 70) -> str:
    """The title function before issue 13 (kept here as the baseline)."""
    if kws:
        t = ", ".join(kws[:3])
        t = t[0].upper() + t[1:]
        return t if len(t) <= max_chars else t[:max_chars].rsplit(",", 1)[0]
    first = sentences[0].text if sentences else ""
    return first if len(first) <= max_chars else first[: max_chars - 1].rsplit(" ", 1)[0] + " …"


def content(text: str) -> set[str]:
    stop = topics.stopwords("fr")
    return {lem for lem in topics.lemmas(text, "fr") if lem not in stop and len(lem) > 1}


def f1(a: str, b: str) -> float:
    x, y = content(a), content(b)
    if not x or not y:
        return 0.0
    inter = len(x & y)
    if not inter:
        return 0.0
    p, r = inter / len(x), inter / len(y)
    return 2 * p * r / (p + r)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    asr = json.loads((REPO / "bench/data/asr-fr-base.json").read_text(encoding="utf-8"))["texts"]
    ref = json.loads((REPO / "bench/data/topic-titles-ref.json").read_text(encoding="utf-8"))["titles"]
    rows = []
    for key, gold in ref.items():
        text = asr[key]
        sents = [topics.Sentence(start_ms=a, end_ms=b, text=t) for a, b, t in topics._split_text_times(text, 0, 60_000)]
        kws = topics.keywords(text, "fr")
        old, new = old_title(kws, sents), topics.title_from(kws, sents)
        rows.append({"clip": key, "editor": gold, "old": old, "new": new, "f1_old": f1(old, gold), "f1_new": f1(new, gold)})
    out = {
        "segments": len(rows),
        "lemma_f1_old": round(statistics.mean(r["f1_old"] for r in rows), 3),
        "lemma_f1_new": round(statistics.mean(r["f1_new"] for r in rows), 3),
        "list_like_old": sum(r["old"].count(",") >= 1 for r in rows),
        "list_like_new": sum(r["new"].count(",") >= 1 for r in rows),
        "words_old": round(statistics.mean(len(r["old"].split()) for r in rows), 1),
        "words_new": round(statistics.mean(len(r["new"].split()) for r in rows), 1),
        "rows": rows,
    }
    for r in rows:
        print(f"{r['clip']:24} {r['f1_old']:.2f} {r['f1_new']:.2f} | {r['old']!r} -> {r['new']!r}  (editor: {r['editor']!r})")
    print({k: v for k, v in out.items() if k != "rows"})
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
