"""One ticket: read the request, shortlist people, and keep exactly one comment on the ticket current.

    unchanged ticket, same result  -> nothing is written and no model is asked (the reading is stored)
    changed result                 -> the lease is taken, the comment updated (or posted the first time)
    not a usable request           -> reported; a comment asks for the details when configured, or when
                                      an earlier suggestion would otherwise stay up
    dry run                        -> the comment is rendered and returned, nothing is written

The comment is found by the id stored with the ticket, else by the issue property `skillmatch.staffing`,
else by its marker among the bot's own comments (after a crash between posting and storing). Errors stay
with their ticket: 403/404 on one ticket is that ticket's failure; a 401 (credentials) stops the run.
Each ticket is a span `jira.ticket` with session id `jira:{KEY}`; its model call is a generation inside.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from langfuse import observe, propagate_attributes

from assistant.jobs.comment import PROPERTY, Rendered, is_ours, render_missing, render_suggestions
from assistant.jobs.constraints import Constraints
from assistant.jobs.context import JobContext, JobOptions
from assistant.jobs.extract import Reading, read_request, reader_name
from assistant.jobs.requests import TicketRequest, request_from_issue
from assistant.jobs.shortlist import shortlist
from assistant.jobs.tickets import TicketState
from assistant.masking import mask_text
from skillmatch.ingest.http import SourceAuthError, SourceError, SourceStatusError

log = logging.getLogger(__name__)

Action = Literal["posted", "updated", "unchanged", "unusable", "busy", "failed"]


class RunAborted(Exception):
    """Jira refused our credentials mid-run (401): no further ticket can succeed."""


@dataclass
class TicketOutcome:
    key: str
    action: Action
    detail: str = ""  # one line for people
    kind: str | None = None  # "suggestions" | "missing_details"
    comment_id: str | None = None
    candidates: int = 0
    extractor: str | None = None
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    dry_run: bool = False
    comment: Rendered | None = None

    @property
    def failed(self) -> bool:
        return self.action == "failed"


def session_id_for(key: str) -> str:
    return f"jira:{key}"


def call(job: JobContext, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """An @observe'd function, or the function itself when tracing is off (no client lookups at all)."""
    return fn(*args, **kwargs) if job.telemetry.client is not None else fn.__wrapped__(*args, **kwargs)


def update_span(job: JobContext, **values: Any) -> None:
    if job.telemetry.client is not None:
        job.telemetry.client.update_current_span(**values)


async def process_ticket(
    job: JobContext, issue: dict[str, Any], options: JobOptions, trace_id: str
) -> TicketOutcome:
    with propagate_attributes(session_id=session_id_for(issue["key"]), tags=["jira-job"]):
        return await call(job, _ticket_span, job, issue, options, trace_id)


@observe(name="jira.ticket", capture_input=False, capture_output=False)
async def _ticket_span(
    job: JobContext, issue: dict[str, Any], options: JobOptions, trace_id: str
) -> TicketOutcome:
    key = issue["key"]
    request = request_from_issue(issue, job.settings.jira_request_fields, job.jira.browse_url(key))
    update_span(job, input={"key": key, "summary": request.summary, "fields": request.fields})
    try:
        outcome = await _process(job, request, options, trace_id)
    except SourceAuthError as exc:
        if exc.status == 401:
            raise RunAborted(str(exc)) from exc
        outcome = TicketOutcome(key, "failed", f"no permission: {exc}")
    except SourceStatusError as exc:
        reason = "not found, or not visible to the Jira user" if exc.status == 404 else str(exc)
        outcome = TicketOutcome(key, "failed", reason)
    except SourceError as exc:
        outcome = TicketOutcome(key, "failed", str(exc))
    except Exception as exc:  # a bug on one ticket must not cost the rest of the board its answers
        log.exception("%s: unexpected error", key)
        outcome = TicketOutcome(key, "failed", f"unexpected error ({type(exc).__name__}: {exc})")
    outcome.detail = mask_text(outcome.detail)
    update_span(
        job,
        output={"action": outcome.action, "detail": outcome.detail, "candidates": outcome.candidates},
        metadata={"kind": outcome.kind, "comment_id": outcome.comment_id, "llm_calls": outcome.llm_calls},
        level="ERROR" if outcome.failed else None,
        status_message=outcome.detail if outcome.failed else None,
    )
    return outcome


