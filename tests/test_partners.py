"""Issue 13, partners: the OHMS export against real OHMS exports, element by element; the
per-interview rights override in every public record; addresses that work off this computer
(sitemap read by ultimate-sitemap-parser, robots.txt, IIIF loaded by iiif-prezi3)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from publish_helpers import make_audio, make_interview

O = "{https://www.weareavp.com/nunncenter/ohms}"
FIXTURES = Path(__file__).parent / "data" / "ohms"
BASE = "https://archives.example.org/temoignages"
SITE_LICENSE = "https://creativecommons.org/licenses/by-nc/4.0/"
OWN_LICENSE = "http://rightsstatements.org/vocab/InC/1.0/"
OWN_RIGHTS = "© Marcel Dupont et ses ayants droit. Toute réutilisation sur demande."


def _tags(el) -> list[str]:
    return [c.tag.replace(O, "") for c in el]


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _archive(ws, corpus, ffmpeg, tmp_path, base=BASE):
    toml = ws.root / "oralhist.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace("[site]\n", f'[site]\nrights = "Musée de la mine, 1998."\nlicense = "{SITE_LICENSE}"\n'
                                    f'funding = "Région Hauts-de-France"\n')
    text = re.sub(r'base_url = ".*"', f'base_url = "{base}"', text)
    toml.write_text(text, encoding="utf-8")
    from oralhist.archive.workspace import open_workspace

    ws = open_workspace(ws.root)
    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, 3000, "L'accident", "Le coup de grisou.", ["grisou"])],
                   links=[("place", "Lewarde", 500, 2500, "Lewarde", "accepted", 1.0)])
    make_interview(ws, "1999-jeanne-martin", corpus=corpus, audio=audio, title="La filature", narrator="Jeanne Martin")
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Term

    with db.session(ws) as s:  # the place has an authority URI: a hyperlink of its index point
        for t in s.exec(select(Term)).all():
            t.uri = "https://www.wikidata.org/wiki/Q1070866"
            s.add(t)
        s.commit()
    return ws


def test_ohms_export_has_the_elements_of_ohms_own_exports(ws, cli, corpus, ffmpeg, tmp_path):
    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    assert "base_url" in (ws.root / "oralhist.toml").read_text(encoding="utf-8")
    r = cli("publish")
    assert r.exit_code == 0, r.output
    ours = ET.parse(ws.site / "media" / "1998-marcel-dupont" / "ohms.xml").getroot().find(f"{O}record")
    mine = _tags(ours)
    for name in ("index_hyperlinks_example.xml", "small-sample-vtt-ohms.xml"):
        theirs = ET.parse(FIXTURES / name).getroot().find(f"{O}record")
        # every element of OHMS's record, in OHMS's order
        assert _subsequence(_tags(theirs), mine), (name, sorted(set(_tags(theirs)) - set(mine)))
        assert _subsequence(_tags(theirs.find(f"{O}mediafile")), _tags(ours.find(f"{O}mediafile")))
        for tp in theirs.iter(f"{O}point"):
            op = ours.find(f"{O}index/{O}point")
            assert _subsequence([t for t in dict.fromkeys(_tags(tp))], _tags(op)), name
            for sub in ("gpspoints", "hyperlinks"):
                assert _tags(tp.find(f"{O}{sub}")) == _tags(op.find(f"{O}{sub}")), sub
    # the viewer plays media_url (absolute, the published audio); rights and usage filled
    media = ours.findtext(f"{O}media_url")
    assert media == f"{BASE}/media/1998-marcel-dupont/audio.mp3"
    assert (ws.site / media[len(BASE) + 1:]).is_file()
    assert ours.findtext(f"{O}mediafile/{O}host") == "Other" and ours.findtext(f"{O}mediafile/{O}clip_format") == "audio"
    assert ours.findtext(f"{O}rights") == "Musée de la mine, 1998." and ours.findtext(f"{O}usage") == SITE_LICENSE
    assert ours.findtext(f"{O}funding") == "Région Hauts-de-France"
    assert ours.findtext(f"{O}xmllocation") == f"{BASE}/media/1998-marcel-dupont/ohms.xml"
    assert ours.findtext(f"{O}xmlfilename") == "ohms.xml"
    assert ours.findtext(f"{O}rel") == f"{BASE}/i/1998-marcel-dupont.html"
    h = ours.find(f"{O}index/{O}point/{O}hyperlinks")
    assert h.findtext(f"{O}hyperlink") == "https://www.wikidata.org/wiki/Q1070866" and h.findtext(f"{O}hyperlink_text") == "Lewarde"
    # vtt_transcript as the viewer reads it (vendor/laracasts/transcriptions: from the first
    # timestamp, empty and numeric lines dropped, then pairs of timestamp and body lines)
    vtt = ours.findtext(f"{O}vtt_transcript")
    assert vtt.startswith("WEBVTT") and "NOTE\nTRANSCRIPTION BEGIN" in vtt and vtt.rstrip().endswith("TRANSCRIPTION END")
    lines = vtt.split("\n")
    first = next(i for i, ln in enumerate(lines) if re.search(r"\d{2}:(\d{2}:\d{2})\.\d{3}", ln))
    kept = [ln.strip() for ln in lines[first:] if ln.strip() and not re.match(r"^\s*\d+$", ln)]
    cues = [kept[i:i + 2] for i in range(0, len(kept) - 2, 2)]  # the last two: NOTE / TRANSCRIPTION END
    assert cues and all(re.search(r"\d{2}:\d{2}:\d{2}\.\d{3} --> ", c[0]) for c in cues)
    assert all(not re.search(r"\d{2}:\d{2}:\d{2}\.\d{3}", c[1]) for c in cues)
    voices = {re.match(r"<v(?: (.*?))?>", c[1]).group(1) for c in cues}
    assert voices == {"Marcel Dupont"}
    import webvtt

    assert len(webvtt.from_string(vtt).captions) == len(cues)
    assert "SPEAKER_" not in (ws.site / "media" / "1998-marcel-dupont" / "ohms.xml").read_text(encoding="utf-8")


def test_speaker_labels_for_the_viewer():
    from oralhist.outputs.exports.ohms import VIEWER_SPEAKER, speaker_label

    cases = {"Intervenant·e 1": "INTERVENANT-E I", "Intervenant·e 12": "INTERVENANT-E XII",
             "Hélène Dupont-Lefèvre": "HELENE DUPONT-LEFEVRE", "Enquêteur·rice": "ENQUETEUR-RICE",
             "Personne interrogée": "PERSONNE INTERROGEE", "Jean d’Ormesson": "JEAN D'ORMESSON"}
    for name, label in cases.items():
        assert speaker_label(name) == label
        assert VIEWER_SPEAKER.match(label + ": bonjour")


def test_per_interview_rights_override_every_public_record(ws, cli, corpus, ffmpeg, tmp_path):
    import extruct
    from iiif_prezi3 import Manifest
    from pyld import jsonld

    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    r = cli("consent", "1998-marcel-dupont", "--license", "CC BY")
    assert r.exit_code == 2 and "URI" in r.output
    r = cli("consent", "1998-marcel-dupont", "--license", OWN_LICENSE, "--rights", OWN_RIGHTS)
    assert r.exit_code == 0, r.output
    assert OWN_LICENSE in cli("consent", "1998-marcel-dupont").output
    assert json.loads(cli("consent", "1998-marcel-dupont", "--json").output)["license"] == OWN_LICENSE
    assert cli("publish").exit_code == 0
    for iid, (rights, lic) in {"1998-marcel-dupont": (OWN_RIGHTS, OWN_LICENSE),
                              "1999-jeanne-martin": ("Musée de la mine, 1998.", SITE_LICENSE)}.items():
        media = ws.site / "media" / iid
        html = (ws.site / "i" / f"{iid}.html").read_text(encoding="utf-8")
        assert f'rel="license" href="{lic}"' in html and rights in html
        d = extruct.extract(html, base_url=f"{BASE}/i/{iid}.html", syntaxes=["json-ld"])["json-ld"][0]
        assert d["license"] == lic and d["copyrightNotice"] == rights
        expanded = jsonld.expand(d, {"documentLoader": lambda url, options=None: {
            "contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": "https://schema.org/"}}}})
        got = expanded[0]["https://schema.org/license"][0]
        assert lic in (got.get("@id"), got.get("@value"))
        dc = ET.parse(media / "dc.xml").getroot()
        assert [e.text for e in dc.iter("{http://purl.org/dc/elements/1.1/}rights")] == [f"{rights} — {lic}"]
        man = json.loads((media / "manifest.json").read_text(encoding="utf-8"))
        Manifest(**man)
        # IIIF rights: the http:// form the IIIF validator requires (issue 25)
        assert man["rights"] == lic.replace("https://", "http://") and man["requiredStatement"]["value"]["fr"] == [rights]
        assert man["provider"][0]["label"]["fr"] == ["Musée de la mine"]
        ohms = ET.parse(media / "ohms.xml").getroot().find(f"{O}record")
        assert ohms.findtext(f"{O}rights") == rights and ohms.findtext(f"{O}usage") == lic
        assert f"{rights} — {lic}" in (ws.site / "oai-pmh.xml").read_text(encoding="utf-8")
    # Going back to the archive's licence ("" clears the override) republishes the interview.
    assert cli("consent", "1998-marcel-dupont", "--license", "", "--rights", "").exit_code == 0
    assert cli("publish").exit_code == 0
    man = json.loads((ws.site / "media" / "1998-marcel-dupont" / "manifest.json").read_text(encoding="utf-8"))
    assert man["rights"] == SITE_LICENSE.replace("https://", "http://")


def test_addresses_work_off_this_computer(ws, cli, corpus, ffmpeg, tmp_path):
    from urllib.robotparser import RobotFileParser

    from iiif_prezi3 import Manifest
    from usp.objects.sitemap import InvalidSitemap
    from usp.tree import sitemap_from_str

    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    from datetime import datetime, timezone

    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Consent, Interview, Transcript

    with db.session(ws) as s:  # an interview last changed in 2021
        old = datetime(2021, 3, 4, 10, 0, tzinfo=timezone.utc)
        for row in (s.get(Interview, "1999-jeanne-martin"),
                    *s.exec(select(Consent).where(Consent.interview_id == "1999-jeanne-martin")),
                    *s.exec(select(Transcript).where(Transcript.interview_id == "1999-jeanne-martin"))):
            setattr(row, "created_at" if isinstance(row, Transcript) else "updated_at", old)
            s.add(row)
        s.commit()
    assert cli("publish").exit_code == 0
    oai = ET.parse(ws.site / "oai-pmh.xml").getroot()
    OAI = "{http://www.openarchives.org/OAI/2.0/}"
    stamps = {h.findtext(f"{OAI}identifier"): h.findtext(f"{OAI}datestamp") for h in oai.iter(f"{OAI}header")}
    assert stamps["oai:oralhist.archive-de-test:1999-jeanne-martin"] == "2021-03-04"  # its last change, not today
    assert oai.findtext(f".//{OAI}earliestDatestamp") == "2021-03-04"
    robots = (ws.site / "robots.txt").read_text(encoding="utf-8")
    rp = RobotFileParser()
    rp.parse(robots.splitlines())
    assert rp.site_maps() == [f"{BASE}/sitemap.xml"] and rp.can_fetch("*", f"{BASE}/i/1998-marcel-dupont.html")
    sm = sitemap_from_str((ws.site / "sitemap.xml").read_text(encoding="utf-8"))
    assert not isinstance(sm, InvalidSitemap), sm
    urls = [p.url for p in sm.all_pages()]
    assert f"{BASE}/i/1998-marcel-dupont.html" in urls and f"{BASE}/index.html" in urls
    assert all(u.startswith(BASE + "/") for u in urls)
    for u in urls:  # every address is a file of the site
        assert (ws.site / u[len(BASE) + 1:]).is_file(), u
    man = Manifest(**json.loads((ws.site / "media" / "1998-marcel-dupont" / "manifest.json").read_text(encoding="utf-8")))
    assert str(man.id).startswith(BASE) and "localhost" not in man.json()
    # Without base_url, a web build is refused; a --local build (kiosk, USB key) has no web
    # addresses, so no sitemap (relative addresses are invalid in one) and robots.txt names none.
    toml = ws.root / "oralhist.toml"
    toml.write_text(re.sub(r'base_url = ".*"', 'base_url = ""', toml.read_text(encoding="utf-8")), encoding="utf-8")
    r = cli("publish", "--out", tmp_path / "web")
    assert r.exit_code == 2 and "[site] base_url" in r.output and not (tmp_path / "web").exists()
    out = tmp_path / "usb"
    r = cli("publish", "--local", "--out", out)
    assert r.exit_code == 0, r.output
    assert not (out / "sitemap.xml").exists() and "Sitemap:" not in (out / "robots.txt").read_text(encoding="utf-8")
    assert "sitemap.xml" not in (out / "donnees.html").read_text(encoding="utf-8")


def test_staff_exports_readable_and_iiif_ids_are_web_addresses(ws, cli, corpus, ffmpeg, tmp_path):
    import os
    import stat

    from iiif_prezi3 import Manifest

    from oralhist.outputs.exports import FORMATS

    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    old = os.umask(0o022)
    try:
        for fmt, (_, suffix) in FORMATS.items():
            out = tmp_path / "staff" / f"x{suffix}"
            r = cli("export", "1998-marcel-dupont", "--format", fmt, "--out", out)
            assert r.exit_code == 0, r.output
            assert stat.S_IMODE(out.stat().st_mode) == 0o644, (fmt, oct(out.stat().st_mode))
    finally:
        os.umask(old)
    # the staff DC and OHMS carry the interview's rights too
    assert f"Musée de la mine, 1998. — {SITE_LICENSE}" in (tmp_path / "staff" / "x.dc.xml").read_text(encoding="utf-8")
    ohms = ET.parse(tmp_path / "staff" / "x.ohms.xml").getroot().find(f"{O}record")
    assert ohms.findtext(f"{O}usage") == SITE_LICENSE and ohms.findtext(f"{O}xmlfilename") == "x.ohms.xml"
    text = (tmp_path / "staff" / "x.iiif.json").read_text(encoding="utf-8")
    man = Manifest(**json.loads(text))
    assert "file:" not in text and str(man.id) == f"{BASE}/media/1998-marcel-dupont/manifest.json"
    ids = re.findall(r'"id": "([^"]+)"', text)
    assert ids and all(i.startswith(BASE + "/") or i.startswith("https://") for i in ids)
