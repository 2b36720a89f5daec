"""Where the LLM money went: per trace the calls, attempts, failures, duplicates, tokens, cost and latency,
and the costliest sessions.

A duplicate is a call flagged by the in-turn guard, or a request answered successfully twice in one trace.
The attempts of one routed call (a retry, a failover: Langfuse has a generation per attempt, all with the
call's `call_id`) are one call, and a call that got no answer is a failure, not a duplicate: the same request
sent again after it (a turn run again) is the retry it should be.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.models import LlmCall

_SINCE_RE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`30m`, `24h`, `7d`, `2w`, or an ISO timestamp."""
    now = now or datetime.now(UTC)
    match = _SINCE_RE.match(value)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Call:
    """One LLM call (a ledger row) or one attempt of a call (a Langfuse generation)."""

    trace_id: str
    session_id: str | None
    prompt_hash: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    flagged_duplicate: bool
    started: datetime | None = None
    call_id: str | None = None  # shared by the attempts of one routed call; None: this is a whole call
    failed: bool = False  # no answer came back


@dataclass
class TraceAudit:
    trace_id: str
    session_id: str | None
    calls: int = 0
    attempts: int = 0
    failed: int = 0
    duplicates: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0


@dataclass
class AuditReport:
    traces: list[TraceAudit] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for t in self.traces)

    def costliest_sessions(self, n: int = 5) -> list[tuple[str, float, int]]:
        cost: dict[str, float] = defaultdict(float)
        calls: Counter[str] = Counter()
        for t in self.traces:
            key = t.session_id or "(no session)"
            cost[key] += t.cost_usd
            calls[key] += t.calls
        return sorted(((k, round(v, 6), calls[k]) for k, v in cost.items()), key=lambda x: -x[1])[:n]


def _whole_calls(calls: list[Call]) -> list[list[Call]]:
    """Attempts grouped into calls (by call id), in the order each call started."""
    grouped: dict[str, list[Call]] = {}
    whole: list[list[Call]] = []
    for call in sorted(calls, key=lambda c: (c.trace_id, c.started or datetime.min.replace(tzinfo=UTC))):
        if call.call_id is None:
            whole.append([call])
        elif (key := f"{call.trace_id}:{call.call_id}") in grouped:
            grouped[key].append(call)
        else:
            grouped[key] = [call]
            whole.append(grouped[key])
    return whole


def audit_calls(calls: list[Call]) -> AuditReport:
    by_trace: dict[str, TraceAudit] = {}
    answered: dict[str, set[str]] = defaultdict(set)  # per trace: request hashes answered successfully
    for attempts in _whole_calls(calls):
        first = attempts[0]
        audit = by_trace.setdefault(first.trace_id, TraceAudit(first.trace_id, first.session_id))
        audit.calls += 1
        audit.attempts += len(attempts)
        if first.flagged_duplicate:
            audit.duplicates += 1
        elif all(a.failed for a in attempts):
            audit.failed += 1
        elif first.prompt_hash and first.prompt_hash in answered[first.trace_id]:
            audit.duplicates += 1
        elif first.prompt_hash:
            answered[first.trace_id].add(first.prompt_hash)
        for attempt in attempts:
            audit.tokens_in += attempt.tokens_in
            audit.tokens_out += attempt.tokens_out
            audit.cost_usd += attempt.cost_usd
            audit.latency_ms += attempt.latency_ms
    return AuditReport(sorted(by_trace.values(), key=lambda t: -t.cost_usd))


def ledger_calls(
    sessions: sessionmaker[Session], *, since: datetime, session_id: str | None = None
) -> list[Call]:
    with sessions() as session:
        query = select(LlmCall).where(LlmCall.created_at >= since).order_by(LlmCall.created_at, LlmCall.id)
        if session_id:
            query = query.where(LlmCall.session_id == session_id)
        return [
            Call(
                trace_id=row.trace_id or f"(no trace) #{row.id}",
                session_id=row.session_id,
                prompt_hash=None if row.duplicate else row.prompt_hash,
                tokens_in=row.tokens_in or 0,
                tokens_out=row.tokens_out or 0,
                cost_usd=row.cost_usd or 0.0,
                latency_ms=row.latency_ms or 0.0,
                flagged_duplicate=row.duplicate,
                started=row.created_at,
                failed=row.status == "failed",
            )
            for row in session.scalars(query)
        ]
