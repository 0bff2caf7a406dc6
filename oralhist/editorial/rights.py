"""Rights statement and licence of the public records.

The archive's own are ``[site] rights`` (a statement) and ``[site] license`` (a URI:
Creative Commons, rightsstatements.org); an interview may override either on its consent
record (``oralhist consent ID --rights ... --license URI``). :func:`effective` gives the pair
an output uses; every public output (page, JSON-LD ``license``, ``dc:rights``, IIIF
``rights`` + ``requiredStatement`` + ``provider``, OHMS ``rights``/``usage``, OAI-PMH) takes it
from there.
"""

from __future__ import annotations

import re
from typing import Optional

URI = re.compile(r"^https?://\S+$")


def site_rights(ws) -> tuple[str, str]:
    """([site] rights, [site] license) of the archive."""
    site = (ws.settings.raw or {}).get("site", {}) if ws.settings.raw else {}
    return str(site.get("rights", "") or "").strip(), str(site.get("license", "") or "").strip()


def effective(site_rights: str, site_license: str, consent: Optional[object]) -> tuple[str, str]:
    """(rights, license) for one interview: its consent record's own when set, else the archive's.
    ``consent`` is a ``Consent`` row, the consent row as a dict, or None."""
    def get(k):
        if consent is None:
            return None
        return consent.get(k) if isinstance(consent, dict) else getattr(consent, k, None)

    return (str(get("rights") or "").strip() or site_rights, str(get("license") or "").strip() or site_license)


def interview_rights(ws, interview_id: str) -> dict:
    """The interview's own rights and licence (None where it uses the archive's)."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.records import Consent

    with db.session(ws) as s:
        c = s.exec(select(Consent).where(Consent.interview_id == interview_id)).first()
        return {"rights": c.rights if c else None, "license": c.license if c else None}


def dc_rights(rights: str, license: str) -> Optional[str]:
    return " — ".join(x for x in (rights, license) if x) or None


# The IIIF Presentation 3 validator accepts in ``rights`` only these (http, not https).
IIIF_RIGHTS = re.compile(r"^https?://(creativecommons\.org/(?:licenses|publicdomain)/|rightsstatements\.org/vocab/)(\S+)$")


def iiif_rights_uri(license: str) -> Optional[str]:
    """The licence as IIIF ``rights`` takes it: a Creative Commons or RightsStatements.org URI
    written with ``http://`` (the form the IIIF validator requires); None for any other
    licence (Etalab Licence Ouverte...), which goes into ``requiredStatement`` and ``metadata``."""
    m = IIIF_RIGHTS.match((license or "").strip())
    return f"http://{m.group(1)}{m.group(2)}" if m else None


def iiif_rights(manifest, model, view, base: str, rights: Optional[str] = None, license: Optional[str] = None) -> None:
    """``rights`` (the licence URI when IIIF accepts it), ``requiredStatement`` (the statement,
    and any other licence) and ``provider`` (the museum, else the archive) of a IIIF manifest."""
    from iiif_prezi3 import KeyValueString, Provider

    lang = model.language
    rights = model.rights if rights is None else rights
    license = model.license if license is None else license
    uri = iiif_rights_uri(license)
    if uri:
        manifest.rights = uri
    statement = [x for x in (rights, None if uri else license) if x]
    if statement:
        manifest.requiredStatement = KeyValueString(
            label={"fr": ["Droits"], "en": ["Rights"]}, value={lang: [" — ".join(statement)]})
    if license:
        md = list(manifest.metadata or [])
        md.append(KeyValueString(label={"fr": ["Licence"], "en": ["License"]}, value={"none": [license]}))
        manifest.metadata = md
    name = getattr(view, "museum", None) or model.title
    if name:
        manifest.provider = [Provider(id=f"{base}/", type="Agent", label={lang: [name]})]
