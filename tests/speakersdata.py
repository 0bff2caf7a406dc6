"""Helpers for the speakers/topics tests: real corpus clips ingested, normalised, transcribed."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def ingest_clip(ws, path: Path, **meta) -> str:
    """Ingest one real file; return the interview id."""
    from oralhist.archive.ingest import IngestMeta, ingest_paths

    rep = ingest_paths(ws, [Path(path)], meta=IngestMeta(**meta))
    assert rep.done, rep.failed
    return rep.done[0]


def normalise(ws, interview_id: str) -> Path:
    """derived/asr.wav by area 1's normalise when present, else decoded here (16 kHz mono s16)."""
    try:
        from oralhist.archive.audio import normalise_interviews
    except ImportError:
        normalise_interviews = None
    if normalise_interviews is not None:
        rep = normalise_interviews(ws, [interview_id])
        assert not rep.failed, rep.failed
        return ws.derived_dir(interview_id) / "asr.wav"
    from sqlmodel import select

    from oralhist import db
    from oralhist.recognition.diarize import decode_16k
    from oralhist.records import Recording

    with db.session(ws) as s:
        recs = s.exec(select(Recording).where(Recording.interview_id == interview_id).order_by(Recording.part)).all()
    audio = np.concatenate([decode_16k(ws.abs(r.path))[0] for r in recs])
    out = ws.derived_dir(interview_id) / "asr.wav"
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return out


def transcribe(ws, interview_id: str, language: str = "en") -> None:
    """Real faster-whisper output (the default model) stored by area 2's stage."""
    from oralhist.recognition.transcribe import transcribe_interviews

    rep = transcribe_interviews(ws, [interview_id], language=language, exports=False)
    assert rep.done == [interview_id], rep.failed


def transcript_from_texts(ws, interview_id: str, pieces: list[tuple[int, int, str, str | None]]) -> None:
    """A machine transcript written directly: (start_ms, end_ms, text, speaker label or None)
    per segment, words timed evenly inside each segment."""
    from oralhist import db
    from oralhist.records import Segment, Speaker, Transcript, Word

    with db.session(ws) as s:
        tr = Transcript(interview_id=interview_id, version=1, model="reference", language="fr",
                        duration_ms=max(e for _, e, _, _ in pieces))
        s.add(tr)
        s.flush()
        spk: dict[str, int] = {}
        n = 0
        for i, (st, en, text, label) in enumerate(pieces):
            if label and label not in spk:
                row = Speaker(interview_id=interview_id, label=label)
                s.add(row)
                s.flush()
                spk[label] = row.id
            sg = Segment(transcript_id=tr.id, idx=i, start_ms=st, end_ms=en, text=text, speaker_id=spk.get(label))
            s.add(sg)
            s.flush()
            toks = text.split()
            step = (en - st) / max(1, len(toks))
            for k, t in enumerate(toks):
                s.add(Word(transcript_id=tr.id, segment_id=sg.id, idx=n, start_ms=int(st + k * step),
                           end_ms=int(st + (k + 1) * step), text=t))
                n += 1
        s.commit()


# Four subjects, each told in several sentences (as an interview's answers would be).
SUBJECTS = [
    "La filature de Roubaix employait des centaines d'ouvrières. Les métiers à tisser faisaient un bruit "
    "terrible dans l'atelier. Les ouvrières de la filature surveillaient les bobines de laine. "
    "Le contremaître de l'atelier passait entre les métiers. La laine arrivait en balles à la filature. "
    "On lavait la laine, on la peignait, puis les métiers la filaient.",
    "Au fond de la mine, les mineurs descendaient par la cage à six heures. Le charbon était abattu au "
    "marteau-piqueur dans la taille. Les galeries de la mine étaient étayées avec du bois. Le grisou faisait "
    "peur à tous les mineurs. Les berlines de charbon remontaient au puits. Le soir, les mineurs prenaient "
    "leur douche à la salle des pendus.",
    "Le dimanche, la fanfare du village jouait sur la place. Mon oncle jouait du cornet dans la fanfare. "
    "Les musiciens répétaient le jeudi soir au café. Pour la ducasse, la fanfare défilait dans les rues. "
    "Les enfants suivaient les musiciens jusqu'à l'église. Le chef de la fanfare était le boulanger.",
    "Dans la cuisine, ma grand-mère préparait la soupe aux poireaux. Elle cuisait le pain dans le four à bois. "
    "Le jardin donnait des pommes de terre et des haricots. On faisait les confitures de groseilles en juillet. "
    "La cuisine sentait la chicorée le matin. Le lapin mijotait le dimanche avec les pruneaux.",
]


def _pieces(subjects, seconds_per_sentence=12):
    """Segments (one sentence each), a question from the interviewer before each subject."""
    pieces, gold, t = [], [], 0
    questions = ["Parlez-moi de votre travail ?", "Et votre père, que faisait-il ?",
                 "Que faisiez-vous le dimanche ?", "Et à la maison ?"]
    for k, text in enumerate(subjects):
        gold.append(t)
        q = questions[k % len(questions)]
        pieces.append((t, t + 3000, q, "SPEAKER_2"))
        t += 3000
        for sent in text.split(". "):
            sent = sent.strip().rstrip(".") + "."
            pieces.append((t, t + seconds_per_sentence * 1000, sent, "SPEAKER_1"))
            t += seconds_per_sentence * 1000
    return pieces, gold, t
