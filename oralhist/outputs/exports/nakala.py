"""A folder ready for a bulk deposit in Nakala (Huma-Num): one folder per public interview, one CSV row each.

Nakala describes each deposited "donnée" with five mandatory fields (Huma-Num's guide,
« Guide pour décrire des données dans NAKALA »: titre, auteur, date, type, licence), written
``nakala:title``, ``nakala:creator``, ``nakala:created``, ``nakala:type`` (a COAR resource
type URI: sound is ``http://purl.org/coar/resource_type/c_18cc``) and ``nakala:license`` (a
licence code of Nakala's list: ``CC-BY-4.0``, ``etalab-2.0``...), then any Dublin Core term
(``dcterms:*``). Several values of one column are separated by ``;``.

Only what is public goes there (Nakala publishes): the interviews ``consent.public_view``
gives, their audio as the site published it (redactions silenced: publish first), their
transcript as text and WebVTT.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Optional

from oralhist.errors import BadInput

COAR_SOUND = "http://purl.org/coar/resource_type/c_18cc"
REQUIRED = ("nakala:title", "nakala:creator", "nakala:created", "nakala:type", "nakala:license")
COLUMNS = ("file", "status") + REQUIRED + (
    "dcterms:description", "dcterms:subject", "dcterms:spatial", "dcterms:language", "dcterms:contributor",
    "dcterms:publisher", "dcterms:isPartOf", "dcterms:rights", "dcterms:accessRights", "dcterms:extent",
    "dcterms:identifier", "dcterms:source")


def nakala_license(uri: str) -> Optional[str]:
    """The code Nakala's licence list uses for a licence URI (SPDX identifiers; Etalab's Licence
    Ouverte is ``etalab-2.0``); None when it has none (rightsstatements.org, an unknown URI)."""
    u = (uri or "").strip().lower()
    m = re.search(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", u)
    if m:
        return f"CC-{m.group(1).upper()}-{m.group(2)}"
    if re.search(r"creativecommons\.org/publicdomain/zero/1\.0", u):
        return "CC0-1.0"
    if "etalab" in u or "licence-ouverte" in u:
        return "etalab-2.0"
    return None


def creator(name: Optional[str]) -> str:
    """``Surname, Given names`` as Nakala's authors are written; "Anonyme" without a name."""
    parts = (name or "").split()
    if not parts:
        return "Anonyme"
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else parts[0]


def _row(pv, files: list[str], rights: str, license: str, page: str, museum_title: str) -> dict:
    subjects = list(dict.fromkeys(ln.term_label for ln in pv.links if ln.kind != "place"))
    places = list(dict.fromkeys([ln.term_label for ln in pv.links if ln.kind == "place"] + ([pv.place] if pv.place else [])))
    s = max(0, pv.duration_ms) // 1000
    return {
        "file": ";".join(files), "status": "pending",
        "nakala:title": pv.title or pv.id, "nakala:creator": creator(pv.narrator),
        "nakala:created": pv.date if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", pv.date or "") else "Inconnue",
        "nakala:type": COAR_SOUND, "nakala:license": nakala_license(license) or license,
        "dcterms:description": pv.summary or "", "dcterms:subject": ";".join(subjects),
        "dcterms:spatial": ";".join(places), "dcterms:language": pv.language or "",
        "dcterms:contributor": pv.interviewer or "", "dcterms:publisher": museum_title,
        "dcterms:isPartOf": pv.museum or "", "dcterms:rights": rights, "dcterms:accessRights": "public",
        "dcterms:extent": f"PT{s // 3600}H{s // 60 % 60}M{s % 60}S", "dcterms:identifier": page,
        "dcterms:source": "oralhist",
    }


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        w.writerows(rows)


# Over 80 lines on purpose: one pass over the public interviews, each folder written beside the others
# in a temporary folder renamed at the end.
def export_nakala(ws, out: Path, *, site: Optional[Path] = None, today: Optional[date] = None) -> dict:
    """Write ``out/<public id>/`` (audio, transcript.txt, transcript.vtt, metadata.csv) for every
    public interview and ``out/nakala.csv`` (one row each). Returns what was written and what
    was left out (not published yet, licence outside Nakala's list)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.editorial.consent import load_for_public, public_view
    from oralhist.editorial.rights import effective, site_rights
    from oralhist.outputs.exports import text as text_export
    from oralhist.outputs.exports import vtt as vtt_export
    from oralhist.outputs.exports.addresses import interview_addresses, link_threshold, published_links
    from oralhist.records import Consent, Interview

    out = Path(out)
    site = Path(site) if site is not None else ws.site
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(out, "already exists and is not an empty folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.nakala-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    report: dict = {"folder": str(out), "written": [], "not_published": [], "licence_outside_nakala": []}
    rows = []
    try:
        archive_rights = site_rights(ws)
        threshold = link_threshold(ws)
        with db.session(ws) as s:
            for iv in s.exec(select(Interview).order_by(Interview.id)).all():
                full = load_for_public(s, iv.id)
                pv = public_view(full, today=today)
                if pv is None:
                    continue
                from dataclasses import replace

                pv = replace(pv, links=published_links(pv.links, threshold))
                where = interview_addresses(ws, s, full, pv.id)
                audio = site / where.audio_path if where.audio_path else None
                if audio is None or not audio.is_file():
                    report["not_published"].append(pv.id)
                    continue
                consent = s.exec(select(Consent).where(Consent.interview_id == iv.id)).first()
                rights, license = effective(*archive_rights, consent)
                folder = tmp / pv.id
                folder.mkdir()
                shutil.copyfile(audio, folder / audio.name)
                text_export.write(pv, folder / "transcript.txt")
                vtt_export.write(pv, folder / "transcript.vtt")
                files = [audio.name, "transcript.txt", "transcript.vtt"]
                row = _row(pv, files, rights, license, where.page, ws.settings.title)
                if not nakala_license(license):
                    report["licence_outside_nakala"].append(pv.id)
                _write_csv(folder / "metadata.csv", [row])
                rows.append({**row, "file": ";".join(f"{pv.id}/{f}" for f in files)})
                report["written"].append(pv.id)
        _write_csv(tmp / "nakala.csv", rows)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report
