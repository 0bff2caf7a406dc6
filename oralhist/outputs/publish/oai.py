"""OAI-PMH 2.0 data provider (the six verbs; oai_dc, oai_qdc and edm; sets per museum and trade), as a small Starlette app.

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
from dataclasses import dataclass, field, replace
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


# metadataPrefix -> (schema, namespace) of the formats served (issue 25: oai_qdc and edm).
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "oai_qdc": ("http://epubs.cclrc.ac.uk/xsd/qdc.xsd", "http://epubs.cclrc.ac.uk/xmlns/qdc/"),
    "edm": ("http://www.europeana.eu/schemas/edm/EDM.xsd", "http://www.europeana.eu/schemas/edm/"),
}


@dataclass
class Record:
    identifier: str
    datestamp: datetime
    deleted: bool
    dc: Optional[ET.Element] = None
    sets: tuple = ()  # setSpecs: museum:<slug>, trade:<slug>
    formats: dict = field(default_factory=dict)  # metadataPrefix -> element (edm absent without a rights URI)


def set_specs(view) -> tuple[tuple[str, str], ...]:
    """(setSpec, setName) of the sets an interview belongs to: its museum's, and one per trade
    it links to (``museum:<slug>``, ``trade:<slug>``: aggregators harvest per museum)."""
    from oralhist.text import slugify

    out = []
    if view.museum:
        out.append((f"museum:{slugify(view.museum, 'musee')}", view.museum))
    for ln in view.links:
        if ln.kind == "trade" and ln.status != "rejected":
            out.append((f"trade:{slugify(ln.term_label, 'metier')}", ln.term_label))
    return tuple(dict.fromkeys(out))


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

    from pathlib import Path

    from oralhist.outputs.exports import edm, qdc
    from oralhist.outputs.exports.addresses import MIME, interview_addresses, link_threshold, published_links, site_raw

    provider = str(site_raw(ws).get("network", "") or "").strip() or ws.settings.title

    archive_rights = site_rights(ws)
    threshold = link_threshold(ws)
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
            pv = replace(pv, links=published_links(pv.links, threshold))  # the site's links, no others
            page = f"{base}/i/{pv.id}.html" if base else f"i/{pv.id}.html"
            where = interview_addresses(ws, s, full, pv.id)
            audio = (f"{base}/{where.audio_path}" if base else where.audio_path) if where.audio_path else None
            rights, license = effective(*archive_rights, consent)
            dc = dublincore.element(pv, identifier=page, audio_url=audio, rights=dc_rights(rights, license))
            formats = {"oai_dc": dc, "oai_qdc": qdc.element(pv, identifier=page, audio_url=audio, rights=rights,
                                                            license=license)}
            cho = edm.element(pv, page_url=page, audio_url=audio, license=license, rights=rights,
                              provider=provider, data_provider=pv.museum or ws.settings.title,
                              audio_format=MIME.get(Path(where.audio_path or "a.mp3").suffix, "audio/mpeg"))
            if cho is not None:  # Europeana needs a rights URI: without one, no EDM record
                formats["edm"] = cho
            sets = set_specs(pv)
            out.append(Record(f"oai:{repo}:{pv.id}", changed, False, dc, sets, formats))
        from oralhist.outputs.publish.catalogue import oai_records  # issue 24: catalogue records (access on request)
        from oralhist.text import slugify

        for ident, at, dc, museum in oai_records(ws, repo, base, today):
            sets = ((f"museum:{slugify(museum, 'musee')}", museum),) if museum else ()
            out.append(Record(ident, _utc(at), False, dc, sets, {"oai_dc": dc}))
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
    if "identifier" in args and not any(r.identifier == args["identifier"] for r in load_records(ws, today)):
        raise _Error("idDoesNotExist", f"no record {args['identifier']}")
    offered = list(FORMATS)
    if "identifier" in args:  # the formats this record has (no edm without a rights URI)
        rec = next(r for r in load_records(ws, today) if r.identifier == args["identifier"])
        offered = [p for p in FORMATS if rec.deleted or p in rec.formats]
    el = ET.SubElement(root, f"{{{OAI}}}ListMetadataFormats")
    for prefix in offered:
        fmt = ET.SubElement(el, f"{{{OAI}}}metadataFormat")
        ET.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = prefix
        ET.SubElement(fmt, f"{{{OAI}}}schema").text = FORMATS[prefix][0]
        ET.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = FORMATS[prefix][1]


def all_sets(recs) -> list[tuple[str, str]]:
    """Every set of the live records, and the two top sets (``museum``, ``trade``) they sit in."""
    found = {spec: name for r in recs for spec, name in r.sets}
    tops = {"museum": "Musées", "trade": "Métiers"}
    out = [(t, n) for t, n in tops.items() if any(s.startswith(t + ":") for s in found)]
    return out + sorted(found.items())


def _sets(ws, root, args, base_url, page_size, today):
    if "resumptionToken" in args:
        raise _Error("badResumptionToken", "ListSets answers in one response: no resumption token is valid")
    sets = all_sets(load_records(ws, today))
    if not sets:
        raise _Error("noSetHierarchy", "this repository has no sets yet")
    el = ET.SubElement(root, f"{{{OAI}}}ListSets")
    for spec, name in sets:
        st = ET.SubElement(el, f"{{{OAI}}}set")
        ET.SubElement(st, f"{{{OAI}}}setSpec").text = spec
        ET.SubElement(st, f"{{{OAI}}}setName").text = name


def _header(parent, r: Record):
    h = ET.SubElement(parent, f"{{{OAI}}}header", {"status": "deleted"} if r.deleted else {})
    ET.SubElement(h, f"{{{OAI}}}identifier").text = r.identifier
    ET.SubElement(h, f"{{{OAI}}}datestamp").text = _stamp(r.datestamp)
    for spec, _ in r.sets:
        ET.SubElement(h, f"{{{OAI}}}setSpec").text = spec


def _record(parent, r: Record, prefix: str = "oai_dc"):
    rec = ET.SubElement(parent, f"{{{OAI}}}record")
    _header(rec, r)
    if not r.deleted:
        ET.SubElement(rec, f"{{{OAI}}}metadata").append(r.formats.get(prefix, r.dc) if r.formats else r.dc)


def _get(ws, root, args, base_url, page_size, today):
    prefix = args["metadataPrefix"]
    if prefix not in FORMATS:
        raise _Error("cannotDisseminateFormat", f"unknown metadataPrefix {prefix}")
    for r in load_records(ws, today):
        if r.identifier == args["identifier"]:
            if not r.deleted and prefix not in r.formats:
                raise _Error("cannotDisseminateFormat", f"{r.identifier} has no {prefix} record (no rights URI)")
            _record(ET.SubElement(root, f"{{{OAI}}}GetRecord"), r, prefix)
            return
    raise _Error("idDoesNotExist", f"no record {args['identifier']}")


def _token(prefix: str, frm: str, until: str, offset: int, spec: str = "") -> str:
    return base64.urlsafe_b64encode(f"{prefix}|{frm}|{until}|{offset}|{spec}".encode()).decode().rstrip("=")


def _untoken(tok: str):
    try:
        parts = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode().split("|")
        prefix, frm, until, offset = parts[:4]
        spec = parts[4] if len(parts) > 4 else ""
        if len(parts) > 5:
            raise ValueError(tok)
        return prefix, frm, until, int(offset), spec
    except (ValueError, UnicodeDecodeError):
        raise _Error("badResumptionToken", "this resumption token is not valid") from None


def _in_set(r: Record, spec: str) -> bool:
    """Whether the record is in ``spec`` or one of its subsets (``museum`` holds ``museum:x``)."""
    return any(s == spec or s.startswith(spec + ":") for s, _ in r.sets)


def _list(ws, root, args, base_url, page_size, today, *, full: bool):
    if "resumptionToken" in args:
        prefix, frm, until, offset, spec = _untoken(args["resumptionToken"])
    else:
        prefix, frm, until, offset = args["metadataPrefix"], args.get("from", ""), args.get("until", ""), 0
        spec = args.get("set", "")
    if prefix not in FORMATS:
        raise _Error("cannotDisseminateFormat", f"unknown metadataPrefix {prefix}")
    lo = _parse_date(frm, False) if frm else None
    hi = _parse_date(until, True) if until else None
    if (frm and lo is None) or (until and hi is None) or (frm and until and len(frm) != len(until)):
        raise _Error("badArgument", "from/until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, the same granularity")
    recs = [r for r in load_records(ws, today)
            if (lo is None or r.datestamp.replace(microsecond=0) >= lo) and (hi is None or r.datestamp.replace(microsecond=0) <= hi)]
    if spec:
        recs = [r for r in recs if _in_set(r, spec)]
    recs = [r for r in recs if r.deleted or prefix in r.formats]  # no edm without a rights URI
    if not recs:
        raise _Error("noRecordsMatch", "no record matches")
    el = ET.SubElement(root, f"{{{OAI}}}{'ListRecords' if full else 'ListIdentifiers'}")
    for r in recs[offset:offset + page_size]:
        _record(el, r, prefix) if full else _header(el, r)
    if offset + page_size < len(recs) or offset:
        attrs = {"completeListSize": str(len(recs)), "cursor": str(offset)}
        t = ET.SubElement(el, f"{{{OAI}}}resumptionToken", attrs)
        if offset + page_size < len(recs):
            t.text = _token(prefix, frm, until, offset + page_size, spec)


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
