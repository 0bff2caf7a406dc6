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


# ----------------------------------------------------------------------------- item 20

CHILD = r"""
import os, signal, sys
from oralhist.outputs.publish import publish_site, write
from oralhist.archive.workspace import open_workspace

kill_after = int(sys.argv[2])  # 0: count the writes and finish
count = {"n": 0}

def counted(real):
    def run(*a, **kw):
        real(*a, **kw)
        count["n"] += 1
        if count["n"] == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # as a power cut or an OOM kill would
    return run

write.atomic_bytes = counted(write.atomic_bytes)
write._write_audio = counted(write._write_audio)
publish_site(open_workspace(sys.argv[1]))
print(count["n"])
"""

_REF = re.compile(r'(href|src|srcset)="([^"]*)"')


def broken_links(site) -> list[str]:
    """Every local href/src/srcset of every page, the interviews home-data.js lists, the pages
    sitemap.xml and oai-pmh.xml name: those that do not resolve to a file."""
    import os

    bad = []
    for page in site.rglob("*.html"):
        if "pagefind" in page.relative_to(site).parts:
            continue
        for attr, value in _REF.findall(page.read_text(encoding="utf-8")):
            refs = [v.strip().split(" ")[0] for v in value.split(",")] if attr == "srcset" else [value]
            for ref in refs:
                ref = re.split(r"[#?]", ref)[0]
                if not ref or ":" in ref or ref.startswith("//"):
                    continue
                if not (page.parent / ref).exists():
                    bad.append(f"{page.relative_to(site)} -> {ref}")
    data = site / "home-data.js"
    if data.is_file():
        for iid in re.findall(r'"id":\s*"([^"]+)"', data.read_text(encoding="utf-8")):
            if not (site / "i" / f"{iid}.html").is_file():
                bad.append(f"home-data.js -> i/{iid}.html")
    for listing in ("oai-pmh.xml", "sitemap.xml"):
        if (site / listing).is_file():
            for rel in re.findall(r"https://musee\.example\.org/([^<\s\"]+)", (site / listing).read_text(encoding="utf-8")):
                if not (site / os.path.normpath(rel)).exists():
                    bad.append(f"{listing} -> {rel}")
    return bad


def test_a_publish_killed_at_any_moment_leaves_no_broken_link(ws, cli, corpus, ffmpeg, tmp_path, monkeypatch):
    import shutil
    import subprocess
    import sys

    from oralhist.outputs.publish import publish_site, write
    from oralhist.archive.workspace import open_workspace

    audio = tmp_path / "a.mp3"
    make_audio(ffmpeg, corpus, audio)
    _set_base_url(ws, "https://musee.example.org")
    web = open_workspace(ws.root)  # with its base_url: a sitemap, addresses to check
    make_interview(ws, "1990-marcel", corpus=corpus, audio=audio, title="À la fosse",
                   links=[("trade", "Mineur", 500, 3000, "la fosse", "accepted", 1.0)])
    make_interview(ws, "1991-jeanne", corpus=corpus, audio=audio, title="Au tissage",
                   links=[("trade", "Tisserande", 0, 3000, "le métier", "accepted", 1.0)])
    publish_site(web)
    assert broken_links(ws.site) == []
    # Then: a new interview whose new term page and page link to each other, a new clip on an
    # existing term, and a withdrawn one (its files go).
    make_interview(ws, "1992-odette", corpus=corpus, audio=audio, title="La lampisterie",
                   links=[("trade", "Lampiste", 0, 2000, "les lampes", "accepted", 1.0),
                          ("trade", "Mineur", 2000, 4000, "au fond", "accepted", 1.0)])
    r = cli("consent", "1991-jeanne", "--scope", "research-only")
    assert r.exit_code == 0, r.output
    cache = ws.root / ".oralhist-cache"
    saved = tmp_path / "saved"
    shutil.copytree(ws.site, saved / "site")
    shutil.copytree(cache, saved / "cache")

    def restore():
        for d, s in ((ws.site, "site"), (cache, "cache")):
            shutil.rmtree(d)
            shutil.copytree(saved / s, d)

    # Every instant between two writes (a kill lands on one of them): no broken link.
    seen = []

    def checking(real):
        def run(*a, **kw):
            real(*a, **kw)
            seen.append(broken_links(ws.site))
        return run

    monkeypatch.setattr(write, "atomic_bytes", checking(write.atomic_bytes))
    monkeypatch.setattr(write, "_write_audio", checking(write._write_audio))
    publish_site(web)
    monkeypatch.undo()
    writes = len(seen)
    assert writes >= 10
    assert [(n, bad) for n, bad in enumerate(seen, 1) if bad] == []
    done = {p.relative_to(ws.site).as_posix(): p.read_bytes() for p in ws.site.rglob("*")
            if p.is_file() and "pagefind" not in p.parts}

    # Real kills (SIGKILL, in a process of its own) at a few of those instants, then the rerun.
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")

    def publish(kill_after: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(ws.root), str(kill_after)],
                              capture_output=True, text=True, timeout=600)

    for n in (2, writes // 3, 2 * writes // 3):
        restore()
        r = publish(n)
        assert r.returncode == -9, (n, r.stdout, r.stderr)
        assert broken_links(ws.site) == [], f"killed after {n} of {writes} writes"
        assert not list(ws.site.rglob("*.tmp"))
    # The next publish finishes the work: the same site as the publish that was not killed.
    r = publish(0)
    assert r.returncode == 0, r.stderr
    assert broken_links(ws.site) == []
    now = {p.relative_to(ws.site).as_posix(): p.read_bytes() for p in ws.site.rglob("*")
           if p.is_file() and "pagefind" not in p.parts}
    assert now.keys() == done.keys()
    assert [p for p in done if now[p] != done[p] and p != ".oralhist-build.json"] == []
    assert (ws.site / "i" / "1992-odette.html").is_file() and not (ws.site / "i" / "1991-jeanne.html").exists()
