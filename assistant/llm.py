"""Routed OpenAI-compatible chat client: primary -> backup -> self-hosted, with bounded retries.

Providers are data (a name, a model, a langfuse-wrapped async OpenAI client, a timeout). `RoutedLLM`
tries them in order and decides per failure:

- connection errors, timeouts, 408/409/429, 5xx, malformed answers: retry on the same provider
  (`retries` extra attempts; backoff, or `Retry-After` when it is at most MAX_RETRY_AFTER seconds), then
  the next provider, and skip the failed one for `cooldown_seconds` (circuit breaker). A timeout is not
  retried on the same provider while another one is left: the user has already waited a full timeout.
- 401/403/404: misconfiguration. Next provider at once, logged at ERROR, circuit opened.
- Azure content filter (400): next provider (the self-hosted model may answer).
- context length: `request.trim(messages)`, then the same provider again, at most MAX_TRIMS times and
  only while the messages shrink; otherwise LLMRequestError.
- vLLM without a tool parser (400 for tool requests): that provider cannot do tools. Next provider,
  logged at ERROR, and it is skipped for tool requests during the cool-down. Tools are never dropped
  silently: with no tool-capable provider left, AllProvidersFailed says so.
- any other 4xx: LLMRequestError at once (a bug in our request, not an outage).

When every provider's circuit is open they are all tried anyway (half-open). Each call is a Langfuse
generation named `request.generation_name` whose metadata says which provider and model it went to,
which attempt it was and how long routing had taken before it; failed calls show as ERROR generations.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langfuse.openai import AsyncAzureOpenAI, AsyncOpenAI
from openai import APIConnectionError, APIError, APIStatusError, APITimeoutError

from assistant.config import AssistantSettings
from skillmatch.tokencount import count_tokens

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER = 5.0  # seconds; a longer Retry-After means: go to the next provider now
CONNECT_BACKOFF = 0.05  # seconds before retrying a refused/reset connection (doubles per retry)
BACKOFF = 0.25  # seconds before retrying a 5xx/429/malformed answer (doubles per retry)
MAX_TRIMS = 3  # context-length trims per request
OUTCOMES = (
    "ok",
    "retryable",
    "misconfigured",
    "content_filter",
    "context_length",
    "fatal",
    "skipped_open_circuit",
    "skipped_no_tools",
)


@dataclass(frozen=True)
class Provider:
    name: str  # "openai" | "azure" | "vllm"
    model: str  # model name / Azure deployment / vLLM served name
    client: Any  # async OpenAI-compatible client from `langfuse.openai`
    timeout: float
    supports_tools: bool = True


@dataclass
class LLMRequest:
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | None = None
    temperature: float | None = None  # None: the provider's default
    max_tokens: int | None = None
    generation_name: str = "assistant.llm"
    metadata: dict[str, Any] = field(default_factory=dict)
    langfuse_prompt: Any = None
    trim: Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None] | None = None


@dataclass
class Attempt:
    provider: str
    model: str
    outcome: str  # one of OUTCOMES
    error: str | None
    latency_ms: float


@dataclass
class LLMResponse:
    content: str | None
    tool_calls: list[dict[str, Any]]  # {"id", "type": "function", "function": {"name", "arguments"}}
    finish_reason: str | None
    provider: str
    model: str  # as configured (deployment name for Azure)
    attempts: list[Attempt]
    latency_ms: float  # total, all attempts
    usage: dict[str, int]  # prompt_tokens, completion_tokens
    messages_sent: list[dict[str, Any]]
    usage_estimated: bool = False  # the provider sent no usage; counted with tiktoken o200k
    response_model: str | None = None  # as reported by the server (Azure: the model behind the deployment)

    @property
    def request_count(self) -> int:
        """HTTP requests made (attempts minus providers skipped without a request)."""
        return sum(a.outcome not in _SKIPPED for a in self.attempts)

    def assistant_message(self) -> dict[str, Any]:
        """The reply as a chat message, to append to the history before running tool calls."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message


@dataclass(frozen=True)
class StreamEvent:
    """Text `delta`s as they arrive; the last event has `response` set (and an empty delta)."""

    delta: str = ""
    response: LLMResponse | None = None


