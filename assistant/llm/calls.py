"""What goes into a routed call and what comes out: request, response, attempts, stream events, and token
estimates for providers that send no usage (counted the way OpenAI counts, with o200k)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from skillmatch.tokencount import count_tokens

Outcome = Literal[
    "ok",
    "retryable",
    "misconfigured",
    "content_filter",
    "context_length",
    "fatal",
    "skipped_open_circuit",
    "skipped_no_tools",
]
OUTCOMES: tuple[Outcome, ...] = (
    "ok",
    "retryable",
    "misconfigured",
    "content_filter",
    "context_length",
    "fatal",
    "skipped_open_circuit",
    "skipped_no_tools",
)
SKIPPED: tuple[Outcome, ...] = ("skipped_open_circuit", "skipped_no_tools")

# `trim(messages, drop_at_least)`: the messages with at least that many tokens of older conversation
# removed (all of it when asked for more), or None when nothing may go. See context.trim_older_turns.
Trim = Callable[[list[dict[str, Any]], int], list[dict[str, Any]] | None]


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
    trim: Trim | None = None
    deadline: float | None = None  # in the router's clock; no attempt runs past it


@dataclass
class Attempt:
    provider: str
    model: str
    outcome: Outcome
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
    messages_sent: list[dict[str, Any]]  # after any context trims: what the answering provider saw
    usage_estimated: bool = False  # the provider sent no usage; counted with tiktoken o200k
    response_model: str | None = None  # as reported by the server (Azure: the model behind the deployment)
    call_id: str = ""  # shared by every attempt of this call (generation metadata `call_id`)

    @property
    def request_count(self) -> int:
        """HTTP requests made (attempts minus providers skipped without a request)."""
        return sum(a.outcome not in SKIPPED for a in self.attempts)

    def assistant_message(self) -> dict[str, Any]:
        """The reply as a chat message, to append to the history before running tool calls."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message


@dataclass(frozen=True)
class StreamEvent:
    """Text `delta`s as they arrive; `discard`: every delta since the previous discard is void (the stream
    broke and the answer comes again); the last event has `response` set (and an empty delta)."""

    delta: str = ""
    response: LLMResponse | None = None
    discard: bool = False


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def message_tokens(message: dict[str, Any]) -> int:
    """o200k tokens of one message, with OpenAI's few tokens of framing."""
    total = 4 + count_tokens(_text(message.get("content")))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        total += count_tokens(f"{function.get('name', '')} {function.get('arguments', '')}")
    return total


def estimate_prompt_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
    """o200k tokens of what was sent, with OpenAI's few tokens of framing per message."""
    total = 3 + sum(message_tokens(message) for message in messages)
    if tools:
        total += count_tokens(json.dumps(tools, separators=(",", ":")))
    return total


def estimate_completion_tokens(content: str | None, tool_calls: list[dict[str, Any]]) -> int:
    calls = " ".join(f"{c['function']['name']} {c['function']['arguments']}" for c in tool_calls)
    return count_tokens(f"{content or ''} {calls}".strip())
