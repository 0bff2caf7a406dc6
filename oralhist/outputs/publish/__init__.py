"""The public static site (``oralhist publish``): pages, audio, captions, search, IIIF, OAI-PMH.

Everything is generated from ``oralhist.editorial.consent.public_view`` output only.
"""

from __future__ import annotations

from oralhist.outputs.publish.build import publish_site  # noqa: F401
