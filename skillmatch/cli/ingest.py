"""`skillmatch ingest ...`: shared report rendering; the commands register themselves on `ingest_app`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from skillmatch.cli.common import AppContext, DatabaseUrlOption, console, open_context, report_error
from skillmatch.ingest.cv_files import shown
from skillmatch.ingest.cv_store import UpsertResult
from skillmatch.ingest.report import IngestReport

ingest_app = typer.Typer(help="Bring CVs, Jira issues and ERP data into the index.", no_args_is_help=True)


EXIT_WITH_FAILURES = 3  # the run completed, but some items could not be read: see the problems table


def exit_code(report: IngestReport) -> int:
    """0 all done; 1 stopped early (what was done is kept); 3 done, but some items failed."""
    if report.error:
        return 1
    return EXIT_WITH_FAILURES if report.problems else 0


def print_report(report: IngestReport, max_problems: int = 50) -> None:
    """A summary table at the end of every ingestion command, then the problems with their reasons and
    the remarks (library warnings, identity decisions), each with the item it belongs to. Paths, names
    and reasons are user text: printed as typed, never as markup."""
    table = Table(
        title=Text(f"{report.source}: summary"), show_header=True, header_style="bold", min_width=60
    )
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for outcome, n in sorted(report.counts.items()):
        table.add_row(outcome, str(n))
    table.add_row("seconds", f"{report.seconds:.2f}")
    console.print(table)
    for title, items, style in (
        ("problems (the batch went on)", report.problems, "bold yellow"),
        ("notes", report.notes, "bold"),
    ):
        if not items:
            continue
        listing = Table(title=title, header_style=style)
        listing.add_column("item", overflow="fold")
        listing.add_column("reason" if items is report.problems else "note", overflow="fold")
        for item in items[:max_problems]:
            listing.add_row(Text(item.item), Text(item.reason))
        if len(items) > max_problems:
            listing.add_row("...", f"{len(items) - max_problems} more")
        console.print(listing)
    if report.error:
        kept = " (what was done before is kept)"
        console.print(Text.assemble(("stopped early: ", "bold red"), report.error, kept))


@ingest_app.command("cvs")
def ingest_cvs(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A folder of CVs (searched recursively) or a single file.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Index .md, .txt, .docx and .pdf CVs; unchanged files are skipped, vanished ones removed.

    Exit codes: 0 all files indexed; 3 finished, but some files could not be read (listed with reasons);
    1 stopped early or PATH does not exist."""
    if not path.exists():
        report_error(f"{path} does not exist")
        raise typer.Exit(1)
    context = open_context(ctx, database_url).migrated()
    try:
        report = ingest_cv_folder(context, path)
    finally:
        context.close()
    print_report(report)
    code = exit_code(report)
    if code:
        raise typer.Exit(code)


@ingest_app.command("sample")
def ingest_sample_command(ctx: typer.Context, database_url: DatabaseUrlOption = None) -> None:
    """The bundled fictional dataset: 60 CVs, and Jira history and MOCO allocation data for 36 of them."""
    context = open_context(ctx, database_url).migrated()
    try:
        reports = load_sample(context)
    finally:
        context.close()
    for report in reports:
        print_report(report)
    codes = {exit_code(r) for r in reports}
    if codes - {0}:
        raise typer.Exit(1 if 1 in codes else EXIT_WITH_FAILURES)


def load_sample(context: AppContext) -> list[IngestReport]:
    from skillmatch.ingest.sample import ingest_sample

    with cv_progress() as (on_total, on_file):
        return ingest_sample(context.sessions, context.store, on_total=on_total, on_file=on_file)


@contextmanager
def cv_progress() -> Iterator[tuple[Callable[[int], None], Callable[[Path, UpsertResult | None], None]]]:
    """A bar over the files of a CV folder, naming the file being read."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]CVs[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),  # a file name, shown as it is
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=None)
        yield (
            lambda n: progress.update(task, total=n),
            lambda p, _result: progress.update(task, advance=1, description=shown(p.name)),
        )


def ingest_cv_folder(context: AppContext, path: Path) -> IngestReport:
    from skillmatch.ingest.cv_files import ingest_folder

    with cv_progress() as (on_total, on_file):
        return ingest_folder(path, context.store, on_total=on_total, on_file=on_file)
