"""The archive's rights statement and licence ([site] rights, [site] license) in the IIIF
manifest: ``rights`` (the licence URI), ``requiredStatement`` (the statement) and
``provider`` (the museum, else the archive)."""

from __future__ import annotations


def iiif_rights(manifest, model, view, base: str) -> None:
    from iiif_prezi3 import KeyValueString, Provider

    lang = model.language
    if model.rights:
        manifest.requiredStatement = KeyValueString(
            label={lang: ["Droits" if lang == "fr" else "Rights"]}, value={lang: [model.rights]})
    name = getattr(view, "museum", None) or model.title
    if name:
        manifest.provider = [Provider(id=f"{base}/", type="Agent", label={lang: [name]})]
