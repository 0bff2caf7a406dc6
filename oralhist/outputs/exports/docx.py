"""Word export for editors who correct in Word: one paragraph per segment,
``[hh:mm:ss] Speaker: text`` (timestamp and speaker in bold), after a short header.

``oralhist import-corrections ID FILE.docx`` reads the same layout back and re-aligns it
to the recognised words, so the timestamps written here need not be kept exact.
"""

from __future__ import annotations

import re
from pathlib import Path

from oralhist.outputs.exports import atomic_write

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text) -> str:
    """Text safe inside a .docx (XML 1.0 forbids most control characters)."""
    return _NOT_XML.sub("", str(text))


def hms(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def set_properties(document, *, title: str, identifier: str = "", creator: str = "", language: str = "fr-FR") -> None:
    """The document's core properties (issue 25 item 9): title, identifier, language ``fr-FR``,
    creator and last editor the archive; never python-docx's defaults (author « python-docx »,
    its template's description and dates). The one place DOCX metadata is set."""
    from datetime import datetime, timezone

    cp = document.core_properties
    cp.title = _x(title)
    cp.identifier = _x(identifier)
    cp.language = language
    cp.author = _x(creator)
    cp.last_modified_by = _x(creator)
    cp.comments = ""
    cp.subject = ""
    cp.keywords = ""
    cp.category = ""
    cp.revision = 1
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    cp.created = now
    cp.modified = now
    _french_spelling(document, language)


def _french_spelling(document, language: str) -> None:
    """The text's default language (Word's spelling checker), not only the file's property."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = document.styles.element.find(qn("w:docDefaults"))
    rpr = rpr.find(qn("w:rPrDefault")).find(qn("w:rPr")) if rpr is not None else None
    if rpr is not None:
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), language)


#: the transcript's review status as the Word file says it (issue 21: never « approved »)
STATUS_FR = {"machine": "automatique, à relire", "corrected": "corrigée", "approved": "approuvée"}


def write(view, out: Path, *, archive: str = "") -> Path:
    import docx
    from docx.shared import Pt

    out = Path(out)
    document = docx.Document()
    set_properties(document, title=view.title or view.id, identifier=view.id, creator=archive or view.museum or "")
    document.add_heading(_x(view.title or view.id), level=1)
    meta = [("Identifiant", view.id), ("Narrateur", view.narrator), ("Enquêteur", view.interviewer),
            ("Date", view.date), ("Lieu", view.place), ("Musée", view.museum)]
    status = STATUS_FR.get(str(view.transcript_status or ""), "")
    version = (f"version {view.transcript_version}" + (f" ({status})" if status else "")) \
        if view.transcript_version else "aucune"
    meta.append(("Transcription", version))
    for k, v in meta:
        if v:
            p = document.add_paragraph()
            p.add_run(f"{k} : ").bold = True
            p.add_run(_x(v))
    note = document.add_paragraph(
        "Corrigez le texte librement ; gardez si possible « [hh:mm:ss] Locuteur: » au début de chaque "
        "paragraphe. Pour réimporter ce fichier : onglet « Word » de l’entretien dans l’atelier de l’archive."
    )
    note.runs[0].italic = True
    note.runs[0].font.size = Pt(8)
    for sg in view.segments:
        p = document.add_paragraph()
        head = f"[{hms(sg.start_ms)}] "
        who = sg.speaker_name or sg.speaker
        p.add_run(head + (f"{_x(who)}: " if who else "")).bold = True
        p.add_run(_x(sg.text))
    with atomic_write(out, "wb") as fh:
        document.save(fh)
    return out
