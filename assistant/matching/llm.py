"""The LLM matcher: a model reads the hybrid's top candidates and returns a graded ranking with a reason each.

One call per request through the routed client (`RoutedLLM`, so failover, retries and the circuit breaker
apply, and the call is a Langfuse generation named `matcher.rank`), with a time limit of its own. The
candidates' evidence goes in as a TOON table, the way the tools send it; contact details are removed. The
answer must be JSON that pydantic accepts: every id a candidate's, none twice, grades 0..3. Anything else,
or an outage, leaves the hybrid order standing; the fact is written to the ledger (a failed row for an
outage) and sent to Langfuse as an event, and `Judged.fallback` says why.

The search runs in worker threads (CLI, tools); the async client runs on this matcher's own event loop in
a background thread, so a search waits for the model without ever blocking a server's event loop, and the
caller's context (the Langfuse trace) goes with the call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import re
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from assistant.config import AssistantSettings
from assistant.llm import (
    AllProvidersFailed,
    LLMRequest,
    LLMRequestError,
    RoutedLLM,
    build_providers,
)
from assistant.masking import mask_text
from assistant.telemetry import CallRecord, Telemetry, estimate_cost, request_hash
from assistant.tools.base import encode_toon, flat_records
from assistant.tools.cv import languages_text
from skillmatch.matching import Judged
from skillmatch.search import SearchResult

log = logging.getLogger(__name__)
T = TypeVar("T")

NAME = "llm"
GENERATION_NAME = "matcher.rank"
PROMPT_VERSION = "matcher-v1"
MAX_REASON_CHARS = 200
EVIDENCE_CHARS = 220

SYSTEM_PROMPT = """\
You are a staffing manager at an IT consultancy. Rank the candidates for the request by how well their \
CV evidence fits it: the skills and the work asked for, the seniority, current (not long past) hands-on \
experience. A skill the evidence says someone lacks counts against them. Judge only from the evidence given.
Grades: 3 ideal, 2 good, 1 partial fit, 0 not a fit.
Answer with one JSON object and nothing else:
{"ranking": [{"id": <candidate id>, "grade": <0-3>, "reason": "<one short line, at most 20 words>"}]}
List every candidate exactly once, best first."""


class Verdict(BaseModel):
    id: int
    grade: int = Field(ge=0, le=3)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class Ranking(BaseModel):
    ranking: list[Verdict]


class InvalidRanking(ValueError):
    """The model's answer is not the ranking asked for; the message says what is wrong."""


def candidate_rows(candidates: Sequence[SearchResult]) -> list[dict[str, Any]]:
    """What the model reads per candidate: one flat row (a TOON table), ids 1..n in hybrid order."""
    return flat_records(
        [
            {
                "id": i,
                "title": r.title,
                "location": r.location,
                "seniority": r.seniority,
                "years": r.years_experience,
                "languages": languages_text(r.languages),
                "skills": r.matched_skills,
                "evidence": " | ".join(f"{e.year}: {e.text}" if e.year else e.text for e in r.evidence[:2])[
                    :EVIDENCE_CHARS
                ],
            }
            for i, r in enumerate(candidates, 1)
        ]
    )


def messages_for(query: str, candidates: Sequence[SearchResult]) -> list[dict[str, str]]:
    table = encode_toon({"candidates": candidate_rows(candidates)})
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": mask_text(f"Request: {query}\n\n{table}")},
    ]


def parse_ranking(content: str | None, count: int) -> Ranking:
    """The model's JSON (a ```json fence is tolerated), checked: ids 1..count, none twice."""
    text = (content or "").strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        ranking = Ranking.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise InvalidRanking(f"{where}: {first['msg']}") from None
    ids = [v.id for v in ranking.ranking]
    unknown = sorted({i for i in ids if not 1 <= i <= count})
    if unknown:
        raise InvalidRanking(f"unknown candidate id {unknown[0]} (ids are 1..{count})")
    if len(set(ids)) < len(ids):
        raise InvalidRanking("a candidate is ranked twice")
    if not ids:
        raise InvalidRanking("the ranking is empty")
    return ranking


