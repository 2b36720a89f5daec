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

from skillmatch.cli.common import AppContext, DatabaseUrlOption, console, fail, open_context
from skillmatch.ingest.cv_store import UpsertResult
from skillmatch.ingest.report import IngestReport

ingest_app = typer.Typer(help="Bring CVs, Jira issues and ERP data into the index.", no_args_is_help=True)


def print_report(report: IngestReport, max_problems: int = 50) -> None:
    """A summary table at the end of every ingestion command, then the problems with their reasons."""
    table = Table(title=f"{report.source}: summary", show_header=True, header_style="bold", min_width=60)
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for outcome, n in sorted(report.counts.items()):
        table.add_row(outcome, str(n))
    table.add_row("seconds", f"{report.seconds:.2f}")
    console.print(table)
    if report.problems:
        problems = Table(title="problems (the batch went on)", header_style="bold yellow")
        problems.add_column("item", overflow="fold")
        problems.add_column("reason", overflow="fold")
        for problem in report.problems[:max_problems]:
            problems.add_row(problem.item, problem.reason)
        if len(report.problems) > max_problems:
            problems.add_row("...", f"{len(report.problems) - max_problems} more")
        console.print(problems)
    if report.error:
        console.print(f"[bold red]stopped early:[/] {report.error} (what was done before is kept)")


@ingest_app.command("cvs")
def ingest_cvs(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A folder of CVs (searched recursively) or a single file.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Index .md, .txt, .docx and .pdf CVs; unchanged files are skipped, vanished ones removed."""
    if not path.exists():
        raise fail(f"{path} does not exist")
    context = open_context(ctx, database_url).migrated()
    try:
        report = ingest_cv_folder(context, path)
    finally:
        context.close()
    print_report(report)
    if report.error:
        raise typer.Exit(1)


@ingest_app.command("sample")
def ingest_sample_command(ctx: typer.Context, database_url: DatabaseUrlOption = None) -> None:
    """The bundled fictional dataset: 36 CVs, their Jira history and MOCO allocation data."""
    context = open_context(ctx, database_url).migrated()
    try:
        reports = load_sample(context)
    finally:
        context.close()
    for report in reports:
        print_report(report)


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
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=None)
        yield (
            lambda n: progress.update(task, total=n),
            lambda p, _result: progress.update(task, advance=1, description=p.name),
        )


def ingest_cv_folder(context: AppContext, path: Path) -> IngestReport:
    from skillmatch.ingest.cv_files import ingest_folder

    with cv_progress() as (on_total, on_file):
        return ingest_folder(path, context.store, on_total=on_total, on_file=on_file)
