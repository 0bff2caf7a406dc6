"""Issue 13 items 7 and 12: rights and licence everywhere; JSON-LD publisher and transcript
(extruct + pyld); IIIF validated with iiif-prezi3; staff exports readable; strict chapters VTT."""

from __future__ import annotations

import json
import os
import stat

from publish_helpers import make_audio, make_interview

LICENSE = "https://creativecommons.org/licenses/by-nc/4.0/"
RIGHTS = "© Musée de la mine, 1998. Réutilisation non commerciale."


def _archive(ws, corpus, ffmpeg, tmp_path):
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", f'[site]\nrights = "{RIGHTS}"\nlicense = "{LICENSE}"\n'), encoding="utf-8")
    from oralhist.archive.workspace import open_workspace

    ws = open_workspace(ws.root)
    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, 3000, "L'accident", "", [])])
    return ws


def test_rights_in_page_dc_iiif_jsonld(ws, corpus, ffmpeg, tmp_path):
    import extruct
    from iiif_prezi3 import Manifest
    from pyld import jsonld

    from oralhist.outputs.publish import publish_site

    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    publish_site(ws)
    media = ws.site / "media" / "1998-marcel-dupont"
    html = (ws.site / "i" / "1998-marcel-dupont.html").read_text(encoding="utf-8")
    assert "Réutilisation non commerciale" in html and f'rel="license" href="{LICENSE}"' in html
    assert RIGHTS in (media / "dc.xml").read_text(encoding="utf-8")
    assert RIGHTS in (ws.site / "oai-pmh.xml").read_text(encoding="utf-8")
    man = json.loads((media / "manifest.json").read_text(encoding="utf-8"))
    Manifest(**man)
    assert man["rights"] == LICENSE.replace("https://", "http://")  # the IIIF validator's form (issue 25)
    assert man["requiredStatement"]["value"]["fr"] == [RIGHTS]
    assert man["provider"][0]["label"]["fr"] == ["Musée de la mine"]
    data = extruct.extract(html, base_url="http://localhost/i/x.html", syntaxes=["json-ld"])["json-ld"]
    assert len(data) == 1
    d = data[0]
    assert d["license"] == LICENSE and d["publisher"]["@type"] == "Organization" and d["transcript"]
    expanded = jsonld.expand(d, {"documentLoader": lambda url, options=None: {
        "contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": "https://schema.org/"}}}})
    lic = expanded[0]["https://schema.org/license"][0]
    assert LICENSE in (lic.get("@id"), lic.get("@value"))
    assert expanded[0]["https://schema.org/publisher"][0]["@type"] == ["https://schema.org/Organization"]


def test_bad_license_setting_is_refused(ws, corpus, ffmpeg, tmp_path, cli):
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[site]\n", '[site]\nlicense = "CC BY"\n'), encoding="utf-8")
    r = cli("publish", "--local")
    assert r.exit_code == 2 and "[site] license" in r.output


def test_staff_exports_are_readable_and_chapters_vtt_is_strict(ws, corpus, ffmpeg, tmp_path, page):
    from oralhist.outputs.exports import chapters
    from oralhist.editorial.view import load_interview
    from oralhist import db

    ws = _archive(ws, corpus, ffmpeg, tmp_path)
    with db.session(ws) as s:
        v = load_interview(s, "1998-marcel-dupont")
    out = chapters.write(v, tmp_path / "x.chapters.vtt")
    mode = stat.S_IMODE(os.stat(out).st_mode)
    assert mode & 0o044, oct(mode)
    # Chromium parses it as WebVTT (a strict parser: a "Kind:" line would be refused as a header).
    page.set_content("<video id=v></video>")
    text = out.read_text(encoding="utf-8")
    n = page.evaluate("""(t) => new Promise((ok, ko) => {
        const v = document.getElementById('v'); const tr = document.createElement('track');
        tr.kind = 'chapters'; tr.default = true;
        tr.src = URL.createObjectURL(new Blob([t], {type: 'text/vtt'}));
        tr.onload = () => ok(tr.track.cues.length); tr.onerror = () => ko('error');
        v.appendChild(tr); tr.track.mode = 'hidden'; })""", text)
    assert n == 1
