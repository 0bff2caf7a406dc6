"""Ingest: every format of the issue, and every bad input of the issue (one tiny fixture each).

Fixtures are made in the test with the bundled ffmpeg from a real French clip of the corpus
(2 s), or written as bytes. Each bad input must give one line naming the file and the
problem, a non-zero exit, and leave nothing behind (no row, no copied file).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import select

from oralhist import db
from oralhist.records import Consent, Interview, Recording

SPEECH = "fr/fleurs_fr_004.ogg"  # FLEURS, CC BY 4.0, 8.3 s of French read speech


def make(ffmpeg: str, corpus: Path, out: Path, *args: str, seconds: float = 2.0, video: bool = False) -> Path:
    """Encode ``seconds`` of a real French clip to ``out`` with the given ffmpeg output args."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-y"]
    if video:
        cmd += ["-f", "lavfi", "-i", f"color=c=gray:s=64x48:r=10:d={seconds}"]
    cmd += ["-i", str(corpus / SPEECH), "-t", str(seconds)]
    if video:
        cmd += ["-map", "0:v", "-map", "1:a", "-c:v", "mpeg4"]
    cmd += [*args, str(out)]
    subprocess.run(cmd, check=True)
    return out


def rows(ws):
    with db.session(ws) as s:
        return (s.exec(select(Interview)).all(), s.exec(select(Recording)).all(), s.exec(select(Consent)).all())


def archived_files(ws) -> list[Path]:
    return [p for p in ws.interviews.rglob("*") if p.is_file()] + [p for p in ws.consent_forms.rglob("*") if p.is_file()]


def assert_nothing_written(ws):
    ivs, recs, cons = rows(ws)
    assert ivs == [] and recs == [] and cons == []
    assert archived_files(ws) == []
    assert list(ws.tmp.iterdir()) == []


