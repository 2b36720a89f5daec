"""The two jobs: every open request on a board (`process_jira_board`) or one ticket (`process_jira_ticket`).

Each run is one Langfuse trace named after its job, with a fresh trace id that the ledger rows of its model
calls share; each ticket is a child span with the session id `jira:{KEY}` (so every run of a ticket groups
into one session), its model call a generation inside. The board processes tickets concurrently, at most
SKILLMATCH_JIRA_CONCURRENCY at a time, each on its own (a failing ticket never stops the others).

Run-level failures raise: `JobConfigError` (settings, 401/403 on the first calls, a JQL or project Jira
refuses: exit 2, nothing written) and `JiraUnavailable` (Jira down after retries: exit 1). A 401 in the
middle of a run stops it too (`JobConfigError`); tickets already done keep their comments.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from langfuse import Langfuse, observe, propagate_attributes

from assistant.jobs.context import JobConfigError, JobContext, JobOptions
from assistant.jobs.process import (
    RunAborted,
    TicketOutcome,
    call,
    process_ticket,
    session_id_for,
    update_span,
)
from assistant.jobs.requests import TICKET_KEY_RE, request_fields
from assistant.masking import mask_text
from skillmatch.ingest.http import SourceAuthError, SourceDataError, SourceError, SourceStatusError

JobName = Literal["process_jira_board", "process_jira_ticket"]
Progress = Callable[[TicketOutcome, int, int], None]  # (outcome, done, total)


class JiraUnavailable(Exception):
    """Jira could not be reached (or kept failing) before any ticket could be processed: exit 1."""


@dataclass
class RunReport:
    job: JobName
    trace_id: str
    scope: str  # the JQL, or the ticket key
    dry_run: bool
    matched: int = 0
    outcomes: list[TicketOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> Counter[str]:
        return Counter(o.action for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def llm_calls(self) -> int:
        return sum(o.llm_calls for o in self.outcomes)

    @property
    def tokens(self) -> tuple[int, int]:
        return sum(o.tokens_in for o in self.outcomes), sum(o.tokens_out for o in self.outcomes)


def board_jql(job: JobContext, *, project: str | None, jql: str | None) -> str:
    """`--jql` as given; else `project = KEY AND (<request filter>)`, most recently updated first."""
    if jql is not None:
        if not jql.strip():
            raise JobConfigError("--jql is empty: give a query, e.g. 'project = STAFF AND status = Open'")
        return jql.strip()
    project = (project or job.settings.jira_project or "").strip()
    if not project:
        raise JobConfigError("no board: give --project KEY or --jql JQL (or set SKILLMATCH_JIRA_PROJECT)")
    if not TICKET_KEY_RE.fullmatch(f"{project.upper()}-1"):
        raise JobConfigError(f"{project!r} is not a Jira project key (letters and digits, e.g. STAFF)")
    where = job.settings.jira_request_filter.strip()
    clause = f'project = "{project.upper()}"' + (f" AND ({where})" if where else "")
    return f"{clause} ORDER BY updated DESC"


def _new_trace_id() -> str:
    return Langfuse.create_trace_id()


def _root_kwargs(job: JobContext, trace_id: str) -> dict[str, Any]:
    if job.telemetry.client is None:
        return {}
    return {"langfuse_trace_id": trace_id, "langfuse_public_key": job.telemetry.public_key}


async def run_board(
    job: JobContext,
    *,
    project: str | None = None,
    jql: str | None = None,
    limit: int | None = None,
    options: JobOptions,
    progress: Progress | None = None,
    on_matched: Callable[[int], None] | None = None,
) -> RunReport:
    query = board_jql(job, project=project, jql=jql)
    if limit is not None and limit < 1:
        raise JobConfigError(f"--limit {limit}: give a positive number of tickets")
    report = RunReport("process_jira_board", _new_trace_id(), query, options.dry_run)
    started = time.perf_counter()
    try:
        with propagate_attributes(tags=["jira-job"], trace_name="process_jira_board"):
            await call(
                job,
                process_jira_board,
                job,
                report,
                limit,
                options,
                progress,
                on_matched,
                **_root_kwargs(job, report.trace_id),
            )
    finally:
        report.seconds = time.perf_counter() - started
    return report


async def run_ticket(job: JobContext, key: str, *, options: JobOptions) -> RunReport:
    key = key.strip().upper()
    if not TICKET_KEY_RE.fullmatch(key):
        raise JobConfigError(f"{key!r} is not a Jira issue key (e.g. STAFF-123)")
    report = RunReport("process_jira_ticket", _new_trace_id(), key, options.dry_run, matched=1)
    started = time.perf_counter()
    try:
        with propagate_attributes(
            session_id=session_id_for(key), tags=["jira-job"], trace_name="process_jira_ticket"
        ):
            await call(job, process_jira_ticket, job, report, options, **_root_kwargs(job, report.trace_id))
    finally:
        report.seconds = time.perf_counter() - started
    return report


@observe(name="process_jira_board", capture_input=False, capture_output=False)
async def process_jira_board(
    job: JobContext,
    report: RunReport,
    limit: int | None,
    options: JobOptions,
    progress: Progress | None,
    on_matched: Callable[[int], None] | None,
) -> None:
    update_span(
        job, input={"jql": report.scope, "limit": limit, **_options(options)}, metadata={"owner": job.owner}
    )
    try:
        await _start(job)
        fields = request_fields(job.settings.jira_request_fields)
        try:
            issues = await asyncio.to_thread(
                lambda: list(job.jira.search(report.scope, fields=fields, limit=limit))
            )
        except SourceError as exc:
            raise _search_failed(exc, report.scope) from exc
        report.matched = len(issues)
        if on_matched:
            on_matched(len(issues))
        await _process_all(job, issues, options, report, progress, keep_comments=options.dry_run)
    finally:
        update_span(job, output=_summary(report), level="ERROR" if report.failed else None)


@observe(name="process_jira_ticket", capture_input=False, capture_output=False)
async def process_jira_ticket(job: JobContext, report: RunReport, options: JobOptions) -> None:
    key = report.scope
    update_span(job, input={"key": key, **_options(options)}, metadata={"owner": job.owner})
    try:
        await _start(job)
        fields = request_fields(job.settings.jira_request_fields)
        try:
            issue = await asyncio.to_thread(job.jira.issue, key, fields=fields)
        except SourceStatusError as exc:
            reason = (
                "not found, or not visible to the Jira user" if exc.status == 404 else mask_text(str(exc))
            )
            report.outcomes.append(TicketOutcome(key, "failed", reason))
            return
        except SourceAuthError as exc:
            if exc.status == 401:
                raise JobConfigError(str(exc)) from exc
            report.outcomes.append(TicketOutcome(key, "failed", f"no permission: {exc}"))
            return
        except SourceError as exc:
            raise JiraUnavailable(str(exc)) from exc
        await _process_all(job, [issue], options, report, None, keep_comments=True)
    finally:
        update_span(job, output=_summary(report), level="ERROR" if report.failed else None)


async def _start(job: JobContext) -> None:
    """Who we are (the marker check needs it); a refused credential stops the run before anything else."""
    try:
        me = await asyncio.to_thread(job.jira.myself)
    except SourceAuthError as exc:
        raise JobConfigError(str(exc)) from exc
    except (SourceStatusError, SourceDataError) as exc:  # a redirect or a page that is not Jira's API
        raise JobConfigError(f"{exc} (check JIRA_BASE_URL)") from exc
    except SourceError as exc:
        raise JiraUnavailable(str(exc)) from exc
    job.bot_account_id = me["accountId"]


async def _process_all(
    job: JobContext,
    issues: list[dict[str, Any]],
    options: JobOptions,
    report: RunReport,
    progress: Progress | None,
    *,
    keep_comments: bool,
) -> None:
    """At most `jira_concurrency` tickets at once, by a fixed set of workers over one queue of issues.
    Rendered comments are kept only when asked (dry runs print them): a huge board stays small."""
    pending: Iterator[dict[str, Any]] = iter(issues)
    total = len(issues)

    async def worker() -> None:
        for issue in pending:
            outcome = await process_ticket(job, issue, options, report.trace_id)
            if not keep_comments:
                outcome.comment = None
            report.outcomes.append(outcome)
            if progress:
                progress(outcome, len(report.outcomes), total)

    workers = max(1, min(job.settings.jira_concurrency, total))
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    except* RunAborted as aborted:
        raise JobConfigError(str(aborted.exceptions[0])) from None


def _options(options: JobOptions) -> dict[str, Any]:
    return {"dry_run": options.dry_run, "available_only": options.available_only}


def _summary(report: RunReport) -> dict[str, Any]:
    tokens_in, tokens_out = report.tokens
    return {
        "matched": report.matched,
        **dict(report.counts()),
        "llm_calls": report.llm_calls,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
    }


def _search_failed(exc: SourceError, scope: str) -> Exception:
    """What a failed board search means for the operator: their query or credentials, or an outage."""
    if isinstance(exc, SourceAuthError):
        return JobConfigError(str(exc))
    if isinstance(exc, SourceStatusError):
        said = re.search(r'"errorMessages":\s*\["((?:[^"\\]|\\.)*)"', str(exc))
        return JobConfigError(f"Jira refused the query {scope!r}: {said.group(1) if said else exc}")
    return JiraUnavailable(str(exc))
