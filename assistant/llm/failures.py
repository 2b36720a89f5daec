"""What went wrong with an LLM call, in our words: the failure kinds, the exceptions callers see, and short,
key-free descriptions for logs, attempts and traces.

`classify()` maps an exception to a `Failure`; the router decides per kind (see router.py). Descriptions
never contain the provider's API key; personal data in them is masked where they leave the process (the
log filter and the trace exporter), not here.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import TYPE_CHECKING, Any, Literal

from openai import APIConnectionError, APIError, APIStatusError, APITimeoutError

if TYPE_CHECKING:
    from assistant.llm.calls import Attempt
    from assistant.llm.providers import Provider

Failure = Literal[
    "timeout", "retryable", "misconfigured", "no_tools", "content_filter", "context_length", "fatal"
]

MAX_RETRY_AFTER = 5.0  # seconds; a longer Retry-After means: go to the next provider now
CONNECT_BACKOFF = 0.05  # seconds before retrying a refused/reset connection (doubles per retry)
BACKOFF = 0.25  # seconds before retrying a 5xx/429/malformed answer (doubles per retry)

_CONTEXT_NUMBERS = re.compile(
    r"maximum context length is (\d+) tokens.*?(?:resulted in|requested) (\d+) tokens",
    re.IGNORECASE | re.DOTALL,
)


class AllProvidersFailed(Exception):
    """Every configured provider failed (or was skipped); `attempts` lists each try."""

    def __init__(
        self,
        attempts: list[Attempt],
        headline: str = "all LLM providers failed",
        empty: str = "none configured",
    ) -> None:
        self.attempts = attempts
        super().__init__(f"{headline}: {summary(attempts) if attempts else empty}")


class StreamInterrupted(AllProvidersFailed):
    """Every provider failed, the last one after it had streamed text (already discarded with a `discard`
    event). `partial_text`: what that last stream had said before it broke."""

    def __init__(self, attempts: list[Attempt], partial_text: str) -> None:
        super().__init__(attempts, "LLM stream interrupted and no provider could answer again")
        self.partial_text = partial_text


class TurnBudgetSpent(AllProvidersFailed):
    """The request's deadline (the turn's time budget) passed before any provider answered."""

    def __init__(self, attempts: list[Attempt]) -> None:
        super().__init__(
            attempts, "the turn's time budget was spent before a provider answered", "none asked"
        )


class LLMRequestError(Exception):
    """A non-retryable 400: our request is wrong, or too long for every provider even without older turns.
    `attempts` as above."""

    def __init__(self, message: str, attempts: list[Attempt]) -> None:
        super().__init__(message)
        self.attempts = attempts


class MalformedResponse(Exception):
    """A 200 without the fields a chat completion must have (a broken proxy, a truncated stream)."""


# Exceptions an attempt may end with that the router handles; anything else is a bug and propagates.
ROUTABLE: tuple[type[BaseException], ...] = (APIError, json.JSONDecodeError, MalformedResponse, TimeoutError)


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError | json.JSONDecodeError | MalformedResponse):
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


def context_overflow(exc: BaseException) -> int | None:
    """Tokens over the window, when the error says (OpenAI, Azure and vLLM all do); None otherwise."""
    text = exc.message if isinstance(exc, APIStatusError) else str(exc)
    match = _CONTEXT_NUMBERS.search(text or "")
    if match is None:
        return None
    window, used = int(match.group(1)), int(match.group(2))
    return max(used - window, 1)


def retry_delay(exc: BaseException, retry_index: int) -> float | None:
    """Seconds to wait before retrying; None when the server asks for longer than MAX_RETRY_AFTER."""
    if isinstance(exc, APIStatusError):
        asked = _retry_after(exc.response.headers)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
    if isinstance(exc, APITimeoutError | TimeoutError):
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


def describe(exc: BaseException, provider: Provider, timeout: float | None = None) -> str:
    """A short, key-free description for logs and Attempt.error; `timeout`: what this attempt was given."""
    if isinstance(exc, APIStatusError):
        message = exc.body.get("message") if isinstance(exc.body, dict) else None
        text = f"HTTP {exc.status_code} {message or exc.message}"
    elif isinstance(exc, APITimeoutError | TimeoutError):
        text = f"timed out after {timeout if timeout is not None else provider.timeout:.3g} s"
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


def summary(attempts: list[Attempt]) -> str:
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
