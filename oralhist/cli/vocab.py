"""vocab (import/list/show), link (suggest/accept/reject/add/remove/list), search, clip."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.text import Text
from typer.core import TyperGroup

from oralhist.cli.app import app
from oralhist.cli.common import console, err_console, handle_errors, print_json, report, workspace

vocab_app = typer.Typer(help="Vocabularies of trades, objects, places and subjects.", no_args_is_help=True)
app.add_typer(vocab_app, name="vocab")


class _SuggestByDefault(TyperGroup):
    """`oralhist link [ID...|--all]` runs `link suggest`; `oralhist link list ...` the sub-command."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["suggest", *args]
        return super().parse_args(ctx, args)


link_app = typer.Typer(cls=_SuggestByDefault, help="Links between passages and vocabulary terms: "
                       "`oralhist link [ID...|--all]` suggests them; accept/reject/add/remove/list edit them.")
app.add_typer(link_app, name="link")

KIND_HELP = "trade, object, place or subject"


@vocab_app.command("import")
@handle_errors
def vocab_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV (label, alt_labels, uri, broader; objects: inventory_number, museum, "
                                         "designation) or SKOS (.ttl, .rdf/.xml, .nt, .jsonld)."),
    kind: Optional[str] = typer.Option(None, "--kind", "-k", help=f"Kind of the terms: {KIND_HELP} "
                                                                   "(optional for a CSV with a kind column)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Read the CSV in this encoding (e.g. cp1252) "
                                                                     "instead of UTF-8."),
    as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
) -> None:
    """Import a vocabulary; a re-import updates its terms in place. A bad file imports nothing.

    Example: oralhist vocab import metiers.csv --kind trade
    """
    from oralhist.editorial.vocab import import_vocab

    ws = workspace(ctx)
    rep = import_vocab(ws, file, kind, encoding=encoding)
    if as_json:
        print_json(rep.to_dict())
        return
    for w in rep.warnings:
        err_console.print(f"warning: {file}: {w}", highlight=False, soft_wrap=True)
    console.print(f"{file}: {len(rep.created)} new, {len(rep.updated)} updated, {len(rep.unchanged)} unchanged "
                  f"({rep.format})", highlight=False)


