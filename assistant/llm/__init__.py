"""Routed OpenAI-compatible chat client: primary -> backup -> self-hosted, with bounded retries, a circuit
breaker, context trimming, a time budget per call and streaming that survives a broken stream.

    llm = RoutedLLM(build_providers(settings), retries=1, cooldown_seconds=60)
    response = await llm.complete(LLMRequest(messages, tools=..., trim=trim_older_turns, deadline=...))
    async for event in llm.stream(request): ...   # delta | discard | response

providers.py (what a provider is, built from settings), router.py (the loop and its policy, documented
there), failures.py (failure kinds and the exceptions callers see), breaker.py (per-provider health),
stream.py (assembling a streamed answer), context.py (trimming older turns), calls.py (request/response).
"""

from assistant.llm.breaker import CircuitBreaker
from assistant.llm.calls import (
    OUTCOMES,
    Attempt,
    LLMRequest,
    LLMResponse,
    Outcome,
    StreamEvent,
    Trim,
    estimate_completion_tokens,
    estimate_prompt_tokens,
)
from assistant.llm.context import trim_older_turns
from assistant.llm.failures import (
    BACKOFF,
    CONNECT_BACKOFF,
    MAX_RETRY_AFTER,
    AllProvidersFailed,
    Failure,
    LLMRequestError,
    StreamInterrupted,
    TurnBudgetSpent,
)
from assistant.llm.providers import Provider, build_providers, display_name, is_reasoning_model
from assistant.llm.router import MAX_TRIMS, RoutedLLM

__all__ = [
    "BACKOFF",
    "CONNECT_BACKOFF",
    "MAX_RETRY_AFTER",
    "MAX_TRIMS",
    "OUTCOMES",
    "AllProvidersFailed",
    "Attempt",
    "CircuitBreaker",
    "Failure",
    "LLMRequest",
    "LLMRequestError",
    "LLMResponse",
    "Outcome",
    "Provider",
    "RoutedLLM",
    "StreamEvent",
    "StreamInterrupted",
    "Trim",
    "TurnBudgetSpent",
    "build_providers",
    "display_name",
    "estimate_completion_tokens",
    "estimate_prompt_tokens",
    "is_reasoning_model",
    "trim_older_turns",
]
