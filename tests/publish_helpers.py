"""Helpers for the publish/consent tests: interviews made directly with records.py.

Real text (FLEURS prompts), real audio (FLEURS clips concatenated with the bundled ffmpeg),
word timings spread over each clip's duration.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Optional

CLIPS = ("fleurs_fr_000", "fleurs_fr_001", "fleurs_fr_003")


def clip_text(corpus: Path, name: str) -> str:
    return (corpus / "fr" / f"{name}.txt").read_text(encoding="utf-8").strip()


_ENCODED: dict[tuple, bytes] = {}  # (corpus, clips) -> the mp3, encoded once per test process


def make_audio(ffmpeg: str, corpus: Path, out: Path, clips=CLIPS) -> int:
    """Concatenate corpus clips into one mp3 (mono 22.05 kHz); returns its duration in ms.
    The same clips give the same file: it is encoded once per test process, then copied."""
    out.parent.mkdir(parents=True, exist_ok=True)
    key = (str(corpus), tuple(clips))
    if key in _ENCODED:
        out.write_bytes(_ENCODED[key])
        return probe_ms(ffmpeg, out)
    args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    for c in clips:
        args += ["-i", str(corpus / "fr" / f"{c}.ogg")]
    n = len(clips)
    filt = "".join(f"[{i}:a]" for i in range(n)) + f"concat=n={n}:v=0:a=1,aresample=22050[a]"
    args += ["-filter_complex", filt, "-map", "[a]", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", str(out)]
    subprocess.run(args, check=True)
    _ENCODED[key] = out.read_bytes()
    return probe_ms(ffmpeg, out)


def probe_ms(ffmpeg: str, path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return int(c.duration / 1000) if c.duration else 0


def clip_durations(corpus: Path, clips=CLIPS) -> list[int]:
    import av

    out = []
    for c in clips:
        with av.open(str(corpus / "fr" / f"{c}.ogg")) as f:
            out.append(int(f.duration / 1000))
    return out


def decode_mono(path: Path, rate: int = 16000):
    """Decode a file to float32 mono samples at ``rate`` (PyAV)."""
    import av
    import numpy as np

    chunks = []
    with av.open(str(path)) as c:
        res = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in c.decode(audio=0):
            for f in res.resample(frame):
                chunks.append(f.to_ndarray().reshape(-1))
        for f in res.resample(None):
            chunks.append(f.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype="float32")


def rms(samples) -> float:
    import numpy as np

    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def make_interview(
    ws,
    iid: str,
    *,
    corpus: Path,
    audio: Optional[Path] = None,
    title: str = "Témoignage",
    narrator: str = "Marcel Dupont",
    interviewer: str = "Claire Martin",
    museum: str = "Musée de la mine",
    place: str = "Lewarde",
    date: str = "1998-06-14",
    scope: str = "public",
    embargo_until=None,
    anonymise: bool = False,
    pseudonym: Optional[str] = None,
    texts: Optional[list[str]] = None,
    summary: Optional[str] = None,
    topics: Optional[list[tuple[int, int, str, str, list]]] = None,
    links: Optional[list[tuple[str, str, int, int, str, str, float]]] = None,
    redactions: Optional[list[tuple[int, int, str]]] = None,
    speaker_name: Optional[str] = None,
    topic_source: str = "editor",
    legacy_id: bool = True,
):
    """One interview: one segment per clip (text = the clip's prompt or ``texts``), words
    spread evenly, optional topics (start, end, title, synopsis, keywords) and links
    (kind, label, start, end, quote, status, confidence).

    ``legacy_id``: like an interview published before revision 1906, its public id (page
    address, OAI identifier) is its archive id (an opaque one when anonymised); otherwise a
    new opaque key, as every interview gets today (tests/test_security_names.py)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import (Consent, ConsentScope, Derivative, Interview, Link, LinkStatus, Museum, Person,
                                  Recording, Redaction, Segment, Speaker, SpeakerRole, Term, TermKind,
                                  TopicSegment, Transcript, Word)
    from oralhist.stage import mark_done

    durs = clip_durations(corpus)
    texts = texts or [clip_text(corpus, c) for c in CLIPS]
    total = sum(durs)
    with db.session(ws) as s:
        mus = s.exec(select(Museum).where(Museum.name == museum)).first() or Museum(name=museum)
        s.add(mus)
        nar = Person(name=narrator, pseudonym=pseudonym)
        itv = Person(name=interviewer)
        s.add(nar)
        s.add(itv)
        s.flush()
        from oralhist.records import new_public_key

        key = {"public_key": iid if not anonymise else new_public_key()} if legacy_id else {}
        s.add(Interview(id=iid, title=title, narrator_id=nar.id, interviewer_id=itv.id, museum_id=mus.id,
                        date=date, place=place, language="fr", summary=summary, duration_ms=total, **key))
        s.flush()
        ddir = ws.derived_dir(iid)
        ddir.mkdir(parents=True, exist_ok=True)
        if audio is not None:
            dest = ddir / "access.mp3"
            dest.write_bytes(Path(audio).read_bytes())
            sha = hashlib.sha256(dest.read_bytes()).hexdigest()
            s.add(Derivative(interview_id=iid, kind="access", path=ws.rel(dest), sha256=sha, duration_ms=total))
        rec_path = f"interviews/{iid}/original/{iid}.mp3"
        if audio is not None:
            odir = ws.original_dir(iid)
            odir.mkdir(parents=True, exist_ok=True)
            (odir / f"{iid}.mp3").write_bytes(Path(audio).read_bytes())
        # The sha256 is made unique per interview (several test interviews share one clip).
        s.add(Recording(interview_id=iid, part=1, original_name=f"{narrator} {iid}.mp3", path=rec_path,
                        sha256=hashlib.sha256(iid.encode()).hexdigest(), size=1, duration_ms=total,
                        sample_rate=22050, channels=1, codec="mp3"))
        s.add(Consent(interview_id=iid, scope=ConsentScope(scope), embargo_until=embargo_until, anonymise=anonymise))
        tr = Transcript(interview_id=iid, version=1, model="base", language="fr", duration_ms=total)
        s.add(tr)
        sp = Speaker(interview_id=iid, label="SPEAKER_1", person_id=None if speaker_name else nar.id,
                     name=speaker_name, role=SpeakerRole.narrator)
        s.add(sp)
        s.flush()
        t0, widx = 0, 0
        for i, (d, text) in enumerate(zip(durs, texts)):
            seg = Segment(transcript_id=tr.id, idx=i, start_ms=t0, end_ms=t0 + d, text=text, speaker_id=sp.id)
            s.add(seg)
            s.flush()
            toks = text.split()
            step = d / max(1, len(toks))
            for j, tok in enumerate(toks):
                s.add(Word(transcript_id=tr.id, segment_id=seg.id, idx=widx, start_ms=int(t0 + j * step),
                           end_ms=int(t0 + (j + 1) * step) - 1, text=" " + tok, probability=0.9))
                widx += 1
            t0 += d
        for a, b, ttl, syn, kw in topics or []:
            s.add(TopicSegment(interview_id=iid, start_ms=a, end_ms=b, title=ttl, synopsis=syn, keywords=kw,
                               source=topic_source))  # hand-written titles: an editor's (machine: follow the text)
        for kind, label, a, b, quote, status, conf in links or []:
            term = s.exec(select(Term).where(Term.kind == TermKind(kind), Term.label == label)).first()
            if term is None:
                term = Term(kind=TermKind(kind), label=label)
                s.add(term)
                s.flush()
            s.add(Link(interview_id=iid, term_id=term.id, start_ms=a, end_ms=b, quote=quote,
                       status=LinkStatus(status), confidence=conf))
        for a, b, r in redactions or []:
            s.add(Redaction(interview_id=iid, start_ms=a, end_ms=b, reason=r))
        for st in ("normalise", "transcribe", "diarize", "index", "link"):
            mark_done(s, iid, st)
        s.commit()
    return durs


def many_interview_facts(i: int, n: int) -> dict:
    """The facts of generated interview ``i`` of ``n`` (the tests compute expected counts from it)."""
    return {
        "id": f"gen-{i:04d}",
        "title": f"Témoignage n° {i:04d}",
        "narrator": f"Témoin {n - i:04d}",
        "museum": f"Musée {i % 4}",
        "place": f"Commune {i % 5}",
        "trade": f"métier {i % 7}",
        "date": f"{1950 + i % 70}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "language": "en" if i % 10 == 0 else "fr",
        "summary": ("Un zéphyr unique souffle sur la fosse." if i == 123 else
                    f"Souvenirs de travail au musée {i % 4}, racontés par un témoin de la commune {i % 5}."),
    }


def make_many(ws, n: int, start: int = 0) -> None:
    """``n`` public interviews inserted directly through records.py in one transaction (a second
    or two for 1,000): one short segment each, one accepted trade link, no audio."""
    from sqlalchemy import insert
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import (Consent, ConsentScope, Interview, Link, LinkStatus, Museum, Person, Segment,
                                  Term, TermKind, Transcript)

    with db.session(ws) as s:
        museums, terms = {}, {}
        facts = [many_interview_facts(i, n) for i in range(start, start + n)]
        for f in facts:
            if f["museum"] not in museums:
                museums[f["museum"]] = s.exec(select(Museum).where(Museum.name == f["museum"])).first() or Museum(name=f["museum"])
                s.add(museums[f["museum"]])
            if f["trade"] not in terms:
                terms[f["trade"]] = Term(kind=TermKind.trade, label=f["trade"])
                s.add(terms[f["trade"]])
        s.flush()
        people = [Person(name=f["narrator"]) for f in facts]
        s.add_all(people)
        s.flush()
        s.execute(insert(Interview), [dict(id=f["id"], title=f["title"], narrator_id=p.id,
                                           museum_id=museums[f["museum"]].id, date=f["date"], place=f["place"],
                                           language=f["language"], summary=f["summary"], duration_ms=60_000 + 1000 * (i % 50),
                                           public_key=f["id"])  # like make_interview's legacy_id
                                      for i, (f, p) in enumerate(zip(facts, people))])
        s.execute(insert(Consent), [dict(interview_id=f["id"], scope=ConsentScope.public) for f in facts])
        s.execute(insert(Transcript), [dict(interview_id=f["id"], version=1, model="base", language=f["language"],
                                            duration_ms=60_000) for f in facts])
        trs = dict(s.exec(select(Transcript.interview_id, Transcript.id)).all())
        s.execute(insert(Segment), [dict(transcript_id=trs[f["id"]], idx=0, start_ms=0, end_ms=5000,
                                         text=f"{f['summary']} Je travaillais comme {f['trade']}.") for f in facts])
        s.execute(insert(Link), [dict(interview_id=f["id"], term_id=terms[f["trade"]].id, start_ms=1000, end_ms=4000,
                                      quote=f["trade"], status=LinkStatus.accepted, confidence=1.0) for f in facts])
        s.commit()


def public_key_of(ws, iid: str) -> str:
    """The interview's public id (page address ``i/<key>.html``, OAI identifier)."""
    from oralhist import db
    from oralhist.records import Interview

    with db.session(ws) as s:
        return s.get(Interview, iid).public_key
