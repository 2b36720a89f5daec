"""Langfuse tracing (when configured) and the local call ledger (always).

A turn is one trace named `assistant.turn`, inside `propagate_attributes(session_id=<thread key>)`, with a
trace id derived from the platform message id, so a feedback click can be scored later without a lookup.
Tools are observations of type tool; the langfuse.openai wrapper nests each LLM call (each attempt) as a
generation. Export happens on the SDK's background thread: an unreachable, failing or slow Langfuse never
delays or fails a turn, and `shutdown()` waits at most `SKILLMATCH_TRACE_FLUSH_TIMEOUT` seconds for it.
Everything exported is masked (trace_export.py). Without keys, tracing is switched off once for the
process (no per-call warnings) and the ledger still records every call.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from langfuse import Langfuse, observe, propagate_attributes
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.masking import mask, mask_text
from assistant.trace_export import ExportState, MaskingSpanExporter, build_langfuse, shutdown_bounded
from skillmatch.models import LlmCall

if TYPE_CHECKING:
    from assistant.llm import AllProvidersFailed, LLMRequestError, LLMResponse

log = logging.getLogger(__name__)
T = TypeVar("T")


def trace_id_for(platform: str, message_id: str) -> str:
    """Deterministic: the same platform message always maps to the same trace."""
    return Langfuse.create_trace_id(seed=f"{platform}:{message_id}")


def request_hash(payload: dict[str, Any]) -> str:
    """Identity of an LLM request (messages, tools, parameters): equal hashes are duplicate calls."""
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def estimate_cost(
    prices: dict[str, tuple[float, float]], model: str | None, tokens_in: int, tokens_out: int
) -> float | None:
    """USD from the configured price table; dated model names (gpt-4o-mini-2024-07-18) match their base."""
    if not model:
        return None
    price = prices.get(model) or next((p for name, p in prices.items() if model.startswith(name + "-")), None)
    if price is None:
        return None
    return round((tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, 8)


@lru_cache(maxsize=1)
def _disabled_client() -> Langfuse:
    return Langfuse(public_key="tracing-disabled", secret_key="tracing-disabled", tracing_enabled=False)


@dataclass
class TurnTrace:
    trace_id: str
    session_id: str
    failed: bool = False
    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallRecord:
    trace_id: str | None
    session_id: str | None
    provider: str | None
    model: str | None
    prompt_hash: str
    tokens_in: int | None
    tokens_out: int | None
    latency_ms: float | None
    attempts: int = 1
    duplicate: bool = False
    status: str = "ok"
    error: str | None = None

    @classmethod
    def answered(
        cls, response: LLMResponse, *, trace_id: str | None, session_id: str | None, prompt_hash: str
    ) -> CallRecord:
        """A call that got its answer (after `response.request_count` requests)."""
        return cls(
            trace_id=trace_id,
            session_id=session_id,
            provider=response.provider,
            model=response.model,
            prompt_hash=prompt_hash,
            tokens_in=response.usage.get("prompt_tokens"),
            tokens_out=response.usage.get("completion_tokens"),
            latency_ms=response.latency_ms,
            attempts=response.request_count,
        )

    @classmethod
    def failed(
        cls,
        error: AllProvidersFailed | LLMRequestError,
        *,
        trace_id: str | None,
        session_id: str | None,
        prompt_hash: str,
        latency_ms: float,
    ) -> CallRecord:
        """A call every provider failed: the last attempt's provider and model, and how many there were."""
        attempts = getattr(error, "attempts", [])
        return cls(
            trace_id=trace_id,
            session_id=session_id,
            provider=attempts[-1].provider if attempts else None,
            model=attempts[-1].model if attempts else None,
            prompt_hash=prompt_hash,
            tokens_in=None,
            tokens_out=None,
            latency_ms=latency_ms,
            attempts=len(attempts),
            status="failed",
            error=str(error),
        )


