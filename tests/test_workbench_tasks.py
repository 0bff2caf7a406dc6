"""Issue 11, item 5: every task has a page and an API — consent and redactions (with the
waveform), corrections by Word, vocabulary import, « Publier » with a truthful site status.
A real uvicorn server with its real job runner, a real SQLite archive, a real interview from
the test data (real recogniser output over real FLEURS clips, its audio as the listening copy),
real .docx files written and edited with python-docx, the same library calls as the CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_workbench import PW, Client, accounts, multipart

IID = "2022-lecteurs-fleurs"


@pytest.fixture()
def bench(ws, corpus, ffmpeg):
    """(base url, ws): a running workbench and job runner; the sample interview is museum A's."""
    from oralhist.web.server import workbench_in_thread

    make_interview(ws, IID, audio=True, corpus=corpus, ffmpeg=ffmpeg)
    accounts(ws)
    with db.session(ws) as s:
        from oralhist.records import Interview, Museum

        iv = s.get(Interview, IID)
        iv.museum_id = s.exec(select(Museum).where(Museum.name == "Musée A")).one().id
        s.add(iv)
        s.commit()
    with workbench_in_thread(ws) as (_server, _cfg, url, _runner):
        yield url.rstrip("/"), ws


def login(base, name):
    c = Client(base)
    assert c.login(name)[0] == 200
    return c


def cli(ws, *args):
    return subprocess.run([sys.executable, "-m", "oralhist", "--workspace", str(ws.root), *args],
                          capture_output=True, text=True)


def upload(c, path, name, data, fields=None):
    body, ctype = multipart(fields or {}, [("file", name, data)])
    return c.call("POST", path, raw=body, headers={"Content-Type": ctype})


def publish_and_wait(c, deadline_s=120):
    """POST /api/publish, then the status once *that* job has ended (not an earlier publish's)."""
    st, posted = c.call("POST", "/api/publish", {})
    assert st == 202 and posted["job"]["stage"] == "publish", posted
    return wait_job(c, posted["job"]["id"], deadline_s)


def wait_job(c, job_id, deadline_s=120):
    end = time.monotonic() + deadline_s
    while True:
        st, body = c.call("GET", "/api/publish")
        assert st == 200
        j = body["job"]
        if j and j["id"] == job_id and j["status"] in ("done", "failed"):
            assert j["status"] == "done", j
            return body
        assert time.monotonic() < end, body
        time.sleep(0.5)


def test_roles_museums_and_csrf_on_every_task_route(bench):
    base, ws = bench
    vol, other, edit, admin = login(base, "vol-a"), login(base, "vol-b"), login(base, "edit"), login(base, "admin")
    admin_only = [("GET", f"/api/i/{IID}/consent"), ("POST", f"/api/i/{IID}/consent"), ("GET", "/api/vocab"),
                  ("POST", "/api/vocab"), ("GET", "/api/publish"), ("POST", "/api/publish"),
                  ("GET", f"/i/{IID}/consent"), ("GET", "/vocab"), ("GET", "/publish")]
    for c in (vol, edit):
        for method, path in admin_only:
            st, _ = c.call(method, path, {"scope": "public"} if method == "POST" else None)
            assert st == 403, (c, method, path, st)
    # another museum's interview does not exist for vol-b, whatever the route
    for method, path in [("GET", f"/api/i/{IID}/docx"), ("GET", f"/api/i/{IID}/peaks"), ("GET", f"/i/{IID}/word"),
                         ("POST", f"/api/i/{IID}/corrections"), ("GET", f"/api/i/{IID}/consent")]:
        assert other.call(method, path, {} if method == "POST" else None)[0] == 404, path
    # the volunteer of museum A may read and correct (Word page, download)
    assert vol.call("GET", f"/i/{IID}/word")[0] == 200
    assert vol.call("GET", f"/api/i/{IID}/docx")[0] == 200
    # every write needs the CSRF token
    for path, data in [(f"/api/i/{IID}/consent", {"scope": "public"}), ("/api/publish", {}), ("/api/vocab", {}),
                       (f"/api/i/{IID}/corrections", {})]:
        st, body = admin.call("POST", path, data, csrf=False)
        assert st == 403 and "CSRF" in body["error"], path
    st, body = admin.call("POST", f"/api/i/{IID}/consent", {"scope": "public"}, headers={"X-CSRF-Token": "faux"},
                          csrf=False)
    assert st == 403
    # nothing was written by the refused calls
    from oralhist.records import Consent, Job, Revision

    with db.session(ws) as s:
        assert s.exec(select(Revision).where(Revision.kind == "consent")).all() == []
        assert s.exec(select(Job)).all() == []
        assert s.exec(select(Consent).where(Consent.interview_id == IID)).one().scope.value == "none"


