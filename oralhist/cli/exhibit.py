"""exhibit (import/list/show): exhibitions written as Markdown files (docs/exhibitions.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from oralhist.cli.app import app
from oralhist.cli.common import console, err_console, handle_errors, print_json, workspace

exhibit_app = typer.Typer(help="Virtual exhibitions: sections of narrative, clips, objects and terms.",
                          no_args_is_help=True)
app.add_typer(exhibit_app, name="exhibit")


@exhibit_app.command("import")
@handle_errors
def exhibit_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The exhibition's Markdown file (front matter title/slug, ## sections)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored exhibition as JSON."),
) -> None:
    """Check an exhibition file against the archive and store it; a bad file stores nothing.

    Example: oralhist exhibit import expo.md
    """
    from oralhist.outputs.exhibit import import_exhibition

    exh = import_exhibition(workspace(ctx), file)
    if as_json:
        print_json(exh.to_dict())
        return
    for w in exh.warnings:
        err_console.print(f"warning: {file}: {w}", highlight=False, soft_wrap=True)
    console.print(f"{file}: exhibition {exh.slug} ({len(exh.sections)} sections, {len(exh.clips)} clips)",
                  highlight=False)


@exhibit_app.command("list")
@handle_errors
def exhibit_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the stored exhibitions.

    Example: oralhist exhibit list --json
    """
    from oralhist.outputs.exhibit import list_exhibitions

    items = list_exhibitions(workspace(ctx))
    if as_json:
        print_json([{"slug": e.slug, "title": e.title, "sections": len(e.sections), "clips": len(e.clips)}
                    for e in items])
        return
    for e in items:
        console.print(f"{e.slug}\t{e.title}\t{len(e.sections)} sections, {len(e.clips)} clips", highlight=False)


@exhibit_app.command("show")
@handle_errors
def exhibit_show(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The exhibition's slug."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one exhibition: its sections, clips, objects and terms.

    Example: oralhist exhibit show voix-de-la-mine --json
    """
    from oralhist.outputs.exhibit import load_exhibition

    e = load_exhibition(workspace(ctx), slug)
    if as_json:
        print_json(e.to_dict())
        return
    console.print(f"{e.title} ({e.slug})", highlight=False)
    for sec in e.sections:
        console.print(f"## {sec.title}", highlight=False)
        for c in sec.clips:
            console.print(f"  clip {c.interview_id} {c.start_ms / 1000:.1f}-{c.end_ms / 1000:.1f} s", highlight=False)
        for o in sec.objects:
            console.print(f"  object {o}", highlight=False)
        for t in sec.terms:
            console.print(f"  term {t}", highlight=False)


objects_app = typer.Typer(help="Museum objects: pictures and inventory records.", no_args_is_help=True)
app.add_typer(objects_app, name="objects")


@objects_app.command("import")
@handle_errors
def objects_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Object CSV (inventory number, designation, museum, image/Photo, alt, "
                                         "dates, materials, dimensions, credit line, rights)."),
    images: Path = typer.Option(None, "--images", help="A folder of pictures named by inventory number."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import objects with their pictures; a bad picture imports nothing.

    Example: oralhist objects import objets.csv --images photos/
    """
    from oralhist.outputs.objects import import_objects

    rep = import_objects(workspace(ctx), file, images)
    if as_json:
        print_json(rep.to_dict())
        return
    for inv in rep.without_alt:
        err_console.print(f"warning: {file}: object {inv} has a picture but no alt text; it will not be published",
                          highlight=False, soft_wrap=True)
    console.print(f"{file}: {rep.images} pictures", highlight=False)
