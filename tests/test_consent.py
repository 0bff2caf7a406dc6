"""Consent is enforced in one place: nothing restricted, embargoed, named or redacted reaches site/."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from pathlib import Path

import pytest

from publish_helpers import CLIPS, clip_durations, clip_text, decode_mono, make_audio, make_interview, rms

SECRET_RESTRICTED = "Gaston Restreint"
SECRET_NONE = "Irène Sansaccord"
SECRET_EMBARGO = "Hortense Embargo"
ANON_NAME = "Lucienne Vasseur"


def _all_site_text(site: Path) -> dict[str, str]:
    """Every file under site/, as text (Pagefind's gzipped index files decompressed)."""
    out = {}
    for p in site.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        out[p.relative_to(site).as_posix()] = data.decode("utf-8", errors="replace")
    return out


@pytest.fixture(scope="module")
def published(tmp_path_factory, corpus, ffmpeg):
    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import init

    root = tmp_path_factory.mktemp("consent")
    ws = init(root / "archive", title="Archive consentement")
    public_audio = root / "public.mp3"
    make_audio(ffmpeg, corpus, public_audio)
    secret_audio = root / "secret.mp3"
    make_audio(ffmpeg, corpus, secret_audio, clips=tuple(reversed(CLIPS)))
    durs = clip_durations(corpus)
    t0, t1 = durs[0], durs[0] + durs[1]
    texts = [clip_text(corpus, c) for c in CLIPS]

    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=public_audio, title="Marcel Dupont, mineur",
                   texts=["le puits était profond et la lampe fumait", texts[2], "la cage descendait très vite au fond"],
                   topics=[(0, durs[0], "Le puits", "la lampe", ["lampe"])],
                   links=[("trade", "Mineur", 500, 3000, "le puits", "accepted", 1.0)])
    for iid, name, scope, embargo in (
        ("1960-gaston-restreint", SECRET_RESTRICTED, "research-only", None),
        ("1961-irene-sansaccord", SECRET_NONE, "none", None),
        ("1962-hortense-embargo", SECRET_EMBARGO, "public", date(2099, 1, 1)),
        ("1963-onsite-only", "Odile Kiosque", "on-site", None),
    ):
        make_interview(ws, iid, corpus=corpus, audio=secret_audio, title=f"Souvenirs de {name}", narrator=name,
                       scope=scope, embargo_until=embargo, summary=f"{name} raconte la filature xylophonique",
                       texts=[f"je suis {name} et je parle de la filature xylophonique", texts[0], texts[2]],
                       links=[("trade", "Fileur xylophonique", 0, 2000, "filature xylophonique", "accepted", 1.0)])
    make_interview(ws, "1985-lucienne-vasseur", corpus=corpus, audio=public_audio, narrator=ANON_NAME,
                   title=f"{ANON_NAME}, fileuse", anonymise=True, summary="Lucienne raconte le tissage",
                   texts=[f"je m'appelle {ANON_NAME} et ma mère disait Lucienne va au tissage", texts[2], texts[0]],
                   topics=[(0, durs[0], "Madame Vasseur à l'usine", "Vasseur parle", ["vasseur", "tissage"])],
                   links=[("trade", "Fileuse", 0, 3000, f"{ANON_NAME} au tissage", "accepted", 1.0)])
    make_interview(ws, "1990-redacted", corpus=corpus, audio=public_audio, narrator="Paul Ouvert",
                   title="Un passage retiré", texts=texts,
                   redactions=[(t0, t1, "santé d'un tiers")],
                   topics=[(0, t0, "L'accident", "", ["incendie"]), (t0, t1, "Le comité olympique", "usoc", ["usoc"]),
                           (t1, t1 + durs[2], "Le tigre", "", ["tigre"])],
                   links=[("subject", "Comité olympique", t0 + 1000, t0 + 4000, "usoc comité olympique", "accepted", 1.0),
                          ("subject", "Tigre", t1 + 500, t1 + 2000, "le rugissement du tigre", "accepted", 1.0)])
    rep = publish_site(ws)
    kiosk = root / "kiosk"
    rep_kiosk = publish_site(ws, kiosk, on_site=True)
    return {"ws": ws, "site": ws.site, "rep": rep, "kiosk": kiosk, "rep_kiosk": rep_kiosk, "durs": durs,
            "secret_audio": secret_audio, "public_audio": public_audio, "t0": t0, "t1": t1}


def test_only_public_interviews_are_published(published):
    rep = published["rep"]
    assert sorted(rep.done) == ["1985-lucienne-vasseur", "1990-redacted", "1998-marcel-dupont"]
    audio = sorted(p.name for p in published["site"].rglob("audio.*"))
    assert len(audio) == 3


