"""Issue 19, "Names never leak": item 16 (opaque public ids, retired ids announced deleted for a
while then forgotten) and item 17 (http(s) links only, Content-Security-Policy)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import pytest

from publish_helpers import make_audio, make_interview

O = "{http://www.openarchives.org/OAI/2.0/}"
REPO = "oai:oralhist.archive-de-test:"


def _oai(ws, **args):
    from oralhist.outputs.publish.oai import respond
    from oralhist.archive.workspace import open_workspace

    text = respond(open_workspace(ws.root), args, "http://h/oai")
    return text, ET.fromstring(text)


def _headers(ws):
    _, root = _oai(ws, verb="ListIdentifiers", metadataPrefix="oai_dc")
    return {h.findtext(f"{O}identifier"): h.get("status") == "deleted" for h in root.iter(f"{O}header")}


def _site_paths(ws):
    return [p.relative_to(ws.site).as_posix() for p in ws.site.rglob("*")
            if not any(part.startswith(".") for part in p.relative_to(ws.site).parts)]


def _age_retirements(ws, days):
    from sqlalchemy import text

    from oralhist import db

    with db.engine_for(ws).begin() as conn:
        conn.execute(text("UPDATE retiredid SET retired_at = :t"),
                     {"t": datetime.now(timezone.utc) - timedelta(days=days)})


@pytest.fixture()
def audio(corpus, ffmpeg, tmp_path):
    a = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, a)
    return a


# --------------------------------------------------------------------------- item 16


def test_new_interviews_get_opaque_ids_everywhere(ws, corpus, audio):
    """Item 16: a new interview's OAI identifier and page address carry no name."""
    from oralhist.outputs.publish import publish_site

    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun", legacy_id=False)
    ids = list(_headers(ws))
    assert len(ids) == 1 and re.fullmatch(rf"{re.escape(REPO)}iv-[0-9a-f]{{12}}", ids[0]), ids
    key = ids[0].rsplit(":", 1)[1]
    publish_site(ws)
    paths = _site_paths(ws)
    assert f"i/{key}.html" in paths and not [p for p in paths if "walter" in p.lower()]
    static = ET.parse(ws.site / "oai-pmh.xml").getroot()
    assert [e.text for e in static.iter(f"{O}identifier")] == [ids[0]]
    # stable: the same id on every request and every publish
    assert list(_headers(ws)) == ids


def test_anonymised_after_publishing(ws, corpus, audio, cli):
    """Item 16: the old real-name id is announced deleted (no metadata), the interview answers
    under a new opaque id, the old page is gone; after the retention the old id is forgotten."""
    from oralhist.outputs.publish import publish_site

    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun",
                   title="Walter Brun, mineur")
    old = f"{REPO}1997-walter-brun"
    assert _headers(ws) == {old: False}  # an archive published before: its id keeps working
    publish_site(ws)
    assert "i/1997-walter-brun.html" in _site_paths(ws)

    assert cli("consent", "1997-walter-brun", "--anonymise").exit_code == 0
    heads = _headers(ws)
    new = [i for i, deleted in heads.items() if not deleted]
    assert heads.get(old) is True and len(new) == 1 and "walter" not in new[0].lower()
    text, root = _oai(ws, verb="GetRecord", identifier=old, metadataPrefix="oai_dc")
    rec = root.find(f"{O}GetRecord/{O}record")
    assert rec.find(f"{O}header").get("status") == "deleted" and rec.find(f"{O}metadata") is None
    text, _ = _oai(ws, verb="ListRecords", metadataPrefix="oai_dc")
    assert "Walter" not in text and text.lower().count("walter") == 1  # the old identifier only
    _, root = _oai(ws, verb="Identify")
    assert root.findtext(f"{O}Identify/{O}deletedRecord") == "transient"

    publish_site(ws)
    paths = _site_paths(ws)
    assert not [p for p in paths if "walter" in p.lower()], paths
    assert f"i/{new[0].rsplit(':', 1)[1]}.html" in paths
    assert "walter" not in (ws.site / "oai-pmh.xml").read_text(encoding="utf-8").lower()

    _age_retirements(ws, 179)
    assert _headers(ws).get(old) is True
    _age_retirements(ws, 181)
    assert old not in _headers(ws)
    _, root = _oai(ws, verb="GetRecord", identifier=old, metadataPrefix="oai_dc")
    assert root.find(f"{O}error").get("code") == "idDoesNotExist"


