"""The LLM/tool loop of one turn: ask the model, run the tools it asks for, repeat, until it answers or the
step limit forces an answer.

Every LLM call goes through the routed client with the turn's deadline (so the time budget is shared by
all calls, providers and retries) and is written to the ledger; inside one turn an identical request is
answered from the first result (flagged as a duplicate) and the same tool call with the same arguments
runs once. A context-length error trims older turns (never the question or this turn's tool rounds) and
the trimmed conversation is kept for the turn's later calls. Streamed text reaches the caller through a
`AnswerStream`, which also passes on the router's word that streamed text is void.

Failures of the model (AllProvidersFailed and its subclasses, LLMRequestError) propagate; the engine
answers from the search instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.config import AssistantSettings
from assistant.llm import (
    AllProvidersFailed,
    Attempt,
    LLMRequest,
    LLMRequestError,
    LLMResponse,
    RoutedLLM,
    display_name,
    trim_older_turns,
)
from assistant.prompts import Prompt
from assistant.sessions import ConversationRef, NewMessage, SessionStore
from assistant.telemetry import CallRecord, Telemetry, TurnTrace, request_hash
from assistant.tools import ToolContext, ToolResult, run_tool, status_text, tool_schemas

StatusCallback = Callable[[str], Awaitable[None]]
DeltaCallback = Callable[[str], Awaitable[None]]
RetractCallback = Callable[[], Awaitable[None]]


@dataclass
class TurnGuard:
    """Per-turn memory of LLM requests and tool calls already made."""

    responses: dict[str, LLMResponse] = field(default_factory=dict)
    tools: dict[str, ToolResult] = field(default_factory=dict)


def llm_request_key(request: LLMRequest) -> str:
    return request_hash(
        {
            "messages": request.messages,
            "tools": request.tools,
            "tool_choice": request.tool_choice,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
    )


def tool_call_key(name: str, arguments: str | dict[str, Any]) -> str:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return f"{name}:{arguments}"
    return f"{name}:{json.dumps(arguments, sort_keys=True, ensure_ascii=False)}"


class AnswerStream:
    """The caller's view of the answer as it streams: deltas forwarded, and a retraction when the text
    streamed so far in this turn became void. `pending`: deltas delivered since the last retraction."""

    def __init__(self, on_delta: DeltaCallback | None, on_retract: RetractCallback | None) -> None:
        self.on_delta = on_delta
        self.on_retract = on_retract
        self.pending = False

    @property
    def streaming(self) -> bool:
        return self.on_delta is not None

    async def delta(self, text: str) -> None:
        if self.on_delta is not None and text:
            self.pending = True
            await self.on_delta(text)

    async def retract(self) -> None:
        if self.pending:
            self.pending = False
            if self.on_retract is not None:
                await self.on_retract()


@dataclass
class LoopResult:
    text: str
    candidates: list[dict[str, Any]]
    streamed: bool  # `text` reached the caller through on_delta and stands
    notice: str | None


class LLMTurn:
    """One turn's LLM/tool loop; `run` returns the answer or raises the model's failure."""

    def __init__(
        self,
        *,
        llm: RoutedLLM,
        settings: AssistantSettings,
        store: SessionStore,
        telemetry: Telemetry,
        conversation: ConversationRef,
        trace: TurnTrace,
        tools: ToolContext,
        deadline: float,
        on_status: StatusCallback | None,
        delivery: AnswerStream,
    ) -> None:
        self.llm = llm
        self.settings = settings
        self.store = store
        self.telemetry = telemetry
        self.conversation = conversation
        self.trace = trace
        self.context = tools
        self.deadline = deadline
        self.on_status = on_status
        self.delivery = delivery
        self.guard = TurnGuard()
        self.attempts: list[Attempt] = []  # of every call in the turn, for the failover notice

    async def run(self, prompt: Prompt, history: list[dict[str, Any]]) -> LoopResult:
        messages: list[dict[str, Any]] = [{"role": "system", "content": prompt.text}, *history]
        candidates: list[dict[str, Any]] = []
        tools = tool_schemas()
        max_steps = self.settings.max_tool_steps
        for step in range(max_steps + 1):
            last_step = step == max_steps
            request = LLMRequest(
                messages=messages,
                tools=tools,
                tool_choice="none" if last_step else "auto",
                temperature=self.settings.llm_temperature,
                max_tokens=self.settings.llm_max_tokens,
                generation_name="assistant.llm",
                metadata={"step": step, "prompt_version": prompt.version},
                langfuse_prompt=prompt.langfuse_prompt,
                trim=trim_older_turns,
                deadline=self.deadline,
            )
            response, streamed = await self.complete(request)
            # Trimmed for a context-length error: later calls of this turn start from the shorter list.
            messages = list(response.messages_sent)
            if not response.tool_calls or last_step:
                content = response.content or ""
                if last_step and response.tool_calls:
                    content = content or "I stopped after too many tool calls; please narrow the request."
                await asyncio.to_thread(
                    self.store.append,
                    self.conversation.id,
                    "assistant",
                    content,
                    trace_id=self.trace.trace_id,
                )
                self.trace.output = content
                self.trace.metadata["steps"] = step + 1
                stands = streamed and bool(content) and content == response.content and self.delivery.pending
                return LoopResult(content, candidates, stands, self.notice(response.provider))
            messages.append(
                {"role": "assistant", "content": response.content, "tool_calls": response.tool_calls}
            )
            # The tool call and its results are stored together: a history never holds one without the other.
            round_messages = [
                NewMessage(
                    "assistant",
                    response.content,
                    tool_calls=response.tool_calls,
                    trace_id=self.trace.trace_id,
                )
            ]
            for call in response.tool_calls:
                result = await self.tool(call)
                if result.name == "search_candidates" and result.records:
                    candidates = result.records
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": result.content})
                round_messages.append(
                    NewMessage(
                        "tool",
                        result.content,
                        tool_call_id=call["id"],
                        name=result.name,
                        trace_id=self.trace.trace_id,
                    )
                )
            await asyncio.to_thread(self.store.append_many, self.conversation.id, round_messages)
        raise AssertionError("unreachable: the last step never calls tools")  # pragma: no cover

    # -- one LLM call: duplicate guard, streaming, ledger --

    async def complete(self, request: LLMRequest) -> tuple[LLMResponse, bool]:
        """The response and whether its text was streamed to the caller."""
        key = llm_request_key(request)
        request.metadata["prompt_hash"] = key  # lets the audit find repeats in Langfuse too
        if key in self.guard.responses:
            first = self.guard.responses[key]
            self.telemetry.event(
                "assistant.llm.duplicate",
                {"prompt_hash": key, "reused_from": first.provider},
                level="WARNING",
            )
            await asyncio.to_thread(self._ledger, first, key, duplicate=True)
            return first, False
        started = time.perf_counter()
        try:
            if self.delivery.streaming:
                response = await self._stream(request)
            else:
                response = await self.llm.complete(request)
        except (AllProvidersFailed, LLMRequestError) as exc:
            attempts = getattr(exc, "attempts", [])
            self.attempts += attempts
            await asyncio.to_thread(
                self.telemetry.record_call,
                CallRecord.failed(
                    exc,
                    trace_id=self.trace.trace_id,
                    session_id=self.trace.session_id,
                    prompt_hash=key,
                    latency_ms=(time.perf_counter() - started) * 1000,
                ),
            )
            raise
        self.attempts += response.attempts
        self.guard.responses[key] = response
        await asyncio.to_thread(self._ledger, response, key, duplicate=False)
        return response, self.delivery.streaming

    async def _stream(self, request: LLMRequest) -> LLMResponse:
        final: LLMResponse | None = None
        async for event in self.llm.stream(request):
            if event.discard:
                await self.delivery.retract()
            elif event.delta:
                await self.delivery.delta(event.delta)
            if event.response is not None:
                final = event.response
        assert final is not None
        return final

    def _ledger(self, response: LLMResponse, key: str, *, duplicate: bool) -> None:
        self.telemetry.record_call(
            CallRecord(
                trace_id=self.trace.trace_id,
                session_id=self.trace.session_id,
                provider=response.provider,
                model=response.model,
                prompt_hash=key,
                tokens_in=None if duplicate else response.usage.get("prompt_tokens"),
                tokens_out=None if duplicate else response.usage.get("completion_tokens"),
                latency_ms=0.0 if duplicate else response.latency_ms,
                attempts=0 if duplicate else response.request_count,
                duplicate=duplicate,
            )
        )

    # -- tools --

    async def tool(self, call: dict[str, Any]) -> ToolResult:
        name = call["function"]["name"]
        arguments = call["function"].get("arguments") or "{}"
        key = tool_call_key(name, arguments)
        if key in self.guard.tools:
            self.telemetry.event("assistant.tool.duplicate", {"tool": name, "arguments": arguments})
            return self.guard.tools[key]
        if self.on_status:
            await self.on_status(status_text(name))
        with self.telemetry.tool_span(f"tool.{name}", arguments) as update:
            result = await asyncio.to_thread(run_tool, name, arguments, self.context)
            update(
                output=result.content,
                metadata={
                    "records": len(result.records),
                    "tokens_toon": result.tokens_toon,
                    "tokens_json": result.tokens_json,
                },
                error=result.error,
            )
        self.guard.tools[key] = result
        return result

    # -- the failover notice --

    def notice(self, answered_by: str) -> str | None:
        """ "OpenAI unavailable (HTTP 500), answered by vLLM" when another provider should have answered."""
        reasons: dict[str, str] = {}
        for attempt in self.attempts:
            if attempt.provider != answered_by and attempt.outcome != "ok":
                reasons[attempt.provider] = short_reason(attempt)
        answered_elsewhere = {a.provider for a in self.attempts if a.outcome == "ok"}
        failed = [p for p in reasons if p not in answered_elsewhere]
        if not failed:
            return None
        parts = [f"{display_name(p)} unavailable ({reasons[p]})" for p in failed]
        return f"{', '.join(parts)}, answered by {display_name(answered_by)}"


def short_reason(attempt: Attempt) -> str:
    """A few words for a user: why a provider did not answer."""
    error = attempt.error or ""
    if attempt.outcome == "skipped_open_circuit":
        return "failing recently"
    if attempt.outcome == "skipped_no_tools":
        return "no tool support"
    if attempt.outcome == "content_filter":
        return "content filter"
    if attempt.outcome == "context_length":
        return "conversation too long"
    if error.startswith("HTTP "):
        return " ".join(error.split()[:2])
    if error.startswith("timed out"):
        return "timed out"
    if error.startswith("connection error"):
        return "no connection"
    return "broken answer" if attempt.outcome == "retryable" else attempt.outcome
