"""Issue 19: no build inside (or replacing) a build of another kind (item 18); a publish
killed at any moment leaves a site whose every local link and source resolves (item 20)."""

from __future__ import annotations

import re

import pytest

from publish_helpers import make_audio, make_interview


def _set_base_url(ws, base: str) -> None:
    toml = ws.root / "oralhist.toml"
    toml.write_text(re.sub(r'base_url = ".*"', f'base_url = "{base}"', toml.read_text(encoding="utf-8")),
                    encoding="utf-8")


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _refused(cli, *args) -> str:
    r = cli("publish", *args)
    assert r.exit_code == 2, (args, r.output)
    line = r.output.strip()
    assert "\n" not in line, line  # one line
    return line


def test_no_build_inside_or_replacing_a_build_of_another_kind(ws, cli, corpus, tmp_path):
    make_interview(ws, "1990-public", corpus=corpus, title="Pour le web")
    make_interview(ws, "1991-kiosque", corpus=corpus, scope="on-site", title="Seulement au musée")
    _set_base_url(ws, "https://musee.example.org/temoignages")
    web = tmp_path / "www" / "web"
    r = cli("publish", "--out", web)
    assert r.exit_code == 0, r.output
    before = _tree(tmp_path / "www")

    # A kiosk build, or a local one, inside a public site published with a custom --out.
    msg = _refused(cli, "--on-site", "--local", "--out", web / "kiosque")
    assert str(web / "kiosque") in msg and "inside the public web site" in msg and str(web) in msg
    msg = _refused(cli, "--local", "--out", web / "usb")
    assert "inside the public web site" in msg
    _refused(cli, "--out", web / "i" / "copie")  # a public one too: the outer site would delete it
    # A kiosk build replacing the public site, or holding it.
    msg = _refused(cli, "--on-site", "--out", web)
    assert str(web) in msg and "holds a public web site" in msg
    _refused(cli, "--on-site", "--out", tmp_path / "www")
    assert _tree(tmp_path / "www") == before  # nothing written
    assert not (web / "kiosque").exists() and not (web / "usb").exists()

    # The other way round: nothing goes in or over a kiosk build but a kiosk build.
    kiosk = tmp_path / "kiosque"
    r = cli("publish", "--on-site", "--out", kiosk)
    assert r.exit_code == 0, r.output
    assert (kiosk / "i" / "1991-kiosque.html").is_file()
    kiosk_before = _tree(kiosk)
    msg = _refused(cli, "--out", kiosk)
    assert "holds a kiosk build" in msg
    _refused(cli, "--local", "--out", kiosk)
    msg = _refused(cli, "--out", kiosk / "web")
    assert "inside the kiosk build" in msg
    assert _tree(kiosk) == kiosk_before
    r = cli("publish", "--on-site", "--out", kiosk)  # the same kind again: an ordinary update
    assert r.exit_code == 0, r.output


def test_a_local_build_and_a_public_one_may_replace_each_other(ws, cli, corpus, tmp_path):
    make_interview(ws, "1990-public", corpus=corpus, title="Pour le web")
    usb = tmp_path / "usb"
    r = cli("publish", "--local", "--out", usb)  # no base_url: a local build
    assert r.exit_code == 0, r.output
    assert not (usb / "sitemap.xml").exists()
    _set_base_url(ws, "https://musee.example.org")
    r = cli("publish", "--out", usb)
    assert r.exit_code == 0, r.output
    assert (usb / "sitemap.xml").is_file()
    # ...but not inside the archive's public site folder, built or not.
    msg = _refused(cli, "--local", "--out", ws.site / "usb")
    assert "public site" in msg
