"""Re-deriving every transcript-derived text of one hour of transcript (issue 10).

A one-hour view (600 segments x 15 words, ~9,000 words with times; 12 machine topics,
60 links) is built in memory; ``view.derive`` recomputes link quotes, machine topic
titles/synopses/keywords/partial transcripts and reader-facing speaker names from it, as
``load_interview`` and the publisher do after a save. Baseline in the same run: building the
same view without ``derive`` (what reading cost before). Median of 3 (cold: the topic-text
cache is cleared before each run). Target < 0.5 s.

Usage: python bench/bench_derive.py
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def one_hour():
    from oralhist.editorial.view import (ConsentView, InterviewView, LinkView, SegmentView, SpeakerView, TopicView,
                               WordView)

    rnd = random.Random(1)
    vocab = []
    for p in sorted((REPO / "tests" / "data" / "corpus" / "fr").glob("*.txt")):
        vocab += p.read_text(encoding="utf-8").split()
    segs, t = [], 0
    for i in range(600):
        words = []
        for j in range(15):
            w = rnd.choice(vocab)
            words.append(WordView(t, t + 380, " " + w, 0.9))
            t += 400
        segs.append(SegmentView(words[0].start_ms, words[-1].end_ms, "".join(w.text for w in words).strip() + ".",
                                speaker="SPEAKER_1" if i % 4 else "SPEAKER_2", speaker_name=None, words=tuple(words)))
    hour = t
    topics = tuple(TopicView(k * hour // 12, (k + 1) * hour // 12, f"t{k}", "s", ("k",), "p") for k in range(12))
    links = tuple(LinkView(k, 1, "mine", "trade", k * 60000, k * 60000 + 4000, "old", "accepted") for k in range(60))
    return InterviewView(id="x", title="x", narrator=None, interviewer=None, date=None, place=None, museum=None,
                         status="approved", language="fr", duration_ms=hour, consent=ConsentView(scope="public"),
                         speakers=(SpeakerView("SPEAKER_1", role="narrator"), SpeakerView("SPEAKER_2", role="interviewer")),
                         transcript_version=2, transcript_status="approved", segments=tuple(segs), topics=topics,
                         links=links)


def main() -> None:
    from oralhist.editorial import view as V

    from oralhist.editorial.topics import index_view

    v0 = one_hour()
    t0 = time.perf_counter()
    made = index_view(v0, n_segments=12)  # the machine index as `oralhist index` stores it
    cold = time.perf_counter() - t0
    v0 = replace(v0, topics=tuple(V.TopicView(t.start_ms, t.end_ms, t.title, t.synopsis, tuple(t.keywords),
                                              t.partial_transcript) for t in made))
    # an editor corrects one word (a topic title's word) in the segment where it is said
    word = next(w for w in made[3].synopsis.split() if len(w) > 5 and w.isalpha())
    k = next(i for i, sg in enumerate(v0.segments) if word in sg.text)
    sg = v0.segments[k]
    fixed = replace(sg, text=sg.text.replace(word, "Fisichella"),
                    words=tuple(replace(w, text=w.text.replace(word, "Fisichella")) for w in sg.words))
    v = replace(v0, segments=v0.segments[:k] + (fixed,) + v0.segments[k + 1:])
    # worst case: the corrected word is one of a topic's keywords (title and keywords made again, YAKE)
    # (a misheard name corrected everywhere it is said in that topic's range)
    tk = made[5]
    kw = next(w for k in tk.keywords for w in k.split() if len(w) > 4 and w.isalpha())

    def fix(sg):
        if not (tk.start_ms <= sg.start_ms < tk.end_ms):
            return sg
        return replace(sg, text=sg.text.replace(kw, "Fisichella"),
                       words=tuple(replace(w, text=w.text.replace(kw, "Fisichella")) for w in sg.words))

    v2 = replace(v0, segments=tuple(fix(sg) for sg in v0.segments))
    base, der, der2 = [], [], []
    for _ in range(3):
        t0 = time.perf_counter()
        one_hour()
        base.append(time.perf_counter() - t0)
        V._machine_topic_text.cache_clear()
        t0 = time.perf_counter()
        d = V.derive(v)
        der.append(time.perf_counter() - t0)
        V._machine_topic_text.cache_clear()
        t0 = time.perf_counter()
        d2 = V.derive(v2)
        der2.append(time.perf_counter() - t0)
    assert d2.topics != v2.topics  # the topic with the corrected keyword was made again
    assert d.links[0].quote != "old"
    load = os.getloadavg()
    line = (f"derive, one hour (600 segments, {sum(len(s.words) for s in v.segments)} words, 12 topics, 60 links): "
            f"median {statistics.median(der):.3f} s of 3 (runs {', '.join(f'{x:.3f}' for x in der)}); "
            f"a keyword's word corrected (title and keywords made again): median {statistics.median(der2):.3f} s "
            f"(runs {', '.join(f'{x:.3f}' for x in der2)}); "
            f"baseline building the same view: {statistics.median(base):.3f} s; indexing the hour from scratch "
            f"(`index`): {cold:.3f} s; load average {load[0]:.2f}")
    print(line)
    out = REPO / "bench" / "RESULTS-corrections.md"
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with out.open("a", encoding="utf-8") as f:
        f.write(f"- ({rev}) {line}\n")


if __name__ == "__main__":
    main()
