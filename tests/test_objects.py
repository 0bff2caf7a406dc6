"""Object vocabulary import with pictures and inventory fields (issue 14)."""

from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from oralhist import db
from oralhist.errors import BadInput
from oralhist.outputs.objects import derivative, import_objects, missing_alt
from oralhist.records import ObjectRecord, Term


def _img(path: Path, colour=(120, 80, 40)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (900, 600), colour).save(path, "JPEG")
    return path


def _csv(folder: Path, rows: str) -> Path:
    p = folder / "objets.csv"
    p.write_text("numero_inventaire;designation;musee;Photo;alt;materiaux;droits\n" + rows, encoding="utf-8")
    return p


def test_import_with_image_column_and_folder(ws, tmp_path):
    _img(tmp_path / "photos" / "lampe.jpg")
    _img(tmp_path / "dossier" / "INV-2.jpg", (10, 10, 200))
    p = _csv(tmp_path, "INV-1;Lampe de mineur;Lewarde;photos/lampe.jpg;Une lampe en laiton;laiton;CC BY\n"
                       "INV-2;Pic;Lewarde;;;acier;\n")
    rep = import_objects(ws, p, images_dir=tmp_path / "dossier")
    assert rep.images == 2 and rep.without_alt == ["INV-2"]
    with db.session(ws) as s:
        t = s.exec(select(Term).where(Term.inventory_number == "INV-1")).first()
        rec = s.get(ObjectRecord, t.id)
        assert rec.alt == "Une lampe en laiton" and rec.materials == "laiton" and rec.rights == "CC BY"
        assert derivative(ws, rec, "page", "jpg").is_file()
        assert missing_alt(s, ["INV-1", "INV-2"]) == ["INV-2"]


@pytest.mark.parametrize("image,msg", [("../dehors.jpg", "outside the import folder"),
                                       ("photos/texte.jpg", "not an image"),
                                       ("photos/cut.jpg", "cut.jpg: damaged image")])
def test_bad_picture_imports_nothing(ws, tmp_path, image, msg):
    _img(tmp_path / "dehors.jpg")
    folder = tmp_path / "import"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "texte.jpg").write_text("pas une image")
    whole = _img(folder / "photos" / "whole.jpg").read_bytes()
    (folder / "photos" / "cut.jpg").write_bytes(whole[: len(whole) // 2])  # truncated JPEG
    p = _csv(folder, f"INV-1;Lampe;Lewarde;{image};Une lampe;;\n")
    with pytest.raises(BadInput, match=msg):
        import_objects(ws, p)
    with db.session(ws) as s:
        assert s.exec(select(Term)).all() == [] and s.exec(select(ObjectRecord)).all() == []
    assert not (ws.root / "objects").exists()


def test_object_without_alt_left_out_at_publish(ws, tmp_path, corpus, cli):
    from publish_helpers import make_interview

    from oralhist.outputs.exhibit import import_exhibition
    from oralhist.outputs.publish import publish_site

    make_interview(ws, "iv-a", corpus=corpus)
    _img(tmp_path / "photos" / "pic.jpg")
    import_objects(ws, _csv(tmp_path, "INV-9;Pic;Lewarde;photos/pic.jpg;;;\n"))
    (tmp_path / "e.md").write_text("---\ntitle: T\nslug: t\n---\n## S\n[[object INV-9]]\n", encoding="utf-8")
    import_exhibition(ws, tmp_path / "e.md")
    rep = publish_site(ws)
    assert any("INV-9 sans texte alternatif" in n for n in rep.details["exhibitions"])
    html = (ws.site / "expositions" / "t" / "index.html").read_text()
    assert "<img" not in html and not (ws.site / "expositions" / "media").exists()
    assert rep.details["objects"] == ["objet INV-9 sans texte alternatif, non publié"]
    assert not (ws.site / "objets").exists()
    r = cli("publish", "--local")
    assert r.exit_code == 0 and "attention : objet INV-9 sans texte alternatif, non publié" in r.output