_REASONING_MODELS = re.compile(r"^(o\d|gpt-5)")


def is_reasoning_model(model: str) -> bool:
    """OpenAI's o-series and gpt-5 models refuse `max_tokens` and a non-default temperature."""
    return bool(_REASONING_MODELS.match(model.lower()))


class AllProvidersFailed(Exception):
    """Every configured provider failed (or was skipped); `attempts` lists each try."""

    def __init__(self, attempts: list[Attempt], headline: str = "all LLM providers failed") -> None:
        self.attempts = attempts
        super().__init__(f"{headline}: {_summary(attempts)}" if attempts else f"{headline}: none configured")


class StreamInterrupted(AllProvidersFailed):
    """The stream broke after text had been yielded, so it could not fail over. `partial_text`: what came."""

    def __init__(self, attempts: list[Attempt], partial_text: str) -> None:
        super().__init__(attempts, "LLM stream interrupted after the first delta")
        self.partial_text = partial_text


class LLMRequestError(Exception):
    """A non-retryable 400: our request is wrong (or cannot be trimmed to fit). `attempts` as above."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


class _MalformedResponse(Exception):
    """A 200 without the fields a chat completion must have (a broken proxy, a truncated stream)."""


class _StreamBroken(Exception):
    def __init__(self, cause: Exception, partial_text: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.partial_text = partial_text


# -- building providers from settings --


def build_providers(settings: AssistantSettings) -> list[Provider]:
    """Configured providers in `settings.provider_order`; SDK retries off (RoutedLLM owns retries)."""
    providers: list[Provider] = []
    for name in settings.provider_order:
        if name == "openai":
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            if key or settings.openai_base_url:
                client = AsyncOpenAI(
                    api_key=key or "EMPTY",
                    base_url=settings.openai_base_url,
                    timeout=settings.openai_timeout,
                    max_retries=0,
                )
                providers.append(Provider("openai", settings.openai_model, client, settings.openai_timeout))
        elif name == "azure":
            key = settings.azure_openai_api_key.get_secret_value() if settings.azure_openai_api_key else None
            deployment = settings.azure_openai_deployment
            if settings.azure_openai_endpoint and key and deployment:
                client = AsyncAzureOpenAI(
                    azure_endpoint=settings.azure_openai_endpoint,
                    api_key=key,
                    api_version=settings.openai_api_version,
                    azure_deployment=deployment,
                    timeout=settings.azure_timeout,
                    max_retries=0,
                )
                providers.append(Provider("azure", deployment, client, settings.azure_timeout))
        elif name == "vllm":
            if settings.vllm_base_url and settings.vllm_model:
                client = AsyncOpenAI(
                    api_key=settings.vllm_api_key.get_secret_value() or "EMPTY",
                    base_url=settings.vllm_base_url,
                    timeout=settings.vllm_timeout,
                    max_retries=0,
                )
                providers.append(Provider("vllm", settings.vllm_model, client, settings.vllm_timeout))
        else:
            raise ValueError(
                f"unknown LLM provider {name!r} in SKILLMATCH_LLM_PROVIDERS (openai, azure, vllm)"
            )
    return providers


# -- the router --


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
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._sleep = sleep
        self._open_until: dict[str, float] = {}  # circuit breaker, per provider name
        self._no_tools_until: dict[str, float] = {}  # learned: this provider rejects tool requests

    @property
    def providers(self) -> list[Provider]:
        return list(self._providers)

    def circuit_open(self, name: str) -> bool:
        return self._open_until.get(name, float("-inf")) > self._clock()

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.client.close()

    async def complete(self, request: LLMRequest) -> LLMResponse:
        run = _Run(self, request)
        for provider, has_next in run.candidates():
            tries = 0
            while True:
                tries += 1
                started = time.perf_counter()
                try:
                    completion = await provider.client.chat.completions.create(**run.kwargs(provider, tries))
                    response = run.response_from_completion(provider, completion, started)
                except Exception as exc:
                    if not isinstance(exc, _ROUTABLE):
                        raise
                    if await run.failed(provider, exc, started, tries, has_next):
                        continue
                    break
                return response
        raise AllProvidersFailed(run.attempts)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas as they come, then one event with the LLMResponse. Failover before the first delta."""
        run = _Run(self, request)
        for provider, has_next in run.candidates():
            tries = 0
            while True:
                tries += 1
                started = time.perf_counter()
                acc = _StreamAccumulator()
                try:
                    kwargs = run.kwargs(provider, tries)
                    stream = await provider.client.chat.completions.create(
                        **kwargs, stream=True, stream_options={"include_usage": True}
                    )
                    try:
                        async for chunk in stream:
                            text = acc.add(chunk)
                            if text:
                                yield StreamEvent(delta=text)
                    except _ROUTABLE as exc:
                        if acc.text_yielded:
                            raise _StreamBroken(exc, acc.content()) from exc
                        raise
                    finally:
                        await stream.close()
                    response = run.response_from_stream(provider, acc, started)
                except _StreamBroken as broken:
                    run.record(provider, "retryable", broken.cause, started)
                    raise StreamInterrupted(run.attempts, broken.partial_text) from broken.cause
                except Exception as exc:
                    if not isinstance(exc, _ROUTABLE):
                        raise
                    if await run.failed(provider, exc, started, tries, has_next):
                        continue
                    break
                yield StreamEvent(response=response)
                return
        raise AllProvidersFailed(run.attempts)

    # -- circuit breaker --

    def _trip(self, provider: Provider) -> None:
        if self.cooldown_seconds > 0:
            self._open_until[provider.name] = self._clock() + self.cooldown_seconds

    def _reset(self, provider: Provider) -> None:
        self._open_until.pop(provider.name, None)


