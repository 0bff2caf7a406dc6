"""Publish benchmark: a synthetic archive of N interviews (default 500).

Each interview has a generated French transcript (words drawn from the corpus's French
reference texts, real-looking timings: 60 segments x 15 words, about 6 minutes), topics,
links, and a short real audio access copy (a FLEURS clip, re-encoded to MP3 with the bundled
ffmpeg). Interview 0 has a one-hour transcript (600 segments, ~9,000 words) for the page
weight figure.

Measures (median of several runs, all in this process on this machine):
- full build (empty site/) — target < 60 s;
- one-interview incremental rebuild (one segment's text changed) — target < 3 s;
- no-change republish (the baseline: reading the archive and hashing the model);
- interview page weight without audio (HTML + the CSS and JS it references + default text tracks) for the
  one-hour interview — target < 300 KB;
- search index size (site/pagefind) per hour of transcript.

Usage: python bench/bench_publish.py [--interviews 500] [--full-runs 3] [--inc-runs 5]
Writes bench/RESULTS-publish.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("ORALHIST_CORPUS", REPO.parent / "shared" / "corpus"))


def vocabulary() -> list[str]:
    words = []
    for p in sorted((CORPUS / "fr").glob("*.txt")):
        if ".orig." in p.name:
            continue
        words += p.read_text(encoding="utf-8").split()
    return words or ["mine", "charbon", "puits", "lampe"]


def make_archive(root: Path, n: int, audio: Path) -> tuple[object, float]:
    from sqlalchemy import insert
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import (Consent, ConsentScope, Derivative, Interview, Link, LinkStatus, Museum, Person,
                                  Recording, Segment, Speaker, SpeakerRole, Term, TermKind, TopicSegment, Transcript,
                                  Word)
    from oralhist.archive.workspace import init

    ws = init(root, title="Banc d'essai")
    rng = random.Random(7)
    vocab = vocabulary()
    audio_bytes = audio.read_bytes()
    sha = hashlib.sha256(audio_bytes).hexdigest()
    hours = 0.0
    with db.session(ws) as s:
        museums = [Museum(name=f"Musée {k}") for k in range(12)]
        trades = [Term(kind=TermKind.trade, label=f"métier {k}") for k in range(40)]
        places = [Term(kind=TermKind.place, label=f"commune {k}") for k in range(30)]
        for r in museums + trades + places:
            s.add(r)
        s.flush()
        for i in range(n):
            iid = f"{1950 + i % 60}-temoin-{i:04d}"
            nar = Person(name=f"Témoin {i}")
            s.add(nar)
            s.flush()
            n_seg = 600 if i == 0 else 60
            seg_ms = 6000
            dur = n_seg * seg_ms
            hours += dur / 3_600_000
            s.add(Interview(id=iid, title=f"Souvenirs de travail n° {i}", narrator_id=nar.id,
                            museum_id=museums[i % 12].id, date=f"{1950 + i % 60}-06-01", place=f"commune {i % 30}",
                            summary=" ".join(rng.choice(vocab) for _ in range(40)), duration_ms=dur, status="linked"))
            s.flush()
            d = ws.derived_dir(iid)
            d.mkdir(parents=True, exist_ok=True)
            (d / "access.mp3").write_bytes(audio_bytes)
            s.add(Derivative(interview_id=iid, kind="access", path=f"interviews/{iid}/derived/access.mp3", sha256=sha,
                             duration_ms=dur))
            s.add(Recording(interview_id=iid, part=1, original_name="x.wav", path=f"interviews/{iid}/original/x.wav",
                            sha256=hashlib.sha256(iid.encode()).hexdigest(), size=1, duration_ms=dur,
                            sample_rate=16000, channels=1, codec="pcm"))
            s.add(Consent(interview_id=iid, scope=ConsentScope.public))
            tr = Transcript(interview_id=iid, version=1, model="base", language="fr", duration_ms=dur)
            s.add(tr)
            sp1 = Speaker(interview_id=iid, label="SPEAKER_1", person_id=nar.id, role=SpeakerRole.narrator)
            sp2 = Speaker(interview_id=iid, label="SPEAKER_2", name="Enquêtrice", role=SpeakerRole.interviewer)
            s.add(sp1)
            s.add(sp2)
            s.flush()
            seg_rows, words_by_seg = [], []
            for k in range(n_seg):
                toks = [rng.choice(vocab) for _ in range(15)]
                seg_rows.append(dict(transcript_id=tr.id, idx=k, start_ms=k * seg_ms, end_ms=(k + 1) * seg_ms - 100,
                                     text=" ".join(toks), speaker_id=(sp1 if k % 4 else sp2).id))
                words_by_seg.append(toks)
            s.execute(insert(Segment), seg_rows)
            seg_ids = s.exec(select(Segment.id).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
            wrows, widx = [], 0
            for k, (sid, toks) in enumerate(zip(seg_ids, words_by_seg)):
                for j, t in enumerate(toks):
                    a = k * seg_ms + j * 390
                    wrows.append(dict(transcript_id=tr.id, segment_id=sid, idx=widx, start_ms=a, end_ms=a + 350,
                                      text=" " + t, probability=0.9))
                    widx += 1
            s.execute(insert(Word), wrows)
            for k in range(0, n_seg, 10):
                s.add(TopicSegment(interview_id=iid, start_ms=k * seg_ms, end_ms=min(dur, (k + 10) * seg_ms),
                                   title=" ".join(rng.choice(vocab) for _ in range(4)),
                                   synopsis=" ".join(rng.choice(vocab) for _ in range(25)), keywords=[rng.choice(vocab)],
                                   made_from=tr.id))  # as `oralhist index` stores them
            for k in range(3):
                term = rng.choice(trades if k < 2 else places)
                a = rng.randrange(0, dur - 5000)
                s.add(Link(interview_id=iid, term_id=term.id, start_ms=a, end_ms=a + 4000, quote="extrait cité",
                           status=LinkStatus.accepted))
            if i % 50 == 0:
                s.commit()
        s.commit()
    return ws, hours


def touch_one(ws, k: int) -> None:
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Interview, Segment, Transcript

    with db.session(ws) as s:
        iid = s.exec(select(Interview.id).order_by(Interview.id)).all()[1 + k]
        tr = s.exec(select(Transcript).where(Transcript.interview_id == iid)).first()
        seg = s.exec(select(Segment).where(Segment.transcript_id == tr.id, Segment.idx == 3)).first()
        seg.text = f"une correction numéro {k} du texte"
        s.add(seg)
        s.commit()


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--interviews", type=int, default=500)
    ap.add_argument("--full-runs", type=int, default=3)
    ap.add_argument("--inc-runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS-publish.md")
    args = ap.parse_args()

    import imageio_ffmpeg

    from oralhist.outputs.publish import publish_site

    tmp = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    try:
        audio = tmp / "clip.mp3"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i",
                        str(CORPUS / "fr" / "fleurs_fr_000.ogg"), "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k",
                        str(audio)], check=True)
        t0 = time.perf_counter()
        ws, hours = make_archive(tmp / "archive", args.interviews, audio)
        gen_s = time.perf_counter() - t0
        print(f"archive generated in {gen_s:.1f} s ({hours:.1f} h of transcript)", flush=True)

        full = []
        for r in range(args.full_runs):
            if ws.site.exists():
                shutil.rmtree(ws.site)
            t = time.perf_counter()
            rep = publish_site(ws)
            full.append(time.perf_counter() - t)
            print(f"full build {r + 1}: {full[-1]:.2f} s ({rep.details['files']} files)", flush=True)
        files = rep.details["files"]

        noop = []
        for r in range(args.inc_runs):
            t = time.perf_counter()
            rep = publish_site(ws)
            noop.append(time.perf_counter() - t)
            assert rep.details["written"] == 0
        print(f"no-change republish: {statistics.median(noop):.2f} s", flush=True)

        inc, written = [], []
        for r in range(args.inc_runs):
            touch_one(ws, r)
            t = time.perf_counter()
            rep = publish_site(ws)
            inc.append(time.perf_counter() - t)
            written.append(rep.details["written"])
            print(f"incremental {r + 1}: {inc[-1]:.2f} s, {rep.details['written']} file(s) written, "
                  f"search shards re-indexed: {rep.details.get('search_shards_reindexed')}", flush=True)

        site = ws.site
        first = sorted((site / "i").glob("*.html"))[0]
        iid = first.stem
        # What the page makes a browser download before playing: the HTML, the style sheets and
        # scripts it references, and the text tracks only if one is marked `default` (the
        # captions are drawn from the transcript in the page; the .vtt files are for download
        # and partners).
        html_text = first.read_text(encoding="utf-8")
        refs = re.findall(r'<(?:script[^>]*\bsrc|link[^>]*rel="stylesheet"[^>]*\bhref)="\.\./([^"]+)"', html_text)
        tracks = re.findall(r'<track[^>]*\bsrc="\.\./([^"]+)"[^>]*\bdefault', html_text)
        page_parts = {
            "HTML": first.stat().st_size,
            "CSS + JS": sum((site / r).stat().st_size for r in sorted(set(refs))),
            "default text tracks": sum((site / r).stat().st_size for r in tracks),
        }
        import gzip

        html_gz = len(gzip.compress(first.read_bytes()))
        page_total = sum(page_parts.values())
        pf = site / "pagefind"
        pf_total = dir_size(pf)
        pf_index = sum(f.stat().st_size for f in pf.rglob("*")
                       if f.is_file() and f.suffix in (".pf_fragment", ".pf_index", ".pf_filter", ".pf_meta"))
        site_no_audio = sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and f.suffix != ".mp3")

        med = statistics.median
        lines = [
            "# Publish benchmark (issue 7)",
            "",
            f"`python bench/bench_publish.py --interviews {args.interviews} --full-runs {args.full_runs} --inc-runs {args.inc_runs}`"
            f" on {platform.machine()} / {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine shared with other jobs: timings are indicative.",
            "",
            f"Synthetic archive: {args.interviews} public interviews, {hours:.1f} h of generated transcript "
            "(interview 0: 1 h, 600 segments, 9,000 words; the others 6 min, 60 segments, 900 words), "
            "topics every 10 segments, 3 accepted links each, a 10 s MP3 access copy each. "
            f"The site has {files} files ({site_no_audio / 1e6:.1f} MB without audio).",
            "",
            "| measure | median | runs | target |",
            "|---|---|---|---|",
            f"| full build (empty site/) | {med(full):.1f} s | {', '.join(f'{x:.1f}' for x in full)} | < 60 s |",
            f"| one interview changed, incremental rebuild | {med(inc):.2f} s | {', '.join(f'{x:.2f}' for x in inc)} | < 3 s |",
            f"| baseline: republish with nothing changed | {med(noop):.2f} s | {', '.join(f'{x:.2f}' for x in noop)} | |",
            f"| files written by the incremental rebuild | {med(written):.0f} | {', '.join(str(x) for x in written)} | only that interview's |",
            f"| interview page weight without audio (1 h interview) | {page_total / 1024:.0f} KB | "
            + ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in page_parts.items())
            + f" (HTML gzip-compressed: {html_gz / 1024:.0f} KB) | < 300 KB |",
            f"| search index (site/pagefind, all files) per hour of transcript | {pf_total / hours / 1024:.0f} KB/h | "
            f"{pf_total / 1e6:.1f} MB for {hours:.1f} h | |",
            f"| search index data only (fragments, index, filters, meta) per hour | {pf_index / hours / 1024:.0f} KB/h | "
            f"{pf_index / 1e6:.1f} MB | |",
            "",
            "A visitor downloads only the index chunks a query needs (Pagefind splits the index), not the whole index.",
            "The incremental rebuild reads every interview's rows with plain SQL (no words), fingerprints them, "
            "re-renders only the changed interview plus the shared pages (home, term pages, sitemap, OAI-PMH), "
            "writes only the files whose hash changed, and re-runs Pagefind on the one search shard that holds "
            f"the changed pages ({rep.details.get('search_shards', 1)} shards here, merged in the browser; Pagefind "
            "cannot update an index in place). The no-change republish skips Pagefind.",
            "",
        ]
        args.out.write_text("\n".join(lines), encoding="utf-8")
        print("\n".join(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
