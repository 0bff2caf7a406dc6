"""Done-when of issue 26 (and issue 25 item 6's public pages): the front pages in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image
from publish_helpers import make_audio, make_interview
from test_exhibit_site import _serve

SECRET = ("Zorglub Secretaire", "xylophagesecret")
NEW_PAGES = ("index.html", "temoignages.html", "musees/index.html", "musees/musee-de-la-mine/index.html",
             "musees/musee-du-textile/index.html", "carte/index.html", "frise/index.html")


def _picture(path: Path, colour) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.blend(Image.linear_gradient("L").resize((900, 600)).convert("RGB"),
                Image.new("RGB", (900, 600), colour), 0.5).save(path)


@pytest.fixture(scope="module")
def front(tmp_path_factory, corpus, ffmpeg):
    """One archive: two museums from a museums file, three public interviews and a restricted
    one, two objects with pictures, an exhibition; published once with the English switch."""
    from oralhist.archive.workspace import init, open_workspace
    from oralhist.editorial.vocab import import_vocab
    from oralhist.outputs.exhibit import import_exhibition
    from oralhist.outputs.museums import import_museums
    from oralhist.outputs.objects import import_objects
    from oralhist.outputs.publish import publish_site

    root = tmp_path_factory.mktemp("front")
    ws = init(root / "archive", title="Mémoires ouvrières")
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\nintro = "Des voix du travail."\nlanguages = ["fr", "en"]\n'
                    'theme = { primary = "#1d3557", accent = "#8a1c1c" }\n'), encoding="utf-8")
    ws = open_workspace(ws.root)
    audio = root / "a.mp3"
    total = make_audio(ffmpeg, corpus, audio)
    assert total >= 21_000, total
    _picture(root / "m" / "logo-mine.png", (30, 30, 30))
    (root / "m" / "musees.csv").write_text(
        "nom;ville;adresse;site;latitude;longitude;logo;description\n"
        "Musée de la mine;Lewarde;Fosse Delloye;https://mine.example.org/;50,3406;3,1694;logo-mine.png;Le musée de la mine.\n"
        "Musée du textile;Roubaix;2 rue du Fil;https://textile.example.org/;50.6942;3.1746;;\n", encoding="utf-8")
    import_museums(ws, root / "m" / "musees.csv")
    for i, col in ((1, (200, 40, 40)), (2, (40, 40, 200))):
        _picture(root / "o" / "img" / f"o{i}.jpg", col)
    (root / "o" / "objets.csv").write_text(
        "inventaire;designation;musee;image;alt;credit\n"
        "OBJ-1;Lampe de mineur;Musée de la mine;img/o1.jpg;Une lampe de mineur en laiton;Don X\n"
        "OBJ-2;Navette;Musée du textile;img/o2.jpg;Une navette de tisserand;Don Y\n", encoding="utf-8")
    import_objects(ws, root / "o" / "objets.csv")
    (root / "metiers.csv").write_text("label\nmineur\ntisserand\n", encoding="utf-8")
    import_vocab(ws, root / "metiers.csv", "trade")
    # Lille is heard in no public interview: no marker; Arras and Guise (Aisne) have only their INSEE code:
    # the commune's centre
    (root / "lieux.csv").write_text("label;latitude;longitude;insee\nWattrelos;50.7044;3.2167;\nLille;50.6292;3.0573;\n"
                                    "Arras;;;62041\nGuise;;;02361\n", encoding="utf-8")
    import_vocab(ws, root / "lieux.csv", "place")
    topic = [(500, total, "La grève de 1962", "Le puits en 1962.", ["grève"])]
    make_interview(ws, "iv-mine", corpus=corpus, audio=audio, title="Le fond", museum="Musée de la mine",
                   narrator="Marcel Dupont", topics=topic,
                   links=[("object", "Lampe de mineur (OBJ-1)", 1000, 3500, "la lampe", "accepted", 1.0),
                          ("trade", "mineur", 500, 4000, "le mineur", "accepted", 1.0)])
    make_interview(ws, "iv-mine2", corpus=corpus, audio=audio, title="La lampisterie", museum="Musée de la mine",
                   narrator="Paul Leroy", date="1985-03-02",
                   links=[("place", "Arras", 500, 2500, "Arras", "accepted", 1.0),
                          ("place", "Guise", 2600, 3400, "Guise", "accepted", 1.0)])
    make_interview(ws, "iv-tex", corpus=corpus, audio=audio, title="Le métier à tisser", museum="Musée du textile",
                   narrator="Jeanne Caron", date="2001-05-01", place="Roubaix",
                   topics=[(0, total, "Les années 1970 à l'usine", "", [])],
                   links=[("object", "Navette (OBJ-2)", 0, 2500, "la navette", "accepted", 1.0),
                          ("trade", "tisserand", 0, 2500, "tisser", "accepted", 1.0),
                          ("place", "Wattrelos", 0, 2500, "Wattrelos", "accepted", 1.0)])
    make_interview(ws, "iv-secret", corpus=corpus, audio=audio, title="Témoignage réservé " + SECRET[1],
                   museum="Musée de la mine", narrator=SECRET[0], scope="research-only", topics=topic)
    (root / "expo.md").write_text("---\ntitle: Lumières du fond\nslug: lumieres\n---\nLa lampe et le mineur.\n\n"
                                  "## La lampe\n[[clip iv-mine 00:01-00:04]]\n[[object OBJ-1]]\n", encoding="utf-8")
    import_exhibition(ws, root / "expo.md")
    # 25 more testimonies of the textile museum (26 in all): its page is cut into pages of 24
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Interview, Museum
    from publish_helpers import make_many

    make_many(ws, 25)
    with db.session(ws) as s:
        textile = s.exec(select(Museum).where(Museum.name == "Musée du textile")).one().id
        for iv in s.exec(select(Interview).where(Interview.id.startswith("gen-"))).all():
            iv.museum_id = textile
            s.add(iv)
        s.commit()
    from oralhist.editorial.portrait import set_portrait

    _picture(root / "p" / "portrait.jpg", (120, 90, 60))
    set_portrait(ws, "iv-mine", root / "p" / "portrait.jpg")
    set_portrait(ws, "iv-tex", root / "p" / "portrait.jpg")
    set_portrait(ws, "iv-tex", allow=False)  # stored, permission withdrawn: not shown
    rep = publish_site(ws)
    httpd = _serve(ws.site)
    try:
        yield {"ws": ws, "site": ws.site, "rep": rep, "url": f"http://127.0.0.1:{httpd.server_address[1]}/",
               "total": total}
    finally:
        httpd.shutdown()


def test_museums_file_bad_row_is_one_line_and_writes_nothing(ws, tmp_path):
    from sqlmodel import select

    from oralhist import db
    from oralhist.errors import BadInput
    from oralhist.outputs.museums import import_museums
    from oralhist.records import Museum

    bad = tmp_path / "musees.csv"
    bad.write_text("nom;latitude;longitude\nMusée A;50.1;3.2\nMusée B;95;3.2\n", encoding="utf-8")
    with pytest.raises(BadInput) as e:
        import_museums(ws, bad)
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "row 3" in msg and "latitude" in msg, msg
    bad.write_text("nom;site\nMusée A;javascript:alert(1)\n", encoding="utf-8")
    with pytest.raises(BadInput, match="row 2.*website"):
        import_museums(ws, bad)
    with db.session(ws) as s:
        assert s.exec(select(Museum)).all() == []


def test_theme_failing_contrast_is_refused_naming_the_pair(ws):
    from oralhist.archive.workspace import open_workspace
    from oralhist.errors import BadInput
    from oralhist.outputs.publish import publish_site

    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\ntheme = { primary = "#ffd700", accent = "#0b5394" }\n'), encoding="utf-8")
    with pytest.raises(BadInput) as e:
        publish_site(open_workspace(ws.root))
    assert "#ffffff on #ffd700" in str(e.value) and "4.5:1" in str(e.value)
    assert not (ws.site / "index.html").exists()


def test_front_pages_are_written_and_consent_filtered(front):
    site = front["site"]
    for p in NEW_PAGES + ("extraits.js", "theme.css", "langues.js", "partage.png"):
        assert (site / p).is_file(), p
    more = tuple(str(x.relative_to(site)) for x in site.glob("musees/*/page-*.html"))  # museum pages 2, 3…
    assert more
    for p in NEW_PAGES + more + ("extraits.js",):
        text = (site / p).read_text(encoding="utf-8")
        for s in SECRET:
            assert s not in text, (p, s)
    assert "iv-secret" not in (site / "extraits.js").read_text()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="expositions/lumieres/index.html"' in home and "Exposition à la une" in home
    assert 'href="temoignages.html"' in home and "Objets qui parlent" in home
    assert re.search(r'href="t/[^"]+mineur\.html">mineur</a> <span class="count">1<', home)
    # the timeline: 1960s from the topic's year, 1980s from the date, 1970s from the other topic
    frise = (site / "frise" / "index.html").read_text(encoding="utf-8")
    assert 'id="d1960"' in frise and 'id="d1980"' in frise and 'id="d1970"' in frise
    assert frise.count('class="range"') == 3


def test_museum_pages_of_24_and_what_loads_on_a_phone(front):
    """Museum pagination; the speed fixes of issue 26 (Lighthouse on a phone): every script deferred,
    the main picture fetched first, AVIF listed first, the blob: player allowed, no tile layer by default."""
    from PIL import Image, features

    site = front["site"]
    first = (site / "musees" / "musee-du-textile" / "index.html").read_text(encoding="utf-8")
    second = (site / "musees" / "musee-du-textile" / "page-2.html").read_text(encoding="utf-8")
    def cards(html):
        return re.search(r'<ul class="cards" id="museum-cards">(.*?)</ul>', html, re.S).group(1).count("<li")

    assert cards(first) == 24 and cards(second) == 2
    assert 'rel="next" href="page-2.html"' in first and 'rel="prev" href="index.html"' in second
    assert "rel=\"next\"" not in second and not (site / "musees" / "musee-du-textile" / "page-3.html").exists()
    assert "Une navette de tisserand" in first and "Une navette de tisserand" not in second  # objects: page 1
    assert not (site / "musees" / "musee-de-la-mine" / "page-2.html").exists()
    obj = next(site.glob("objets/*/index.html")).read_text(encoding="utf-8")
    expo = (site / "expositions" / "lumieres" / "index.html").read_text(encoding="utf-8")
    for path, html in [(p, (site / p).read_text(encoding="utf-8")) for p in NEW_PAGES + ("i/iv-mine.html", "search.html")] \
            + [("object", obj), ("exhibition", expo)]:
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all(" defer " in t or 'type="application/ld+json"' in t for t in scripts), (path, scripts)
        assert "media-src 'self' blob:;" in html and "img-src 'self' data:;" in html, path
    # the page's main picture is fetched first, never lazily; the others lazily
    main = re.search(r'<div class="object-picture">.*?</picture>', obj, re.S).group(0)
    assert 'fetchpriority="high"' in main and 'loading="lazy"' not in main
    first_pic = re.search(r"<picture>.*?</picture>", expo, re.S).group(0)
    assert 'fetchpriority="high"' in first_pic
    if features.check("avif"):  # AVIF where this Pillow writes it: made at import, listed first
        assert re.search(r'<picture><source type="image/avif" srcset="[^"]+-card\.avif 480w, [^"]+-page\.avif', main), main
        avif = re.search(r'srcset="\.\./\.\./([^" ]+\.avif)', main).group(1)
        with Image.open(site / avif) as im:
            assert im.format == "AVIF" and im.size[0] > 0
    # no tile layer unless [site] map_tiles names one
    carte = (site / "carte" / "index.html").read_text(encoding="utf-8")
    assert "<image" not in carte and 'class="tiled"' not in carte


def test_map_tiles_setting_is_checked(ws):
    from oralhist.archive.workspace import open_workspace
    from oralhist.errors import BadInput
    from oralhist.outputs.publish.places import map_tiles

    toml = ws.root / "oralhist.toml"
    text = toml.read_text(encoding="utf-8")
    assert map_tiles(ws) is None
    for bad in ("javascript:alert(1)/{z}/{x}/{y}", "https://t.example.org/{z}/{x}.png", 'https://t.example.org/{z}/{x}/{y}.png" onload="x'):
        toml.write_text(text.replace("[site]\n", "[site]\nmap_tiles = '" + bad + "'\n"), encoding="utf-8")
        with pytest.raises(BadInput, match=r"\[site\] map_tiles must be an http\(s\) tile address") as e:
            map_tiles(open_workspace(ws.root))
        assert str(toml) in str(e.value.path)


def test_portrait_only_with_the_consent_permission(front):
    site = front["site"]
    html = (site / "i" / "iv-mine.html").read_text(encoding="utf-8")
    assert '<figure class="portrait">' in html and 'alt="Portrait de Marcel Dupont"' in html
    assert (site / "media" / "iv-mine" / "portrait.webp").is_file()
    assert "portrait" not in (site / "i" / "iv-tex.html").read_text(encoding="utf-8").replace("portrait_of", "")
    assert not (site / "media" / "iv-tex" / "portrait.jpg").exists()


def test_portrait_never_for_an_anonymised_interview(ws, corpus, tmp_path):
    from oralhist.archive.workspace import open_workspace
    from oralhist.editorial.consent import set_consent
    from oralhist.editorial.portrait import set_portrait
    from oralhist.errors import BadInput
    from oralhist.outputs.publish import publish_site

    _picture(tmp_path / "p.jpg", (10, 10, 10))
    make_interview(ws, "iv-anon", corpus=corpus, anonymise=True, pseudonym="Témoin A")
    with pytest.raises(BadInput, match="anonymised"):
        set_portrait(ws, "iv-anon", tmp_path / "p.jpg")
    make_interview(ws, "iv-later", corpus=corpus, narrator="Louise Martin")
    set_portrait(ws, "iv-later", tmp_path / "p.jpg")
    set_consent(ws, "iv-later", anonymise=True, pseudonym="Témoin B")  # anonymised after the portrait was allowed
    # this publish also carries [site] map_tiles (issue 26): the tile layer under the same outline and list
    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\nmap_tiles = "https://tiles.example.org/{z}/{x}/{y}.png"\n'
                    'map_tiles_credit = "© Contributeurs OpenStreetMap"\n'), encoding="utf-8")
    publish_site(open_workspace(ws.root))
    assert not list(ws.site.rglob("portrait.*"))
    assert not any('class="portrait"' in p.read_text(encoding="utf-8") for p in ws.site.glob("i/*.html"))
    carte = (ws.site / "carte" / "index.html").read_text(encoding="utf-8")
    tiles = re.findall(r'<image href="https://tiles\.example\.org/8/(\d+)/(\d+)\.png"', carte)
    # Hauts-de-France at zoom 8: tiles x 128-131, y 85-88 (Web Mercator)
    assert len(tiles) >= 4 and {int(x) for x, _ in tiles} <= set(range(128, 132)) and {int(y) for _, y in tiles} <= set(range(84, 90)), tiles
    assert 'class="tiled"' in carte and '<path class="land" d="M' in carte and 'id="map-list"' in carte
    assert "img-src 'self' data: https://tiles.example.org;" in carte and "© Contributeurs OpenStreetMap" in carte
    assert "img-src 'self' data:;" in (ws.site / "index.html").read_text(encoding="utf-8")  # the map page only


def test_incremental_publish_keeps_the_front_pages(front):
    from oralhist.outputs.publish import publish_site

    site = front["site"]
    before = {p: (site / p).read_bytes() for p in ("index.html", "extraits.js", "frise/index.html")}
    rep = publish_site(front["ws"])
    assert rep.details["written"] == 0, rep.details
    assert {p: (site / p).read_bytes() for p in before} == before


def test_jsonld_and_cards_on_every_page_type(front):
    import extruct

    site = front["site"]
    pages = {"index.html": "WebSite", "temoignages.html": None, "musees/index.html": "CollectionPage",
             "musees/musee-de-la-mine/index.html": "Museum", "carte/index.html": "CollectionPage",
             "frise/index.html": "CollectionPage", "expositions/lumieres/index.html": "ExhibitionEvent",
             "i/iv-mine.html": None}
    pages[str(next(site.glob("objets/*-lampe-de-mineur/index.html")).relative_to(site))] = "CreativeWork"
    pages[str(next(site.glob("t/*-mineur.html")).relative_to(site))] = "DefinedTerm"
    for path, kind in pages.items():
        html = (site / path).read_text(encoding="utf-8")
        data = extruct.extract(html, base_url="https://example.org/" + path, syntaxes=["json-ld", "opengraph"])
        assert data["json-ld"] or kind is None, path
        if kind:
            assert any(d.get("@type") == kind for d in data["json-ld"]), (path, data["json-ld"])
        og = dict(data["opengraph"][0]["properties"]) if data["opengraph"] else {}
        assert og.get("og:image") and og.get("og:title"), (path, og)
        assert 'name="twitter:card"' in html, path
    home = extruct.extract((site / "index.html").read_text(), syntaxes=["json-ld"])["json-ld"][0]
    assert home["potentialAction"]["@type"] == "SearchAction"
    obj = [p for p in pages if p.startswith("objets/")][0]
    ld = extruct.extract((site / obj).read_text(), syntaxes=["json-ld"])["json-ld"][0]
    assert ld["image"].startswith("objets/media/") and (site / ld["image"]).is_file()


def test_front_pages_in_chromium(front, page):
    from axe_playwright_python.sync_playwright import Axe

    url, site = front["url"], front["site"]
    axe = Axe()
    page.goto(url + "index.html")
    # the featured exhibition and its picture
    img = page.locator("figure.featured img")
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=10000)
    assert img.get_attribute("alt") == "Une lampe de mineur en laiton"
    assert page.locator("figure.featured a").inner_text() == "Lumières du fond"
    # the random clip: a public clip, within its range
    page.click("#random-clip")
    audio = page.locator("#random-audio")
    page.wait_for_function("() => document.getElementById('random-audio').dataset.page", timeout=10000)
    start, end = float(audio.get_attribute("data-start")), float(audio.get_attribute("data-end"))
    assert audio.get_attribute("data-page") in ("iv-mine", "iv-tex")
    assert end - start >= 20
    page.evaluate("() => { const a = document.getElementById('random-audio'); a.muted = true; return a.play(); }")
    page.wait_for_function("() => { const a = document.getElementById('random-audio'); return a.currentTime > 0.5; }",
                           timeout=20000)
    page.evaluate(f"() => {{ const a = document.getElementById('random-audio'); a.currentTime = {end - 1}; }}")
    page.wait_for_function("() => document.getElementById('random-audio').paused", timeout=20000)
    t = page.evaluate("() => document.getElementById('random-audio').currentTime")
    assert start - 0.3 <= t <= end + 0.3, (start, end, t)
    res = axe.run(page)
    assert res.violations_count == 0, res.generate_report()
    # the museum page: only that museum's public testimonies
    page.goto(url + "musees/musee-de-la-mine/index.html")
    titles = sorted(page.locator("#museum-cards h3").all_inner_texts())
    assert titles == ["La lampisterie", "Le fond"], titles
    assert "Fosse Delloye" in page.inner_text("main") and "Lampe de mineur" in page.inner_text("main")
    # the map: a marker per museum with coordinates, and the same in the list
    page.goto(url + "carte/index.html")
    outline = page.get_attribute("svg path.land", "d")  # the region's outline (IGN Admin Express, shipped)
    assert outline.startswith("M") and outline.count("L") > 200, outline[:80]
    markers = page.locator("svg a.marker[data-museum]")
    assert markers.count() == 2
    places = page.locator("svg a.marker.place")  # places of the vocabulary with coordinates, heard in public
    assert places.evaluate_all("(els) => els.map(e => e.getAttribute('aria-label'))") == ["Arras", "Guise", "Wattrelos"]
    assert (site / "t" / (places.first.get_attribute("data-place") + ".html")).is_file()  # the place's term page
    # Arras and Guise by their INSEE code only: the commune's centre (from the shipped table, every
    # department of the region)
    assert [(p.get_attribute("data-lat"), p.get_attribute("data-lon")) for p in places.all()[:2]] == [
        ("50.28991", "2.76625"), ("49.89562", "3.62479")]
    assert page.locator("#map-list li[data-place]").all_inner_texts() == [
        "Arras (50.2899, 2.7662) (centre de la commune, code INSEE 62041)",
        "Guise (49.8956, 3.6248) (centre de la commune, code INSEE 02361)", "Wattrelos (50.7044, 3.2167)"]
    assert sorted(markers.evaluate_all("(els) => els.map(e => e.dataset.museum)")) == ["musee-de-la-mine", "musee-du-textile"]
    assert page.locator("#map-list li[data-museum]").count() == 2
    # the English switch: the chrome changes, no testimony text does
    page.goto(url + "musees/musee-de-la-mine/index.html")
    cards_before = page.inner_text("#museum-cards")
    assert page.inner_text("nav.sections") .startswith("Tous les témoignages")
    page.click("#lang-switch")
    assert "All testimonies" in page.inner_text("nav.sections")
    assert page.inner_text("#mi-h") == "Testimonies of this museum"
    assert page.inner_text("#museum-cards") == cards_before
    page.goto(url + "i/iv-mine.html")  # the choice follows the visitor; the testimony stays in French
    assert "All testimonies" in page.inner_text("nav.sections")
    assert "Le fond" in page.inner_text("h1")
    page.click("#lang-switch")
    assert "Tous les témoignages" in page.inner_text("nav.sections")
    for path in NEW_PAGES[1:] + ("musees/musee-du-textile/page-2.html",):
        page.goto(url + path)
        res = axe.run(page)
        assert res.violations_count == 0, (path, res.generate_report())


def test_cli_museums_import_and_portrait(ws, cli, tmp_path, corpus):
    (tmp_path / "m.csv").write_text("nom;ville;latitude;longitude\nMusée A;Arras;50.29;2.78\nMusée B;Lens;50.43;x\n",
                                    encoding="utf-8")
    r = cli("museums", "import", tmp_path / "m.csv")
    assert r.exit_code == 2 and "row 3" in r.output and "longitude" in r.output, r.output
    (tmp_path / "m.csv").write_text("nom;ville;latitude;longitude\nMusée A;Arras;50.29;2.78\n", encoding="utf-8")
    r = cli("museums", "import", tmp_path / "m.csv", "--json")
    assert r.exit_code == 0 and json.loads(r.output)["created"] == ["Musée A"], r.output
    make_interview(ws, "iv-anon", corpus=corpus, anonymise=True, pseudonym="Témoin A")
    _picture(tmp_path / "p.jpg", (10, 10, 10))
    r = cli("portrait", "iv-anon", tmp_path / "p.jpg")
    assert r.exit_code == 2 and "anonymised" in r.output, r.output