_ROUTABLE = (APIError, json.JSONDecodeError, _MalformedResponse)


class _Run:
    """The state of one routed request: messages (after trims), attempts, timing."""

    def __init__(self, llm: RoutedLLM, request: LLMRequest) -> None:
        self.llm = llm
        self.request = request
        self.messages = list(request.messages)
        self.attempts: list[Attempt] = []
        self.started = time.perf_counter()
        self.trims = 0

    def candidates(self) -> list[tuple[Provider, bool]]:
        """Providers to try, in order, each with "is another one left"; skipped ones are recorded."""
        now = self.llm._clock()
        needs_tools = bool(self.request.tools)
        usable: list[Provider] = []
        for provider in self.llm._providers:
            if needs_tools and (
                not provider.supports_tools or self.llm._no_tools_until.get(provider.name, 0.0) > now
            ):
                self._skip(provider, "skipped_no_tools", "provider cannot call tools")
            else:
                usable.append(provider)
        healthy = [p for p in usable if self.llm._open_until.get(p.name, float("-inf")) <= now]
        if not healthy:
            healthy = usable  # every circuit is open: try them all (half-open) rather than fail unasked
        for provider in usable:
            if provider not in healthy:
                left = self.llm._open_until[provider.name] - now
                self._skip(provider, "skipped_open_circuit", f"circuit open for {left:.0f} s more")
        return [(p, i < len(healthy) - 1) for i, p in enumerate(healthy)]

    def _skip(self, provider: Provider, outcome: str, reason: str) -> None:
        self.attempts.append(Attempt(provider.name, provider.model, outcome, reason, 0.0))

    def kwargs(self, provider: Provider, tries: int) -> dict[str, Any]:
        request = self.request
        metadata = {
            **request.metadata,
            "provider": provider.name,
            "model": provider.model,
            "attempt": tries,  # on this provider
            "attempts_total": sum(a.outcome not in _SKIPPED for a in self.attempts) + 1,
            "routing_ms": round((time.perf_counter() - self.started) * 1000, 1),  # spent before this call
        }
        kwargs: dict[str, Any] = {
            "model": provider.model,
            "messages": self.messages,
            "name": request.generation_name,
            "metadata": metadata,
            "timeout": provider.timeout,
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

    def record(self, provider: Provider, outcome: str, exc: BaseException | None, started: float) -> None:
        error = _describe(exc, provider) if exc is not None else None
        latency = (time.perf_counter() - started) * 1000
        self.attempts.append(Attempt(provider.name, provider.model, outcome, error, latency))

    async def failed(
        self, provider: Provider, exc: Exception, started: float, tries: int, has_next: bool
    ) -> bool:
        """Record the failure and decide: True = try this provider again (after any wait), False = next."""
        kind = _classify(exc)
        outcome = {"timeout": "retryable", "no_tools": "misconfigured"}.get(kind, kind)
        self.record(provider, outcome, exc, started)
        llm = self.llm
        if kind == "context_length":
            self._trim(provider, exc)
            return True
        if kind == "fatal":
            raise LLMRequestError(
                f"LLM request rejected by {provider.name}: {_describe(exc, provider)}", self.attempts
            ) from exc
        if kind == "misconfigured":
            logger.error(
                "LLM provider %s (model %s) is misconfigured: %s. Failing over; check its API key, "
                "endpoint and model/deployment name.",
                provider.name,
                provider.model,
                _describe(exc, provider),
            )
            llm._trip(provider)
            return False
        if kind == "no_tools":
            logger.error(
                "LLM provider %s (model %s) rejected a tool request: %s. Start vLLM with "
                "--enable-auto-tool-choice --tool-call-parser <parser>; skipping it for tool requests.",
                provider.name,
                provider.model,
                _describe(exc, provider),
            )
            llm._no_tools_until[provider.name] = llm._clock() + max(llm.cooldown_seconds, 0.0)
            return False
        if kind == "content_filter":
            logger.warning("LLM provider %s refused the prompt (content filter); failing over", provider.name)
            return False
        # retryable or timeout; trims before do not use up retries
        failures = sum(a.provider == provider.name and a.outcome == "retryable" for a in self.attempts)
        delay = _retry_delay(exc, failures - 1)
        retry = failures <= llm.retries and delay is not None and not (kind == "timeout" and has_next)
        logger.warning(
            "LLM provider %s failed (attempt %d): %s; %s",
            provider.name,
            tries,
            _describe(exc, provider),
            "retrying" if retry else "failing over" if has_next else "giving up",
        )
        if retry:
            if delay:
                await llm._sleep(delay)
            return True
        llm._trip(provider)
        return False

    def _trim(self, provider: Provider, exc: Exception) -> None:
        trim = self.request.trim
        if trim is None or self.trims >= MAX_TRIMS:
            reason = "no trim function" if trim is None else f"still too long after {MAX_TRIMS} trims"
            raise LLMRequestError(
                f"context length exceeded on {provider.name} ({reason})", self.attempts
            ) from exc
        shorter = trim(list(self.messages))
        if shorter is None or _size(shorter) >= _size(self.messages):
            raise LLMRequestError(
                f"context length exceeded on {provider.name} and the history cannot be trimmed further",
                self.attempts,
            ) from exc
        self.trims += 1
        logger.info("context length exceeded on %s; retrying with trimmed messages", provider.name)
        self.messages = shorter

    def _success(self, provider: Provider, started: float) -> None:
        self.record(provider, "ok", None, started)
        self.llm._reset(provider)

    def response_from_completion(self, provider: Provider, completion: Any, started: float) -> LLMResponse:
        choices = getattr(completion, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise _MalformedResponse("the answer has no choices")
        choice = choices[0]
        tool_calls = [_tool_call_dict(call) for call in choice.message.tool_calls or []]
        content = choice.message.content
        self._success(provider, started)
        return self._response(
            provider, content, tool_calls, choice.finish_reason, completion.usage, completion.model
        )

    def response_from_stream(
        self, provider: Provider, acc: _StreamAccumulator, started: float
    ) -> LLMResponse:
        if acc.finish_reason is None:
            raise _MalformedResponse("the stream ended without a finish_reason")
        self._success(provider, started)
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
        )


_SKIPPED = ("skipped_open_circuit", "skipped_no_tools")


class _StreamAccumulator:
    def __init__(self) -> None:
        self._content: list[str] = []
        self._tools: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None
        self.text_yielded = False

    def add(self, chunk: Any) -> str:
        """Take one chunk; return its text delta ("" for none)."""
        self.model = self.model or getattr(chunk, "model", None)
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        text = ""
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                text += delta.content
            for call in (delta.tool_calls if delta is not None else None) or []:
                slot = self._tools.setdefault(
                    call.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                if call.id:
                    slot["id"] = call.id
                if call.function is not None:
                    slot["function"]["name"] += call.function.name or ""
                    slot["function"]["arguments"] += call.function.arguments or ""
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        if text:
            self._content.append(text)
            self.text_yielded = True
        return text

    def content(self) -> str:
        return "".join(self._content)

    def tool_calls(self) -> list[dict[str, Any]]:
        return [self._tools[index] for index in sorted(self._tools)]


# -- failure classification --


def _classify(exc: Exception) -> str:
    """timeout | retryable | misconfigured | no_tools | content_filter | context_length | fatal"""
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError | json.JSONDecodeError | _MalformedResponse):
        return "retryable"
    if not isinstance(exc, APIStatusError):
        return "retryable"  # APIResponseValidationError, an error event inside a stream
    status = exc.status_code
    if status in (408, 409, 429) or status >= 500:
        return "retryable"
    if status in (401, 403, 404):
        return "misconfigured"
    text = f"{exc.message} {exc.body}".lower()
    if (
        exc.code == "content_filter"
        or "content_filter_result" in text
        or "responsibleaipolicyviolation" in text
    ):
        return "content_filter"
    if exc.code == "context_length_exceeded" or "maximum context length" in text:
        return "context_length"
    if "enable-auto-tool-choice" in text or "tool-call-parser" in text:
        return "no_tools"
    return "fatal"


def _retry_delay(exc: Exception, retry_index: int) -> float | None:
    """Seconds to wait before retrying; None when the server asks for longer than MAX_RETRY_AFTER."""
    if isinstance(exc, APIStatusError):
        asked = _retry_after(exc.response.headers)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
    if isinstance(exc, APITimeoutError):
        return 0.0
    base = CONNECT_BACKOFF if isinstance(exc, APIConnectionError) else BACKOFF
    return base * 2**retry_index


def _retry_after(headers: Any) -> float | None:
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(float(ms) / 1000, 0.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException, provider: Provider) -> str:
    """A short, key-free description for logs and Attempt.error."""
    if isinstance(exc, APIStatusError):
        message = exc.body.get("message") if isinstance(exc.body, dict) else None
        text = f"HTTP {exc.status_code} {message or exc.message}"
    elif isinstance(exc, APITimeoutError):
        text = f"timed out after {provider.timeout:g} s"
    elif isinstance(exc, APIConnectionError):
        cause = exc.__cause__
        text = f"connection error ({type(cause).__name__}: {cause})" if cause else "connection error"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(str(text).split())[:300]
    key = getattr(provider.client, "api_key", None)
    if isinstance(key, str) and len(key) >= 8:
        text = text.replace(key, "***")
    return text


def _summary(attempts: list[Attempt]) -> str:
    """`openai retryable x2 (HTTP 500 ...); vllm ok`: consecutive repeats folded, errors cut short."""
    groups: list[list[Any]] = []  # [provider, outcome, count, last error]
    for attempt in attempts:
        if groups and groups[-1][:2] == [attempt.provider, attempt.outcome]:
            groups[-1][2] += 1
            groups[-1][3] = attempt.error
        else:
            groups.append([attempt.provider, attempt.outcome, 1, attempt.error])
    parts = []
    for provider, outcome, count, error in groups:
        times = f" x{count}" if count > 1 else ""
        detail = f" ({error[:100]})" if error else ""
        parts.append(f"{provider} {outcome}{times}{detail}")
    return "; ".join(parts)


# -- payloads --


def _tool_call_dict(call: Any) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments or ""},
    }


def _size(messages: list[dict[str, Any]]) -> int:
    return len(json.dumps(messages, ensure_ascii=False, default=str))


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def estimate_prompt_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """o200k tokens of what was sent, with OpenAI's few tokens of framing per message."""
    total = 3
    for message in messages:
        total += 4 + count_tokens(_text(message.get("content")))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            total += count_tokens(f"{function.get('name', '')} {function.get('arguments', '')}")
    if tools:
        total += count_tokens(json.dumps(tools, separators=(",", ":")))
    return total


def estimate_completion_tokens(content: str | None, tool_calls: list[dict[str, Any]]) -> int:
    calls = " ".join(f"{c['function']['name']} {c['function']['arguments']}" for c in tool_calls)
    return count_tokens(f"{content or ''} {calls}".strip())