def test_withdrawn_then_forgotten_and_retention_setting(ws, corpus, audio, cli):
    """Item 16: withdrawn interviews are deleted records for [oai] deleted_retention_days only;
    a real-name id never comes back, an opaque one does when consent is given again."""
    make_interview(ws, "1997-walter-brun", corpus=corpus, audio=audio, narrator="Walter Brun")
    make_interview(ws, "1998-anne-roux", corpus=corpus, audio=audio, narrator="Anne Roux", legacy_id=False)
    opaque = [i for i in _headers(ws) if "walter" not in i][0]
    for iid in ("1997-walter-brun", "1998-anne-roux"):
        assert cli("consent", iid, "--scope", "none").exit_code == 0
    assert _headers(ws) == {f"{REPO}1997-walter-brun": True, opaque: True}
    for iid in ("1997-walter-brun", "1998-anne-roux"):
        assert cli("consent", iid, "--scope", "public").exit_code == 0
    heads = _headers(ws)
    assert heads[f"{REPO}1997-walter-brun"] is True and heads[opaque] is False
    again = [i for i, d in heads.items() if not d and i != opaque]
    assert len(again) == 1 and "walter" not in again[0]
    _age_retirements(ws, 200)
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[oai]\ndeleted_retention_days = 365\n", encoding="utf-8")
    assert _headers(ws)[f"{REPO}1997-walter-brun"] is True
    toml.write_text(toml.read_text(encoding="utf-8").replace("= 365", "= 180"), encoding="utf-8")
    assert f"{REPO}1997-walter-brun" not in _headers(ws)
    toml.write_text(toml.read_text(encoding="utf-8").replace("= 180", "= -3"), encoding="utf-8")
    from oralhist.errors import BadInput, WorkspaceError
    from oralhist.outputs.publish.oai import load_records
    from oralhist.archive.workspace import open_workspace

    # refused when the settings are read (every numeric setting has a range), before any record
    with pytest.raises((BadInput, WorkspaceError), match="deleted_retention_days"):
        load_records(open_workspace(ws.root))


def test_existing_archive_upgrade(tmp_path):
    """Item 16, existing archives: an interview public today keeps its published id; others get
    an opaque one; ids once published and no longer answering are announced deleted."""
    from alembic import command
    from sqlalchemy import text

    from oralhist import db
    from oralhist.outputs.publish.oai import load_records
    from oralhist.archive.workspace import init, open_workspace

    ws = init(tmp_path / "old", title="Archive de test")
    db.engine_for(ws).dispose()
    for f in ws.db_path.parent.glob(ws.db_path.name + "*"):
        f.unlink()  # an archive made before revision 1906
    db._MIGRATED.discard(ws.database_url)
    cfg = db.alembic_config(ws.database_url)
    engine = db.engine_for(ws)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "1401")
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        for iid, scope, anon in (("1990-paul-leroy", "public", False), ("1991-lise-vidal", "public", True),
                                 ("1992-jean-nord", "none", False), ("1993-rose-blanc", "none", False)):
            conn.execute(text("INSERT INTO interview (id, title, language, status, duration_ms, created_at, updated_at)"
                              " VALUES (:i, 'T', 'fr', 'ingested', 0, :t, :t)"), {"i": iid, "t": now})
            conn.execute(text("INSERT INTO consent (interview_id, scope, anonymise, updated_at) VALUES (:i, :s, :a, :t)"),
                         {"i": iid, "s": scope, "a": anon, "t": now})
        # 1992 was public under its name, then withdrawn; 1991 was public under its name before anonymising
        for iid, before, after in (("1992-jean-nord", '{"scope": "public", "anonymise": false}', '{"scope": "none", "anonymise": false}'),
                                   ("1991-lise-vidal", '{"scope": "public", "anonymise": false}', '{"scope": "public", "anonymise": true}')):
            conn.execute(text("INSERT INTO revision (interview_id, kind, who, at, before, after)"
                              " VALUES (:i, 'consent', 'x', :t, :b, :a)"), {"i": iid, "t": now, "b": before, "a": after})
    db._MIGRATED.discard(ws.database_url)
    ws = open_workspace(ws.root)
    with db.session(ws) as s:
        keys = dict(s.exec(text("SELECT id, public_key FROM interview")).all())
    assert keys["1990-paul-leroy"] == "1990-paul-leroy"
    assert re.fullmatch(r"t-[0-9a-f]{12}", keys["1991-lise-vidal"])
    assert all(re.fullmatch(r"iv-[0-9a-f]{12}", keys[i]) for i in ("1992-jean-nord", "1993-rose-blanc"))
    recs = {r.identifier: r.deleted for r in load_records(ws)}
    # no transcript: the public records still list; the deleted ones are the retired named ids
    assert recs.get(f"{REPO}1992-jean-nord") is True and recs.get(f"{REPO}1991-lise-vidal") is True
    assert not [i for i in recs if "rose" in i]


