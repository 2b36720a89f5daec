"""The audit's second source: LLM calls read back from Langfuse through its public API (v2 observations).

Each attempt of a call is a generation carrying the request hash (`prompt_hash`) and the call's id
(`call_id`) in its metadata; a failed attempt has level ERROR. Calls the in-turn guard prevented are EVENT
observations named `assistant.llm.duplicate`. All reach the same audit as the local ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from langfuse import Langfuse

from assistant.audit import Call
from assistant.config import AssistantSettings

DUPLICATE_EVENT = "assistant.llm.duplicate"
PAGE = 100


def _observations(client: Langfuse, **filters: Any) -> Iterator[Any]:
    cursor = None
    while True:
        page = client.api.observations.get_many(
            limit=PAGE, cursor=cursor, request_options={"max_retries": 1}, **filters
        )
        yield from page.data
        cursor = getattr(page.meta, "cursor", None)
        if not cursor or not page.data:
            return


def _metadata_value(metadata: dict[str, Any] | None, key: str) -> Any:
    value = (metadata or {}).get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def langfuse_calls(
    settings: AssistantSettings, *, since: datetime, session_id: str | None = None
) -> list[Call]:
    assert settings.langfuse_public_key and settings.langfuse_secret_key
    client = Langfuse(
        public_key=settings.langfuse_public_key,
        secret_key=settings.langfuse_secret_key.get_secret_value(),
        base_url=settings.langfuse_base_url,
        tracing_enabled=False,  # read-only: this client exports nothing
    )
    filters: dict[str, Any] = {"from_start_time": since}
    if session_id:
        filters["session_id"] = session_id
    calls: list[Call] = []
    for observation in _observations(
        client,
        type="GENERATION",
        fields="core,basic,model,usage,metadata,metrics",
        expand_metadata="prompt_hash,call_id",
        **filters,
    ):
        usage = observation.usage_details or {}
        latency = observation.latency
        if latency is None and observation.end_time is not None:
            latency = (observation.end_time - observation.start_time).total_seconds()
        calls.append(
            Call(
                trace_id=observation.trace_id or observation.id,
                session_id=observation.session_id,
                prompt_hash=_metadata_value(observation.metadata, "prompt_hash"),
                tokens_in=int(usage.get("input") or usage.get("prompt_tokens") or 0),
                tokens_out=int(usage.get("output") or usage.get("completion_tokens") or 0),
                cost_usd=float(observation.total_cost or 0.0),
                latency_ms=float(latency or 0.0) * 1000,
                flagged_duplicate=False,
                started=observation.start_time,
                call_id=_metadata_value(observation.metadata, "call_id"),
                failed=observation.level == "ERROR",
            )
        )
    for event in _observations(client, type="EVENT", name=DUPLICATE_EVENT, fields="core,basic", **filters):
        calls.append(
            Call(
                trace_id=event.trace_id or event.id,
                session_id=event.session_id,
                prompt_hash=None,
                tokens_in=0,
                tokens_out=0,
                cost_usd=0.0,
                latency_ms=0.0,
                flagged_duplicate=True,
                started=event.start_time,
            )
        )
    return calls
