"""Issue 26 item 5: the consent page's « portrait » permission, over HTTP against the real workbench.

The box is offered like the consent's other permissions; giving it needs a stored photograph
(sent from the page, like the CLI's ``oralhist portrait``); it is never offered nor accepted for an
anonymised interview, and anonymising takes it away. A refused change writes nothing."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from editdata import make_interview
from oralhist import db
from test_workbench import Client, accounts, multipart

IID = "2022-lecteurs-fleurs"


@pytest.fixture()
def server(ws):
    from oralhist.web.server import workbench_in_thread

    make_interview(ws, IID)
    accounts(ws)
    with workbench_in_thread(ws) as (_server, _cfg, url, _runner):
        yield url.rstrip("/"), ws


def _state(ws):
    from oralhist.records import Consent, Revision

    with db.session(ws) as s:
        c = s.exec(select(Consent).where(Consent.interview_id == IID)).first()
        n = len(s.exec(select(Revision).where(Revision.kind == "consent")).all())
        return (bool(c and c.portrait), bool(c and c.anonymise), bool(c and c.portrait_path), n)


def _box(html: str) -> str:
    m = re.search(r'<input type="checkbox" name="portrait"[^>]*>', html)
    assert m, "no portrait box on the consent page"
    return m.group(0)


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 80), (120, 90, 60)).save(buf, "JPEG")
    return buf.getvalue()


def test_portrait_box_needs_a_photo_and_never_goes_with_anonymisation(server):
    base, ws = server
    admin = Client(base)
    assert admin.login("admin")[0] == 200
    api = f"/api/i/{IID}/consent"
    st, html = admin.call("GET", f"/i/{IID}/consent")
    assert st == 200 and "disabled" not in _box(html)
    st, c = admin.call("GET", api)
    assert (c["portrait"], c["portrait_stored"]) == (False, False)

    # no photograph yet: refused, in French, nothing written (not even the scope sent with it)
    before = _state(ws)
    st, body = admin.call("POST", api, {"scope": "public", "portrait": True})
    assert st == 400 and "aucune photographie" in body["error"], body
    assert _state(ws) == before
    st, body = admin.call("POST", api, {"portrait": "oui"})
    assert st == 400 and _state(ws) == before

    # the photograph from the page: stored (like the CLI) with the permission
    data, ctype = multipart({}, [("file", "portrait.jpg", _jpeg())])
    st, c = admin.call("POST", f"{api}/portrait", raw=data, headers={"Content-Type": ctype})
    assert st == 200, c
    assert (c["portrait"], c["portrait_stored"]) == (True, True)
    assert _state(ws)[:3] == (True, False, True)
    st, c = admin.call("POST", api, {"portrait": False})
    assert st == 200 and c["portrait"] is False and _state(ws)[0] is False, c
    st, c = admin.call("POST", api, {"portrait": True})
    assert st == 200 and c["portrait"] is True and _state(ws)[0] is True

    # anonymised and portrait at once: refused, nothing written
    before = _state(ws)
    st, body = admin.call("POST", api, {"anonymise": True, "portrait": True})
    assert st == 400 and "anonymisé" in body["error"], body
    assert _state(ws) == before
    # anonymising takes the permission away; the box is then not offered, and not accepted
    st, c = admin.call("POST", api, {"anonymise": True})
    assert st == 200 and c["anonymise"] is True and c["portrait"] is False
    assert _state(ws)[:2] == (False, True)
    st, html = admin.call("GET", f"/i/{IID}/consent")
    assert "disabled" in _box(html) and "jamais publié" in html
    st, body = admin.call("POST", api, {"portrait": True})
    assert st == 400 and _state(ws)[0] is False
    st, body = admin.call("POST", f"{api}/portrait", raw=data, headers={"Content-Type": ctype})
    assert st == 400 and "anonymisé" in body["error"] and _state(ws)[0] is False

    # a volunteer of another museum may not touch it (the consent pages' guard)
    vol = Client(base)
    assert vol.login("vol-b")[0] == 200
    st, _ = vol.call("POST", f"{api}/portrait", raw=data, headers={"Content-Type": ctype})
    assert st in (403, 404)


def test_anonymising_or_withdrawing_from_the_terminal_takes_the_portrait_permission_away(ws, tmp_path):
    """The rule lives in ``set_consent``, so `oralhist consent --anonymise` and a withdrawal keep it too."""
    from oralhist.editorial.consent import set_consent
    from oralhist.editorial.portrait import set_portrait

    make_interview(ws, IID)
    photo = tmp_path / "portrait.jpg"
    photo.write_bytes(_jpeg())
    set_portrait(ws, IID, photo)
    assert _state(ws)[:3] == (True, False, True)
    set_consent(ws, IID, pseudonym="Monsieur R.", who="test")  # a pseudonym anonymises
    assert _state(ws)[:3] == (False, True, True)
    set_consent(ws, IID, anonymise=False, who="test")
    set_portrait(ws, IID, allow=True)
    assert _state(ws)[0] is True
    set_consent(ws, IID, withdraw=True, who="test", reason="la famille le demande")
    assert _state(ws)[0] is False