# --------------------------------------------------------------------------- item 17


def test_vocabulary_links_must_be_http(ws, cli, tmp_path):
    """Item 17: a javascript: URI in a vocabulary (CSV or SKOS) is refused at entry, nothing imported."""
    from oralhist import db
    from oralhist.records import Term
    from oralhist.web.errors_fr import french

    csv = tmp_path / "metiers.csv"
    csv.write_text("label;uri\nMineur;https://www.wikidata.org/wiki/Q820037\nTisserand;javascript:alert(document.cookie)\n",
                   encoding="utf-8")
    r = cli("vocab", "import", str(csv), "--kind", "trade")
    assert r.exit_code == 2 and "line 3: the URI 'javascript:alert(document.cookie)' is not an http" in r.output
    ttl = tmp_path / "objets.ttl"
    ttl.write_text('@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
                   '<https://ex.org/c/1> a skos:Concept ; skos:prefLabel "Lampe"@fr .\n'
                   '<javascript:alert(1)> a skos:Concept ; skos:prefLabel "Pic"@fr .\n', encoding="utf-8")
    r = cli("vocab", "import", str(ttl), "--kind", "object")
    assert r.exit_code == 2 and "concept 'Pic': the URI 'javascript:alert(1)' is not an http" in r.output
    from sqlmodel import select

    with db.session(ws) as s:
        assert s.exec(select(Term)).all() == []
    assert "n’est pas une adresse web" in french("line 3: the URI 'javascript:x' is not an http:// or https:// address "
                                                 "(only web addresses are accepted, e.g. https://www.example.org/); nothing imported")
    csv.write_text("label;uri\nMineur;HTTPS://www.wikidata.org/wiki/Q820037\n", encoding="utf-8")
    assert cli("vocab", "import", str(csv), "--kind", "trade").exit_code == 0


