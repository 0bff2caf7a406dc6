"""Helpers for the link/search/clip tests: real transcript text (the bundled corpus' reference
transcripts) written as Transcript/Segment/Word rows with plausible word timings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional


def corpus_text(corpus: Path, name: str) -> str:
    return " ".join((corpus / "fr" / f"{name}.txt").read_text(encoding="utf-8").split())


def make_interview(ws, iid: str, sentences: list[str], *, museum: Optional[str] = None, speaker: Optional[str] = None,
                   version: int = 1, word_ms: int = 320, gap_ms: int = 600, words: bool = True) -> int:
    """One interview whose transcript has one segment per sentence; returns the transcript id."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Interview, Museum, Segment, Speaker, Transcript, TranscriptStatus, Word

    with db.session(ws) as s:
        iv = s.get(Interview, iid)
        if iv is None:
            mid = None
            if museum:
                m = s.exec(select(Museum).where(Museum.name == museum)).first() or Museum(name=museum)
                s.add(m)
                s.flush()
                mid = m.id
            iv = Interview(id=iid, title=f"Entretien {iid}", museum_id=mid, status="transcribed")
            s.add(iv)
            s.flush()
        spk = None
        if speaker:
            spk = Speaker(interview_id=iid, label="SPEAKER_1", name=speaker)
            s.add(spk)
            s.flush()
        tr = Transcript(interview_id=iid, version=version,
                        status=TranscriptStatus.machine if version == 1 else TranscriptStatus.corrected)
        s.add(tr)
        s.flush()
        t = 0
        widx = 0
        for i, sent in enumerate(sentences):
            toks = sent.split()
            seg = Segment(transcript_id=tr.id, idx=i, start_ms=t, end_ms=t + word_ms * len(toks), text=sent,
                          speaker_id=spk.id if spk else None)
            s.add(seg)
            s.flush()
            if words:
                for j, w in enumerate(toks):
                    s.add(Word(transcript_id=tr.id, segment_id=seg.id, idx=widx, start_ms=t + j * word_ms,
                               end_ms=t + (j + 1) * word_ms - 20, text=(" " if j else "") + w, probability=0.9))
                    widx += 1
            t = seg.end_ms + gap_ms
        iv.duration_ms = max(iv.duration_ms, t)
        s.add(iv)
        s.commit()
        return tr.id
