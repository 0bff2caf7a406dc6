"""consent, publish, run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from oralhist.cli.app import app
from oralhist.cli.common import error_line, console, err_console, handle_errors, print_json, workspace


@app.command()
@handle_errors
def consent(
    ctx: typer.Context,
    interview_id: str = typer.Argument(..., metavar="ID"),
    scope: Optional[str] = typer.Option(None, "--scope", help="public, on-site, research-only or none."),
    embargo_until: Optional[str] = typer.Option(None, "--embargo-until", metavar="YYYY-MM-DD",
                                                help="Hidden from the site until this date (inclusive); 'none' lifts it."),
    anonymise: Optional[bool] = typer.Option(None, "--anonymise/--no-anonymise",
                                             help="Replace the narrator's name by a pseudonym (or initials) in public outputs."),
    pseudonym: Optional[str] = typer.Option(None, "--pseudonym", help="Name shown instead of the narrator's (implies --anonymise)."),
    redact: Optional[list[str]] = typer.Option(None, "--redact", metavar="START-END",
                                               help="Remove a passage from public outputs, e.g. 12:34-13:05 or 754-785 (repeatable)."),
    reason: Optional[list[str]] = typer.Option(None, "--reason", help="Why (one per --redact, kept in the archive only)."),
    unredact: Optional[list[int]] = typer.Option(None, "--unredact", metavar="ID",
                                                 help="Remove the redaction with this number (as listed; repeatable)."),
    withdraw: bool = typer.Option(False, "--withdraw", help="The narrator withdraws consent: scope none, recorded as a withdrawal."),
    who: str = typer.Option("oralhist consent", "--who", help="Name recorded in the revision history."),
    rights: Optional[str] = typer.Option(None, "--rights", help="This interview's rights statement, instead of [site] rights ('' goes back to it)."),
    license: Optional[str] = typer.Option(None, "--license", metavar="URI",
                                          help="This interview's licence (a URI), instead of [site] license ('' goes back to it)."),
    listing: Optional[str] = typer.Option(None, "--listing", help="none or catalogue: list a research-only or embargoed "
                                          "interview in the public catalogue (no audio, no text)."),
    as_json: bool = typer.Option(False, "--json", help="Print the consent as JSON."),
) -> None:
    """Show or change what the narrator agreed to: scope, embargo, anonymisation, redactions,
    and the rights statement and licence of this interview's public records.

    With no option, prints the current consent. Each change is recorded as a revision.

    Example: oralhist consent 1998-marcel-dupont --scope public --redact 12:34-13:05 --reason "santé d'un tiers"

    Example: oralhist consent 1998-marcel-dupont --license https://creativecommons.org/licenses/by-nc-nd/4.0/ --rights "© Marcel Dupont"
    """
    from dataclasses import asdict

    from oralhist import db
    from oralhist.editorial.consent import parse_range, set_consent
    from oralhist.errors import BadInput
    from oralhist.editorial.view import load_interview

    ws = workspace(ctx)
    redact, reason = list(redact or []), list(reason or [])
    if reason and len(reason) not in (1, len(redact)):
        raise BadInput("--reason", "give one --reason per --redact (or a single one for all)")
    ranges = [parse_range(r) for r in redact]
    reasons = reason * len(ranges) if len(reason) == 1 else (reason or [""] * len(ranges))
    clear = embargo_until is not None and embargo_until.lower() in ("none", "")
    changing = (any(x is not None for x in (scope, anonymise, pseudonym, rights, license, listing)) or embargo_until is not None
                or ranges or unredact or withdraw)
    if changing:
        cv = set_consent(ws, interview_id, scope=scope, embargo_until=None if clear else embargo_until,
                         clear_embargo=clear, anonymise=anonymise, pseudonym=pseudonym,
                         redact=[(a, b, r) for (a, b), r in zip(ranges, reasons)], unredact=unredact or (),
                         withdraw=withdraw, who=who, rights=rights, license=license, listing=listing,
                         reason="; ".join(dict.fromkeys(r for r in reason if r)))
    else:
        with db.session(ws) as s:
            cv = load_interview(s, interview_id, with_words=False).consent
    from oralhist.editorial.rights import interview_rights

    own = interview_rights(ws, interview_id)
    if as_json:
        print_json(asdict(cv) | own)
        return
    from oralhist.editorial.consent import redaction_rows

    with db.session(ws) as s:
        rows = redaction_rows(s, interview_id)
    console.print(f"{interview_id}: scope {cv.scope}"
                  + (f", embargo until {cv.embargo_until}" if cv.embargo_until else "")
                  + (", anonymised" if cv.anonymise else "")
                  + (", listed in the catalogue" if cv.listing == "catalogue" else ""), highlight=False)
    if own["rights"] or own["license"]:
        console.print("  rights: " + " — ".join(x for x in (own["rights"], own["license"]) if x), highlight=False)
    for row in rows:
        console.print(f"  redacted #{row.id} {row.start_ms / 1000:.1f}-{row.end_ms / 1000:.1f} s"
                      + (f" ({row.reason})" if row.reason else ""), highlight=False)


@app.command()
@handle_errors
def publish(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder of the site (default: site/ in the archive)."),
    language: Optional[str] = typer.Option(None, "--language", help="Language of the pages: fr or en (default [site] language)."),
    on_site: bool = typer.Option(False, "--on-site", help="Kiosk build: also include on-site-only interviews (never put it on the web)."),
    local: bool = typer.Option(False, "--local", help="A build for a kiosk, a USB key or file:// (no [site] base_url needed)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Write the public static site: pages, audio, captions, search, IIIF, OAI-PMH, sitemap.

    Only what consent allows is published. Re-publishing rewrites only what changed.
    A site for the web needs [site] base_url in oralhist.toml (its addresses must work off
    this computer); --local builds one for a kiosk or a USB key on purpose.

    Example: oralhist publish --local --out /media/usb/site
    """
    from oralhist.outputs.exports.staff import refresh_staff_exports
    from oralhist.progress import progress_bar
    from oralhist.outputs.publish import publish_site

    ws = workspace(ctx)
    if on_site and out is None:
        from oralhist.errors import BadInput

        raise BadInput("--on-site", "a kiosk build needs its own --out folder (site/ is the public web site)")
    if not (local or on_site) and not ws.settings.base_url.strip():
        from oralhist.errors import BadInput

        raise BadInput(ws.root / "oralhist.toml", "[site] base_url is empty: set it to the site's public address "
                                                  "(e.g. https://archives.example.org/temoignages) or publish with --local")
    with progress_bar(enabled=not as_json) as prog:
        rep = publish_site(ws, out, progress=prog, language=language, on_site=on_site, before=refresh_staff_exports)
    if as_json:
        print_json(rep.to_dict())
    else:
        d = rep.details
        console.print(f"published {d['interviews']} interview(s), {d['terms']} index page(s) in {d['site']} "
                      f"({d['written']} file(s) written, {d['kept']} unchanged, {d['removed']} removed)", highlight=False)
        for note in d.get("objects", []) + d.get("exhibitions", []) + d.get("partners", []):  # left out, for the curator
            console.print(f"attention : {note}", highlight=False, soft_wrap=True)
        _open_hint(Path(d["site"]))
        for iid, why in rep.failed:  # issue 19: set aside, the others published
            err_console.print(error_line(f"{iid}: {why}"), highlight=False, soft_wrap=True)
    if rep.exit_code:
        raise typer.Exit(rep.exit_code)