def test_settings_and_exhibition_links_must_be_http(ws, tmp_path):
    """Item 17: [site] base_url / license and exhibition links: http(s) only, refused at entry."""
    from oralhist.errors import BadInput, WorkspaceError
    from oralhist.outputs.exhibit import _body_text, parse_exhibition_text
    from oralhist.archive.workspace import open_workspace

    toml = ws.root / "oralhist.toml"
    good = toml.read_text(encoding="utf-8")
    for line in ('base_url = "javascript:alert(1)"', 'license = "data:text/html,<script>alert(1)</script>"'):
        key = line.split()[0]
        toml.write_text(re.sub(rf"(?m)^{key} = .*\n", "", good).replace("[site]\n", f"[site]\n{line}\n"), encoding="utf-8")
        with pytest.raises(WorkspaceError, match=rf"\[site\] {key}: the address .* is not an http"):
            open_workspace(ws.root)
    toml.write_text(good, encoding="utf-8")
    head = "---\ntitle: X\nslug: x\n---\n## Partie\n"
    for bad in ("[ici](javascript:alert(1))", "<mailto:a@b.fr>", "[ici][r]\n\n[r]: vbscript:msgbox(1)"):
        with pytest.raises(BadInput, match="is not an http"):
            parse_exhibition_text(head + bad + "\n", tmp_path / "x.md")
        with pytest.raises(BadInput, match="seuls les liens web"):
            _body_text(bad, "Récit")
    exh = parse_exhibition_text(head + "[musée](https://musee.example.org/) et [page](../i/x.html)\n", tmp_path / "x.md")
    assert 'href="https://musee.example.org/"' in exh.sections[0].narrative_html


@pytest.fixture(scope="module")
def csp_site(tmp_path_factory, corpus, ffmpeg):
    """A published site with an interview, terms (one with a javascript: URI stored before the
    entry check existed), an exhibition, served by http.server."""
    import functools
    import http.server
    import threading

    from sqlalchemy import text

    from oralhist import db
    from oralhist.outputs.exhibit import import_exhibition
    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import init, open_workspace
    from publish_helpers import clip_durations

    root = tmp_path_factory.mktemp("csp")
    ws = init(root / "archive", title="Archive de test")
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\nlicense = "https://creativecommons.org/licenses/by/4.0/"\n'), encoding="utf-8")
    ws = open_workspace(ws.root)
    audio = root / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    durs = clip_durations(corpus)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, title="À la fosse",
                   topics=[(0, durs[0], "L'accident", "", ["Mineur"]), (durs[0], sum(durs), "Le comité", "", [])],
                   links=[("trade", "Mineur", 500, 3000, "terrain montagneux", "accepted", 1.0),
                          ("trade", "Tisserand", 3000, 5000, "comité", "accepted", 1.0)])
    with db.engine_for(ws).begin() as conn:
        conn.execute(text("UPDATE term SET uri = 'javascript:alert(document.domain)' WHERE label = 'Mineur'"))
        conn.execute(text("UPDATE term SET uri = 'https://www.wikidata.org/wiki/Q1' WHERE label = 'Tisserand'"))
    expo = root / "expo.md"
    expo.write_text("---\ntitle: La mine\nslug: la-mine\n---\nUne [exposition](https://musee.example.org/).\n"
                    "## Le travail\nLe fond.\n[[clip 1998-marcel-dupont 00:00-00:03]]\n", encoding="utf-8")
    import_exhibition(ws, expo)
    publish_site(ws)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ws.site))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "ws": ws}
    httpd.shutdown()


def test_term_pages_link_only_http(csp_site):
    """Item 17: a javascript: URI already in the archive is shown as text, never as a link."""
    site = csp_site["ws"].site
    hrefs = [h for p in site.rglob("*.html") for h in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', p.read_text(encoding="utf-8"))]
    assert hrefs and not [h for h in hrefs if h.lower().startswith(("javascript:", "data:", "vbscript:"))]
    pages = {p.read_text(encoding="utf-8") for p in (site / "t").glob("*.html")}
    assert any('href="https://www.wikidata.org/wiki/Q1"' in t for t in pages)
    assert any("javascript:alert(document.domain)" in t and 'href="javascript' not in t for t in pages)


CSP_WATCH = """document.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});"""


def _watch(browser, **kw):
    """A context with the pages' real CSP (no bypass): violations and script errors are collected."""
    ctx = browser.new_context(locale="fr-FR", **kw)
    ctx.add_init_script(CSP_WATCH)
    page = ctx.new_page()
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"{page.url}: {m.text}")
            if m.type == "error" and ("CSP-VIOLATION" in m.text or "Content Security Policy" in m.text) else None)
    page.on("pageerror", lambda e: seen.append(f"{page.url}: {e}"))
    return ctx, page, seen


