"""The curators' side of issue 14 in the workbench: exhibitions built in the browser (clips from
search, a term's passages and the player's in/out points), objects' alt text, consent notes.
A real uvicorn server, a real SQLite archive, real audio (FLEURS clips), real Chromium + axe-core."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from publish_helpers import make_audio, make_interview
from test_workbench import PW, Client

from oralhist.editorial.consent import set_consent

MINE = "Musée de la mine"
UNIQUE = "zygomatique"


@pytest.fixture()
def archive(ws, corpus, ffmpeg, tmp_path):
    """Three interviews of the Musée de la mine (real audio), one of another museum; four objects
    with pictures, one without alt text; the accounts."""
    from oralhist.outputs.objects import import_objects
    from oralhist.web.auth import set_account

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    lk = [("object", "lampe de mineur", 1000, 3000, "la lampe du mineur", "accepted", 1.0)]
    make_interview(ws, "iv-a", corpus=corpus, audio=audio, title="Le fond", links=lk)
    make_interview(ws, "iv-b", corpus=corpus, audio=audio, title="Le jour", narrator="Jeanne Caron",
                   texts=[f"le {UNIQUE} du matin", "deuxième passage", "troisième passage"])
    make_interview(ws, "iv-c", corpus=corpus, audio=audio, title="La lampe", narrator="Paul Leroy")
    make_interview(ws, "iv-x", corpus=corpus, audio=audio, title="Ailleurs", museum="Musée B")
    folder = tmp_path / "objets"
    (folder / "img").mkdir(parents=True)
    rows = []
    for i, col in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)], start=1):
        Image.new("RGB", (640, 480), col).save(folder / "img" / f"o{i}.jpg")
        alt = f"Photographie de l'objet {i}" if i < 3 else ""
        rows.append(f"OBJ-{i};Objet {i};{MINE};img/o{i}.jpg;{alt}")
    (folder / "objets.csv").write_text("inventaire;designation;musee;image;alt\n" + "\n".join(rows) + "\n",
                                       encoding="utf-8")
    import_objects(ws, folder / "objets.csv")
    set_account(ws, "admin", PW, role="admin")
    set_account(ws, "cur", PW, role="editor", museum=MINE)
    set_account(ws, "cur-b", PW, role="editor", museum="Musée B")
    set_account(ws, "vol", PW, role="volunteer", museum=MINE)
    return ws


@pytest.fixture()
def bench(archive):
    from oralhist.web.server import start_workbench_in_thread

    server, cfg, url, _ = start_workbench_in_thread(archive, runner=False)
    yield url.rstrip("/"), archive
    server.should_exit = True
    server._thread.join(5)


def _client(base, name):
    c = Client(base)
    assert c.login(name)[0] == 200
    return c


def _new(c, slug="voix-de-la-mine", title="Les voix de la mine"):
    st, body = c.call("POST", "/api/expositions", {"title": title, "slug": slug, "intro_md": "Une **exposition**.",
                                                  "section": "Le travail"})
    assert st == 201, body
    return body


def test_roles_csrf_and_museums(bench):
    base, ws = bench
    vol = _client(base, "vol")
    assert vol.call("GET", "/expositions")[0] == 403
    assert vol.call("GET", "/objets")[0] == 403
    assert vol.call("POST", "/api/expositions", {"title": "x", "slug": "x"})[0] == 403
    cur = _client(base, "cur")
    assert cur.call("POST", "/api/expositions", {"title": "x", "slug": "x"}, csrf=False)[0] == 403
    body = _new(cur)
    assert body["exhibition"]["museum"] == MINE and body["url"] == "/expositions/voix-de-la-mine"
    assert cur.call("POST", "/api/expositions", {"title": "y", "slug": "voix-de-la-mine"})[0] == 409
    assert cur.call("POST", "/api/expositions", {"title": "y", "slug": "Pas Bon"})[0] == 400
    assert cur.call("POST", "/api/expositions", {"title": "y", "slug": "recherche"})[0] == 400
    # another museum's curator: the exhibition, its pages and our interviews do not exist for them
    b = _client(base, "cur-b")
    assert b.call("GET", "/api/expositions")[1] == []
    assert b.call("GET", "/api/expositions/voix-de-la-mine")[0] == 404
    assert b.call("GET", "/expositions/voix-de-la-mine")[0] == 404
    assert b.call("GET", "/expositions/voix-de-la-mine/markdown")[0] == 404
    assert b.call("POST", "/api/expositions/voix-de-la-mine/clips",
                  {"section": 0, "interview_id": "iv-x", "start_ms": 0, "end_ms": 1000})[0] == 404
    _new(b, "chez-b", "Chez B")
    assert b.call("POST", "/api/expositions/chez-b/clips",
                  {"section": 0, "interview_id": "iv-a", "start_ms": 0, "end_ms": 1000})[0] == 404
    assert b.call("GET", "/expositions/lecteur/iv-a")[0] == 404
    assert b.call("POST", "/api/expositions/chez-b/objects", {"section": 0, "object": "OBJ-1"})[0] == 404
    assert b.call("POST", "/api/objets/1/alt", {"alt": "x"})[0] == 404
    st, page = b.call("GET", "/objets")
    assert st == 200 and "OBJ-1" not in page
    assert b.call("GET", "/api/objets")[1] == []
    # our curator does not see B's exhibition; the admin sees both
    assert [e["slug"] for e in cur.call("GET", "/api/expositions")[1]] == ["voix-de-la-mine"]
    a = _client(base, "admin")
    assert sorted(e["slug"] for e in a.call("GET", "/api/expositions")[1]) == ["chez-b", "voix-de-la-mine"]


def test_clip_and_object_validation(bench):
    base, ws = bench
    cur = _client(base, "cur")
    _new(cur)
    url = "/api/expositions/voix-de-la-mine/clips"
    dur = cur.call("GET", "/api/interviews/iv-a")[1]["duration_ms"]
    st, body = cur.call("POST", url, {"section": 0, "interview_id": "iv-a", "start_ms": 1000, "end_ms": dur + 5000})
    assert st == 400 and "après la fin de l’entretien" in body["error"]
    st, body = cur.call("POST", url, {"section": 0, "interview_id": "iv-zz", "start_ms": 0, "end_ms": 1000})
    assert st == 404 and "iv-zz" in body["error"]
    assert cur.call("POST", url, {"section": 0, "interview_id": "iv-a", "start_ms": 4000, "end_ms": 2000})[0] == 400
    assert cur.call("POST", url, {"section": 3, "interview_id": "iv-a", "start_ms": 0, "end_ms": 2000})[0] == 400
    assert cur.call("POST", url, {"section": 0, "interview_id": "iv-a", "start": "00:01", "end": "bientôt"})[0] == 400
    st, body = cur.call("POST", url, {"section": 0, "interview_id": "iv-a", "start": "00:01.5", "end": "00:04"})
    assert st == 200 and body["exhibition"]["sections"][0]["clips"][0]["start_ms"] == 1500
    # an object whose picture has no alt text cannot be added; once given, it can
    obj = "/api/expositions/voix-de-la-mine/objects"
    st, body = cur.call("POST", obj, {"section": 0, "object": "OBJ-3"})
    assert st == 400 and "texte alternatif" in body["error"]
    from oralhist import db
    from oralhist.outputs.objects import find_object

    with db.session(ws) as s:
        tid = find_object(s, "OBJ-3").id
    objs = {o["ref"]: o for o in cur.call("GET", "/api/objets")[1]}
    assert sorted(objs) == ["OBJ-1", "OBJ-2", "OBJ-3"] and objs["OBJ-3"]["needs_alt"] and not objs["OBJ-1"]["needs_alt"]
    assert cur.call("POST", f"/api/objets/{tid}/alt", {"alt": "   "})[0] == 400
    assert cur.call("POST", f"/api/objets/{tid}/alt", {"alt": "Lampe bleue"}, csrf=False)[0] == 403
    assert cur.call("POST", f"/api/objets/{tid}/alt", {"alt": " Lampe  bleue "})[1]["alt"] == "Lampe bleue"
    st, body = cur.call("POST", obj, {"section": 0, "object": "OBJ-3"})
    assert st == 200 and body["exhibition"]["sections"][0]["objects"] == ["OBJ-3"]
    assert cur.call("POST", obj, {"section": 0, "object": "OBJ-99"})[0] == 404
    assert cur.call("POST", "/api/expositions/voix-de-la-mine/terms", {"section": 0, "term": "inconnu"})[0] == 404
    # a whole save that smuggles a file directive in a narrative is refused; nothing changes
    doc = cur.call("GET", "/api/expositions/voix-de-la-mine")[1]
    e = doc["exhibition"]
    e["sections"][0]["narrative_md"] = "texte\n[[clip iv-zz 00:01-00:02]]"
    st, body = cur.call("POST", "/api/expositions/voix-de-la-mine", {"version": doc["version"], "exhibition": e})
    assert st == 400 and "réservé" in body["error"]
    e["sections"][0]["narrative_md"] = "## Une section cachée"
    assert cur.call("POST", "/api/expositions/voix-de-la-mine", {"version": doc["version"], "exhibition": e})[0] == 400
    assert cur.call("GET", "/api/expositions/voix-de-la-mine")[1]["version"] == doc["version"]


def test_save_reorder_and_round_trip_with_exhibit_import(bench, cli, tmp_path):
    base, ws = bench
    cur = _client(base, "cur")
    _new(cur)
    doc = cur.call("GET", "/api/expositions/voix-de-la-mine")[1]
    e = doc["exhibition"]
    e["sections"][0]["narrative_md"] = "Le *fond*. <script>alert(1)</script>"
    e["sections"][0]["clips"] = [{"interview_id": "iv-a", "start_ms": 1000, "end_ms": 4250}]
    e["sections"].insert(0, {"title": "Les outils", "narrative_md": "", "objects": ["OBJ-1"], "terms": ["lampe de mineur"],
                             "clips": [{"interview_id": "iv-c", "start_ms": 0, "end_ms": 3000}]})
    st, body = cur.call("POST", "/api/expositions/voix-de-la-mine", {"version": doc["version"], "exhibition": e})
    assert st == 200, body
    saved = body["exhibition"]
    assert [s["title"] for s in saved["sections"]] == ["Les outils", "Le travail"]
    html = saved["sections"][1]["narrative_html"]
    assert "<em>fond</em>" in html and "<script" not in html
    # the old version is refused (someone else saved in between)
    assert cur.call("POST", "/api/expositions/voix-de-la-mine", {"version": doc["version"], "exhibition": e})[0] == 409
    # « exporter en Markdown » -> `exhibit import` gives the same stored exhibition
    st, md = cur.call("GET", "/expositions/voix-de-la-mine/markdown")
    assert st == 200 and "[[clip iv-a 00:01-00:04.25]]" in md and "museum: Musée de la mine" in md
    shown = json.loads(cli("exhibit", "show", "voix-de-la-mine", "--json").output)
    (ws.root / "exhibitions" / "voix-de-la-mine.json").unlink()
    f = tmp_path / "expo.md"
    f.write_text(md, encoding="utf-8")
    r = cli("exhibit", "import", f)
    assert r.exit_code == 0, r.output
    again = json.loads(cli("exhibit", "show", "voix-de-la-mine", "--json").output)
    assert shown.pop("source") == "workbench" and again.pop("source") == str(f)
    assert again == shown
    # and the workbench still edits the imported file
    st, body = cur.call("POST", "/api/expositions/voix-de-la-mine/clips",
                        {"section": 1, "interview_id": "iv-b", "start_ms": 500, "end_ms": 2500})
    assert st == 200 and len(body["exhibition"]["sections"][1]["clips"]) == 2


def test_withdrawn_clip_is_flagged(bench):
    base, ws = bench
    cur = _client(base, "cur")
    _new(cur)
    for iid in ("iv-a", "iv-b"):
        assert cur.call("POST", "/api/expositions/voix-de-la-mine/clips",
                        {"section": 0, "interview_id": iid, "start_ms": 1000, "end_ms": 3000})[0] == 200
    assert cur.call("GET", "/api/expositions/voix-de-la-mine")[1]["notes"]["withdrawn"] == 0
    set_consent(ws, "iv-b", scope="none")
    set_consent(ws, "iv-a", redact=[(2000, 2500, "tiers nommé")])
    notes = cur.call("GET", "/api/expositions/voix-de-la-mine")[1]["notes"]
    assert notes["clips"] == [["extrait retiré : consentement modifié"] * 2] and notes["withdrawn"] == 2
    st, page = cur.call("GET", "/expositions/voix-de-la-mine")
    assert st == 200 and page.count("extrait retiré : consentement modifié") == 2
    assert "2 extraits retirés" in cur.call("GET", "/expositions")[1]


def _status(page, text):
    """Wait for the status line to say ``text`` (a selector: the page's CSP forbids eval)."""
    page.wait_for_selector(f"#status:has-text('{text}')", timeout=15_000)


def _until(page, expression, timeout=20.0):
    import time

    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < end, expression
        time.sleep(0.1)


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def test_curator_walk_in_chromium(bench, browser):
    base, ws = bench
    ctx = browser.new_context(locale="fr-FR")
    page = ctx.new_page()
    try:
        page.goto(base + "/login")
        page.fill("input[name=name]", "cur")
        page.fill("input[name=password]", PW)
        page.click("button[type=submit]")
        page.wait_for_selector("table.list")
        page.click("a.curate")
        page.wait_for_selector("#expo-new")
        _axe(page)
        # create an exhibition with the keyboard
        page.fill("#expo-new input[name=title]", "Les voix <de> la mine")
        page.fill("#expo-new input[name=slug]", "voix-de-la-mine")
        page.fill("#expo-new textarea[name=intro_md]", "Une exposition.")
        page.focus("#expo-new button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/expositions/voix-de-la-mine")
        assert page.inner_text("h1") == "Les voix <de> la mine"  # escaped, shown as text
        _axe(page)
        # a clip from the search results
        page.click("text=chercher un extrait à ajouter")
        page.fill("input[name=q]", UNIQUE)
        page.keyboard.press("Enter")
        page.wait_for_selector("ol.hits mark")
        assert page.inner_text("ol.hits mark") == UNIQUE
        _axe(page)
        page.click("button.add-clip")
        _status(page, "Ajouté")
        # a clip from a term's passages
        page.goto(base + "/expositions/termes")
        _axe(page)
        page.click("text=lampe de mineur")
        page.wait_for_selector("button.add-clip")
        _axe(page)
        page.click("button.add-clip")
        _status(page, "Ajouté")
        # a clip from the player, in/out taken from the playhead
        page.goto(base + "/i/iv-c")
        page.click("text=Extrait pour une exposition")  # from the interview's pages
        page.wait_for_url("**/expositions/lecteur/iv-c")
        _until(page, "document.getElementById('audio').readyState >= 1")
        _axe(page)
        page.evaluate("document.getElementById('audio').currentTime = 1.2")
        _until(page, "Math.abs(document.getElementById('audio').currentTime - 1.2) < 0.05")
        page.click("#mark-in")
        page.evaluate("document.getElementById('audio').currentTime = 3.5")
        _until(page, "Math.abs(document.getElementById('audio').currentTime - 3.5) < 0.05")
        page.focus("#audio")
        page.keyboard.press("o")  # the keyboard shortcut marks the end
        assert page.input_value("#in") == "00:01.2" and page.input_value("#out") == "00:03.5"
        page.click("#add-range")
        _status(page, "Ajouté")
        # an object, after giving it its alt text
        page.goto(base + "/objets")
        page.wait_for_selector("li.needs-alt")
        _axe(page)
        obj3 = page.locator("li.obj[data-ref='OBJ-3']")
        obj3.locator("button.add-object-here").click()
        _status(page, "texte alternatif")
        obj3.locator("form.alt-form textarea").fill("Une lampe de mineur bleue, vue de face")
        obj3.locator("form.alt-form button").click()
        _status(page, "enregistré")
        assert page.locator("li.needs-alt").count() == 0
        assert obj3.locator("img").get_attribute("alt") == "Une lampe de mineur bleue, vue de face"
        obj3.locator("button.add-object-here").click()
        _status(page, "Ajouté")
        # the exhibition now holds the three clips and the object; a section added and saved
        page.goto(base + "/expositions/voix-de-la-mine")
        clips = page.locator("li.clip")
        assert clips.count() == 3
        got = [(clips.nth(k).get_attribute("data-iid"), clips.nth(k).get_attribute("data-start"),
                clips.nth(k).get_attribute("data-end")) for k in range(3)]
        assert got[0][0] == "iv-b" and got[1] == ("iv-a", "1000", "3000") and got[2] == ("iv-c", "1200", "3500")
        assert page.locator("li.object[data-ref='OBJ-3']").count() == 1
        page.click("#add-section")
        page.keyboard.type("Le soir")
        page.locator("fieldset.section").nth(1).locator("button.up").click()
        page.click("#save")
        _status(page, "Exposition enregistrée")
        assert [page.locator("fieldset.section input[name=stitle]").nth(k).input_value() for k in range(2)] == [
            "Le soir", "Première partie"]
        assert page.locator("li.clip").count() == 3
        # consent withdrawn for iv-b: its clip is flagged in the workbench
        set_consent(ws, "iv-b", scope="none")
        page.reload()
        flagged = page.locator("li.withdrawn-clip")
        assert flagged.count() == 1 and flagged.get_attribute("data-iid") == "iv-b"
        assert "extrait retiré : consentement modifié" in flagged.inner_text()
        assert page.locator("#withdrawn-summary").is_visible()
        _axe(page)
    finally:
        ctx.close()
