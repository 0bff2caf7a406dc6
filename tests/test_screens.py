"""Issue 21, items 3 and 5 (library side): the truth on « Publier » (exhibitions, objects,
vocabularies and settings are pending changes; the last successful publish; the base_url
warning), editors' topic titles kept through a redaction, object pictures and the signed
consent form stored with the checks of the CLI. Real SQLite archive, real Pillow pictures,
the real publisher."""

from __future__ import annotations

import io

import pytest

from oralhist import db
from oralhist.errors import BadInput

IID = "2022-lecteurs-fleurs"


def _jpeg(w=64, h=48, color=(120, 80, 40)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _object(ws, label="Lanterne de mineur", inv="2001.3.1"):
    from oralhist.records import Term, TermKind

    with db.session(ws) as s:
        t = Term(kind=TermKind.object, label=label, inventory_number=inv, designation=label)
        s.add(t)
        s.commit()
        return t.id


def test_publish_status_counts_exhibitions_objects_and_the_last_publish(ws, tmp_path):
    from oralhist.outputs.exhibit import Exhibition, Section, save_exhibition
    from oralhist.outputs.objects import set_alt, set_picture
    from oralhist.outputs.publish.build import publish_site
    from oralhist.outputs.publish.status import site_status

    tid = _object(ws)
    st = site_status(ws)
    assert not st.ever_published and not st.up_to_date
    # the archive has no base_url: a warning that says how to fix it
    assert any("base_url" in w and "[site]" in w for w in st.warnings)
    publish_site(ws)
    st1 = site_status(ws)
    assert st1.up_to_date and st1.summary_fr() == "à jour" and st1.others == [] and st1.last_published
    # a new exhibition, never published: pending (was « à jour »)
    exh = Exhibition(slug="le-train", title="Le train", sections=(Section(title="Départ", narrative_md="Texte."),))
    save_exhibition(ws, exh)
    st2 = site_status(ws)
    assert not st2.up_to_date and st2.summary_fr() == "1 modification en attente"
    assert [(o["kind"], o["change"], o["name"]) for o in st2.others] == [("exhibitions", "new", "Le train")]
    # a publish that writes only the exhibition: « dernière publication » moves, then « à jour »
    publish_site(ws)
    st3 = site_status(ws)
    assert st3.up_to_date and st3.last_published > st1.last_published
    # the exhibition's title changes: pending
    from dataclasses import replace

    save_exhibition(ws, replace(exh, title="Le train de nuit"))
    assert [(o["change"], o["name"]) for o in site_status(ws).others] == [("changed", "Le train de nuit")]
    publish_site(ws)
    assert site_status(ws).up_to_date
    # an object's picture with its alt text, then the alt text alone: each is pending until published
    src = tmp_path / "lanterne.jpg"
    src.write_bytes(_jpeg())
    set_picture(ws, tid, src, "Lanterne en laiton posée sur un établi")
    st4 = site_status(ws)
    assert [(o["kind"], o["change"]) for o in st4.others] == [("objects", "changed")], st4.others
    assert "Lanterne de mineur" in st4.others[0]["change_fr"]
    publish_site(ws)
    assert site_status(ws).up_to_date
    set_alt(ws, tid, "Lanterne en laiton, vue de face")
    assert [(o["kind"], o["change"]) for o in site_status(ws).others] == [("objects", "changed")]
    publish_site(ws)
    assert site_status(ws).up_to_date
    # a vocabulary term: pending too
    from oralhist.records import Term, TermKind

    with db.session(ws) as s:
        s.add(Term(kind=TermKind.trade, label="Cheminot"))
        s.commit()
    assert [o["kind"] for o in site_status(ws).others] == ["vocabularies"]


def test_object_picture_checks_and_nothing_stored_when_refused(ws, tmp_path):
    from PIL import Image

    from oralhist.outputs.objects import remove_picture, set_picture
    from oralhist.records import ObjectRecord
    from oralhist.web.errors_fr import message

    tid = _object(ws)
    root = ws.root / "objects"
    bad = {}
    bad["notes.jpg"] = b"ceci n'est pas une image\n" * 20
    full = _jpeg(800, 600)
    bad["coupee.jpg"] = full[: len(full) // 2]
    big = tmp_path / "big.jpg"  # 60 megapixels (8000 × 7500), in grey: quick to write
    Image.new("L", (8000, 7500), 128).save(big, "JPEG", quality=50)
    bad["grande.jpg"] = big.read_bytes()
    expected = {"notes.jpg": "ce n’est pas une image lisible", "coupee.jpg": "image endommagée ou incomplète",
                "grande.jpg": "image trop grande (8000 × 7500 pixels"}
    for name, data in bad.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(BadInput) as e:
            set_picture(ws, tid, p, "Une lanterne")
        assert message(e.value, name).startswith(f"{name} : {expected[name]}"), message(e.value, name)
        assert not root.exists() or not any(q.is_file() for q in root.rglob("*")), name
        with db.session(ws) as s:
            assert s.get(ObjectRecord, tid) is None
    good = tmp_path / "lanterne.jpg"
    good.write_bytes(_jpeg())
    with pytest.raises(BadInput, match="texte alternatif"):
        set_picture(ws, tid, good, "   ")
    assert not root.exists()
    first = set_picture(ws, tid, good, "Une lanterne")
    assert first["image"] and first["alt"] == "Une lanterne"
    other = tmp_path / "autre.png"
    from PIL import Image as I

    I.new("RGB", (40, 30), (10, 200, 10)).save(other, "PNG")
    set_picture(ws, tid, other, "La même lanterne, de profil")
    with db.session(ws) as s:
        rec = s.get(ObjectRecord, tid)
        assert rec.image_path.endswith(".png") and rec.alt == "La même lanterne, de profil"
    assert len(list((root / "originals").iterdir())) == 2  # the replaced original stays
    remove_picture(ws, tid)
    with db.session(ws) as s:
        assert s.get(ObjectRecord, tid).image_path is None


def test_signed_consent_form_attached_then_replaced_keeps_the_old_one(ws, tmp_path):
    from editdata import make_interview
    from oralhist.editorial.consent import attach_form, form_versions
    from oralhist.editorial.review import describe_revision
    from oralhist.records import Revision
    from oralhist.web.errors_fr import message

    make_interview(ws, IID)
    txt = tmp_path / "form.pdf"
    txt.write_bytes(b"hello, not a pdf")
    with pytest.raises(BadInput) as e:
        attach_form(ws, IID, txt, "form.pdf", who="admin")
    assert message(e.value, "form.pdf") == "form.pdf : ce n’est ni un document PDF ni une photographie : envoyez le scan du formulaire signé ; rien n’a été enregistré"
    assert not ws.consent_forms.exists() or not any(ws.consent_forms.iterdir())
    pdf = tmp_path / "consentement.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    attach_form(ws, IID, pdf, "consentement.pdf", who="admin")
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(_jpeg())
    attach_form(ws, IID, scan, "scan.jpg", who="admin")
    files = sorted(p.name for p in ws.consent_forms.iterdir())
    assert len(files) == 2 and any(f.endswith(".pdf") for f in files)
    with db.session(ws) as s:
        forms = form_versions(s, IID)
        revs = s.exec(__import__("sqlmodel").select(Revision).where(Revision.kind == "consent_form")).all()
        texts = [describe_revision(r) for r in revs]
    assert [f["name"] for f in forms] == ["scan.jpg", "consentement.pdf"] and forms[0]["current"]
    assert forms[0]["who"] == "admin" and forms[0]["at"]
    assert texts == ["formulaire de consentement signé joint",
                     "formulaire de consentement signé remplacé (l’ancien reste dans l’archive)"]


def test_editor_topic_title_survives_a_redaction_that_overlaps_it():
    from oralhist.editorial.consent import public_view, redaction_title_clashes
    from oralhist.editorial.view import ConsentView, InterviewView, SegmentView, TopicView, WordView

    def seg(a, words):
        ws_, t = [], a
        for w in words.split():
            ws_.append(WordView(t, t + 400, w))
            t += 500
        return SegmentView(a, t, words, "SPEAKER_1", "Marcel", tuple(ws_))

    segs = (seg(0, "on partait le soir avec la gamelle"), seg(10_000, "les couchettes étaient dures on se serrait"),
            seg(19_860, "Roubaix Tourcoing puis Lille"))
    topics = (TopicView(0, 9_000, "Le départ", source="editor"),
              TopicView(10_000, 20_000, "Dormir dans le train", source="editor"),
              TopicView(20_000, 22_000, "Roubaix", source="editor"))
    v = InterviewView(id=IID, title="Marcel", narrator="Marcel Dupont", interviewer=None, date="1998", place=None,
                      language="fr", museum=None, status="indexed", duration_ms=22_000,
                      consent=ConsentView("public", redactions=((19_860, 21_000, "nom d’un tiers"),)),
                      segments=segs, topics=topics)
    pv = public_view(v)
    titles = {t.title: (t.start_ms, t.end_ms) for t in pv.topics}
    # overlapped by 0.14 s: the editor's title stays, and the range is what is not redacted
    assert titles["Dormir dans le train"] == (10_000, 19_860)
    # a title that repeats a word the redaction removed is withheld, and the index page says so
    assert "Roubaix" not in titles
    assert [(t.title, words) for t, words in redaction_title_clashes(v)] == [("Roubaix", ["Roubaix"])]


def test_an_untitled_interview_is_named_after_its_narrator_in_public():
    from oralhist.editorial.consent import public_view
    from oralhist.editorial.view import ConsentView, InterviewView

    v = InterviewView(id="1998-marcel-dupont", title="", narrator="Marcel Dupont", interviewer=None, date="1998",
                      place=None, language="fr", museum=None, status="indexed", duration_ms=1000,
                      consent=ConsentView("public"))
    assert public_view(v).title == "Entretien avec Marcel Dupont"
    anon = public_view(InterviewView(**{**v.__dict__, "consent": ConsentView("public", anonymise=True)}))
    assert anon.title == "Entretien avec M. D." and "Dupont" not in anon.title


def test_word_file_metadata_are_french_and_name_the_archive(tmp_path):
    import docx

    from oralhist.editorial.corrections import EXPORTED_VERSION
    from oralhist.outputs.exports.docx import write
    from oralhist.editorial.view import InterviewView, SegmentView

    v = InterviewView(id=IID, title="Lecteurs", narrator="Lectrice", interviewer=None, date="2022", place=None,
                      language="fr", museum=None, status="indexed", duration_ms=2000, transcript_version=2,
                      transcript_status="approved", segments=(SegmentView(0, 2000, "Bonjour.", "SPEAKER_1", "Lectrice"),))
    out = write(v, tmp_path / "a.docx", archive="Mémoires du textile")
    d = docx.Document(str(out))
    cp = d.core_properties
    assert cp.language == "fr-FR" and cp.author == "Mémoires du textile" and cp.last_modified_by == "Mémoires du textile"
    assert "python-docx" not in f"{cp.author} {cp.comments} {cp.last_modified_by} {cp.keywords}"
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Transcription : version 2 (approuvée)" in text and "approved" not in text and "oralhist" not in text
    assert d.styles.element.xpath("//w:rPrDefault//w:lang/@w:val") == ["fr-FR"]
    m = next(EXPORTED_VERSION.match(p.text) for p in d.paragraphs if EXPORTED_VERSION.match(p.text))
    assert m.group(1) == "2"  # the import still reads which version the file came from


def test_a_recording_with_no_speech_says_so_in_the_list_and_the_api(ws):
    from editdata import make_interview
    from oralhist.editorial.view import speechless
    from oralhist.records import Interview, Person, Transcript, TranscriptStatus
    from oralhist.web.server import start_workbench_in_thread
    from test_workbench import Client, accounts

    make_interview(ws, IID)
    with db.session(ws) as s:
        p = Person(name="Paul Leroy")
        s.add(p)
        s.flush()
        s.add(Interview(id="2023-silence", title="Silence", narrator_id=p.id, status="transcribed", duration_ms=60_000))
        s.flush()
        s.add(Transcript(interview_id="2023-silence", version=1, status=TranscriptStatus.machine, source="machine",
                         model="base", language="fr", duration_ms=60_000))
        s.commit()
        assert speechless(s) == {"2023-silence"}
    accounts(ws)
    server, cfg, url, runner = start_workbench_in_thread(ws)
    try:
        c = Client(url.rstrip("/"))
        assert c.login("admin")[0] == 200
        st, html = c.call("GET", "/")
        row = html.split('href="/i/2023-silence"', 1)[1].split("</tr>", 1)[0]
        assert "aucune parole détectée" in row
        assert "aucune parole détectée" not in html.split(f'href="/i/{IID}"', 1)[1].split("</tr>", 1)[0]
        assert c.call("GET", "/api/interviews/2023-silence")[1]["no_speech"] is True
        assert c.call("GET", f"/api/interviews/{IID}")[1]["no_speech"] is False
    finally:
        server.should_exit = True
        server._thread.join(5)
        if runner is not None:
            runner.stop()
