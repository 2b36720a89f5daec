"""One turn, independent of any chat platform: load the thread -> LLM/tool loop -> persist -> reply.

Every LLM call goes through the routed client and is written to the ledger; inside one turn an identical
request is answered from the first result (flagged as a duplicate in the trace and the ledger) and the same
tool call with the same arguments runs once. When no LLM is configured, or every provider is down, the
answer comes from the search itself and says so: the user always gets an answer, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.llm import AllProvidersFailed, LLMRequest, LLMRequestError, LLMResponse, RoutedLLM
from assistant.prompts import PromptProvider
from assistant.retrieval import SearchState, answer, next_state
from assistant.sessions import (
    FAILED,
    PENDING,
    PROCESSING,
    ConversationRef,
    NewMessage,
    SessionStore,
    StoredMessage,
)
from assistant.telemetry import CallRecord, Telemetry, TurnTrace, request_hash, trace_id_for
from assistant.tools import ToolContext, ToolResult, run_tool, status_text, tool_schemas
from assistant.tools.cv import candidate_records
from skillmatch.models import Feedback, Message
from skillmatch.search import Searcher

log = logging.getLogger(__name__)

StatusCallback = Callable[[str], Awaitable[None]]
DeltaCallback = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class TurnRequest:
    """What a channel adapter hands the engine: the platform's words translated to ours."""

    thread_key: str
    platform: str
    message_id: str
    text: str
    user_id: str | None = None


@dataclass
class TurnReply:
    text: str
    trace_id: str
    status: str  # "ok" | "retrieval_only" | "degraded" (providers down) | "rejected" (bad input)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


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


