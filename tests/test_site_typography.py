"""Issue 13 item 4: French typography on the public pages."""

from __future__ import annotations

from publish_helpers import make_audio, make_interview


def test_formatters():
    from oralhist.outputs.publish.typography import decade, duration, long_date, plural, quote

    assert long_date("1998-06-14") == "14 juin 1998"
    assert long_date("1998-06-01") == "1er juin 1998"
    assert long_date("1998-06") == "juin 1998"
    assert long_date("1998") == "1998"
    assert long_date("1998-06-14", "en") == "June 14, 1998"
    assert long_date("vers 1950") == "vers 1950"
    assert duration(67_000) == "1\u00a0min\u00a007\u00a0s"
    assert duration(3_725_000) == "1\u00a0h\u00a002\u00a0min"
    assert duration(45_000) == "45\u00a0s"
    assert plural(1, "témoignage affiché", "témoignages affichés") == "témoignage affiché"
    assert plural(0, "a", "b") == "a" and plural(0, "a", "b", "en") == "b" and plural(2, "a", "b") == "b"
    assert decade("2020") == "années 2020" and decade("2020", "en") == "2020s"
    assert quote("mot") == "«\u202fmot\u202f»"


def test_pages_use_french_dates_durations_and_plurals(ws, corpus, ffmpeg, tmp_path, page):
    from oralhist.outputs.publish import publish_site

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    make_interview(ws, "1998-marcel-dupont", corpus=corpus, audio=audio, date="1998-06-14", museum="Musée A")
    make_interview(ws, "2021-jeanne", corpus=corpus, audio=audio, date="2021", museum="Musée B", narrator="Jeanne")
    publish_site(ws)
    html = (ws.site / "i" / "1998-marcel-dupont.html").read_text(encoding="utf-8")
    import re

    assert "14 juin 1998" in html
    assert re.search(r"<dd>\d+(\u00a0min\u00a0\d\d)?\u00a0s</dd>", html), "duration not as '1 min 07 s'"
    home = (ws.site / "temoignages.html").read_text(encoding="utf-8")  # the filters' page since issue 26
    assert "années 1990" in home and "années 2020" in home
    assert re.search(r'id="shown-label"[^>]*>témoignages affichés<', home)
    page.goto((ws.site / "temoignages.html").as_uri())
    page.select_option("select[data-filter=museum]", "Musée B")
    assert page.inner_text("#shown-count") == "1"
    assert page.inner_text("#shown-label") == "témoignage affiché"


def test_home_intro_and_open_data_page(ws, corpus, ffmpeg, tmp_path):
    from oralhist.outputs.publish import publish_site
    from oralhist.archive.workspace import open_workspace

    toml = ws.root / "oralhist.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[site]\n", '[site]\nintro = "Des mineurs et des fileuses racontent <leur> métier."\n'), encoding="utf-8")
    ws = open_workspace(ws.root)
    publish_site(ws)
    home = (ws.site / "index.html").read_text(encoding="utf-8")
    assert "racontent &lt;leur&gt; métier" in home and 'href="donnees.html">Données ouvertes<' in home
    data = (ws.site / "donnees.html").read_text(encoding="utf-8")
    # no base_url here: a local build, without a sitemap to link to
    assert 'href="sitemap.xml"' not in data and 'href="oai-pmh.xml"' in data