FORMATS = {
    # name: (file name, ffmpeg output args, expected codec prefix, video?)
    "wav-pcm16": ("pcm16.wav", ["-c:a", "pcm_s16le"], "pcm_s16le", False),
    "wav-pcm24": ("pcm24.wav", ["-c:a", "pcm_s24le"], "pcm_s24le", False),
    "wav-float32": ("float32.wav", ["-c:a", "pcm_f32le"], "pcm_f32le", False),
    "bwf": ("bwf.wav", ["-c:a", "pcm_s16le", "-write_bext", "1", "-metadata", "originator=Zoom H4n"], "pcm_s16le", False),
    "mp3": ("file.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], "mp3", False),
    "m4a-aac": ("file.m4a", ["-c:a", "aac", "-b:a", "64k"], "aac", False),
    "flac": ("file.flac", ["-c:a", "flac"], "flac", False),
    "ogg-opus": ("file.opus", ["-c:a", "libopus", "-b:a", "24k"], "opus", False),
    "ogg-vorbis": ("vorbis.ogg", ["-c:a", "libvorbis"], "vorbis", False),
    "wma": ("file.wma", ["-c:a", "wmav2", "-b:a", "64k"], "wmav2", False),
    "amr-nb": ("file.amr", ["-ar", "8000", "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k"], "amr", False),
    "mp4-video": ("film.mp4", ["-c:a", "aac"], "aac", True),
    "mov-video": ("film.mov", ["-c:a", "pcm_s16le"], "pcm_s16le", True),
    "stereo-wav": ("stereo.wav", ["-ac", "2", "-c:a", "pcm_s16le"], "pcm_s16le", False),
}


def test_every_format_is_ingested_normalised_and_verified(ws, cli, ffmpeg, corpus, tmp_path):
    src = tmp_path / "in"
    for name, (fname, args, _codec, video) in FORMATS.items():
        make(ffmpeg, corpus, src / name / fname, *args, video=video)
    paths = [src / name / FORMATS[name][0] for name in FORMATS]
    res = cli("ingest", *paths, "--date", "2001", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert len(out["done"]) == len(FORMATS) and out["failed"] == []
    assert out["normalise"]["done"] == out["done"]
    _ivs, recs, _ = rows(ws)
    by_name = {r.original_name: r for r in recs}
    for name, (fname, _args, codec, _video) in FORMATS.items():
        r = by_name[fname]
        assert r.codec.startswith(codec), (name, r.codec)
        assert 1900 <= r.duration_ms <= 2100, (name, r.duration_ms)
        original = ws.root / r.path
        assert original.read_bytes() == (src / name / fname).read_bytes()  # byte for byte
        assert not os.access(original, os.W_OK) or os.geteuid() == 0
        assert (original.stat().st_mode & 0o222) == 0  # read-only
        assert r.loudness_lufs is not None and len(r.channel_lufs) == r.channels
        asr = ws.derived_dir(r.interview_id) / "asr.wav"
        assert asr.is_file() and (ws.derived_dir(r.interview_id) / "access.mp3").is_file()
    assert by_name["stereo.wav"].channels == 2
    assert by_name["file.amr"].sample_rate == 8000
    res = cli("verify")
    assert res.exit_code == 0, res.output
    assert f"verified {len(FORMATS)} file(s)" in res.output


def test_metadata_consent_and_slug(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "REC001.WAV", "-c:a", "pcm_s16le")
    form = tmp_path / "Accord signé.PDF"
    form.write_bytes(b"%PDF-1.4 consent form\n")
    res = cli("ingest", f, "--narrator", "Marcel Dupont", "--interviewer", "Anne Leroy", "--date", "1998-06-14",
              "--place", "Roubaix", "--museum", "La Manufacture", "--title", "Le tissage", "--consent", form,
              "--scope", "public", "--no-normalise")
    assert res.exit_code == 0, res.output
    assert "ingested: 1998-marcel-dupont" in res.output
    # Same narrator and year again, other file: a unique id.
    g = make(ffmpeg, corpus, tmp_path / "REC002.WAV", "-c:a", "pcm_s24le")
    assert cli("ingest", g, "--narrator", "Marcel Dupont", "--date", "1998", "--no-normalise").exit_code == 0
    ivs, recs, cons = rows(ws)
    assert sorted(i.id for i in ivs) == ["1998-marcel-dupont", "1998-marcel-dupont-2"]
    c = next(c for c in cons if c.interview_id == "1998-marcel-dupont")
    assert c.scope == "public" and c.form_path == "consent_forms/1998-marcel-dupont.pdf"
    assert (ws.root / c.form_path).read_bytes() == form.read_bytes()
    assert c.form_name == "Accord signé.PDF" and len(c.form_sha256) == 64
    other = next(c for c in cons if c.interview_id == "1998-marcel-dupont-2")
    assert other.scope == "none" and other.form_path is None  # consent is "none" until stated
    show = json.loads(cli("show", "1998-marcel-dupont", "--json").output)
    assert show["narrator"] == "Marcel Dupont" and show["museum"] == "La Manufacture"
    assert show["recordings"][0]["original_name"] == "REC001.WAV"


def test_parts_of_one_interview_in_order(ws, cli, ffmpeg, corpus, tmp_path):
    a = make(ffmpeg, corpus, tmp_path / "face-a.mp3", "-c:a", "libmp3lame", seconds=1.5)
    b = make(ffmpeg, corpus, tmp_path / "face-b.flac", "-c:a", "flac", seconds=2.0)
    res = cli("ingest", a, b, "--interview", "1975-cassette", "--narrator", "Jeanne")
    assert res.exit_code == 0, res.output
    _ivs, recs, _ = rows(ws)
    recs = sorted(recs, key=lambda r: r.part)
    assert [r.part for r in recs] == [1, 2]
    assert recs[0].offset_ms == 0 and abs(recs[1].offset_ms - recs[0].duration_ms) <= 1
    # A third part later extends the same interview (normalisation is redone).
    c = make(ffmpeg, corpus, tmp_path / "face-c.wav", "-c:a", "pcm_s16le", seconds=1.0)
    res = cli("ingest", c, "--interview", "1975-cassette")
    assert res.exit_code == 0, res.output
    _ivs, recs, _ = rows(ws)
    assert sorted(r.part for r in recs) == [1, 2, 3]
    show = json.loads(cli("show", "1975-cassette", "--json").output)
    assert show["status"] == "normalised"
    assert 4400 <= show["duration_ms"] <= 4600


def test_duplicate_is_recognised_by_hash(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    assert cli("ingest", f, "--narrator", "Paul", "--no-normalise").exit_code == 0
    copy = tmp_path / "copie du même.wav"
    copy.write_bytes(f.read_bytes())
    res = cli("ingest", copy, "--narrator", "Quelqu'un d'autre", "--no-normalise")
    assert res.exit_code == 0
    assert "already in the archive (interview paul); nothing added" in res.output
    ivs, recs, _ = rows(ws)
    assert len(ivs) == 1 and len(recs) == 1


def test_manifest_groups_rows_into_parts(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "cartes" / "p1.wav", "-c:a", "pcm_s16le", seconds=1.0)
    make(ffmpeg, corpus, tmp_path / "cartes" / "p2.wav", "-c:a", "pcm_s16le", seconds=1.2)
    make(ffmpeg, corpus, tmp_path / "cartes" / "x.mp3", "-c:a", "libmp3lame", seconds=1.0)
    (tmp_path / "accord.pdf").write_bytes(b"%PDF consent")
    m = tmp_path / "manifest.csv"
    m.write_text(
        "interview,file,part,title,narrator,interviewer,date,place,language,museum,consent,consent_scope\n"
        "A,cartes/p2.wav,2,,,,,,,,,\n"
        "A,cartes/p1.wav,1,Le puits,Léon Caron,Anne,1987-03,Lens,fr,Centre minier,accord.pdf,on-site\n"
        "B,cartes/x.mp3,,Autre,Zoé,,2003,,,,,\n",
        encoding="utf-8",
    )
    res = cli("ingest", "--manifest", m, "--no-normalise", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["done"] == ["1987-leon-caron", "2003-zoe"]
    _ivs, recs, cons = rows(ws)
    parts = sorted((r.part, r.original_name) for r in recs if r.interview_id == "1987-leon-caron")
    assert parts == [(1, "p1.wav"), (2, "p2.wav")]
    c = next(c for c in cons if c.interview_id == "1987-leon-caron")
    assert c.scope == "on-site" and c.form_path == "consent_forms/1987-leon-caron.pdf"


# ----------------------------------------------------------------------------- bad input


def test_empty_file(ws, cli, tmp_path):
    f = tmp_path / "vide.wav"
    f.write_bytes(b"")
    res = cli("ingest", f)
    assert res.exit_code == 1
    assert "vide.wav: empty file (0 bytes)" in res.output
    assert_nothing_written(ws)


def test_text_file_named_wav(ws, cli, tmp_path):
    f = tmp_path / "notes.wav"
    f.write_text("Ceci n'est pas un enregistrement.\n" * 20)
    res = cli("ingest", f)
    assert res.exit_code == 1
    assert "notes.wav: not an audio file" in res.output
    assert_nothing_written(ws)


def test_truncated_mp3(ws, cli, ffmpeg, corpus, tmp_path):
    full = make(ffmpeg, corpus, tmp_path / "full.mp3", "-c:a", "libmp3lame", "-b:a", "64k", seconds=6)
    half = tmp_path / "moitie.mp3"
    data = full.read_bytes()
    half.write_bytes(data[: len(data) // 2 + 101])  # half-copied, cut inside a frame
    res = cli("ingest", half)
    assert res.exit_code == 1
    assert "moitie.mp3: truncated" in res.output
    assert_nothing_written(ws)


@pytest.mark.parametrize("fmt,args", [("flac", ["-c:a", "flac"]), ("wav", ["-c:a", "pcm_s16le"]),
                                      ("ogg", ["-c:a", "libopus"]), ("m4a", ["-c:a", "aac"])])
def test_other_truncated_files(ws, cli, ffmpeg, corpus, tmp_path, fmt, args):
    full = make(ffmpeg, corpus, tmp_path / f"full.{fmt}", *args, seconds=6)
    cut = tmp_path / f"coupe.{fmt}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    res = cli("ingest", cut)
    assert res.exit_code == 1
    assert f"coupe.{fmt}: " in res.output
    assert_nothing_written(ws)


def test_video_without_sound(ws, cli, ffmpeg, tmp_path):
    f = tmp_path / "muet.mp4"
    subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x48:r=10:d=2",
                    "-c:v", "mpeg4", str(f)], check=True)
    res = cli("ingest", f)
    assert res.exit_code == 1
    assert "muet.mp4: a video with no sound track" in res.output
    assert_nothing_written(ws)


def test_too_short(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "bref.wav", "-c:a", "pcm_s16le", seconds=0.2)
    res = cli("ingest", f)
    assert res.exit_code == 1
    assert "bref.wav: too short (200 ms" in res.output
    assert_nothing_written(ws)


def test_missing_path(ws, cli, tmp_path):
    res = cli("ingest", tmp_path / "nulle-part.wav")
    assert res.exit_code == 1
    assert "nulle-part.wav: no such file or folder" in res.output
    assert_nothing_written(ws)


def test_folder_without_audio_lists_skipped_files(ws, cli, tmp_path):
    card = tmp_path / "carte"
    card.mkdir()
    (card / "LISEZMOI.txt").write_text("rien")
    (card / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 100)
    res = cli("ingest", card)
    assert res.exit_code == 0, res.output
    assert "skipped: " in res.output and "LISEZMOI.txt: not an audio file name; skipped" in res.output
    assert "photo.jpg" in res.output and "no audio files in this folder" in res.output
    assert_nothing_written(ws)


def test_folder_with_audio_and_other_files(ws, cli, ffmpeg, corpus, tmp_path):
    card = tmp_path / "carte"
    make(ffmpeg, corpus, card / "ZOOM0001.WAV", "-c:a", "pcm_s16le")
    make(ffmpeg, corpus, card / "sub" / "ZOOM0002.MP3", "-c:a", "libmp3lame")
    (card / "ZOOM0001.hprj").write_text("project")
    res = cli("ingest", card, "--no-normalise", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert len(out["done"]) == 2
    assert [s["file"].endswith("ZOOM0001.hprj") for s in out["details"]["skipped_files"]] == [True]


def _manifest(tmp_path, text: str) -> Path:
    m = tmp_path / "manifest.csv"
    m.write_text(text, encoding="utf-8")
    return m


def test_manifest_missing_column(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, "interview,narrator\nA,Léon\n")
    res = cli("ingest", "--manifest", m)
    assert res.exit_code == 2
    assert "manifest.csv: manifest is missing the column file" in res.output
    assert_nothing_written(ws)


def test_manifest_bad_date(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    make(ffmpeg, corpus, tmp_path / "b.wav", "-c:a", "pcm_s24le")
    m = _manifest(tmp_path, "interview,file,date\nA,a.wav,1998\nB,b.wav,14/06/1998\n")
    res = cli("ingest", "--manifest", m)
    assert res.exit_code == 2
    assert "manifest.csv line 3: bad date '14/06/1998'" in res.output
    assert_nothing_written(ws)  # the good first row is not ingested either: the manifest is refused whole


def test_manifest_impossible_date(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, "interview,file,date\nA,a.wav,1998-02-30\n")
    res = cli("ingest", "--manifest", m)
    assert res.exit_code == 2 and "line 2: bad date '1998-02-30'" in res.output
    assert_nothing_written(ws)


def test_manifest_row_names_missing_file(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, "interview,file\nA,a.wav\nA,absent.wav\n")
    res = cli("ingest", "--manifest", m)
    assert res.exit_code == 2
    assert "manifest.csv line 3: file not found: absent.wav" in res.output
    assert_nothing_written(ws)


def test_consent_form_missing(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    res = cli("ingest", f, "--consent", tmp_path / "accord-introuvable.pdf")
    assert res.exit_code == 2
    assert "accord-introuvable.pdf: consent form not found" in res.output
    assert_nothing_written(ws)


def test_bad_scope_and_bad_date_flags(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    res = cli("ingest", f, "--scope", "everyone")
    assert res.exit_code == 2 and "--scope: unknown consent scope 'everyone'" in res.output
    res = cli("ingest", f, "--date", "juin 1998")
    assert res.exit_code == 2 and "--date: bad date 'juin 1998'" in res.output
    assert_nothing_written(ws)


def test_accented_file_name(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "Témoignage Mère Dupré.m4a", "-c:a", "aac")
    res = cli("ingest", f, "--no-normalise", "--json")
    assert res.exit_code == 0, res.output
    [iid] = json.loads(res.output)["done"]
    assert iid == "temoignage-mere-dupre"
    _ivs, [rec], _ = rows(ws)
    assert rec.original_name == "Témoignage Mère Dupré.m4a"
    assert rec.path == "interviews/temoignage-mere-dupre/original/Temoignage-Mere-Dupre.m4a"
    assert rec.path.isascii()


def test_non_utf8_file_name(ws, cli, ffmpeg, corpus, tmp_path):
    good = make(ffmpeg, corpus, tmp_path / "latin1.wav", "-c:a", "pcm_s16le")
    raw = os.path.join(os.fsencode(tmp_path), b"T\xe9moignage M\xe8re.wav")  # Latin-1 bytes, not UTF-8
    os.rename(os.fsencode(good), raw)
    res = cli("ingest", os.fsdecode(raw), "--narrator", "Mère Dupré", "--no-normalise")
    assert res.exit_code == 0, res.output
    _ivs, [rec], _ = rows(ws)
    assert rec.interview_id.endswith("mere-dupre")
    assert rec.original_name == "T\\xe9moignage M\\xe8re.wav"  # kept, bytes shown as \xNN
    assert rec.path.isascii() and (ws.root / rec.path).is_file()


def test_interview_id_escaping_the_workspace(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    res = cli("ingest", f, "--interview", "../../evasion")
    assert res.exit_code == 2
    assert "../../evasion: not a valid interview id" in res.output
    assert_nothing_written(ws)
    assert not (ws.root.parent / "evasion").exists()


def test_workspace_refuses_paths_outside(ws):
    from oralhist.errors import BadInput

    with pytest.raises(BadInput, match="escapes the archive"):
        ws.abs("../outside.wav")
    with pytest.raises(BadInput):
        ws.interview_dir("../../x")


def test_bad_file_does_not_stop_the_batch(ws, cli, ffmpeg, corpus, tmp_path):
    good = make(ffmpeg, corpus, tmp_path / "bon.flac", "-c:a", "flac")
    bad = tmp_path / "mauvais.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    res = cli("ingest", bad, good, tmp_path / "absent.mp3", "--no-normalise")
    assert res.exit_code == 1
    assert "ingested: bon" in res.output
    assert "mauvais.wav: " in res.output and "absent.mp3: no such file or folder" in res.output
    ivs, recs, _ = rows(ws)
    assert [i.id for i in ivs] == ["bon"] and len(recs) == 1
    assert [p.name for p in archived_files(ws)] == ["bon.flac"]


def test_bad_part_refuses_the_whole_interview(ws, cli, ffmpeg, corpus, tmp_path):
    good = make(ffmpeg, corpus, tmp_path / "p1.wav", "-c:a", "pcm_s16le")
    bad = tmp_path / "p2.wav"
    bad.write_bytes(b"")
    res = cli("ingest", good, bad, "--interview", "1990-x")
    assert res.exit_code == 1
    assert "p2.wav: empty file" in res.output and "another part of interview 1990-x was refused" in res.output
    assert_nothing_written(ws)


def test_interrupted_ingest_leaves_nothing(ws, ffmpeg, corpus, tmp_path):
    """Ctrl-C after the copy, before the commit: no row, no file, no temporary."""
    from oralhist.archive.ingest import IngestMeta, ingest_paths
    from oralhist.progress import Progress

    class Interrupting(Progress):
        """Ctrl-C arrives when the first file has been copied (progress advances after each copy)."""

        def add(self, description, total=None):
            return "task"

        def advance(self, task, amount=1):
            raise KeyboardInterrupt

    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(ws, [f], IngestMeta(narrator="Interrompu", consent_scope="public"), progress=Interrupting())
    assert_nothing_written(ws)


def test_slugify_and_safe_names():
    from oralhist.archive.ingest import safe_file_name, slugify

    assert slugify("Élise Ö'Brien-Dupré") == "elise-o-brien-dupre"
    assert slugify("李小龍") == ""
    assert slugify("Hélène Dubœuf, Ærø, Straße") == "helene-duboeuf-aero-strasse"  # ligatures spelled out, not dropped
    assert slugify("Wojciech Łukaszewski") == "wojciech-lukaszewski"
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("Face A (1975).WAV") == "Face-A-1975.wav"
    assert "/" not in safe_file_name("a/b\\c.mp3")


def test_manifest_key_is_only_a_key_when_not_a_safe_id(ws, cli, ffmpeg, corpus, tmp_path):
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, "interview,file,narrator,date\n../../evasion,a.wav,Rose Lefebvre,1972\n")
    res = cli("ingest", "--manifest", m, "--no-normalise", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["done"] == ["1972-rose-lefebvre"]
    assert not (ws.root.parent / "evasion").exists() and not (ws.root / "evasion").exists()


def test_manifest_and_paths_together_is_bad_usage(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, "interview,file\nA,a.wav\n")
    res = cli("ingest", f, "--manifest", m)
    assert res.exit_code == 2 and "either files/folders or --manifest" in res.output
    assert_nothing_written(ws)


def test_ingesting_the_archive_folder_itself_adds_nothing(ws, cli, ffmpeg, corpus, tmp_path):
    f = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    assert cli("ingest", f).exit_code == 0  # also writes derived/asr.wav and access.mp3
    res = cli("ingest", ws.root, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["done"] == []
    _ivs, recs, _ = rows(ws)
    assert len(recs) == 1


def test_new_part_resets_later_stages(ws, cli, ffmpeg, corpus, tmp_path):
    from oralhist import stage

    a = make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le", seconds=1.0)
    assert cli("ingest", a, "--interview", "1980-x").exit_code == 0
    with db.session(ws) as s:
        stage.mark_done(s, "1980-x", "transcribe", {})
        s.commit()
    b = make(ffmpeg, corpus, tmp_path / "b.wav", "-c:a", "pcm_s16le", seconds=1.5)
    assert cli("ingest", b, "--interview", "1980-x", "--no-normalise").exit_code == 0
    with db.session(ws) as s:
        assert not stage.is_done(s, "1980-x", "normalise") and not stage.is_done(s, "1980-x", "transcribe")
        assert s.get(Interview, "1980-x").status == "ingested"


def test_manifest_with_an_unclosed_quote_is_refused(ws, cli, ffmpeg, corpus, tmp_path):
    """Issue 15 item 12: an unterminated quote used to become the narrator ("unterminated")."""
    make(ffmpeg, corpus, tmp_path / "a.wav", "-c:a", "pcm_s16le")
    m = _manifest(tmp_path, 'interview,file,narrator\nA,a.wav,"unterminated\nB,a.wav,Rose\n')
    res = cli("ingest", "--manifest", m)
    assert res.exit_code == 2, res.output
    assert "manifest.csv line" in res.output and "not valid CSV" in res.output
    assert_nothing_written(ws)


@pytest.mark.parametrize("name", ["../outside.wav", "ABSOLUTE", "/etc/passwd"])
def test_manifest_paths_stay_in_the_manifest_folder(ws, cli, ffmpeg, corpus, tmp_path, name):
    """Issue 15 item 12: `../`, absolute paths and /etc/passwd are not opened without --allow-outside."""
    (tmp_path / "cartes").mkdir()
    make(ffmpeg, corpus, tmp_path / "outside.wav", "-c:a", "pcm_s16le")
    if name == "ABSOLUTE":
        name = str(tmp_path / "outside.wav")
    m = _manifest(tmp_path / "cartes", f"interview,file\nA,{name}\n")
    res = cli("ingest", "--manifest", m, "--no-normalise")
    assert res.exit_code == 2, res.output
    assert "outside the manifest's folder" in res.output and "--allow-outside" in res.output
    assert_nothing_written(ws)


def test_manifest_consent_form_outside_needs_allow_outside(ws, cli, ffmpeg, corpus, tmp_path):
    (tmp_path / "cartes").mkdir()
    make(ffmpeg, corpus, tmp_path / "cartes" / "a.wav", "-c:a", "pcm_s16le")
    (tmp_path / "accord.pdf").write_bytes(b"%PDF consent")
    m = _manifest(tmp_path / "cartes", "interview,file,narrator,date,consent\nA,a.wav,Rose,1972,../accord.pdf\n")
    res = cli("ingest", "--manifest", m, "--no-normalise")
    assert res.exit_code == 2 and "consent form '../accord.pdf' is outside" in res.output
    assert_nothing_written(ws)
    res = cli("ingest", "--manifest", m, "--no-normalise", "--allow-outside", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["done"] == ["1972-rose"]