def _until(page, js: str, timeout: float = 15.0):
    """Poll ``js`` with page.evaluate (Playwright's wait_for_function evaluates a string, which the CSP forbids)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if page.evaluate(js):
            return
        time.sleep(0.1)
    raise AssertionError(f"never true: {js} on {page.url}")


def test_public_pages_have_a_csp_and_no_violation(csp_site, browser):
    """Item 17: every public page carries a CSP without 'unsafe-inline'; in Chromium, under that
    policy, no page reports a violation or a script error, and the scripts still work (player,
    word highlighting, search with its WebAssembly index, home filters, exhibition clips)."""
    site, url = csp_site["ws"].site, csp_site["url"]
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not any(part.startswith(".") or part == "pagefind" for part in p.relative_to(site).parts))
    for rel in pages:
        html = (site / rel).read_text(encoding="utf-8")
        m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', html)
        assert m, f"{rel} has no CSP"
        assert "script-src 'self'" in m.group(1) and "unsafe-inline" not in m.group(1) and "'unsafe-eval'" not in m.group(1)
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")", html), rel
        assert not re.search(r"\son[a-z]+=", html) and " style=" not in html, rel
    ctx, page, seen = _watch(browser)
    try:
        for rel in pages:
            page.goto(f"{url}/{rel}")
            page.wait_for_load_state("load")
        iv = next(p for p in pages if p.startswith("i/"))
        page.goto(f"{url}/{iv}")
        _until(page, "document.getElementById('player').readyState >= 1")
        _until(page, "document.querySelectorAll('.w').length > 0")  # words wrapped by interview.js
        page.goto(f"{url}/search.html?q=rugissement")
        page.locator("#results a.moment").first.wait_for(timeout=15000)  # Pagefind (WebAssembly) under the CSP
        page.goto(f"{url}/index.html")
        page.wait_for_load_state("load")
        assert not seen, seen
        # the watch itself sees a violation: an inline script on a page under the same policy
        page.goto(f"{url}/{iv}")
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
                      " document.body.appendChild(s); }")
        _until(page, "true")
        page.wait_for_timeout(300)
        assert any("CSP-VIOLATION script-src" in x for x in seen) and page.evaluate("() => window.x") is None
    finally:
        ctx.close()


def test_workbench_pages_have_no_csp_violation(ws, corpus, ffmpeg, tmp_path, browser):
    """Item 17: the workbench's CSP header (no inline script or style) holds on its main pages:
    no violation, no script error, and their scripts run."""
    from oralhist.web.server import start_workbench_in_thread

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio,
                   links=[("trade", "Mineur", 500, 3000, "terrain montagneux", "accepted", 1.0)])
    from oralhist.web.auth import set_account

    set_account(ws, "admin", "mot de passe solide 42", role="admin")
    server, cfg, url, runner = start_workbench_in_thread(ws, runner=False)
    base = url.rstrip("/")
    ctx, page, seen = _watch(browser)
    try:
        resp = page.goto(base + "/login")
        page.fill("input[name=name]", "admin")
        page.fill("input[name=password]", "mot de passe solide 42")
        page.click("button[type=submit]")
        page.wait_for_selector("table.list")
        csp = resp.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        iid = "1998-marcel-dupont"
        for path in ("/", f"/i/{iid}", f"/i/{iid}/index", f"/i/{iid}/links", f"/i/{iid}/speakers",
                     f"/i/{iid}/history", f"/i/{iid}/consent", f"/i/{iid}/word", "/importer", "/vocab", "/objets",
                     "/publish", "/expositions", "/expositions/termes", "/expositions/recherche"):
            r = page.goto(base + path)
            assert r.status == 200, (path, r.status)
            page.wait_for_load_state("load")
        page.goto(f"{base}/i/{iid}")
        page.locator("#segments span.w").first.wait_for(timeout=15000)  # editor.js drew the transcript
        assert not seen, seen
    finally:
        ctx.close()
        server.should_exit = True
        server._thread.join(5)