def _open_hint(site: Path) -> None:
    console.print(f"open {site / 'index.html'}", highlight=False, soft_wrap=True)
    console.print(f"or, for search and the audio player: python3 -m http.server -d {site} 8000  "
                  "then http://localhost:8000/", highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def run(
    ctx: typer.Context,
    paths: Optional[list[Path]] = typer.Argument(None, metavar="PATH...", help="Audio files or folders (or use --manifest)."),
    narrator: Optional[str] = typer.Option(None, help="Who tells the story."),
    interviewer: Optional[str] = typer.Option(None, help="Who asks the questions."),
    date: Optional[str] = typer.Option(None, help="Date of the interview: YYYY, YYYY-MM or YYYY-MM-DD."),
    place: Optional[str] = typer.Option(None, help="Where it was recorded."),
    language: Optional[str] = typer.Option(None, help="Language (ISO 639-1, e.g. fr); default: the archive's."),
    museum: Optional[str] = typer.Option(None, help="Museum the interview belongs to."),
    title: Optional[str] = typer.Option(None, help="Title of the interview."),
    consent_form: Optional[Path] = typer.Option(None, "--consent", help="The signed consent form (scan or PDF)."),
    scope: Optional[str] = typer.Option(None, "--scope", help="Consent scope: public, on-site, research-only or none (default none)."),
    interview: Optional[str] = typer.Option(None, "--interview", metavar="ID", help="Make all files the parts of this interview."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="CSV manifest: one row per file."),
    allow_outside: bool = typer.Option(False, "--allow-outside", help="Let a manifest name files and consent forms outside its own folder."),
    model: Optional[str] = typer.Option(None, "--model", help="Recognition model (default: the archive's, Whisper base)."),
    speakers: Optional[int] = typer.Option(None, "--speakers", help="Number of speakers, when known."),
    no_publish: bool = typer.Option(False, "--no-publish", help="Stop before writing the site."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Ingest here, then queue the other stages for `oralhist worker` (any machine)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report for scripts."),
) -> None:
    """Run every stage on new recordings — ingest to publish — and say where to open the site.

    Running it again finishes what an interruption or a failure left undone.

    Example: oralhist run --manifest interviews/manifest.csv --allow-outside
    """
    from oralhist.archive.ingest import IngestMeta
    from oralhist.jobs.pipeline import run_all
    from oralhist.progress import progress_bar

    ws = workspace(ctx)
    meta = IngestMeta(narrator=narrator, interviewer=interviewer, date=date, place=place, language=language,
                      museum=museum, title=title, consent=consent_form, consent_scope=scope, interview=interview)
    with progress_bar(enabled=not as_json) as prog:
        if queue:
            from oralhist.jobs.pipeline import queue_all

            rep = queue_all(ws, paths or [], meta, manifest, queue=queue, progress=prog, publish=not no_publish,
                           allow_outside=allow_outside)
        else:
            rep = run_all(ws, paths or [], meta, manifest, progress=prog, model=model, language=language,
                          speakers=speakers, publish=not no_publish, allow_outside=allow_outside)
    if as_json:
        print_json(rep.to_dict())
    else:
        for r in rep.reports:
            n_done, n_skip = len(r.done), len(r.skipped)
            line = f"{r.stage}: {n_done} done" + (f", {n_skip} already done" if n_skip else "")
            if r.stage == "vocab":
                line = f"vocab: {len(r.details.get('imported', []))} file(s) imported"
            if r.stage == "queue":
                line = f"queued: {len(r.details['jobs'])} job(s) for {n_done} interview(s); `oralhist jobs` follows them"
            console.print(line, highlight=False)
            for i, holder in r.details.get("busy", {}).items():
                console.print(f"{r.stage}: {i} skipped: running right now elsewhere ({holder}); that run finishes it",
                              highlight=False)
            for i, m in r.failed:
                err_console.print(error_line(f"{r.stage}: {i}: {m}"), soft_wrap=True)
        if rep.site:
            _open_hint(rep.site)
    if rep.exit_code:
        raise typer.Exit(rep.exit_code)
