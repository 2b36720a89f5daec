"""`skillmatch ingest sharepoint|jira|erp`: the remote sources, with live progress and a report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from skillmatch.cli.common import AppContext, DatabaseUrlOption, console, fail, open_context
from skillmatch.cli.ingest import EXIT_WITH_FAILURES, ingest_app, print_report
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.http import ProgressFn, SourceConfigError, SourceError
from skillmatch.ingest.report import IngestReport

FullOption = Annotated[
    bool, typer.Option("--full", help="Ignore the stored sync cursor and fetch everything again.")
]


def open_cv_store(context: AppContext) -> CvStore:
    """The CV index SharePoint documents go into (tests replace this to record calls instead)."""
    return context.store


@ingest_app.command("sharepoint")
def ingest_sharepoint_command(
    ctx: typer.Context, database_url: DatabaseUrlOption = None, full: FullOption = False
) -> None:
    """CVs from the SharePoint library SHAREPOINT_DRIVE_ID (optionally SHAREPOINT_FOLDER) via Graph delta."""
    from skillmatch.ingest.sharepoint import ingest_sharepoint

    def run(context: AppContext, progress: ProgressFn) -> IngestReport:
        try:
            store = open_cv_store(context)
        except ValueError as exc:  # the embedder's configuration
            raise SourceConfigError("sharepoint", str(exc)) from exc
        return ingest_sharepoint(context.sessions, context.settings, store, full=full, progress=progress)

    _run_source(ctx, database_url, "SharePoint", run)


@ingest_app.command("jira")
def ingest_jira_command(
    ctx: typer.Context, database_url: DatabaseUrlOption = None, full: FullOption = False
) -> None:
    """Jira Cloud issues matching JIRA_JQL, only those updated since the last run unless --full."""
    from skillmatch.ingest.jira import ingest_jira

    _run_source(
        ctx,
        database_url,
        "Jira",
        lambda context, progress: ingest_jira(
            context.sessions, context.settings, full=full, progress=progress
        ),
    )


@ingest_app.command("erp")
def ingest_erp_command(
    ctx: typer.Context, database_url: DatabaseUrlOption = None, full: FullOption = False
) -> None:
    """MOCO users, employments, planning entries, absences (dates only) and time entries.

    --full also removes rows MOCO no longer returns (deletions are invisible to incremental runs).
    """
    from skillmatch.ingest.moco import ingest_moco

    _run_source(
        ctx,
        database_url,
        "MOCO",
        lambda context, progress: ingest_moco(
            context.sessions, context.settings, full=full, progress=progress
        ),
    )


def _run_source(
    ctx: typer.Context,
    database_url: str | None,
    title: str,
    run: Callable[[AppContext, ProgressFn], IngestReport],
) -> None:
    context = open_context(ctx, database_url)
    try:
        context.migrated()
        with _live_progress(title) as progress:
            report = run(context, progress)
    except SourceError as exc:  # configuration missing, or the source refused before any page
        raise fail(str(exc)) from None
    finally:
        context.close()
    print_report(report)
    if not report.ok:
        raise fail(report.error or "failed")
    if report.problems:
        raise typer.Exit(EXIT_WITH_FAILURES)  # finished, but some items failed: cron should notice


@contextmanager
def _live_progress(title: str) -> Iterator[ProgressFn]:
    """One line per endpoint: a bar when the source tells the total, a spinner with a count otherwise."""
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console, transient=True) as bars:

        def update(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bars.add_task(f"{title}: {label}", total=total)
            bars.update(tasks[label], completed=done, total=total)

        yield update
