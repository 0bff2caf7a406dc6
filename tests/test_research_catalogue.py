"""The public catalogue of testimonies available on request (issue 24 item 1).

A real archive published twice by the real publish (Pagefind included): a research-only
interview listed in the catalogue, an embargoed anonymised one listed too, and a research-only
one left unlisted; then the first is withdrawn and the site published again. Every file under
site/ is scanned (Pagefind's gzipped files decompressed), as tests/test_consent.py does.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from pathlib import Path

import pytest

from publish_helpers import CLIPS, clip_durations, clip_text, make_audio, make_interview, public_key_of

BASE = "https://archive.example.org"
LISTED = "1972-rose-catalogue"
ANON = "1981-yvonne-masquee"
HIDDEN = "1975-gilberte-invisible"
TRANSCRIPT_WORDS = ("tarlatane", "zinzolin", "zibeline", "pantographe")


def _all_site_text(site: Path) -> dict[str, str]:
    out = {}
    for p in site.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            out[p.relative_to(site).as_posix()] = data.decode("utf-8", errors="replace")
    return out


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory, corpus, ffmpeg):
    from oralhist.archive.workspace import init, open_workspace
    from oralhist.editorial.consent import set_consent
    from oralhist.outputs.publish import publish_site

    root = tmp_path_factory.mktemp("catalogue")
    ws = init(root / "archive", title="Archive catalogue")
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text("utf-8").replace('base_url = ""', f'base_url = "{BASE}"'), "utf-8")
    ws = open_workspace(ws.root)
    assert ws.settings.base_url == BASE
    public_audio, secret_audio = root / "public.mp3", root / "secret.mp3"
    make_audio(ffmpeg, corpus, public_audio)
    make_audio(ffmpeg, corpus, secret_audio, clips=tuple(reversed(CLIPS)))
    durs = clip_durations(corpus)
    texts = [clip_text(corpus, c) for c in CLIPS]
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=public_audio, title="Marcel Dupont, mineur",
                   texts=["le puits était profond", texts[1], texts[2]])
    secret = [f"la {w} du métier" for w in TRANSCRIPT_WORDS[:2]] + [texts[2]]
    make_interview(ws, LISTED, corpus=corpus, audio=secret_audio, title="La dentelle à Calais", narrator="Rose Catalogue",
                   date="1972-03-01", museum="Cité de la dentelle", scope="research-only", texts=secret,
                   summary="résumé zinzolin", topics=[(0, durs[0], "La tarlatane", "zibeline", ["zibeline", "pantographe"])],
                   links=[("trade", "Dentellière", 0, 2000, "la tarlatane", "accepted", 1.0),
                          ("subject", "Grève", 0, 2000, "la tarlatane", "accepted", 1.0),
                          ("trade", "Tulliste", 0, 2000, "la tarlatane", "suggested", 0.99)])
    make_interview(ws, ANON, corpus=corpus, audio=secret_audio, title="Souvenirs d’usine", narrator="Yvonne Masquée",
                   date="1981", scope="public", embargo_until=date(2099, 1, 1), anonymise=True, texts=secret)
    make_interview(ws, HIDDEN, corpus=corpus, audio=secret_audio, title="Titre invisible", narrator="Gilberte Invisible",
                   scope="research-only", texts=secret)
    set_consent(ws, LISTED, listing="catalogue", who="admin", reason="accord du 3 mai")
    set_consent(ws, ANON, listing="catalogue", who="admin")
    keys = {iid: public_key_of(ws, iid) for iid in (LISTED, ANON, HIDDEN)}
    rep = publish_site(ws)
    first = _all_site_text(ws.site)
    from oralhist.outputs.publish.oai import load_records

    records = load_records(ws)
    set_consent(ws, LISTED, withdraw=True, who="admin", reason="la famille le demande")
    rep2 = publish_site(ws)
    return {"ws": ws, "keys": keys, "rep": rep, "first": first, "records": records, "rep2": rep2,
            "second": _all_site_text(ws.site), "records2": load_records(ws), "secret_audio": secret_audio}


def test_catalogue_page_has_the_catalogue_fields_only(catalogue):
    key = catalogue["keys"][LISTED]
    files = catalogue["first"]
    assert catalogue["rep"].details["catalogue"] == 2
    page = files[f"catalogue/{key}.html"]
    for shown in ("La dentelle à Calais", "Cité de la dentelle", "années 1970", "Dentellière", "Grève", "Rose Catalogue",
                  "Consultable sur demande", f'href="{BASE}/demandes?entretien={key}"'):
        assert shown in page, shown
    assert "Tulliste" not in page  # only links an editor accepted
    assert "<audio" not in page and ".mp3" not in page
    # the anonymised one: listed without the narrator's name
    anon = files[f"catalogue/{catalogue['keys'][ANON]}.html"]
    assert "Souvenirs d’usine" in anon and "Consultable sur demande" in anon
    assert key in files["index.html"] and key in files["catalogue/index.html"]
    assert f"{BASE}/catalogue/{key}.html" in files["sitemap.xml"]
    assert f":{key}</oai:identifier>" in files["oai-pmh.xml"] and "Accès sur demande" in files["oai-pmh.xml"]
    # the OAI-PMH endpoint: a record whose dc:rights says access is on request
    rec = [r for r in catalogue["records"] if r.identifier.endswith(":" + key)]
    assert len(rec) == 1 and not rec[0].deleted
    from xml.etree import ElementTree as ET

    xml = ET.tostring(rec[0].dc, encoding="unicode")
    assert "Accès sur demande" in xml and "Dentellière" in xml and "tarlatane" not in xml
    # Pagefind indexed the catalogue page (its fields), nothing of the transcript
    pf = "\n".join(t for p, t in files.items() if p.startswith("pagefind/"))
    assert "dentelle" in pf.lower()


def test_no_transcript_word_no_audio_no_unlisted_trace_in_any_file(catalogue):
    files = catalogue["first"]
    assert any(p.startswith("pagefind/") for p in files)
    hidden_key = catalogue["keys"][HIDDEN]
    forbidden = TRANSCRIPT_WORDS + ("Yvonne", "Masquée", "Gilberte", "Invisible", hidden_key, LISTED, ANON, HIDDEN,
                                    "accord du 3 mai")
    for path, text in files.items():
        for word in forbidden:
            assert word.lower() not in text.lower(), f"{word!r} leaked into site/{path}"
    secret_sha = hashlib.sha256(catalogue["secret_audio"].read_bytes()).hexdigest()
    for p in catalogue["ws"].site.rglob("*"):
        if p.is_file():
            assert hashlib.sha256(p.read_bytes()).hexdigest() != secret_sha, p
    assert sorted(catalogue["rep"].done) == ["1998-marcel-dupont"]  # no interview page for a listed one


def test_a_withdrawal_removes_the_catalogue_page_and_deletes_the_oai_record(catalogue):
    key = catalogue["keys"][LISTED]
    files = catalogue["second"]
    assert catalogue["rep2"].details["catalogue"] == 1
    assert f"catalogue/{key}.html" not in files
    for path, text in files.items():
        for word in ("Rose Catalogue", "La dentelle à Calais", "Dentellière", key):
            assert word not in text, f"{word!r} still in site/{path}"
    rec = [r for r in catalogue["records2"] if r.identifier.endswith(":" + key)]
    assert len(rec) == 1 and rec[0].deleted and rec[0].dc is None


def test_the_catalogue_page_passes_axe(catalogue, page):
    import functools
    import http.server
    import threading

    from test_upload_browser import axe_clean

    site = catalogue["ws"].site
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        key = catalogue["keys"][ANON]
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/catalogue/{key}.html")
        assert page.locator("text=Consultable sur demande").count() >= 1
        axe_clean(page)
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/catalogue/index.html")
        axe_clean(page)
    finally:
        httpd.shutdown()
