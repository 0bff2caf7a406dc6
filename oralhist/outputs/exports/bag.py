"""BagIt bags (RFC 8493) for preservation exchange, one per interview, made with the Library
of Congress ``bagit`` library: originals, every transcript version, index and links (JSON),
Dublin Core and OHMS, the consent form only on request; SHA-256 and SHA-512 manifests.

These are staff exports: not consent-filtered (departmental archives receive the full record).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from oralhist.errors import BadInput


def archivematica_csv(dc_el) -> str:
    """``metadata/metadata.csv`` as Archivematica reads it: a ``filename`` column (``objects``:
    the whole transfer) and one ``dc.<element>`` column per value (a repeated column name
    for repeated values, as Archivematica allows)."""
    import csv
    import io

    from oralhist.outputs.exports.dublincore import DC

    pairs = [(f"dc.{el.tag.replace('{' + DC + '}', '')}", el.text or "") for el in dc_el]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["filename"] + [k for k, _ in pairs])
    w.writerow(["objects"] + [v for _, v in pairs])
    return buf.getvalue()


def export_bag(ws, interview_id: str, out_dir: Path, *, include_consent: bool = False) -> Path:
    """Write ``out_dir/<id>/`` as a valid bag; built in a temporary folder, renamed at the end."""
    import bagit
    from sqlmodel import select

    from oralhist import db
    from oralhist.outputs.exports import dublincore
    from oralhist.records import Consent, Interview, Recording, Segment, Transcript
    from oralhist.editorial.view import load_interview

    out_dir = Path(out_dir)
    dest = out_dir / interview_id
    if dest.exists():
        raise BadInput(dest, "already exists; remove it or choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{interview_id}.bag-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        with db.session(ws) as s:
            iv = s.get(Interview, interview_id)
            if iv is None:
                raise BadInput(interview_id, "no such interview in the archive")
            view = load_interview(s, interview_id)
            (tmp / "original").mkdir(parents=True)
            for r in s.exec(select(Recording).where(Recording.interview_id == interview_id)).all():
                src = ws.root / r.path
                if src.is_file():
                    shutil.copy2(src, tmp / "original" / src.name)
            versions = tmp / "transcripts"
            versions.mkdir()
            for tr in s.exec(select(Transcript).where(Transcript.interview_id == interview_id)).all():
                segs = s.exec(select(Segment).where(Segment.transcript_id == tr.id).order_by(Segment.idx)).all()
                (versions / f"version-{tr.version}.json").write_text(json.dumps({
                    "version": tr.version, "model": tr.model, "language": tr.language,
                    "status": str(getattr(tr, "status", "") or ""), "created_at": str(tr.created_at),
                    "segments": [{"start_ms": g.start_ms, "end_ms": g.end_ms, "text": g.text,
                                  "speaker_id": g.speaker_id} for g in segs]}, ensure_ascii=False, indent=1),
                    encoding="utf-8")
            (tmp / "index.json").write_text(json.dumps({
                "topics": [{"start_ms": t.start_ms, "end_ms": t.end_ms, "title": t.title} for t in view.topics],
                "links": [{"term": ln.term_label, "kind": ln.kind, "uri": ln.uri, "start_ms": ln.start_ms,
                           "end_ms": ln.end_ms, "status": ln.status} for ln in view.links],
            }, ensure_ascii=False, indent=1), encoding="utf-8")
            from oralhist.editorial.rights import dc_rights, effective, site_rights

            c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
            rights, license = effective(*site_rights(ws), c)
            dc_el = dublincore.element(view, rights=dc_rights(rights, license))
            (tmp / "dc.xml").write_text(dublincore.to_xml(view, rights=dc_rights(rights, license)), encoding="utf-8")
            # Archivematica (transfer type "Unzipped bag"): metadata/metadata.csv holds the DC it
            # puts in the AIP's METS; the rest of data/ becomes objects/ (docs/publish.md).
            (tmp / "metadata").mkdir()
            (tmp / "metadata" / "metadata.csv").write_text(archivematica_csv(dc_el), encoding="utf-8")
            try:
                from oralhist.outputs.exports import ohms

                ohms.write(view, tmp / "ohms.xml", rights=rights, usage=license, repository=ws.settings.title)
            except ImportError:
                pass
            if include_consent:
                c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
                if c is not None and c.form_path and (ws.root / c.form_path).is_file():
                    (tmp / "consent").mkdir()
                    shutil.copy2(ws.root / c.form_path, tmp / "consent" / Path(c.form_path).name)
        bagit.make_bag(str(tmp), {"Source-Organization": view.museum or ws.settings.title,
                                  "External-Identifier": interview_id,
                                  "External-Description": (view.title or interview_id)},
                       checksums=["sha256", "sha512"])
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