def test_consent_page_api_matches_the_cli_and_says_what_it_does_to_the_site(bench):
    base, ws = bench
    admin = login(base, "admin")
    st, c0 = admin.call("GET", f"/api/i/{IID}/consent")
    assert st == 200 and c0["scope"] == "none" and c0["redactions"] == []
    assert "n’est pas sur le site public" in c0["effect"]
    # scope, embargo, anonymisation, pseudonym and a redaction chosen on the player, in one request
    xss = '<script>alert("x")</script>'
    st, c1 = admin.call("POST", f"/api/i/{IID}/consent", {
        "scope": "public", "embargo_until": "2099-06-14", "anonymise": True, "pseudonym": "Madame R.",
        "redact": [{"start_ms": 2500, "end_ms": 4750, "reason": xss}]})
    assert st == 200, c1
    assert c1["scope"] == "public" and c1["embargo_until"] == "2099-06-14" and c1["embargo_fr"] == "14 juin 2099"
    assert c1["anonymise"] is True and c1["pseudonym"] == "Madame R."
    assert [(r["start_ms"], r["end_ms"], r["reason"], r["created_by"]) for r in c1["redactions"]] == [(2500, 4750, xss, "admin")]
    # the CLI reads the same records (one library)
    r = cli(ws, "consent", IID, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["scope"] == "public" and d["embargo_until"] == "2099-06-14" and d["redactions"] == [[2500, 4750, xss]]
    # the page shows it, escaped
    st, html = admin.call("GET", f"/i/{IID}/consent")
    assert st == 200 and "<script>alert" not in html and 'name="embargo_until" value="2099-06-14"' in html
    # the embargo lifted: public, not yet on the site
    st, c2 = admin.call("POST", f"/api/i/{IID}/consent", {"embargo_until": ""})
    assert st == 200 and c2["embargo_until"] is None
    assert "sera mis en ligne à la prochaine publication" in c2["effect"]
    # publish (the background job), then the site is up to date for it
    publish_and_wait(admin)
    st, c3 = admin.call("GET", f"/api/i/{IID}/consent")
    assert "le site est à jour pour lui" in c3["effect"]
    # remove the redaction (listed with its id), then the narrator withdraws: removed at the next publish
    rid = c3["redactions"][0]["id"]
    st, c4 = admin.call("POST", f"/api/i/{IID}/consent", {"unredact": [rid]})
    assert st == 200 and c4["redactions"] == []
    assert "consentement modifié depuis la dernière publication" in c4["effect"]
    st, c5 = admin.call("POST", f"/api/i/{IID}/consent", {"withdraw": True})
    assert st == 200 and c5["scope"] == "none"
    assert c5["effect"] == "Sera retiré du site à la prochaine publication (consentement retiré)."
    r = cli(ws, "consent", IID, "--json")
    assert json.loads(r.stdout)["scope"] == "none"
    # bad input: French, one line, nothing written
    for data, expect in [({"embargo_until": "14/06/2030"}, "date d’embargo invalide"),
                         ({"redact": [{"start_ms": 5000, "end_ms": 4000}]}, "doit finir après son début"),
                         ({"redact": [{"start_ms": 999_999_000, "end_ms": 999_999_999}]}, "après la fin de l’enregistrement"),
                         ({"unredact": [rid]}, f"pas de passage retiré n° {rid}"),
                         ({"scope": "partout"}, "diffusion inconnue"),
                         ({"redact": [{"start_ms": "a", "end_ms": 3}]}, "millisecondes"),
                         ({}, "aucun changement")]:
        st, body = admin.call("POST", f"/api/i/{IID}/consent", data)
        assert st == 400 and expect.lower() in body["error"].lower(), (data, body)
    from oralhist.records import Revision

    with db.session(ws) as s:
        assert len(s.exec(select(Revision).where(Revision.kind == "consent")).all()) == 4


def test_waveform_peaks_from_the_normalised_audio_are_cached(bench):
    base, ws = bench
    admin = login(base, "admin")
    st, p = admin.call("GET", f"/api/i/{IID}/peaks?n=200")
    assert st == 200 and len(p["peaks"]) == 200 and max(p["peaks"]) == 100 and min(p["peaks"]) >= 0
    from editdata import ASR

    assert abs(p["duration_ms"] - ASR["duration_ms"]) < 1500, (p["duration_ms"], ASR["duration_ms"])
    # speech is louder than the joins between clips: the envelope is not flat
    assert sum(x > 20 for x in p["peaks"]) > 100 and min(p["peaks"]) < 50
    cache = ws.derived_dir(IID) / "peaks-200.json"
    assert cache.is_file()
    mtime = cache.stat().st_mtime_ns
    assert admin.call("GET", f"/api/i/{IID}/peaks?n=200")[1] == p
    assert cache.stat().st_mtime_ns == mtime  # served from the cache


def test_corrections_by_word_round_trip(bench, tmp_path):
    import docx

    base, ws = bench
    vol = login(base, "vol-a")
    st, data = vol.call("GET", f"/api/i/{IID}/docx")
    assert st == 200 and isinstance(data, str)  # binary: not JSON
    req = urllib.request.Request(base + f"/api/i/{IID}/docx")
    with vol.opener.open(req) as r:
        raw = r.read()
        assert r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        assert f'filename="{IID}.docx"' in r.headers["Content-Disposition"]
    doc = docx.Document(io.BytesIO(raw))
    lines = [p for p in doc.paragraphs if p.text.startswith("[")]
    assert lines
    # a person corrects the first word of the first line in Word
    run = lines[0].runs[-1]
    first = run.text.split()[0]
    run.text = run.text.replace(first, "Bonjourzz", 1)
    out = io.BytesIO()
    doc.save(out)
    st, body = upload(vol, f"/api/i/{IID}/corrections", "corrigé.docx", out.getvalue())
    assert st == 200, body
    assert body["version"] == 2 and body["message"].startswith("Version 2 enregistrée (à partir de la version 1)")
    assert "1 modifié," in body["message"], body["message"]
    from oralhist.records import Transcript

    with db.session(ws) as s:
        tr = s.exec(select(Transcript).where(Transcript.interview_id == IID, Transcript.version == 2)).one()
        assert tr.created_by == "vol-a" and tr.source == "import:corrige.docx"
    r = cli(ws, "show", IID, "--json")
    assert "Bonjourzz" in r.stdout
    # the same old document again: it was exported from v1, v2 is newer -> refused, in French
    st, body = upload(vol, f"/api/i/{IID}/corrections", "ancien.docx", raw)
    assert st == 409 and body["error"].startswith("ancien.docx : document exporté depuis la version 1, mais la version 2")
    # not a Word document, empty file, wrong type: French, the user's file name, nothing saved
    for name, data, expect in [("faux.docx", b"PK\x03\x04 pas un zip", "faux.docx : ce n’est pas un document Word"),
                               ("vide.docx", b"", "vide.docx : le fichier est vide"),
                               ("notes.pdf", b"%PDF-1.4", "notes.pdf : type de fichier non pris en charge (.pdf)")]:
        st, body = upload(vol, f"/api/i/{IID}/corrections", name, data)
        assert st == 400 and body["error"].startswith(expect), body
    with db.session(ws) as s:
        assert len(s.exec(select(Transcript).where(Transcript.interview_id == IID)).all()) == 2
    assert not any((ws.root / ".uploads").iterdir())  # staged uploads are removed


def test_vocabulary_import_counts_and_french_errors(bench):
    base, ws = bench
    admin = login(base, "admin")
    csv = "label;alt_labels;uri\nMineur de fond;galibot|haveur;\nLampiste;;\n".encode()
    st, body = upload(admin, "/api/vocab", "métiers.csv", csv, {"kind": "trade"})
    assert st == 200, body
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert body["message"] == "métiers.csv : 2 termes créés, 0 mis à jour, 0 inchangé."
    assert body["terms"]["trade"] == 2
    st, body = upload(admin, "/api/vocab", "métiers.csv", csv, {"kind": "trade"})
    assert body["message"] == "métiers.csv : 0 terme créé, 0 mis à jour, 2 inchangés."
    r = cli(ws, "vocab", "list", "--kind", "trade")
    assert "Mineur de fond" in r.stdout and "Lampiste" in r.stdout
    bad = "label\nForgeron\nforgeron\n".encode()
    st, body = upload(admin, "/api/vocab", "doublons.csv", bad, {"kind": "trade"})
    assert st == 400 and body["error"] == "doublons.csv : ligne 3 : libellé « forgeron » en double (déjà ligne 2) ; rien n’a été importé"
    st, body = upload(admin, "/api/vocab", "sans-type.csv", "label\nForgeron\n".encode())
    assert st == 400 and "pas de colonne « kind »" in body["error"]
    st, body = upload(admin, "/api/vocab", "t.csv", csv, {"kind": "planète"})
    assert st == 400 and body["error"] == "t.csv : type inconnu (métier, objet, lieu ou sujet)"
    assert admin.call("GET", "/api/vocab")[1]["terms"] == {"trade": 2}
    st, html = admin.call("GET", "/vocab")
    assert st == 200 and "<td>métiers</td>" in html


def test_publish_preview_and_truthful_status_after_approve(bench):
    base, ws = bench
    admin, editor = login(base, "admin"), login(base, "edit")
    make_interview(ws, "2023-autre", title='<img src=x onerror=alert(1)>', narrator="Paul Leroy")
    assert admin.call("POST", f"/api/i/{IID}/consent", {"scope": "public"})[0] == 200
    assert admin.call("POST", "/api/i/2023-autre/consent", {"scope": "research-only"})[0] == 200
    st, s0 = admin.call("GET", "/api/publish")
    assert st == 200 and s0["ever_published"] is False and s0["status"] == "jamais publié : 1 entretien sera mis en ligne"
    assert s0["counts"] == {"public": 1, "withheld": 1, "new": 1, "changed": 0, "removed": 0}
    other = next(e for e in s0["interviews"] if e["id"] == "2023-autre")
    assert other["public"] is False and other["reason"] == "réservé à la recherche" and other["change"] is None
    st, html = admin.call("GET", "/publish")
    assert "<img src=x" not in html and "&lt;img src=x" in html and "1 entretien visible par le public" in html
    # publish: the background job, with progress, then "à jour"
    s1 = publish_and_wait(admin)
    assert s1["status"] == "à jour" and s1["up_to_date"] and s1["last_published"] and s1["job"]["progress"] == 1.0
    assert (ws.site / "index.html").is_file()
    st, html = admin.call("GET", "/")
    row = html.split(f'href="/i/{IID}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>publié</td>" in row and "pas à jour" not in row
    # the editor approves: the list must not say "publié" while the site is unchanged
    assert editor.call("POST", f"/api/i/{IID}/approve", {})[0] == 200
    st, html = admin.call("GET", "/")
    row = html.split(f'href="/i/{IID}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>publié</td>" not in row and "<td>à publier</td>" in row
    assert "version 1 approuvée en attente de publication" in row
    st, s2 = admin.call("GET", "/api/publish")
    assert s2["status"] == "1 modification en attente" and not s2["up_to_date"]
    e = next(x for x in s2["interviews"] if x["id"] == IID)
    assert e["change"] == "changed" and "version 1 approuvée" in e["change_fr"]
    # the narrator of the other interview allows the web; this one is withdrawn: 2 changes
    admin.call("POST", "/api/i/2023-autre/consent", {"scope": "public"})
    admin.call("POST", f"/api/i/{IID}/consent", {"withdraw": True})
    st, s3 = admin.call("GET", "/api/publish")
    assert s3["status"] == "2 modifications en attente"
    assert {e["id"]: e["change"] for e in s3["interviews"]} == {IID: "removed", "2023-autre": "new"}
    s4 = publish_and_wait(admin)
    assert s4["status"] == "à jour", s4
    assert not any(IID in p.read_text(encoding="utf-8", errors="ignore") for p in ws.site.rglob("*.html"))


def _axe_clean(page):
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    assert res.violations_count == 0, res.generate_report()


def test_consent_word_vocab_and_publish_pages_in_chromium_with_axe(browser, bench, tmp_path):
    """An admin uses the pages with the keyboard only; axe-core finds nothing on any of them."""
    base, ws = bench
    ctx = browser.new_context(locale="fr-FR", bypass_csp=True)  # Playwright's wait_for_function evaluates strings
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    page.goto(base + "/login")
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", PW)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("table.list")
    # consent: reached from the interview's tabs
    page.goto(f"{base}/i/{IID}")
    page.click("nav[aria-label=Entretien] >> text=Consentement")
    page.wait_for_function("document.getElementById('effect').textContent.length > 0")
    assert "n’est pas sur le site public" in page.inner_text("#effect")
    page.wait_for_function("document.getElementById('wave').dataset.ready === '1'")  # peaks drawn
    _axe_clean(page)
    # keyboard only: choose "publique", save
    page.focus("input[name=scope][value=public]")
    page.keyboard.press("Space")
    page.focus("#consent-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').textContent.includes('Consentement enregistré')")
    assert "sera mis en ligne à la prochaine publication" in page.inner_text("#effect")
    # a redaction set from the playhead: play to ~2 s, "Début = tête de lecture", then type the end
    page.evaluate("document.getElementById('audio').currentTime = 2.0")
    page.wait_for_function("document.getElementById('audio').currentTime >= 1.9")
    page.focus("#set-start")
    page.keyboard.press("Enter")
    assert page.input_value("#r-start").startswith("00:00:02")
    page.fill("#r-end", "00:00:04")
    page.fill("input[name=reason]", "<b>santé d’un tiers</b>")
    page.focus("#redact-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#redactions tbody tr")
    assert page.inner_text("#redactions tbody tr td:nth-child(3)") == "<b>santé d’un tiers</b>"  # shown as text
    # issue 21: prose times read « 2 s », editing fields keep 00:00:02
    assert page.inner_text("#redactions tbody tr td:nth-child(1)").replace("\u00a0", " ") == "2 s"
    assert page.inner_text("#redactions-caption") == "1 passage retiré"
    _axe_clean(page)
    page.focus("button.unredact")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('redactions-caption').textContent === 'Aucun passage retiré'")
    # Word page
    page.click("nav[aria-label=Entretien] >> text=Word")
    page.wait_for_selector("#corrections-form")
    _axe_clean(page)
    bad = tmp_path / "pas-word.docx"
    bad.write_bytes(b"bonjour")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#corrections-form button[type=submit]")
    page.wait_for_selector("#result.error")
    assert page.inner_text("#result").startswith("pas-word.docx : ce n’est pas un document Word")
    _axe_clean(page)
    # vocabulary page
    page.click("nav[aria-label=Archive] >> text=Vocabulaires")
    page.wait_for_selector("#vocab-form")
    _axe_clean(page)
    csv = tmp_path / "lieux.csv"
    csv.write_text("label\nLewarde\nDouai\n", encoding="utf-8")
    page.set_input_files("#vocab-form input[name=file]", str(csv))
    page.select_option("#vocab-form select[name=kind]", "place")
    page.click("#vocab-form button[type=submit]")
    page.wait_for_selector("#result.ok")
    assert page.inner_text("#result") == "lieux.csv : 2 termes créés, 0 mis à jour, 0 inchangé."
    assert page.inner_text("#vocab-counts tr[data-kind=place] .n") == "2"
    # publish: preview, status, the button runs the job with progress, then "à jour"
    page.click("nav[aria-label=Archive] >> text=Publier")
    page.wait_for_selector("#preview")
    assert page.inner_text("#site-status") == "jamais publié : 1 entretien sera mis en ligne"
    _axe_clean(page)
    page.focus("#publish-now")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('site-status').textContent === 'à jour'", timeout=120_000)
    assert "dernière publication le" in page.inner_text(".site-status")
    _axe_clean(page)
    assert (ws.site / "index.html").is_file()
    assert not errors, errors  # no script error on any page
    # the only refused request is the bad Word file (favicon aside)
    assert [(st, u.replace(base, "")) for st, u in failed if not u.endswith("/favicon.ico")] == \
        [(400, f"/api/i/{IID}/corrections")], failed
    ctx.close()


def test_cli_consent_withdraw_and_unredact(ws):
    """The CLI twin of the page's withdrawal and « Rétablir » (one library function)."""
    make_interview(ws, IID)
    r = cli(ws, "consent", IID, "--scope", "public", "--redact", "0:02-0:04", "--reason", "tiers")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "redacted #" in x)
    rid = line.split("#", 1)[1].split()[0]
    assert cli(ws, "consent", IID, "--unredact", "999").returncode == 2  # unknown: refused, nothing written
    r = cli(ws, "consent", IID, "--unredact", rid, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["redactions"] == []
    assert cli(ws, "consent", IID, "--withdraw", "--scope", "public").returncode == 2
    r = cli(ws, "consent", IID, "--withdraw", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["scope"] == "none"
    from oralhist.records import Revision

    with db.session(ws) as s:
        notes = [x.note for x in s.exec(select(Revision).where(Revision.kind == "consent").order_by(Revision.id)).all()]
    assert notes == [None, f"redactions removed: #{rid}", "consent withdrawn"]
