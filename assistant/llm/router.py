"""The routed client: one loop over providers and attempts, for plain and streamed calls alike.

Per failure kind (failures.classify):

- timeout, connection errors, 408/409/429, 5xx, malformed answers, a stream that breaks: retry on the same
  provider (`retries` extra attempts; backoff, or `Retry-After` when it is at most MAX_RETRY_AFTER seconds),
  then the next provider, and trip its circuit (skip it for `cooldown_seconds`). A timeout is not retried
  on the same provider while another one is left: the user has already waited a full timeout.
- 401/403/404: misconfiguration. Next provider at once, logged at ERROR, circuit opened.
- Azure content filter (400): next provider (the self-hosted model may answer).
- context length: older turns are trimmed (`request.trim`; the question and the current tool round never)
  and the same provider asked again, at most MAX_TRIMS times; then the next provider, with the whole
  conversation (its window may be larger); LLMRequestError when no provider is left.
- vLLM without a tool parser (400 for tool requests): next provider, logged at ERROR, and skipped for tool
  requests during the cool-down. Tools are never dropped silently.
- any other 4xx: LLMRequestError at once (a bug in our request, not an outage).

The time budget: `request.deadline` (in the router's clock) bounds the whole call. Each attempt gets at
most the time left (as its HTTP timeout, and per streamed chunk); a retry wait that would not fit is not
taken; an attempt cut short by the budget, or no time left, raises TurnBudgetSpent.

Streaming: deltas are yielded as they come. When a stream breaks after text, a `discard` event says that
every delta since the last discard is void, and the call goes on as above (retry, failover); the caller
replaces what it showed. When every provider is down or circuit-open they are all tried (half-open).

Every attempt is a Langfuse generation (through the langfuse.openai wrapper) whose metadata names the
provider, model, attempt, routing time so far and a `call_id` shared by all attempts of one call, so an
audit can tell a retried call from a repeated one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import sys
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from assistant.llm.breaker import CircuitBreaker
from assistant.llm.calls import (
    SKIPPED,
    Attempt,
    LLMRequest,
    LLMResponse,
    Outcome,
    StreamEvent,
    estimate_completion_tokens,
    estimate_prompt_tokens,
)
from assistant.llm.failures import (
    ROUTABLE,
    AllProvidersFailed,
    LLMRequestError,
    MalformedResponse,
    StreamInterrupted,
    TurnBudgetSpent,
    classify,
    context_overflow,
    describe,
    retry_delay,
)
from assistant.llm.providers import Provider, is_reasoning_model
from assistant.llm.stream import StreamAccumulator

logger = logging.getLogger(__name__)

MAX_TRIMS = 3  # context-length trims per request and provider
TRIM_MARGIN = 1.1  # our o200k count and the provider's tokenizer differ; drop a little more than reported
TRIM_SLACK = 50  # tokens


class RoutedLLM:
    def __init__(
        self,
        providers: list[Provider],
        *,
        retries: int = 1,
        cooldown_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._providers = list(providers)
        self.retries = max(0, retries)
        self.clock = clock  # deadlines (`LLMRequest.deadline`) are in this clock
        self.breaker = CircuitBreaker(cooldown_seconds, clock)
        self._sleep = sleep

    @property
    def providers(self) -> list[Provider]:
        return list(self._providers)

    @property
    def cooldown_seconds(self) -> float:
        return self.breaker.cooldown_seconds

    def circuit_open(self, name: str) -> bool:
        return self.breaker.is_open(name)

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.client.close()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        events = self._route(request, streaming=False)
        try:
            async for event in events:
                if event.response is not None:
                    return event.response
        finally:
            await events.aclose()  # not left to the garbage collector
        raise AssertionError("unreachable: a route ends with a response or raises")  # pragma: no cover

    def stream(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """Text deltas as they come (a `discard` event voids those before it), then one event with the
        LLMResponse."""
        return self._route(request, streaming=True)

    async def _route(self, request: LLMRequest, *, streaming: bool) -> AsyncGenerator[StreamEvent, None]:
        run = _Run(self, request)
        for provider, has_next in run.candidates():
            run.begin(provider)
            while True:
                timeout = run.attempt_timeout(provider)
                started = time.perf_counter()
                acc = StreamAccumulator()
                try:
                    kwargs = run.kwargs(provider, timeout)
                    if streaming:
                        stream = await provider.client.chat.completions.create(
                            **kwargs, stream=True, stream_options={"include_usage": True}
                        )
                        try:
                            chunks = aiter(stream)
                            while (chunk := await run.next_chunk(chunks)) is not None:
                                if text := acc.add(chunk):
                                    yield StreamEvent(delta=text)
                        finally:
                            await stream.close()
                        response = run.response_from_stream(provider, acc, started)
                    else:
                        completion = await provider.client.chat.completions.create(**kwargs)
                        response = run.response_from_completion(provider, completion, started)
                except ROUTABLE as exc:
                    run.partial_text = acc.content() if acc.text_yielded else None
                    if acc.text_yielded:
                        yield StreamEvent(discard=True)
                    if await run.failed(provider, exc, started, timeout, has_next):
                        continue
                    break
                yield StreamEvent(response=response)
                return
        raise run.exhausted()


class _Run:
    """The state of one routed call: messages (after trims), attempts, timing, the budget."""

    def __init__(self, llm: RoutedLLM, request: LLMRequest) -> None:
        self.llm = llm
        self.request = request
        self.messages = list(request.messages)
        self.attempts: list[Attempt] = []
        self.started = time.perf_counter()
        self.call_id = uuid.uuid4().hex
        self.trims = 0
        self.capped = False  # the current attempt's timeout is the budget left, not the provider's own
        self.partial_text: str | None = None  # what the last attempt streamed before it broke

    # -- providers and attempts --

    def candidates(self) -> list[tuple[Provider, bool]]:
        """Providers to try, in order, each with "is another one left"; skipped ones are recorded."""
        breaker = self.llm.breaker
        needs_tools = bool(self.request.tools)
        usable: list[Provider] = []
        for provider in self.llm.providers:
            if needs_tools and (not provider.supports_tools or breaker.rejects_tools(provider.name)):
                self._skip(provider, "skipped_no_tools", "provider cannot call tools")
            else:
                usable.append(provider)
        healthy = [p for p in usable if not breaker.is_open(p.name)]
        if not healthy:
            healthy = usable  # every circuit is open: try them all (half-open) rather than fail unasked
        for provider in usable:
            if provider not in healthy:
                left = breaker.open_for(provider.name)
                self._skip(provider, "skipped_open_circuit", f"circuit open for {left:.0f} s more")
        return [(p, i < len(healthy) - 1) for i, p in enumerate(healthy)]

    def begin(self, provider: Provider) -> None:
        """A provider starts from the whole conversation: its context window may be larger."""
        self.messages = list(self.request.messages)
        self.trims = 0

    def attempt_timeout(self, provider: Provider) -> float:
        deadline = self.request.deadline
        if deadline is None:
            self.capped = False
            return provider.timeout
        remaining = deadline - self.llm.clock()
        if remaining <= 0:
            raise TurnBudgetSpent(self.attempts)
        self.capped = remaining < provider.timeout
        return min(provider.timeout, remaining)

    async def next_chunk(self, chunks: AsyncIterator[Any]) -> Any:
        """The next streamed chunk, or None at the end; never waits past the deadline (TimeoutError)."""
        deadline = self.request.deadline
        remaining = None if deadline is None else deadline - self.llm.clock()
        if remaining is not None and remaining <= 0:
            raise TimeoutError("the turn's time budget ran out mid-stream")
        try:
            async with asyncio.timeout(remaining):
                return await anext(chunks)
        except StopAsyncIteration:
            return None

    def _skip(self, provider: Provider, outcome: Outcome, reason: str) -> None:
        self.attempts.append(Attempt(provider.name, provider.model, outcome, reason, 0.0))

    def tries_on(self, provider: Provider) -> int:
        return sum(a.provider == provider.name and a.outcome not in SKIPPED for a in self.attempts)

    def kwargs(self, provider: Provider, timeout: float) -> dict[str, Any]:
        request = self.request
        metadata = {
            **request.metadata,
            "provider": provider.name,
            "model": provider.model,
            "attempt": self.tries_on(provider) + 1,  # on this provider
            "attempts_total": sum(a.outcome not in SKIPPED for a in self.attempts) + 1,
            "routing_ms": round((time.perf_counter() - self.started) * 1000, 1),  # spent before this call
            "call_id": self.call_id,  # the same for every attempt of this call
        }
        kwargs: dict[str, Any] = {
            "model": provider.model,
            "messages": self.messages,
            "name": request.generation_name,
            "metadata": metadata,
            "timeout": timeout,
        }
        if request.tools:
            kwargs["tools"] = request.tools
            if request.tool_choice is not None:
                kwargs["tool_choice"] = request.tool_choice
        reasoning = is_reasoning_model(provider.model)
        if request.temperature is not None and not reasoning:  # reasoning models accept only the default
            kwargs["temperature"] = request.temperature
        if request.max_tokens is not None:
            kwargs["max_completion_tokens" if reasoning else "max_tokens"] = request.max_tokens
        if request.langfuse_prompt is not None:
            kwargs["langfuse_prompt"] = request.langfuse_prompt
        return kwargs

    def record(
        self, provider: Provider, outcome: Outcome, exc: BaseException | None, started: float, timeout: float
    ) -> None:
        error = describe(exc, provider, timeout) if exc is not None else None
        latency = (time.perf_counter() - started) * 1000
        self.attempts.append(Attempt(provider.name, provider.model, outcome, error, latency))

    def exhausted(self) -> AllProvidersFailed:
        if self.partial_text is not None:
            return StreamInterrupted(self.attempts, self.partial_text)
        return AllProvidersFailed(self.attempts)

    # -- failures --

    async def failed(
        self, provider: Provider, exc: BaseException, started: float, allowed: float, has_next: bool
    ) -> bool:
        """Record the failure and decide: True = try this provider again (after any wait), False = next.
        `allowed`: the seconds this attempt was given."""
        timeout = allowed
        kind = classify(exc)
        outcome: Outcome = {"timeout": "retryable", "no_tools": "misconfigured"}.get(kind, kind)  # type: ignore[assignment]
        self.record(provider, outcome, exc, started, timeout)
        breaker = self.llm.breaker
        if (
            kind == "timeout"
            and self.request.deadline is not None
            and (self.capped or isinstance(exc, TimeoutError))
        ):
            logger.warning(
                "LLM provider %s did not answer within the turn's time budget (%s)",
                provider.name,
                describe(exc, provider, timeout),
            )
            raise TurnBudgetSpent(self.attempts) from exc
        if kind == "context_length":
            return self._trim(provider, exc, has_next)
        if kind == "fatal":
            raise LLMRequestError(
                f"LLM request rejected by {provider.name}: {describe(exc, provider)}", self.attempts
            ) from exc
        if kind == "misconfigured":
            logger.error(
                "LLM provider %s (model %s) is misconfigured: %s. Failing over; check its API key, "
                "endpoint and model/deployment name.",
                provider.name,
                provider.model,
                describe(exc, provider),
            )
            breaker.trip(provider.name)
            return False
        if kind == "no_tools":
            logger.error(
                "LLM provider %s (model %s) rejected a tool request: %s. Start vLLM with "
                "--enable-auto-tool-choice --tool-call-parser <parser>; skipping it for tool requests.",
                provider.name,
                provider.model,
                describe(exc, provider),
            )
            breaker.note_rejects_tools(provider.name)
            return False
        if kind == "content_filter":
            logger.warning("LLM provider %s refused the prompt (content filter); failing over", provider.name)
            return False
        # retryable or timeout; trims before do not use up retries
        failures = sum(a.provider == provider.name and a.outcome == "retryable" for a in self.attempts)
        delay = retry_delay(exc, failures - 1)
        retry = failures <= self.llm.retries and delay is not None and not (kind == "timeout" and has_next)
        if retry and delay and self.request.deadline is not None:
            retry = self.request.deadline - self.llm.clock() > delay  # a wait the budget cannot pay for
        logger.warning(
            "LLM provider %s failed (attempt %d): %s; %s",
            provider.name,
            self.tries_on(provider),
            describe(exc, provider, timeout),
            "retrying" if retry else "failing over" if has_next else "giving up",
        )
        if retry:
            if delay:
                await self.llm._sleep(delay)
            return True
        breaker.trip(provider.name)
        return False

    def _trim(self, provider: Provider, exc: BaseException, has_next: bool) -> bool:
        """True: trimmed, ask the same provider again; False: ask the next one; raise when none is left."""
        trim = self.request.trim
        if trim is None:
            reason = "no trim function"
        elif self.trims >= MAX_TRIMS:
            reason = f"still too long after {MAX_TRIMS} trims"
        else:
            overflow = context_overflow(exc)
            if self.trims == MAX_TRIMS - 1:
                want = sys.maxsize  # the last trim keeps only what must stay
            elif overflow is not None:
                want = math.ceil(overflow * TRIM_MARGIN) + TRIM_SLACK
            else:
                want = estimate_prompt_tokens(self.messages) // 2
            shorter = trim(list(self.messages), want)
            if shorter is not None and _size(shorter) < _size(self.messages):
                self.trims += 1
                logger.info(
                    "context length exceeded on %s; retrying without the oldest turns (%d of %d messages)",
                    provider.name,
                    len(shorter),
                    len(self.messages),
                )
                self.messages = shorter
                return True
            reason = "the history cannot be trimmed further"
        if has_next:
            logger.warning(
                "context length exceeded on %s (%s); asking the next provider", provider.name, reason
            )
            return False
        raise LLMRequestError(
            f"context length exceeded on {provider.name} ({reason})", self.attempts
        ) from exc

    # -- responses --

    def _success(self, provider: Provider, started: float, timeout: float) -> None:
        self.record(provider, "ok", None, started, timeout)
        self.llm.breaker.reset(provider.name)

    def response_from_completion(self, provider: Provider, completion: Any, started: float) -> LLMResponse:
        choices = getattr(completion, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise MalformedResponse("the answer has no choices")
        choice = choices[0]
        tool_calls = [_tool_call_dict(call) for call in choice.message.tool_calls or []]
        self._success(provider, started, provider.timeout)
        return self._response(
            provider,
            choice.message.content,
            tool_calls,
            choice.finish_reason,
            completion.usage,
            completion.model,
        )

    def response_from_stream(self, provider: Provider, acc: StreamAccumulator, started: float) -> LLMResponse:
        if acc.finish_reason is None:
            raise MalformedResponse("the stream ended without a finish_reason")
        self._success(provider, started, provider.timeout)
        return self._response(
            provider, acc.content() or None, acc.tool_calls(), acc.finish_reason, acc.usage, acc.model
        )

    def _response(
        self,
        provider: Provider,
        content: str | None,
        tool_calls: list[dict[str, Any]],
        finish_reason: str | None,
        usage: Any,
        response_model: str | None,
    ) -> LLMResponse:
        estimated = usage is None or getattr(usage, "prompt_tokens", None) is None
        if estimated:
            tokens = {
                "prompt_tokens": estimate_prompt_tokens(self.messages, self.request.tools),
                "completion_tokens": estimate_completion_tokens(content, tool_calls),
            }
        else:
            tokens = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens or 0}
        return LLMResponse(
            content=content,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            provider=provider.name,
            model=provider.model,
            attempts=self.attempts,
            latency_ms=(time.perf_counter() - self.started) * 1000,
            usage=tokens,
            messages_sent=self.messages,
            usage_estimated=estimated,
            response_model=response_model,
            call_id=self.call_id,
        )


def _tool_call_dict(call: Any) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments or ""},
    }


def _size(messages: list[dict[str, Any]]) -> int:
    return len(json.dumps(messages, ensure_ascii=False, default=str))