def test_no_restricted_text_name_or_audio_in_any_file(published):
    site = published["site"]
    files = _all_site_text(site)
    assert any(p.startswith("pagefind/") for p in files), "the search index was scanned too"
    forbidden = [SECRET_RESTRICTED, SECRET_NONE, SECRET_EMBARGO, "Odile Kiosque", "xylophonique", "Restreint",
                 "Sansaccord", "Hortense", "1960-gaston-restreint", "1961-irene-sansaccord", "1962-hortense-embargo",
                 "1963-onsite-only", "santé d'un tiers"]
    for path, text in files.items():
        for word in forbidden:
            assert word.lower() not in text.lower(), f"{word!r} leaked into site/{path}"
    secret_sha = {hashlib.sha256(published["secret_audio"].read_bytes()).hexdigest()}
    for p in site.rglob("*"):
        if p.is_file():
            assert hashlib.sha256(p.read_bytes()).hexdigest() not in secret_sha, f"restricted audio in {p}"


def test_anonymised_name_appears_nowhere(published):
    files = _all_site_text(published["site"])
    for path, text in files.items():
        low = text.lower()
        for word in ("lucienne", "vasseur", "1985-lucienne-vasseur"):
            assert word not in low, f"{word!r} leaked into site/{path}"
    pages = [t for p, t in files.items() if p.startswith("i/") and "L. V." in t]
    assert pages, "the initials replace the name on the interview page"
    # (words are separated by spaces on the page; a space inside a word is a no-break space)
    assert any("je m&#39;appelle L. V. et ma mère disait L. V. va au tissage" in t.replace("\u00a0", " ") for t in pages)


def test_redacted_passage_is_gone_from_text_and_links(published):
    files = _all_site_text(published["site"])
    for path, text in files.items():
        low = text.lower()
        for word in ("usoc", "olympique", "accréditation"):
            assert word not in low, f"redacted {word!r} leaked into site/{path}"
    page = files["i/1990-redacted.html"]
    assert "rugissement" in page and "incendie" in page
    assert "passage retiré" in page


def test_redacted_audio_is_silence(published):
    site, t0, t1 = published["site"], published["t0"], published["t1"]
    audio = next((site / "media" / "1990-redacted").glob("audio.*"))
    pub = decode_mono(audio)
    src = decode_mono(published["public_audio"])
    sr = 16000
    inside = slice(int((t0 + 150) * sr / 1000), int((t1 - 150) * sr / 1000))
    after = slice(int((t1 + 500) * sr / 1000), len(src) - sr // 2)
    assert rms(src[inside]) > 0.01, "the source has speech there"
    assert rms(pub[inside]) < 1e-3, "the redacted range is silent in the published audio"
    assert rms(pub[after]) > 0.5 * rms(src[after]) > 0.005, "the rest is still audible"


def test_kiosk_build_includes_on_site_only(published):
    assert "1963-onsite-only" in published["rep_kiosk"].done
    assert "1960-gaston-restreint" not in published["rep_kiosk"].done


def test_public_view_rules(published):
    from oralhist import db
    from oralhist.editorial.consent import load_for_public, public_view

    ws = published["ws"]
    with db.session(ws) as s:
        emb = load_for_public(s, "1962-hortense-embargo")
        anon = load_for_public(s, "1985-lucienne-vasseur")
    assert public_view(emb) is None
    assert public_view(emb, today=date(2099, 1, 1)) is None  # inclusive
    assert public_view(emb, today=date(2099, 1, 2)) is not None
    pv = public_view(anon)
    assert pv.narrator == "L. V." and pv.id.startswith("t-") and pv.title == "L. V., fileuse"
    assert all("Vasseur" not in (w.text) for sg in pv.segments for w in sg.words)
    assert pv.consent.redactions == () and pv.recordings[0].original_name == ""


def test_parse_times():
    from oralhist.editorial.consent import parse_range, parse_time
    from oralhist.errors import BadInput

    assert parse_time("754") == 754000
    assert parse_time("12:34") == 754000
    assert parse_time("1:02:03.5") == 3723500
    assert parse_range("12:34-13:05") == (754000, 785000)
    for bad in ("13:05-12:34", "abc", "1:75", "5-5"):
        with pytest.raises(BadInput):
            parse_range(bad)


def test_cli_consent_records_a_revision(ws, cli, corpus):
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Revision

    make_interview(ws, "2000-test", corpus=corpus, audio=None, scope="none")
    r = cli("consent", "2000-test", "--scope", "public", "--embargo-until", "2030-01-01",
            "--redact", "0:01-0:03", "--reason", "adresse", "--pseudonym", "Monsieur X", "--json")
    assert r.exit_code == 0, r.output
    assert '"scope": "public"' in r.output and '"embargo_until": "2030-01-01"' in r.output
    assert '"anonymise": true' in r.output and "1000" in r.output
    with db.session(ws) as s:
        revs = s.exec(select(Revision).where(Revision.interview_id == "2000-test", Revision.kind == "consent")).all()
    assert len(revs) == 1 and revs[0].before["scope"] == "none" and revs[0].after["scope"] == "public"
    bad = cli("consent", "2000-test", "--redact", "0:05-0:02")
    assert bad.exit_code == 2 and "end of the range" in bad.output
    bad = cli("consent", "2000-test", "--scope", "everyone")
    assert bad.exit_code == 2
    r = cli("consent", "2000-test", "--embargo-until", "none")
    assert r.exit_code == 0 and "embargo" not in r.output