class Engine:
    def __init__(
        self,
        *,
        settings: AssistantSettings,
        sessions: sessionmaker[Session],
        searcher: Searcher,
        store: SessionStore,
        telemetry: Telemetry,
        llm: RoutedLLM | None,
        prompts: PromptProvider,
        today: Callable[[], date] = date.today,
    ):
        self.settings = settings
        self.sessions = sessions
        self.searcher = searcher
        self.store = store
        self.telemetry = telemetry
        self.llm = llm if llm is not None and llm.providers else None
        self.prompts = prompts
        self.today = today

    # -- entry points ---------------------------------------------------------------------------------
    #
    # Single process (terminal, tests):  reply = await engine.handle(request)
    # Chat platforms with several replicas:  accepted = await engine.accept(request, queued=True), then
    # ThreadSerializer.submit(thread_key, message_id, lambda mid: engine.run_message(mid)) — whoever holds the
    # thread runs its queued messages in order, so a turn works from the stored message alone.

    async def handle(
        self,
        request: TurnRequest,
        *,
        on_status: StatusCallback | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> TurnReply:
        accepted = await self.accept(request, queued=False)
        if isinstance(accepted, TurnReply):
            return accepted
        try:
            reply = await self.run_message(accepted, on_status=on_status, on_delta=on_delta)
        except BaseException:
            await asyncio.to_thread(self.store.mark_failed, accepted)
            raise
        await asyncio.to_thread(self.store.mark_done, accepted)
        return reply

    async def accept(self, request: TurnRequest, *, queued: bool = True) -> int | TurnReply:
        """Validate and store the user's message: its id, or the reply for a message refused outright."""
        trace_id = trace_id_for(request.platform, request.message_id)
        text = request.text.strip()
        if not text:
            return TurnReply(
                "Tell me who you are looking for, e.g. “a senior Java developer for a bank, from January”.",
                trace_id,
                "rejected",
                error="empty message",
            )
        conversation = await asyncio.to_thread(
            self.store.open, request.thread_key, platform=request.platform, user_id=request.user_id
        )
        too_long = len(text) > self.settings.max_message_chars
        message_id = await asyncio.to_thread(
            self.store.append,
            conversation.id,
            "user",
            text,
            trace_id=trace_id,
            platform_message_id=request.message_id,
            # Kept either way: a refused message is stored as failed, so it never reaches the model.
            status=FAILED if too_long else PENDING if queued else PROCESSING,
        )
        if too_long:
            return TurnReply(
                f"That message is {len(text):,} characters long; I can take up to "
                f"{self.settings.max_message_chars:,}. Please send the staffing request itself, in short.",
                trace_id,
                "rejected",
                error="message too long",
            )
        return message_id

    def _load(self, message_id: int) -> tuple[StoredMessage, ConversationRef]:
        message = self.store.message(message_id)
        return message, self.store.get(message.conversation_id)

    async def run_message(
        self,
        message_id: int,
        *,
        on_status: StatusCallback | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> TurnReply:
        """One turn for a stored user message (its status is the caller's to finish)."""
        message, conversation = await asyncio.to_thread(self._load, message_id)
        trace = TurnTrace(
            trace_id=message.trace_id or trace_id_for(conversation.platform, str(message_id)),
            session_id=conversation.thread_key,
        )
        return await self.telemetry.run_turn(
            trace=trace,
            user_id=conversation.user_id,
            input=message.content,
            run=lambda t: self._turn(conversation, message.content or "", t, on_status, on_delta),
            tags=[conversation.platform],
        )

    async def record_feedback(
        self, platform: str, trace_id: str, user_id: str | None, *, positive: bool
    ) -> bool:
        """A thumbs up/down on an answer: a Langfuse score on its trace and a feedback row. One vote per
        person and answer; False when the vote was a repeat or the trace id is not one of ours."""
        if not re.fullmatch(r"[0-9a-f]{32}", trace_id):
            return False
        if not await asyncio.to_thread(
            self.store.record_event_once, platform, f"feedback:{trace_id}:{user_id}"
        ):
            return False
        value = 1.0 if positive else 0.0
        self.telemetry.score(trace_id=trace_id, name="user_feedback", value=value)
        await asyncio.to_thread(self._save_feedback, trace_id, user_id, value)
        return True

    def _save_feedback(self, trace_id: str, user_id: str | None, value: float) -> None:
        with self.sessions() as session:
            conversation_id = session.scalar(
                select(Message.conversation_id).where(Message.trace_id == trace_id).limit(1)
            )
            session.add(
                Feedback(trace_id=trace_id, conversation_id=conversation_id, user_id=user_id, value=value)
            )
            session.commit()

    # -- the turn ---------------------------------------------------------------------------------------

    async def _turn(
        self,
        conversation: ConversationRef,
        text: str,
        trace: TurnTrace,
        on_status: StatusCallback | None,
        on_delta: DeltaCallback | None,
    ) -> TurnReply:
        if self.llm is None:
            return await self._retrieval_only(
                conversation,
                text,
                trace,
                on_status,
                reason="No language model is configured, so this is the search ranking itself.",
            )
        try:
            return await self._llm_turn(conversation, trace, on_status, on_delta)
        except (AllProvidersFailed, LLMRequestError) as exc:
            log.error("turn %s: LLM unavailable: %s", trace.trace_id, exc)
            trace.failed = True
            trace.metadata["error"] = f"{type(exc).__name__}: {exc}"
            reply = await self._retrieval_only(
                conversation,
                text,
                trace,
                on_status,
                reason="The language model is unavailable right now, so here is the search ranking itself.",
            )
            reply.status, reply.error = "degraded", trace.metadata["error"]
            return reply

    async def _llm_turn(
        self,
        conversation: ConversationRef,
        trace: TurnTrace,
        on_status: StatusCallback | None,
        on_delta: DeltaCallback | None,
    ) -> TurnReply:
        assert self.llm is not None
        today = self.today()
        prompt, history = await asyncio.to_thread(
            lambda: (
                self.prompts.system(today),
                self.store.history(conversation.id, budget_tokens=self.settings.history_token_budget),
            )
        )
        messages: list[dict[str, Any]] = [{"role": "system", "content": prompt.text}, *history]
        guard = TurnGuard()
        context = ToolContext(sessions=self.sessions, searcher=self.searcher, today=today)
        candidates: list[dict[str, Any]] = []
        trace.metadata["prompt_version"] = prompt.version
        tools = tool_schemas()
        for step in range(self.settings.max_tool_steps + 1):
            last_step = step == self.settings.max_tool_steps
            request = LLMRequest(
                messages=messages,
                tools=tools,
                tool_choice="none" if last_step else "auto",
                temperature=self.settings.llm_temperature,
                max_tokens=self.settings.llm_max_tokens,
                generation_name="assistant.llm",
                metadata={"step": step, "prompt_version": prompt.version},
                langfuse_prompt=prompt.langfuse_prompt,
                trim=self._trimmer(),
            )
            response = await self._complete(request, trace, guard, on_delta)
            if not response.tool_calls or last_step:
                content = response.content or ""
                if last_step and response.tool_calls:
                    content = content or "I stopped after too many tool calls; please narrow the request."
                await asyncio.to_thread(
                    self.store.append, conversation.id, "assistant", content, trace_id=trace.trace_id
                )
                trace.output = content
                trace.metadata["steps"] = step + 1
                return TurnReply(content, trace.trace_id, "ok", candidates)
            messages.append(
                {"role": "assistant", "content": response.content, "tool_calls": response.tool_calls}
            )
            # The tool call and its results are stored together: a history never holds one without the other.
            round_messages = [
                NewMessage(
                    "assistant", response.content, tool_calls=response.tool_calls, trace_id=trace.trace_id
                )
            ]
            for call in response.tool_calls:
                result = await self._tool(call, context, guard, on_status)
                if result.name == "search_candidates" and result.records:
                    candidates = result.records
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": result.content})
                round_messages.append(
                    NewMessage(
                        "tool",
                        result.content,
                        tool_call_id=call["id"],
                        name=result.name,
                        trace_id=trace.trace_id,
                    )
                )
            await asyncio.to_thread(self.store.append_many, conversation.id, round_messages)
        raise AssertionError("unreachable: the last step never calls tools")  # pragma: no cover

    def _trimmer(self) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]] | None]:
        """Each context-length error halves the history budget; None once nothing more can go."""
        budget = [self.settings.history_token_budget]

        def trim(messages: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            budget[0] //= 2
            if budget[0] < 200:
                return None
            shorter = self.store.trim(messages, budget_tokens=budget[0])
            return shorter if len(shorter) < len(messages) else None

        return trim

    async def _complete(
        self, request: LLMRequest, trace: TurnTrace, guard: TurnGuard, on_delta: DeltaCallback | None
    ) -> LLMResponse:
        assert self.llm is not None
        key = llm_request_key(request)
        request.metadata["prompt_hash"] = key  # lets the audit find repeats in Langfuse too
        if key in guard.responses:
            first = guard.responses[key]
            self.telemetry.event(
                "assistant.llm.duplicate",
                {"prompt_hash": key, "reused_from": first.provider},
                level="WARNING",
            )
            await asyncio.to_thread(self._ledger, trace, first, key, duplicate=True)
            return first
        started = time.perf_counter()
        try:
            response = await (self._stream(request, on_delta) if on_delta else self.llm.complete(request))
        except (AllProvidersFailed, LLMRequestError) as exc:
            attempts = getattr(exc, "attempts", [])
            await asyncio.to_thread(
                self.telemetry.record_call,
                CallRecord(
                    trace_id=trace.trace_id,
                    session_id=trace.session_id,
                    provider=attempts[-1].provider if attempts else None,
                    model=attempts[-1].model if attempts else None,
                    prompt_hash=key,
                    tokens_in=None,
                    tokens_out=None,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    attempts=len(attempts),
                    status="failed",
                    error=str(exc),
                ),
            )
            raise
        guard.responses[key] = response
        await asyncio.to_thread(self._ledger, trace, response, key, duplicate=False)
        return response

    async def _stream(self, request: LLMRequest, on_delta: DeltaCallback) -> LLMResponse:
        assert self.llm is not None
        final: LLMResponse | None = None
        async for event in self.llm.stream(request):
            if event.delta:
                await on_delta(event.delta)
            if event.response is not None:
                final = event.response
        assert final is not None
        return final

    def _ledger(self, trace: TurnTrace, response: LLMResponse, key: str, *, duplicate: bool) -> None:
        self.telemetry.record_call(
            CallRecord(
                trace_id=trace.trace_id,
                session_id=trace.session_id,
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

    async def _tool(
        self, call: dict[str, Any], context: ToolContext, guard: TurnGuard, on_status: StatusCallback | None
    ) -> ToolResult:
        name = call["function"]["name"]
        arguments = call["function"].get("arguments") or "{}"
        key = tool_call_key(name, arguments)
        if key in guard.tools:
            self.telemetry.event("assistant.tool.duplicate", {"tool": name, "arguments": arguments})
            return guard.tools[key]
        if on_status:
            await on_status(status_text(name))
        with self.telemetry.tool_span(f"tool.{name}", arguments) as update:
            result = await asyncio.to_thread(run_tool, name, arguments, context)
            update(
                output=result.content,
                metadata={
                    "records": len(result.records),
                    "tokens_toon": result.tokens_toon,
                    "tokens_json": result.tokens_json,
                },
                error=result.error,
            )
        guard.tools[key] = result
        return result

    async def _retrieval_only(
        self,
        conversation: ConversationRef,
        text: str,
        trace: TurnTrace,
        on_status: StatusCallback | None,
        *,
        reason: str,
    ) -> TurnReply:
        if on_status:
            await on_status(status_text("search_candidates"))
        fresh = await asyncio.to_thread(
            self.store.open,
            conversation.thread_key,
            platform=conversation.platform,
            user_id=conversation.user_id,
        )
        state = next_state(SearchState.load(fresh.state), text, self.today())
        with self.telemetry.tool_span("tool.search_candidates", state.dump()) as update:
            content, results = await asyncio.to_thread(answer, self.searcher, state, reason=reason)
            update(output=[r.name for r in results], metadata={"records": len(results)})
        await asyncio.to_thread(
            self.store.set_state, conversation.id, {**fresh.state, "search": state.dump()}
        )
        await asyncio.to_thread(
            self.store.append, conversation.id, "assistant", content, trace_id=trace.trace_id
        )
        trace.output = content
        status = "retrieval_only"
        return TurnReply(content, trace.trace_id, status, candidate_records(results))