@vocab_app.command("list")
@handle_errors
def vocab_list(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--kind", "-k", help=f"Only this kind: {KIND_HELP}."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """List the terms of the vocabularies (with how many links each has).

    Example: oralhist vocab list --kind trade
    """
    from oralhist import db
    from oralhist.editorial.vocab import list_terms

    with db.session(workspace(ctx)) as s:
        terms = list_terms(s, kind)
    if as_json:
        print_json([t.to_dict() for t in terms])
        return
    from rich.table import Table

    t = Table("id", "kind", "label", "variants", "inventory", "museum", "links")
    for v in terms:
        alts = ", ".join(v.alt_labels)
        t.add_row(str(v.id), v.kind, v.label, alts if len(alts) < 60 else alts[:57] + "…", v.inventory_number or "",
                  v.museum or "", str(v.links))
    console.print(t)


@vocab_app.command("show")
@handle_errors
def vocab_show(
    ctx: typer.Context,
    label: str = typer.Argument(..., help="Label, variant, URI, inventory number or id."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show one term and the passages linked to it.

    Example: oralhist vocab show galibot
    """
    from oralhist import db
    from oralhist.editorial.link import list_links
    from oralhist.editorial.vocab import find_term, list_terms

    with db.session(workspace(ctx)) as s:
        term = find_term(s, label)
        view = next(v for v in list_terms(s) if v.id == term.id)
        links = list_links(s, term=str(term.id))
    if as_json:
        print_json({**view.to_dict(), "links_list": [l.to_dict() for l in links]})
        return
    console.print(Text.assemble((view.label, "bold"), f" ({view.kind}, #{view.id})"))
    for k in ("alt_labels", "uri", "broader", "inventory_number", "designation", "museum", "source"):
        v = getattr(view, k)
        if v:
            console.print(f"  {k}: {', '.join(v) if isinstance(v, tuple) else v}", highlight=False)
    from oralhist.outputs.clip import fmt_time

    for l in links:
        console.print(f"  #{l.id} {l.status:9} {l.interview_id} {fmt_time(l.start_ms)}-{fmt_time(l.end_ms)} "
                      f"« {l.quote[:90]} »", highlight=False)


@link_app.command("suggest")
@handle_errors
def link_suggest(
    ctx: typer.Context,
    ids: Optional[List[str]] = typer.Argument(None, metavar="[ID...]", help="Interviews (or --all)."),
    all_: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    force: bool = typer.Option(False, "--force", help="Run again even where the vocabulary and transcript are unchanged."),
    no_fuzzy: bool = typer.Option(False, "--no-fuzzy", help="Only exact and lemmatised mentions (no recognition-error tolerance)."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Queue the work for `oralhist worker` (any machine) instead of running it here."),
    as_json: bool = typer.Option(False, "--json", help="Print the stage report as JSON."),
) -> None:
    """Suggest links where a vocabulary term is spoken (the default action of `oralhist link`).

    Example: oralhist link --all
    """
    from oralhist import db
    from oralhist.jobs.pipeline import run_stage
    from oralhist.progress import progress_bar
    from oralhist.stage import resolve_ids

    ws = workspace(ctx)
    with db.session(ws) as s:
        targets = resolve_ids(s, ids, all_)
    if queue:
        from oralhist.cli.common import enqueue_report

        return enqueue_report(ws, targets, "link", queue, force=force, as_json=as_json)
    with progress_bar(not as_json) as p:
        rep = run_stage(ws, "link", targets, force=force, progress=p, fuzzy=not no_fuzzy)
    if not as_json:
        console.print(f"link: {rep.details.get('suggested', 0)} suggestions from {rep.details.get('terms', 0)} terms",
                      highlight=False)
    report(rep, as_json)


@link_app.command("list")
@handle_errors
def link_list(
    ctx: typer.Context,
    interview_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Only this interview."),
    status: Optional[str] = typer.Option(None, "--status", help="suggested, accepted or rejected."),
    term: Optional[str] = typer.Option(None, "--term", help="Only links to this term."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """List links (suggested, accepted, rejected) with their clip and quote.

    Example: oralhist link list 1998-marcel-dupont --status suggested
    """
    from oralhist import db
    from oralhist.outputs.clip import fmt_time
    from oralhist.editorial.link import list_links

    with db.session(workspace(ctx)) as s:
        rows = list_links(s, interview_id, status, term)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    for r in rows:
        console.print(f"#{r.id} {r.status:9} {r.interview_id} {fmt_time(r.start_ms)}-{fmt_time(r.end_ms)} "
                      f"{r.kind}:{r.term} ({r.confidence:.2f}) « {r.quote[:80]} »"
                      + (f"  [à revoir : {r.review}]" if r.review else ""), highlight=False)


@link_app.command("accept")
@handle_errors
def link_accept(ctx: typer.Context, link_ids: List[int] = typer.Argument(..., metavar="LINK_ID...")) -> None:
    """Accept suggested links (ids from `oralhist link list`).

    Example: oralhist link accept 12 13
    """
    from oralhist.editorial.link import set_status

    for l in set_status(workspace(ctx), link_ids, "accepted"):
        console.print(f"link #{l.id} accepted", highlight=False)


@link_app.command("reject")
@handle_errors
def link_reject(ctx: typer.Context, link_ids: List[int] = typer.Argument(..., metavar="LINK_ID...")) -> None:
    """Reject suggested links: they are never suggested again at the same place.

    Example: oralhist link reject 14
    """
    from oralhist.editorial.link import set_status

    for l in set_status(workspace(ctx), link_ids, "rejected"):
        console.print(f"link #{l.id} rejected", highlight=False)


@link_app.command("add")
@handle_errors
def link_add(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    start: str = typer.Argument(..., help="Start: seconds (754), 12:34 or 00:12:34.5."),
    end: str = typer.Argument(..., help="End, same forms."),
    term: str = typer.Argument(..., help="Term label, variant, inventory number or id."),
    kind: Optional[str] = typer.Option(None, "--kind", "-k", help=f"Kind of the term when labels clash: {KIND_HELP}."),
) -> None:
    """Link a passage to a term by hand (accepted at once).

    Example: oralhist link add 1998-marcel-dupont 12:34 13:10 "métier à tisser"
    """
    from oralhist.outputs.clip import parse_time
    from oralhist.editorial.link import add_link

    l = add_link(workspace(ctx), interview_id, parse_time(start), parse_time(end), term, kind)
    console.print(f"link #{l.id} added", highlight=False)


@link_app.command("remove")
@handle_errors
def link_remove(ctx: typer.Context, link_id: int = typer.Argument(..., metavar="LINK_ID")) -> None:
    """Delete a link (to stop a suggestion coming back, reject it instead).

    Example: oralhist link remove 14
    """
    from oralhist.editorial.link import remove_link

    remove_link(workspace(ctx), link_id)
    console.print(f"link #{link_id} removed", highlight=False)


@app.command("search")
@handle_errors
def search_cmd(
    ctx: typer.Context,
    query: str = typer.Argument(..., help='Words to find (accents and case ignored; "quoted phrase").'),
    trade: Optional[str] = typer.Option(None, "--trade", help="Only interviews linked to this trade."),
    object_: Optional[str] = typer.Option(None, "--object", help="Only interviews linked to this object (label or inventory number)."),
    speaker: Optional[str] = typer.Option(None, "--speaker", help="Only passages of this speaker (label or name)."),
    museum: Optional[str] = typer.Option(None, "--museum", help="Only interviews of this museum."),
    limit: int = typer.Option(20, "--limit", "-n", help="At most this many results."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """Search every transcript (current versions), best passages first.

    Example: oralhist search "métier à tisser" --museum Roubaix
    """
    from oralhist import db
    from oralhist.outputs.clip import fmt_time
    from oralhist.editorial.search import search

    with db.session(workspace(ctx)) as s:
        hits = search(s, query, trade=trade, object=object_, speaker=speaker, museum=museum, limit=limit)
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    if not hits:
        err_console.print("no passage found", highlight=False)
    for h in hits:
        console.print(f"{h.interview_id} {fmt_time(h.start_ms)}  {h.snippet}", highlight=False, soft_wrap=True, markup=False)


@app.command("clip")
@handle_errors
def clip_cmd(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    start: str = typer.Argument(..., help="Start: seconds (754), 12:34 or 00:12:34.5."),
    end: str = typer.Argument(..., help="End, same forms."),
    out: Path = typer.Option(..., "--out", "-o", help="Audio file to write (.mp3, .ogg, .m4a, .wav, .flac); "
                                                    "the transcript goes beside it as .vtt."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Cut an excerpt from the listening copy (redactions silenced), with its transcript.

    Example: oralhist clip 1998-marcel-dupont 12:34 13:10 --out galibot.mp3
    """
    from oralhist.outputs.clip import cut_clip, parse_time

    res = cut_clip(workspace(ctx), interview_id, parse_time(start), parse_time(end), out)
    if as_json:
        print_json(res.to_dict())
        return
    console.print(f"{res.audio} and {res.transcript} written"
                  + (f" ({len(res.silenced)} redacted passage(s) silenced)" if res.silenced else ""), highlight=False)
