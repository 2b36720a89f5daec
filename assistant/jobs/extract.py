"""Reading a ticket: one LLM call that returns the request's constraints as JSON, or the rule-based parser.

The call goes through the routed client (a Langfuse generation named `jira.read_request` inside the
ticket's span) and gets one ledger row, ok or failed, with the run's trace id and the session `jira:{KEY}`.
An answer that is not the JSON object asked for falls back to the parser, and that reading is kept until
the ticket changes: a model that cannot read a ticket is not asked again every 15 minutes. An outage also
falls back, but is not kept, so the next run asks the model again (failed calls cost nothing).
Contact details are removed from the ticket before the model sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date

from assistant.jobs.constraints import (
    Constraints,
    InvalidAnswer,
    from_answer,
    parse_answer,
    parse_constraints,
)
from assistant.jobs.requests import EXTRACTION_VERSION, TicketRequest
from assistant.llm import AllProvidersFailed, LLMRequest, LLMRequestError, RoutedLLM
from assistant.masking import mask_text
from assistant.telemetry import CallRecord, Telemetry, request_hash

log = logging.getLogger(__name__)

GENERATION_NAME = "jira.read_request"
MAX_ANSWER_TOKENS = 600

SYSTEM_PROMPT = """\
You read staffing request tickets of an IT consultancy and extract what the request asks for.
Answer with one JSON object and nothing else, with exactly these keys:
- "usable": false if the ticket does not describe whom to staff (neither a role nor skills), else true
- "role": the role asked for, in the ticket's words (e.g. "Java developer", "Scrum Master"), or null
- "skills": list of required technologies, tools and methods, short names (e.g. ["java", "kafka"])
- "domain": the business domain (e.g. "insurance"), or null
- "seniority": "junior", "mid", "senior" or "lead", or null
- "locations": list of cities where the person must work; [] when remote or not said
- "language": the spoken language required, ISO 639-1 code with a CEFR level, e.g. "de:C1", or null
- "start": first day as "YYYY-MM-DD", or null; "end": last day as "YYYY-MM-DD", or null
- "headcount": how many people are wanted (integer), or null
- "missing": what a staffer would still need to know, from ["role or skills", "period"]
Today is {today}: resolve relative dates ("from January", "for three months") against it.
Do not guess: use null or [] for anything the ticket does not say."""


@dataclass(frozen=True)
class Reading:
    constraints: Constraints
    keep: bool  # store it with the ticket's input hash (False after an outage: ask the model next run)
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


def reader_name(llm: RoutedLLM | None) -> str:
    """Part of a ticket's input hash: a reading by rules is redone once a model is configured."""
    return "model" if llm is not None and llm.providers else "parser"


def messages_for(request: TicketRequest, today: date) -> list[dict[str, str]]:
    ticket = mask_text(f"Ticket {request.key}\n\n{request.text()}")
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(today=today.isoformat())},
        {"role": "user", "content": ticket},
    ]


async def read_request(
    request: TicketRequest,
    *,
    llm: RoutedLLM | None,
    telemetry: Telemetry,
    today: date,
    trace_id: str,
) -> Reading:
    if request.empty or llm is None or not llm.providers:
        return Reading(parse_constraints(request, today), keep=True)
    llm_request = LLMRequest(
        messages=messages_for(request, today),
        temperature=0.0,
        max_tokens=MAX_ANSWER_TOKENS,
        generation_name=GENERATION_NAME,
        metadata={"ticket": request.key, "prompt_version": EXTRACTION_VERSION},
    )
    prompt_hash = request_hash(
        {
            "messages": llm_request.messages,
            "temperature": llm_request.temperature,
            "max_tokens": llm_request.max_tokens,
        }
    )
    llm_request.metadata["prompt_hash"] = prompt_hash  # the audit finds repeats in Langfuse by it
    session_id = f"jira:{request.key}"
    started = time.perf_counter()
    try:
        response = await llm.complete(llm_request)
    except (AllProvidersFailed, LLMRequestError) as exc:
        await _ledger(
            telemetry,
            CallRecord.failed(
                exc,
                trace_id=trace_id,
                session_id=session_id,
                prompt_hash=prompt_hash,
                latency_ms=(time.perf_counter() - started) * 1000,
            ),
        )
        log.warning("%s: language model unavailable, reading by rules: %s", request.key, mask_text(str(exc)))
        fallback = parse_constraints(request, today).model_copy(
            update={"note": "The language model was unavailable, so this request was read by rules."}
        )
        return Reading(fallback, keep=False, llm_calls=1)
    await _ledger(
        telemetry,
        CallRecord.answered(response, trace_id=trace_id, session_id=session_id, prompt_hash=prompt_hash),
    )
    tokens_in = response.usage.get("prompt_tokens", 0)
    tokens_out = response.usage.get("completion_tokens", 0)
    try:
        constraints = from_answer(parse_answer(response.content), request, today)
    except InvalidAnswer as exc:
        log.warning("%s: the model's reading is not usable (%s); reading by rules", request.key, exc)
        telemetry.event(
            "jira.read_request.invalid", {"ticket": request.key, "problem": str(exc)}, level="WARNING"
        )
        note = f"The language model's reading was not usable ({exc}), so this request was read by rules."
        note = mask_text(note)
        constraints = parse_constraints(request, today).model_copy(update={"note": note})
    return Reading(constraints, keep=True, llm_calls=1, tokens_in=tokens_in, tokens_out=tokens_out)


async def _ledger(telemetry: Telemetry, record: CallRecord) -> None:
    await asyncio.to_thread(telemetry.record_call, record)
