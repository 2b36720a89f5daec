"""Where the LLM money went: per trace the calls, duplicates, tokens, cost and latency, and the costliest
sessions. A duplicate is a call flagged by the in-turn guard, or the same request sent twice in one trace.
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
    """One LLM call, from the ledger or read back from Langfuse."""

    trace_id: str
    session_id: str | None
    prompt_hash: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    flagged_duplicate: bool
    started: datetime | None = None


@dataclass
class TraceAudit:
    trace_id: str
    session_id: str | None
    calls: int = 0
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


def audit_calls(calls: list[Call]) -> AuditReport:
    by_trace: dict[str, TraceAudit] = {}
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for call in sorted(calls, key=lambda c: (c.trace_id, c.started or datetime.min.replace(tzinfo=UTC))):
        audit = by_trace.setdefault(call.trace_id, TraceAudit(call.trace_id, call.session_id))
        audit.calls += 1
        repeated = bool(call.prompt_hash) and seen[call.trace_id][call.prompt_hash or ""] > 0
        if call.prompt_hash:
            seen[call.trace_id][call.prompt_hash] += 1
        if call.flagged_duplicate or repeated:
            audit.duplicates += 1
        audit.tokens_in += call.tokens_in
        audit.tokens_out += call.tokens_out
        audit.cost_usd += call.cost_usd
        audit.latency_ms += call.latency_ms
    return AuditReport(sorted(by_trace.values(), key=lambda t: -t.cost_usd))


def ledger_calls(
    sessions: sessionmaker[Session], *, since: datetime, session_id: str | None = None
) -> list[Call]:
    with sessions() as session:
        query = select(LlmCall).where(LlmCall.created_at >= since)
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
            )
            for row in session.scalars(query)
        ]
