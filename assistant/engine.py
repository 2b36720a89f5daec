"""One turn, independent of any chat platform: load the thread -> LLM/tool loop -> persist -> reply.

The loop itself is `assistant.turn.LLMTurn` (routing, duplicate guard, ledger, tools). When no LLM is
configured, every provider is down, the turn's time budget (`SKILLMATCH_TURN_TIMEOUT`) is spent, a stream
broke and could not be answered again, or the conversation is too long for every model, the answer comes
from the search itself and its first line says why: the user always gets a complete answer, and nothing
is lost.

What a caller (a channel's delivery) gets, and when:

- `on_status(text)`: progress while a tool runs ("Searching CVs..."), before the tool starts.
- `on_delta(text)`: the next piece of the answer as the model streams it (only when given; without it the
  model is called without streaming). Deltas of a tool-calling step ("Let me search...") come too.
- `on_retract()`: everything delivered through `on_delta` in this turn so far is void; the channel should
  remove or replace it (clear the half-streamed message). Called only after at least one delta, and
  before any further delta: when a stream broke mid-answer and the model is asked again (new deltas
  follow, from the start of the answer), and when the turn falls back to the search answer after text had
  been streamed. A caller without `on_retract` learns the same at the end from `TurnReply.streamed`.
- the returned `TurnReply`: `streamed=True` means the deltas delivered since the last retraction end with
  `reply.text` and stand as the answer (keep the streamed message, finish it, add the candidates);
  `streamed=False` means show `reply.text` in full, in place of anything streamed. `notice` is one line for
  the user when a provider failed over ("OpenAI unavailable (HTTP 500), answered by vLLM"), else None.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.llm import AllProvidersFailed, LLMRequestError, RoutedLLM, StreamInterrupted, TurnBudgetSpent
from assistant.masking import mask
from assistant.prompts import PromptProvider
from assistant.retrieval import SearchState, answer, next_state
from assistant.sessions import (
    FAILED,
    PENDING,
    PROCESSING,
    ConversationRef,
    SessionStore,
    StoredMessage,
)
from assistant.telemetry import Telemetry, TurnTrace, trace_id_for
from assistant.tools import ToolContext, status_text
from assistant.tools.cv import candidate_records
from assistant.turn import (
    AnswerStream,
    DeltaCallback,
    LLMTurn,
    RetractCallback,
    StatusCallback,
    TurnGuard,
    llm_request_key,
    tool_call_key,
)
from skillmatch.matching import Matcher
from skillmatch.models import Feedback, Message
from skillmatch.search import Searcher

log = logging.getLogger(__name__)

__all__ = [
    "DeltaCallback",
    "Engine",
    "RetractCallback",
    "StatusCallback",
    "TurnGuard",
    "TurnReply",
    "TurnRequest",
    "TurnStatus",
    "llm_request_key",
    "tool_call_key",
]

# ok: the model answered; retrieval_only: no model configured; degraded: the model failed (the search
# answered, saying why); rejected: the message was refused (empty, too long).
TurnStatus = Literal["ok", "retrieval_only", "degraded", "rejected"]


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
    """The answer to one message. Plain data (the delivery layer stores it as JSON and rebuilds it); new
    fields get defaults so a stored reply from an older version still loads."""

    text: str
    trace_id: str
    status: TurnStatus
    candidates: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    streamed: bool = False  # the text streamed since the last retraction ends with `text` and stands
    notice: str | None = None  # one line about a failover, for the user


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
        matcher: Matcher | None = None,
    ):
        self.settings = settings
        self.sessions = sessions
        self.searcher = searcher
        self.store = store
        self.telemetry = telemetry
        self.llm = llm if llm is not None and llm.providers else None
        self.prompts = prompts
        self.today = today
        self.matcher = matcher  # SKILLMATCH_MATCHER=llm: search_candidates re-ranks with the model

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
        on_retract: RetractCallback | None = None,
    ) -> TurnReply:
        accepted = await self.accept(request, queued=False)
        if isinstance(accepted, TurnReply):
            return accepted
        try:
            reply = await self.run_message(
                accepted, on_status=on_status, on_delta=on_delta, on_retract=on_retract
            )
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
        on_retract: RetractCallback | None = None,
    ) -> TurnReply:
        """One turn for a stored user message (its status is the caller's to finish). The callbacks and
        the reply's `streamed` flag are described in the module docstring."""
        message, conversation = await asyncio.to_thread(self._load, message_id)
        trace = TurnTrace(
            trace_id=message.trace_id or trace_id_for(conversation.platform, str(message_id)),
            session_id=conversation.thread_key,
        )
        return await self.telemetry.run_turn(
            trace=trace,
            user_id=conversation.user_id,
            input=message.content,
            run=lambda t: self._turn(
                conversation, message.content or "", t, on_status, AnswerStream(on_delta, on_retract)
            ),
            tags=[conversation.platform],
        )

    async def record_feedback(
        self, platform: str, trace_id: str, user_id: str | None, *, positive: bool, comment: str | None = None
    ) -> bool:
        """A thumbs up/down on an answer (with the user's comment, where the platform has one): a Langfuse
        score on its trace and a feedback row. One vote per person and answer; False when the vote was a
        repeat or the trace id is not one of ours."""
        if not re.fullmatch(r"[0-9a-f]{32}", trace_id):
            return False
        if not await asyncio.to_thread(
            self.store.record_event_once, platform, f"feedback:{trace_id}:{user_id}"
        ):
            return False
        value = 1.0 if positive else 0.0
        comment = mask(comment.strip()[:2000]) if comment and comment.strip() else None
        self.telemetry.score(trace_id=trace_id, name="user_feedback", value=value, comment=comment)
        await asyncio.to_thread(self._save_feedback, trace_id, user_id, value, comment)
        return True

    def _save_feedback(self, trace_id: str, user_id: str | None, value: float, comment: str | None) -> None:
        with self.sessions() as session:
            conversation_id = session.scalar(
                select(Message.conversation_id).where(Message.trace_id == trace_id).limit(1)
            )
            session.add(
                Feedback(
                    trace_id=trace_id,
                    conversation_id=conversation_id,
                    user_id=user_id,
                    value=value,
                    comment=comment,
                )
            )
            session.commit()

    # -- the turn ---------------------------------------------------------------------------------------

    async def _turn(
        self,
        conversation: ConversationRef,
        text: str,
        trace: TurnTrace,
        on_status: StatusCallback | None,
        delivery: AnswerStream,
    ) -> TurnReply:
        if self.llm is None:
            return await self._retrieval_only(
                conversation,
                text,
                trace,
                on_status,
                reason="No language model is configured, so this is the search ranking itself.",
            )
        deadline = self.llm.clock() + self.settings.turn_timeout  # shared by every call of the turn
        try:
            return await self._llm_turn(conversation, trace, on_status, delivery, deadline)
        except (AllProvidersFailed, LLMRequestError) as exc:
            log.error("turn %s: LLM unavailable: %s", trace.trace_id, exc)
            trace.failed = True
            trace.metadata["error"] = f"{type(exc).__name__}: {exc}"
            await delivery.retract()  # whatever was streamed is not the answer now
            reply = await self._retrieval_only(conversation, text, trace, on_status, reason=self._why(exc))
            reply.status, reply.error = "degraded", trace.metadata["error"]
            return reply

    def _why(self, exc: Exception) -> str:
        """The first line of a search-only answer after the model failed: what happened, in plain words."""
        if isinstance(exc, TurnBudgetSpent):
            return (
                f"The language model did not answer within {self.settings.turn_timeout:g} s, "
                "so here is the search ranking itself."
            )
        if isinstance(exc, StreamInterrupted):
            return "The language model's answer broke off, so here is the search ranking itself."
        if isinstance(exc, LLMRequestError) and "context length" in str(exc):
            return (
                "This conversation has grown too long for the language model, so here is the search ranking "
                "itself. Start a new conversation to ask the model again."
            )
        return "The language model is unavailable right now, so here is the search ranking itself."

    async def _llm_turn(
        self,
        conversation: ConversationRef,
        trace: TurnTrace,
        on_status: StatusCallback | None,
        delivery: AnswerStream,
        deadline: float,
    ) -> TurnReply:
        assert self.llm is not None
        today = self.today()
        prompt, history = await asyncio.to_thread(
            lambda: (
                self.prompts.system(today),
                self.store.history(conversation.id, budget_tokens=self.settings.history_token_budget),
            )
        )
        trace.metadata["prompt_version"] = prompt.version
        loop = LLMTurn(
            llm=self.llm,
            settings=self.settings,
            store=self.store,
            telemetry=self.telemetry,
            conversation=conversation,
            trace=trace,
            tools=ToolContext(
                sessions=self.sessions, searcher=self.searcher, today=today, matcher=self.matcher
            ),
            deadline=deadline,
            on_status=on_status,
            delivery=delivery,
        )
        result = await loop.run(prompt, history)
        return TurnReply(
            result.text,
            trace.trace_id,
            "ok",
            result.candidates,
            streamed=result.streamed,
            notice=result.notice,
        )

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
        return TurnReply(content, trace.trace_id, "retrieval_only", candidate_records(results))