async def _process(
    job: JobContext, request: TicketRequest, options: JobOptions, trace_id: str
) -> TicketOutcome:
    key = request.key
    input_hash = request.input_hash(reader_name(job.llm))
    state = await asyncio.to_thread(job.store.read, key)
    cached = _cached_reading(state, input_hash)
    if cached is not None:
        rendered = await _render(
            job, request, cached.constraints, options, has_comment=bool(state and state.comment_id)
        )
        if rendered is None:
            return _unusable(key, cached, options)
        if state is not None and state.comment_id and state.result_hash == rendered.hash:
            return _outcome(
                key, "unchanged", cached, rendered, state.comment_id, options, "no change since the last run"
            )
    if options.dry_run:
        return await _dry_run(job, request, options, trace_id, state, cached)
    if not await asyncio.to_thread(job.store.acquire, key, job.owner, job.settings.jira_lease_seconds):
        return TicketOutcome(key, "busy", "another run is working on this ticket; left to it")
    try:
        return await _under_lease(job, request, options, trace_id, input_hash)
    finally:
        await asyncio.shield(asyncio.to_thread(job.store.release, key, job.owner))


async def _under_lease(
    job: JobContext, request: TicketRequest, options: JobOptions, trace_id: str, input_hash: str
) -> TicketOutcome:
    key = request.key
    state = await asyncio.to_thread(job.store.read, key)  # fresh: another run may have finished meanwhile
    reading = _cached_reading(state, input_hash) or await _read(job, request, trace_id)
    stored_hash = input_hash if reading.keep else None
    rendered = await _render(
        job, request, reading.constraints, options, has_comment=bool(state and state.comment_id)
    )
    if rendered is None or (state and state.comment_id and state.result_hash == rendered.hash):
        await asyncio.to_thread(
            job.store.save,
            key,
            input_hash=stored_hash,
            constraints=reading.constraints.stored(),
            keep_result=True,
        )
        if rendered is None:
            return _unusable(key, reading, options)
        assert state is not None
        return _outcome(
            key, "unchanged", reading, rendered, state.comment_id, options, "no change since the last run"
        )
    if not await asyncio.to_thread(job.store.renew, key, job.owner, job.settings.jira_lease_seconds):
        return TicketOutcome(
            key, "failed", "the ticket's lease expired before the comment was written; next run"
        )
    comment_id, action = await asyncio.to_thread(
        _write_comment, job, key, rendered, state.comment_id if state else None
    )
    await asyncio.to_thread(
        job.store.save,
        key,
        input_hash=stored_hash,
        constraints=reading.constraints.stored(),
        result_hash=rendered.hash,
        comment_id=comment_id,
    )
    outcome = _outcome(key, action, reading, rendered, comment_id, options, f"comment {comment_id}")
    problem = await asyncio.to_thread(_mirror_property, job, key, comment_id, rendered.hash)
    if problem:
        outcome.detail += f"; {problem}"
    return outcome


async def _dry_run(
    job: JobContext,
    request: TicketRequest,
    options: JobOptions,
    trace_id: str,
    state: TicketState | None,
    cached: Reading | None,
) -> TicketOutcome:
    reading = cached or await _read(job, request, trace_id)
    known = state.comment_id if state else None
    if known is None:
        known = await asyncio.to_thread(_find_comment, job, request.key)
    rendered = await _render(job, request, reading.constraints, options, has_comment=known is not None)
    if rendered is None:
        return _unusable(request.key, reading, options)
    if known and state is not None and state.comment_id == known and state.result_hash == rendered.hash:
        return _outcome(
            request.key, "unchanged", reading, rendered, known, options, "no change since the last run"
        )
    action: Action = "updated" if known else "posted"
    return _outcome(request.key, action, reading, rendered, known, options, "dry run: nothing written")


async def _read(job: JobContext, request: TicketRequest, trace_id: str) -> Reading:
    return await read_request(
        request, llm=job.llm, telemetry=job.telemetry, today=job.today(), trace_id=trace_id
    )


