"""Guards at the text entries: control characters, XML entity bombs, .docx bombs (issue 19).

- ``clean_text`` / ``clean_line``: C0 control characters (and DEL, lone surrogates) are removed
  from text people give (editor saves, corrections, ingest metadata, vocabularies, exhibitions);
  tab and newline stay where a text may hold them. A NUL saved in a transcript used to break every
  later publish of the archive.
- ``check_xml``: a DTD may declare a few plain internal entities (RDF/XML from Protégé does:
  ``<!ENTITY skos "http://…">``), but no entity that refers to another (nested expansion: the
  « billion laughs »), no parameter or external entity, none longer than ``MAX_ENTITY_CHARS``; and
  the expanded text may not exceed ``MAX_XML_EXPANSION`` times the file. Checked with the standard
  library's expat before rdflib parses the file (expat stops at the declarations, in milliseconds).
- ``check_docx``: a .docx is a zip; before python-docx parses it, the uncompressed size, the
  compression ratio of each part, and then the paragraphs and characters read are bounded.
"""

from __future__ import annotations

import re
from pathlib import Path

from oralhist.errors import BadInput

_CONTROL_KEEP_NEWLINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_CONTROL_ALL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_CONTROL_NO_TAB = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without control characters; tab and newline (``\\n``; ``\\r\\n`` becomes ``\\n``) kept."""
    if not isinstance(text, str):
        return text
    return _CONTROL_KEEP_NEWLINES.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(text: str) -> str:
    """One line (a name, a title, a place): control characters removed, a newline or tab becomes a space."""
    if not isinstance(text, str):
        return text
    return _CONTROL_NO_TAB.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)


def has_control(text: str, *, newlines: bool = True) -> bool:
    return bool((_CONTROL_KEEP_NEWLINES if newlines else _CONTROL_ALL).search(text))


# ------------------------------------------------------------------------------------- XML

MAX_ENTITIES = 200
MAX_ENTITY_CHARS = 1_000
MAX_XML_EXPANSION = 10  # the expanded text may be at most 10 times the file (plus 1 MB)


class _Refuse(Exception):
    pass


def check_xml(data: bytes, path) -> None:
    """Refuse an XML document whose DTD could make a parser expand text without bound (see above).
    ``BadInput`` naming the file; a document without a DTD passes at once."""
    import xml.parsers.expat

    if b"<!DOCTYPE" not in data and b"<!doctype" not in data:
        return
    p = xml.parsers.expat.ParserCreate()
    budget = [len(data) * MAX_XML_EXPANSION + 1_000_000]
    count = [0]

    def entity(name, is_param, value, base, system_id, public_id, notation):
        count[0] += 1
        if is_param:
            raise _Refuse("declares a parameter entity")
        if value is None:
            raise _Refuse(f"declares an external entity ({name})")
        if "&" in value or "%" in value:
            raise _Refuse(f"declares an entity that refers to other entities ({name}): nested expansion")
        if len(value) > MAX_ENTITY_CHARS:
            raise _Refuse(f"declares an entity of {len(value)} characters ({name})")
        if count[0] > MAX_ENTITIES:
            raise _Refuse(f"declares more than {MAX_ENTITIES} entities")

    def spend(n):
        budget[0] -= n
        if budget[0] < 0:
            raise _Refuse("its entities expand to far more text than the file holds")

    p.EntityDeclHandler = entity
    p.CharacterDataHandler = lambda t: spend(len(t))
    p.StartElementHandler = lambda name, attrs: spend(sum(len(k) + len(v) for k, v in attrs.items()))
    p.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        p.Parse(data, True)
    except _Refuse as exc:
        raise BadInput(path, f"unsafe XML: the file {exc}; nothing imported") from None
    except xml.parsers.expat.ExpatError:
        return  # not well-formed: the real parser says where


# ------------------------------------------------------------------------------------ .docx

MAX_DOCX_BYTES = 32_000_000      # uncompressed, all parts: a 20-hour transcript is ~5 MB
MAX_DOCX_RATIO = 100             # Word's XML compresses ~5-20 times; a bomb 600 times
MAX_DOCX_PARAGRAPHS = 100_000    # a 20-hour transcript has ~10,000 turns
MAX_DOCX_CHARS = 4_000_000       # ~600,000 words, 3 times the editor's bound


def check_docx(path: Path) -> None:
    """Refuse a .docx whose parts would inflate beyond the bounds, before anything parses it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInput(path, f"not a Word .docx document ({type(exc).__name__})") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_DOCX_BYTES:
        raise BadInput(path, f"document too large once uncompressed ({total // 1_000_000} MB, at most "
                             f"{MAX_DOCX_BYTES // 1_000_000} MB); nothing imported")
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size > MAX_DOCX_RATIO * max(i.compress_size, 1):
            raise BadInput(path, f"document compressed {i.file_size // max(i.compress_size, 1)} times (at most "
                                 f"{MAX_DOCX_RATIO}): not an ordinary Word document; nothing imported")


def docx_paragraphs(document, path) -> list[str]:
    """The text of the body's paragraphs as python-docx's ``Paragraph.text`` gives it (runs and
    hyperlinks' runs; tab, break, no-break hyphen), at most MAX_DOCX_PARAGRAPHS and MAX_DOCX_CHARS.
    Read from the elements directly: ``Paragraph.text`` runs an XPath query per run (15 s for
    100,000 paragraphs)."""
    from docx.oxml.ns import qn

    w_r, w_link = qn("w:r"), qn("w:hyperlink")
    inner = {qn(t) for t in ("w:br", "w:cr", "w:noBreakHyphen", "w:ptab", "w:t", "w:tab")}
    out: list[str] = []
    chars = 0
    for el in document.element.body.iterchildren(qn("w:p")):
        if len(out) >= MAX_DOCX_PARAGRAPHS:
            raise BadInput(path, f"more than {MAX_DOCX_PARAGRAPHS} paragraphs; nothing imported")
        parts = []
        for child in el:
            runs = (child,) if child.tag == w_r else child.iterchildren(w_r) if child.tag == w_link else ()
            for run in runs:
                parts.extend(str(e) for e in run if e.tag in inner)
        text = "".join(parts)
        chars += len(text)
        if chars > MAX_DOCX_CHARS:
            raise BadInput(path, f"more than {MAX_DOCX_CHARS} characters of text; nothing imported")
        out.append(text)
    return out
