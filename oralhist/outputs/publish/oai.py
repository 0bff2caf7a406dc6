"""OAI-PMH 2.0 data provider (the six verbs, oai_dc), as a small Starlette app.

Mount it where harvesters expect it (``/oai``): ``oralhist oai --port P`` serves it alone, and
the workbench server can mount :func:`create_app` at ``/oai``. Public: harvesters have no login.

- Identifiers are ``oai:<repository identifier>:<public id>``; the repository identifier comes
  from ``[site] oai_repository_identifier`` (default: a slug of the archive's title), never
  from ``base_url``, so moving the site does not change them. The public id is the
  interview's stored ``public_key``: opaque (``iv-…``) for every interview made since
  revision 1906, never derived from a name (docs/publish.md, "Public ids").
- A record's datestamp is its last change (interview, consent, transcripts, revisions), not
  the day of publishing.
- A public id that no longer answers (consent withdrawn, scope narrowed, embargoed,
  anonymised: ``consent.set_consent`` retires it) is a deleted record — identifier and
  datestamp, nothing else — for ``[oai] deleted_retention_days`` (default 180), then
  forgotten (``deletedRecord`` = transient).
- Only what ``consent.public_view`` gives reaches a record.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional
from xml.etree import ElementTree as ET

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DEFAULT_RETENTION_DAYS = 180
VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}


@dataclass
class Record:
    identifier: str
    datestamp: datetime
    deleted: bool
    dc: Optional[ET.Element] = None


def repository_identifier(ws) -> str:
    from oralhist.text import slugify

    raw = (ws.settings.raw or {}).get("site", {})
    return str(raw.get("oai_repository_identifier") or f"oralhist.{slugify(ws.settings.title, 'archive')}")


def _utc(d) -> datetime:
    if d is None:
        return datetime(2000, 1, 1, tzinfo=timezone.utc)
    return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d.astimezone(timezone.utc)


def _stamp(d: datetime) -> str:
    return _utc(d).strftime("%Y-%m-%dT%H:%M:%SZ")


def retention_days(ws) -> int:
    """``[oai] deleted_retention_days`` (default 180): how long a retired id is announced deleted."""
    from oralhist.errors import BadInput

    raw = ((ws.settings.raw or {}).get("oai") or {}).get("deleted_retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 3650:
        raise BadInput(ws.root / "oralhist.toml",
                       f"[oai] deleted_retention_days must be a whole number of days from 0 to 3650, not {raw!r}")
    return raw


def retired_ids(s, ws, live: set[str], now: Optional[datetime] = None) -> list[tuple[str, datetime]]:
    """(public id, retired at) of the ids announced deleted now: retired less than
    ``deleted_retention_days`` ago and not answering again; the newest retirement of each."""
    from sqlmodel import select

    from oralhist.records import RetiredId

    since = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days(ws))
    out: dict[str, datetime] = {}
    for r in s.exec(select(RetiredId)).all():
        at = _utc(r.retired_at)
        if at >= since and r.public_id not in live:
            out[r.public_id] = max(at, out.get(r.public_id, at))
    return sorted(out.items())


def load_records(ws, today: Optional[date] = None) -> list[Record]:
    """Every record the repository holds, oldest change first: one per public interview under
    its public id, and a deleted record (identifier and datestamp only) per retired id."""
    from sqlmodel import select

    from oralhist import db
    from oralhist.editorial.consent import load_for_public, public_view
    from oralhist.outputs.exports import dublincore
    from oralhist.records import Consent, Interview, Revision, Transcript

    repo = repository_identifier(ws)
    from oralhist.editorial.rights import dc_rights, effective, site_rights

    archive_rights = site_rights(ws)
    base = ws.settings.base_url.rstrip("/")
    out = []
    with db.session(ws) as s:
        for iv in s.exec(select(Interview).order_by(Interview.id)).all():
            full = load_for_public(s, iv.id)
            pv = public_view(full, today=today)
            if pv is None:
                continue
            revs = s.exec(select(Revision.at).where(Revision.interview_id == iv.id)).all()
            consent = s.exec(select(Consent).where(Consent.interview_id == iv.id)).first()
            trs = s.exec(select(Transcript.created_at).where(Transcript.interview_id == iv.id)).all()
            changed = max([_utc(iv.updated_at)] + [_utc(r) for r in revs] + [_utc(t) for t in trs]
                          + ([_utc(consent.updated_at)] if consent else []))
            page = f"{base}/i/{pv.id}.html" if base else f"i/{pv.id}.html"
            dc = dublincore.element(pv, identifier=page, rights=dc_rights(*effective(*archive_rights, consent)))
            out.append(Record(f"oai:{repo}:{pv.id}", changed, False, dc))
        from oralhist.outputs.publish.catalogue import oai_records  # issue 24: catalogue records (access on request)

        out += [Record(ident, _utc(at), False, dc) for ident, at, dc in oai_records(ws, repo, base, today)]
        live = {r.identifier.rsplit(":", 1)[1] for r in out}
        for pid, at in retired_ids(s, ws, live):
            out.append(Record(f"oai:{repo}:{pid}", at, True))
    out.sort(key=lambda r: (r.datestamp, r.identifier))
    return out


def _parse_date(value: str, end: bool) -> Optional[datetime]:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z)?", value)
    if not m:
        return None
    try:
        if m.group(4) is None:
            t = (23, 59, 59) if end else (0, 0, 0)
            return datetime(int(m[1]), int(m[2]), int(m[3]), *t, tzinfo=timezone.utc)
        return datetime(*(int(m[i]) for i in range(1, 7)), tzinfo=timezone.utc)
    except ValueError:
        return None


class _Error(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def respond(ws, args: dict, base_url: str, *, page_size: int = 100, today: Optional[date] = None) -> str:
    """The OAI-PMH response (XML text) to a request's arguments."""
    ET.register_namespace("", OAI)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{OAI}}}OAI-PMH", {f"{{{XSI}}}schemaLocation":
                                            f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
    ET.SubElement(root, f"{{{OAI}}}responseDate").text = _stamp(datetime.now(timezone.utc))
    req = ET.SubElement(root, f"{{{OAI}}}request")
    req.text = base_url
    verb = args.get("verb")
    try:
        if isinstance(verb, list) or verb not in VERBS:
            raise _Error("badVerb", "illegal or missing verb")
        for k, v in args.items():
            if isinstance(v, list):
                raise _Error("badArgument", f"repeated argument {k}")
        required, optional = VERBS[verb]
        given = set(args) - {"verb"}
        if "resumptionToken" in given and given != {"resumptionToken"}:
            raise _Error("badArgument", "resumptionToken is exclusive")
        if "resumptionToken" not in given:
            if required - given:
                raise _Error("badArgument", f"missing {', '.join(sorted(required - given))}")
        if given - required - optional:
            raise _Error("badArgument", f"illegal {', '.join(sorted(given - required - optional))}")
        for k, v in args.items():
            req.set(k, v)
        _VERB_FUNCS[verb](ws, root, args, base_url, page_size, today)
    except _Error as e:
        if e.code in ("badVerb", "badArgument"):
            for k in list(req.attrib):
                del req.attrib[k]
        ET.SubElement(root, f"{{{OAI}}}error", {"code": e.code}).text = e.message
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _identify(ws, root, args, base_url, page_size, today):
    recs = load_records(ws, today)
    el = ET.SubElement(root, f"{{{OAI}}}Identify")
    site = (ws.settings.raw or {}).get("site", {})
    earliest = min((r.datestamp for r in recs), default=datetime(2000, 1, 1, tzinfo=timezone.utc))
    for tag, val in (("repositoryName", ws.settings.title), ("baseURL", base_url), ("protocolVersion", "2.0"),
                     ("adminEmail", str(site.get("admin_email") or "archive@example.invalid")),
                     ("earliestDatestamp", _stamp(earliest)), ("deletedRecord", "transient"),
                     ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
        ET.SubElement(el, f"{{{OAI}}}{tag}").text = val


def _formats(ws, root, args, base_url, page_size, today):
    from oralhist.outputs.exports import dublincore

    if "identifier" in args and not any(r.identifier == args["identifier"] for r in load_records(ws, today)):
        raise _Error("idDoesNotExist", f"no record {args['identifier']}")
    el = ET.SubElement(root, f"{{{OAI}}}ListMetadataFormats")
    fmt = ET.SubElement(el, f"{{{OAI}}}metadataFormat")
    ET.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = "oai_dc"
    ET.SubElement(fmt, f"{{{OAI}}}schema").text = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    ET.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = dublincore.OAI_DC


def _sets(ws, root, args, base_url, page_size, today):
    raise _Error("noSetHierarchy", "this repository has no sets")


def _header(parent, r: Record):
    h = ET.SubElement(parent, f"{{{OAI}}}header", {"status": "deleted"} if r.deleted else {})
    ET.SubElement(h, f"{{{OAI}}}identifier").text = r.identifier
    ET.SubElement(h, f"{{{OAI}}}datestamp").text = _stamp(r.datestamp)


def _record(parent, r: Record):
    rec = ET.SubElement(parent, f"{{{OAI}}}record")
    _header(rec, r)
    if not r.deleted:
        ET.SubElement(rec, f"{{{OAI}}}metadata").append(r.dc)


def _get(ws, root, args, base_url, page_size, today):
    if args["metadataPrefix"] != "oai_dc":
        raise _Error("cannotDisseminateFormat", f"unknown metadataPrefix {args['metadataPrefix']}")
    for r in load_records(ws, today):
        if r.identifier == args["identifier"]:
            _record(ET.SubElement(root, f"{{{OAI}}}GetRecord"), r)
            return
    raise _Error("idDoesNotExist", f"no record {args['identifier']}")


def _token(prefix: str, frm: str, until: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{prefix}|{frm}|{until}|{offset}".encode()).decode().rstrip("=")


def _untoken(tok: str):
    try:
        prefix, frm, until, offset = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode().split("|")
        return prefix, frm, until, int(offset)
    except (ValueError, UnicodeDecodeError):
        raise _Error("badResumptionToken", "this resumption token is not valid") from None


def _list(ws, root, args, base_url, page_size, today, *, full: bool):
    if "resumptionToken" in args:
        prefix, frm, until, offset = _untoken(args["resumptionToken"])
    else:
        prefix, frm, until, offset = args["metadataPrefix"], args.get("from", ""), args.get("until", ""), 0
        if "set" in args:
            raise _Error("noSetHierarchy", "this repository has no sets")
    if prefix != "oai_dc":
        raise _Error("cannotDisseminateFormat", f"unknown metadataPrefix {prefix}")
    lo = _parse_date(frm, False) if frm else None
    hi = _parse_date(until, True) if until else None
    if (frm and lo is None) or (until and hi is None) or (frm and until and len(frm) != len(until)):
        raise _Error("badArgument", "from/until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, the same granularity")
    recs = [r for r in load_records(ws, today)
            if (lo is None or r.datestamp.replace(microsecond=0) >= lo) and (hi is None or r.datestamp.replace(microsecond=0) <= hi)]
    if not recs:
        raise _Error("noRecordsMatch", "no record matches")
    el = ET.SubElement(root, f"{{{OAI}}}{'ListRecords' if full else 'ListIdentifiers'}")
    for r in recs[offset:offset + page_size]:
        _record(el, r) if full else _header(el, r)
    if offset + page_size < len(recs) or offset:
        attrs = {"completeListSize": str(len(recs)), "cursor": str(offset)}
        t = ET.SubElement(el, f"{{{OAI}}}resumptionToken", attrs)
        if offset + page_size < len(recs):
            t.text = _token(prefix, frm, until, offset + page_size)


_VERB_FUNCS = {
    "Identify": _identify,
    "ListMetadataFormats": _formats,
    "ListSets": _sets,
    "GetRecord": _get,
    "ListIdentifiers": lambda *a: _list(*a, full=False),
    "ListRecords": lambda *a: _list(*a, full=True),
}


def create_app(ws, *, page_size: int = 100, path: str = "/"):
    """A Starlette app answering OAI-PMH at ``path``: mount it at ``/oai`` (path "/") in a
    larger app, or serve it alone with ``path="/oai"`` (no redirect to ``/oai/``)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request):
        items = list(request.query_params.multi_items())
        if request.method == "POST":
            form = await request.form()
            items += list(form.multi_items())
        args: dict = {}
        for k, v in items:
            args[k] = [args[k], v] if k in args else v
        base = str(request.url).split("?")[0].rstrip("/")
        xml = await run_in_threadpool(respond, ws, args, base, page_size=page_size)
        return Response(xml, media_type="text/xml; charset=utf-8")

    return Starlette(routes=[Route(path, endpoint, methods=["GET", "POST"])])