def _cached_reading(state: TicketState | None, input_hash: str) -> Reading | None:
    if state is None or state.input_hash != input_hash or state.constraints is None:
        return None
    return Reading(Constraints.model_validate(state.constraints), keep=True)


async def _render(
    job: JobContext,
    request: TicketRequest,
    constraints: Constraints,
    options: JobOptions,
    *,
    has_comment: bool,
) -> Rendered | None:
    hint = job.settings.jira_feedback_hint
    if not constraints.usable:
        if options.ask_for_details or has_comment:
            return render_missing(request, constraints, feedback_hint=hint)
        return None
    found = await call(job, _search_span, job, constraints, options)
    return render_suggestions(request, constraints, found, feedback_hint=hint)


@observe(name="jira.search", as_type="retriever", capture_input=False, capture_output=False)
async def _search_span(job: JobContext, constraints: Constraints, options: JobOptions) -> Any:
    update_span(job, input={"query": constraints.query, "available_only": options.available_only})
    found = await asyncio.to_thread(
        shortlist,
        job.searcher,
        job.sessions,
        constraints,
        top=job.settings.jira_top,
        available_only=options.available_only,
        min_availability=job.settings.jira_min_availability,
    )
    update_span(job, output=[c.name for c in found.candidates])
    return found


def _unusable(key: str, reading: Reading, options: JobOptions) -> TicketOutcome:
    missing = ", ".join(reading.constraints.missing) or "role or skills"
    return _outcome(key, "unusable", reading, None, None, options, f"not a usable request: missing {missing}")


def _outcome(
    key: str,
    action: Action,
    reading: Reading,
    rendered: Rendered | None,
    comment_id: str | None,
    options: JobOptions,
    detail: str,
) -> TicketOutcome:
    candidates = 0
    if rendered is not None and rendered.kind == "suggestions":
        candidates = sum(
            len(block.get("content", []))
            for block in rendered.body["content"]
            if block["type"] == "orderedList"
        )
    return TicketOutcome(
        key=key,
        action=action,
        detail=detail,
        kind=rendered.kind if rendered else None,
        comment_id=comment_id,
        candidates=candidates,
        extractor=reading.constraints.extractor,
        llm_calls=reading.llm_calls,
        tokens_in=reading.tokens_in,
        tokens_out=reading.tokens_out,
        dry_run=options.dry_run,
        comment=rendered,
    )


# --- Jira side (synchronous: run in a worker thread) -----------------------------------------------------


def _write_comment(job: JobContext, key: str, rendered: Rendered, known_id: str | None) -> tuple[str, Action]:
    """Update our comment where it is, or post it; (comment id, "updated" | "posted")."""
    target = known_id or _find_comment(job, key)
    if target is not None:
        try:
            job.jira.update_comment(key, target, rendered.body)
            return target, "updated"
        except SourceStatusError as exc:
            if exc.status != 404:
                raise
            log.info("%s: comment %s is gone (deleted in Jira?); posting a new one", key, target)
    return job.jira.add_comment(key, rendered.body)["id"], "posted"


def _find_comment(job: JobContext, key: str) -> str | None:
    """Our comment when the database does not know it: the issue property, else the marker."""
    try:
        mirrored = job.jira.get_property(key, PROPERTY)
    except SourceAuthError as exc:
        if exc.status == 401:
            raise
        mirrored = None  # the property is a convenience; the comments are the truth
    if isinstance(mirrored, dict) and mirrored.get("commentId"):
        return str(mirrored["commentId"])
    for comment in job.jira.comments(key):
        if is_ours(comment, job.bot_account_id):
            return str(comment["id"])
    return None


def _mirror_property(job: JobContext, key: str, comment_id: str, result_hash: str) -> str | None:
    """Best effort: a problem is reported with the ticket, the comment stands either way."""
    try:
        job.jira.set_property(
            key, PROPERTY, {"commentId": comment_id, "resultHash": result_hash, "version": 1}
        )
    except SourceAuthError as exc:
        if exc.status == 401:
            raise
        return f"issue property not written (HTTP {exc.status}: the Jira user may not edit this issue)"
    except SourceError as exc:
        return f"issue property not written ({exc})"
    return None
