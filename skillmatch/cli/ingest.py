"""`skillmatch ingest ...`: shared report rendering; the commands register themselves on `ingest_app`."""

from __future__ import annotations

import typer
from rich.table import Table

from skillmatch.cli.common import console
from skillmatch.ingest.report import IngestReport

ingest_app = typer.Typer(help="Bring CVs, Jira issues and ERP data into the index.", no_args_is_help=True)


def print_report(report: IngestReport, max_problems: int = 50) -> None:
    """A summary table at the end of every ingestion command, then the problems with their reasons."""
    table = Table(title=f"{report.source}: summary", show_header=True, header_style="bold")
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
