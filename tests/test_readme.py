"""The README's first command, on the bundled sample: every stage, ending with the site.

scripts/demo.sh = `oralhist init demo` + `oralhist run --manifest interviews/manifest.csv`;
this test runs the same two commands in a temporary folder (the install step is the one
this test suite already ran).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_names_the_two_scripts():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/demo.sh" in readme and "bash scripts/test.sh" in readme
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    demo = (REPO / "scripts" / "demo.sh").read_text()
    assert "run --manifest interviews/manifest.csv" in demo


def test_demo_runs_every_stage_on_the_sample(tmp_path):
    exe = [sys.executable, "-m", "oralhist"]
    archive = tmp_path / "demo"
    subprocess.run([*exe, "init", str(archive)], check=True, capture_output=True)
    done = subprocess.run(
        [*exe, "--workspace", str(archive), "run", "--manifest", str(REPO / "interviews" / "manifest.csv"), "--allow-outside"],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "index.html" in done.stdout

    shown = subprocess.run([*exe, "--workspace", str(archive), "show", "2022-lecteurs-fleurs", "--json"],
                           capture_output=True, text=True, check=True)
    iv = json.loads(shown.stdout)
    assert iv["status"] == "published"
    assert len(iv["recordings"]) == 6 and iv["consent"]["scope"] == "public"
    segs = iv["transcript"]["segments"]
    assert segs and all(s["speaker"] for s in segs)
    text = " ".join(s["text"] for s in segs).lower()
    for word in ("accident", "voiture", "cristaux"):
        assert word in text
    assert iv["topics"] and iv["links"]

    site = archive / "site"
    assert (site / "index.html").is_file()
    pages = list((site / "i").glob("*.html"))
    assert len(pages) == 1 and "cristaux" in pages[0].read_text(encoding="utf-8").lower()
    for ext in (".vtt", ".srt", ".txt", ".json", ".chapters.vtt", ".ohms.xml", ".iiif.json", ".dc.xml"):
        assert (archive / "transcripts" / "2022-lecteurs-fleurs" / f"2022-lecteurs-fleurs{ext}").is_file(), ext

    # the originals are byte for byte the bundled files, and verify agrees
    ok = subprocess.run([*exe, "--workspace", str(archive), "verify"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