class _LoopThread:
    """An event loop of its own in a daemon thread: coroutines are submitted from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="llm-matcher", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        context = contextvars.copy_context()  # the caller's Langfuse trace goes with the call
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = self.loop.create_task(coro, context=context)

            def finished(t: asyncio.Task[T]) -> None:
                if t.cancelled():
                    done.cancel()
                elif t.exception() is not None:
                    done.set_exception(t.exception())  # type: ignore[arg-type]
                else:
                    done.set_result(t.result())

            task.add_done_callback(finished)

        self.loop.call_soon_threadsafe(start)
        return done.result(timeout)

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


class LLMMatcher:
    """`skillmatch.matching.Matcher` backed by the routed LLM client."""

    def __init__(
        self,
        settings: AssistantSettings,
        *,
        telemetry: Telemetry,
        llm: RoutedLLM | None = None,
        session_id: str = "matcher",
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry
        self.session_id = session_id
        self._llm = llm
        self._runner: _LoopThread | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return NAME

    @property
    def candidates(self) -> int:
        return self.settings.matcher_candidates

    @property
    def llm(self) -> RoutedLLM:
        if self._llm is None:
            self._llm = RoutedLLM(
                build_providers(self.settings),
                retries=self.settings.llm_retries,
                cooldown_seconds=self.settings.llm_cooldown_seconds,
            )
        return self._llm

    def judge(self, query: str, candidates: Sequence[SearchResult]) -> Judged:
        candidates = list(candidates)
        if not candidates:
            return Judged([])
        if not self.llm.providers:
            return Judged(candidates, fallback="no language model is configured")
        with self._lock:
            if self._runner is None:
                self._runner = _LoopThread()
            runner = self._runner
        timeout = self.settings.matcher_timeout
        try:
            return runner.run(self._judge(query, candidates), timeout + 5)
        except concurrent.futures.TimeoutError:  # the deadline inside should have ended it first
            return Judged(candidates, fallback=f"no answer within {timeout:g} s")

    async def _judge(self, query: str, candidates: list[SearchResult]) -> Judged:
        request = LLMRequest(
            messages=messages_for(query, candidates),
            temperature=0.0,
            max_tokens=60 + 45 * len(candidates),
            generation_name=GENERATION_NAME,
            metadata={"prompt_version": PROMPT_VERSION, "candidates": len(candidates)},
            deadline=self.llm.clock() + self.settings.matcher_timeout,
        )
        prompt_hash = request_hash(
            {
                "messages": request.messages,
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
            }
        )
        request.metadata["prompt_hash"] = prompt_hash
        trace_id = self._trace_id()
        started = time.perf_counter()
        try:
            response = await self.llm.complete(request)
        except (AllProvidersFailed, LLMRequestError) as exc:
            latency = (time.perf_counter() - started) * 1000
            await asyncio.to_thread(
                self.telemetry.record_call,
                CallRecord.failed(
                    exc,
                    trace_id=trace_id,
                    session_id=self.session_id,
                    prompt_hash=prompt_hash,
                    latency_ms=latency,
                ),
            )
            return self._fallback(candidates, f"the language model is unavailable: {exc}", latency, calls=1)
        await asyncio.to_thread(
            self.telemetry.record_call,
            CallRecord.answered(
                response, trace_id=trace_id, session_id=self.session_id, prompt_hash=prompt_hash
            ),
        )
        tokens_in = response.usage.get("prompt_tokens", 0)
        tokens_out = response.usage.get("completion_tokens", 0)
        cost = estimate_cost(self.settings.llm_prices, response.model, tokens_in, tokens_out)
        spent = {"tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": cost, "calls": 1}
        try:
            ranking = parse_ranking(response.content, len(candidates))
        except InvalidRanking as exc:
            judged = self._fallback(
                candidates, f"its answer was not a valid ranking: {exc}", response.latency_ms
            )
            judged.tokens_in, judged.tokens_out, judged.cost_usd = tokens_in, tokens_out, cost
            return judged
        verdicts = sorted(ranking.ranking, key=lambda v: -v.grade)  # stable: the model's order within a grade
        ordered = [candidates[v.id - 1] for v in verdicts]
        seen = {v.id for v in verdicts}
        ordered += [c for i, c in enumerate(candidates, 1) if i not in seen]  # left out: after, hybrid order
        return Judged(
            ordered,
            grades={candidates[v.id - 1].person_id: v.grade for v in verdicts},
            reasons={candidates[v.id - 1].person_id: mask_text(" ".join(v.reason.split())) for v in verdicts},
            latency_ms=response.latency_ms,
            **spent,  # type: ignore[arg-type]
        )

    def _fallback(
        self, candidates: list[SearchResult], why: str, latency_ms: float, *, calls: int = 1
    ) -> Judged:
        why = mask_text(why)
        log.warning("LLM matcher: %s; the hybrid order stands", why)
        self.telemetry.event("matcher.llm.fallback", {"reason": why}, level="WARNING")
        return Judged(list(candidates), fallback=why, latency_ms=latency_ms, calls=calls)

    def _trace_id(self) -> str | None:
        client = self.telemetry.client
        if client is None:
            return None
        try:
            return client.get_current_trace_id()
        except Exception:  # outside a trace; the ledger row simply has none
            return None

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None