class Telemetry:
    def __init__(
        self, settings: AssistantSettings, sessions: sessionmaker[Session], *, client: Langfuse | None = None
    ):
        self.settings = settings
        self.sessions = sessions
        self.client: Langfuse | None = client
        self.exporter: MaskingSpanExporter | None = None
        self.export_state: ExportState | None = None  # after shutdown: did everything reach Langfuse?
        if client is not None:
            pass  # built by the caller (tests point it at a fake server with a private tracer provider)
        elif settings.tracing_enabled:
            assert settings.langfuse_public_key and settings.langfuse_secret_key
            self.client, self.exporter = build_langfuse(
                public_key=settings.langfuse_public_key,
                secret_key=settings.langfuse_secret_key.get_secret_value(),
                base_url=settings.langfuse_base_url,
                export_timeout=settings.langfuse_export_timeout,
            )
        else:
            # The langfuse.openai wrapper looks up a client on every call; without one it builds an
            # unconfigured client that warns each time. One disabled client, registered once, keeps it quiet.
            _disabled_client()

    @property
    def enabled(self) -> bool:
        return self.client is not None

    @property
    def public_key(self) -> str | None:
        return self.settings.langfuse_public_key if self.client is not None else None

    # -- traces -------------------------------------------------------------------------------------

    async def run_turn(
        self,
        *,
        trace: TurnTrace,
        user_id: str | None,
        input: Any,
        run: Callable[[TurnTrace], Awaitable[T]],
        tags: list[str] | None = None,
    ) -> T:
        """Run a turn inside its trace; `run` may set trace.output / trace.failed / trace.metadata."""
        if self.client is None:
            return await run(trace)
        client = self.client

        @observe(name="assistant.turn", capture_input=False, capture_output=False)
        async def traced() -> T:
            client.update_current_span(input=input)
            try:
                return await run(trace)
            finally:
                error = trace.metadata.get("error") if trace.failed else None
                client.update_current_span(
                    output=trace.output,
                    metadata=trace.metadata or None,
                    level="ERROR" if trace.failed else None,
                    status_message=mask_text(error) if error else None,
                )

        with propagate_attributes(
            session_id=trace.session_id, user_id=user_id, trace_name="assistant.turn", tags=tags
        ):
            return await traced(langfuse_trace_id=trace.trace_id, langfuse_public_key=self.public_key)  # type: ignore[call-arg]

    @contextmanager
    def tool_span(self, name: str, arguments: Any) -> Iterator[Callable[..., None]]:
        """An observation of type tool; yields `update(output=..., metadata=..., error=...)`."""
        if self.client is None:
            yield lambda **_: None
            return
        with self.client.start_as_current_observation(name=name, as_type="tool", input=arguments) as span:

            def update(
                *, output: Any = None, metadata: dict[str, Any] | None = None, error: str | None = None
            ) -> None:
                span.update(
                    output=output,
                    metadata=metadata,
                    level="ERROR" if error else None,
                    status_message=mask_text(error) if error else None,  # the SDK's mask skips it
                )

            yield update

    def event(self, name: str, metadata: dict[str, Any], *, level: str | None = None) -> None:
        if self.client is not None:
            self.client.create_event(name=name, metadata=metadata, level=level)  # type: ignore[arg-type]

    def score(
        self,
        *,
        trace_id: str,
        name: str,
        value: float,
        comment: str | None = None,
        session_id: str | None = None,
    ) -> None:
        if self.client is not None:
            self.client.create_score(
                trace_id=trace_id,
                name=name,
                value=value,
                comment=mask(comment) if comment else None,
                data_type="NUMERIC",
            )

    # -- the ledger ---------------------------------------------------------------------------------

    def record_call(self, record: CallRecord) -> None:
        """One ledger row per LLM call (synchronous: call it through asyncio.to_thread from async code)."""
        cost = estimate_cost(
            self.settings.llm_prices, record.model, record.tokens_in or 0, record.tokens_out or 0
        )
        with self.sessions() as session:
            session.add(
                LlmCall(
                    trace_id=record.trace_id,
                    session_id=record.session_id,
                    provider=record.provider,
                    model=record.model,
                    prompt_hash=record.prompt_hash,
                    tokens_in=record.tokens_in,
                    tokens_out=record.tokens_out,
                    latency_ms=record.latency_ms,
                    cost_usd=None if record.duplicate else cost,
                    attempts=record.attempts,
                    duplicate=record.duplicate,
                    status=record.status,
                    error=mask(record.error) if record.error else None,
                )
            )
            session.commit()

    # -- lifecycle ----------------------------------------------------------------------------------

    def flush(self) -> None:
        if self.client is not None:
            try:
                self.client.flush()
            except Exception:  # an outage at exit must not turn a good run into a crash
                log.warning("langfuse: flush failed", exc_info=True)

    def shutdown(self) -> bool:
        """Send what is queued, waiting at most `trace_flush_timeout` seconds. True when every trace of
        this process reached Langfuse (or tracing is off); `unsent_reason()` says why not. Logs once; later
        calls return the same."""
        if self.client is None:
            return True
        if self.export_state is None:
            self.export_state = shutdown_bounded(
                self.client, self.exporter, self.settings.trace_flush_timeout
            )
            if self.export_state != "sent":
                log.warning(
                    "Langfuse: traces could not be sent to %s (%s); the local call ledger has every LLM call",
                    self.settings.langfuse_base_url,
                    self.unsent_reason(),
                )
        return self.export_state == "sent"

    @property
    def traces_sent(self) -> bool | None:
        """After `shutdown()`: whether every trace reached Langfuse; None before it (or without Langfuse)."""
        return None if self.export_state is None else self.export_state == "sent"

    def unsent_reason(self) -> str | None:
        if self.export_state == "late":
            return f"no answer within {self.settings.trace_flush_timeout:g} s"
        if self.export_state == "failed":
            return "it refused them or could not be reached"
        return None


@asynccontextmanager
async def telemetry_session(
    settings: AssistantSettings, sessions: sessionmaker[Session]
) -> AsyncIterator[Telemetry]:
    """For short-lived commands: flushed before exit, whatever happens."""
    telemetry = Telemetry(settings, sessions)
    try:
        yield telemetry
    finally:
        telemetry.shutdown()
