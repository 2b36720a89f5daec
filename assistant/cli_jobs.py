"""`skillmatch jobs ...`: the Jira staffing jobs, made for cron.

Exit codes: 0 every ticket done (posted, updated, unchanged, or reported as not a usable request);
1 some tickets failed (the others were processed) or Jira was unreachable; 2 configuration error
(settings, credentials, a query or project Jira refuses) — nothing was written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from rich.table import Table

from assistant.config import AssistantSettings
from assistant.masking import install_log_masking, mask_text
from skillmatch.cli import app
from skillmatch.cli.common import DatabaseUrlOption, console, err_console, fail, resolve_settings

if TYPE_CHECKING:  # the jobs themselves load on use, so `--help` stays fast
    from assistant.jobs.context import JobContext
    from assistant.jobs.process import TicketOutcome
    from assistant.jobs.run import RunReport

CONFIG_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, as shells report it

jobs_app = typer.Typer(
    help="Batch jobs for cron: answer staffing request tickets in Jira with one comment each.",
    no_args_is_help=True,
)

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the comments that would be written; write nothing to Jira.")
]
AvailableOnlyOption = Annotated[
    bool | None,
    typer.Option(
        "--available-only/--all-people",
        help="Only people with free capacity in the ticket's period, from MOCO "
        "(default: SKILLMATCH_JIRA_AVAILABLE_ONLY).",
        show_default=False,
    ),
]

_VERB = {
    "posted": ("posted", "would post"),
    "updated": ("updated", "would update"),
    "unchanged": ("unchanged", "unchanged"),
    "unusable": ("not a request", "not a request"),
    "busy": ("skipped", "skipped"),
    "failed": ("FAILED", "FAILED"),
}


@jobs_app.command("jira-board")
def jira_board(
    ctx: typer.Context,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Project key; open tickets (SKILLMATCH_JIRA_REQUEST_FILTER)."),
    ] = None,
    jql: Annotated[
        str | None, typer.Option("--jql", help="Which tickets, as JQL (instead of --project).")
    ] = None,
    dry_run: DryRunOption = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N tickets, most recently updated first.")
    ] = None,
    available_only: AvailableOnlyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Answer every open staffing request on a board (a project, or the tickets a JQL query finds)."""
    from assistant.jobs.run import run_board

    if project and jql:
        raise fail("--project and --jql exclude each other: give one", CONFIG_ERROR)
    settings = _settings(ctx, database_url)

    async def work(job: JobContext) -> RunReport:
        with _progress() as bar:
            task = bar.add_task("fetching tickets", total=None)

            def matched(count: int) -> None:
                bar.update(task, description="tickets", total=count)

            def advanced(outcome: TicketOutcome, done: int, total: int) -> None:
                bar.update(task, completed=done)

            return await run_board(
                job,
                project=project,
                jql=jql,
                limit=limit,
                options=job.options(dry_run=dry_run, available_only=available_only),
                progress=advanced,
                on_matched=matched,
            )

    _execute(settings, work)


@jobs_app.command("jira-ticket")
def jira_ticket(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The ticket, e.g. STAFF-123.")],
    dry_run: DryRunOption = False,
    available_only: AvailableOnlyOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Answer one staffing request ticket (optionally limited to people the ERP shows as available)."""
    from assistant.jobs.run import run_ticket

    settings = _settings(ctx, database_url)

    async def work(job: JobContext) -> RunReport:
        return await run_ticket(job, key, options=job.options(dry_run=dry_run, available_only=available_only))

    _execute(settings, work)


def _settings(ctx: typer.Context, database_url: str | None) -> AssistantSettings:
    try:
        return resolve_settings(ctx, database_url, AssistantSettings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise fail(f"configuration: {problems}", CONFIG_ERROR) from None
    except SettingsError as exc:
        raise fail(f"configuration: {exc} (is it valid JSON?)", CONFIG_ERROR) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _execute(settings: AssistantSettings, work: Callable[[JobContext], Awaitable[RunReport]]) -> None:
    from assistant.jobs.context import JobConfigError, build_job_context
    from assistant.jobs.run import JiraUnavailable

    install_log_masking()  # ticket texts and Jira's answers may carry contact details
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    traces: dict[str, bool | None] = {}

    async def main() -> RunReport:
        job = build_job_context(settings)
        try:
            return await work(job)
        finally:
            await job.aclose()  # flushes the traces before the process ends
            traces["sent"] = job.telemetry.traces_sent if job.telemetry.enabled else None

    try:
        report = asyncio.run(main())
    except JobConfigError as exc:
        raise fail(mask_text(str(exc)), CONFIG_ERROR) from None
    except JiraUnavailable as exc:
        raise fail(f"{mask_text(str(exc))} (nothing was processed; the next run tries again)", 1) from None
    except KeyboardInterrupt:
        message = (
            "interrupted: finished tickets keep their comments; the others are picked up by the next run"
        )
        raise fail(message, INTERRUPTED) from None
    _print(report)
    if traces.get("sent") is False:
        err_console.print("warning: not every trace reached Langfuse (the ledger has every LLM call)")
    raise typer.Exit(report.exit_code)


def _print(report: RunReport) -> None:
    if report.dry_run:
        for outcome in report.outcomes:
            if outcome.comment is not None:
                console.print(Rule(f"{outcome.key}: {_VERB[outcome.action][1]}", align="left"))
                console.print(outcome.comment.text, markup=False, highlight=False)
    shown = [o for o in report.outcomes if o.action != "unchanged"]
    if shown:
        table = Table(header_style="bold", box=None)
        for column in ("ticket", "result", "people", "read by", "detail"):
            table.add_column(column)
        for o in sorted(shown, key=lambda o: (o.action != "failed", o.key)):
            verb = _VERB[o.action][1 if report.dry_run else 0]
            table.add_row(
                o.key,
                f"[red]{verb}[/]" if o.failed else verb,
                str(o.candidates) if o.kind == "suggestions" else "",
                o.extractor or "",
                mask_text(o.detail),
                style=None,
            )
        console.print(table)
    counts = report.counts()
    parts = [f"{n} {_VERB[action][1 if report.dry_run else 0]}" for action, n in sorted(counts.items())]
    tokens_in, tokens_out = report.tokens
    if report.matched == 0:
        console.print(f"No tickets matched {report.scope!r}.")
    done = ", ".join(parts) or "nothing to do"
    console.print(
        f"{report.matched} ticket(s): {done} · {report.llm_calls} LLM call(s), "
        f"{tokens_in:,}+{tokens_out:,} tokens · {report.seconds:.1f} s · trace {report.trace_id}"
        + (" · dry run: nothing written" if report.dry_run else ""),
        highlight=False,
    )


app.add_typer(jobs_app, name="jobs")
