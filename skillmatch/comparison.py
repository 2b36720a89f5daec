"""Matchers side by side on a gold file, from one run: quality, and what each costs per query.

Every matcher ranks the same queries against the same index. The hybrid's ranking is the input of every
re-ranking matcher (its top `matcher.candidates`), so the difference between rows is the matcher alone.
Latency is per query, search included; tokens and cost are the matcher's model calls (cost from the
configured price table, None when the model has no price).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from skillmatch.evaluate import JUDGED_HEADROOM, EvalSummary, GoldQuery, evaluate
from skillmatch.matching import HYBRID, Matcher, apply
from skillmatch.search import Searcher


@dataclass
class MatcherCost:
    queries: int = 0
    calls: int = 0
    fallbacks: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.p50_ms
        return statistics.quantiles(self.latencies_ms, n=20, method="inclusive")[-1]

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "queries": self.queries,
            "llm_calls": self.calls,
            "fallbacks": self.fallbacks,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "latency_p50_ms": round(self.p50_ms, 1),
            "latency_p95_ms": round(self.p95_ms, 1),
        }


@dataclass
class MatcherRun:
    name: str
    summary: EvalSummary
    cost: MatcherCost


def compare_matchers(
    queries: Sequence[GoldQuery],
    searcher: Searcher,
    matchers: dict[str, Matcher | None],
    *,
    judged: frozenset[str] | None = None,
) -> list[MatcherRun]:
    """One run per matcher (None: the hybrid order) over the same queries."""
    runs = []
    for name, matcher in matchers.items():
        cost = MatcherCost()

        def rank(query: str, matcher: Matcher | None = matcher, cost: MatcherCost = cost) -> list[str]:
            started = time.perf_counter()
            depth = max(JUDGED_HEADROOM if judged else 10, matcher.candidates if matcher else 0)
            ranked = searcher.search(query, top=depth)
            if matcher is not None and ranked:
                verdict = matcher.judge(query, ranked[: matcher.candidates])
                ranked = apply(verdict, ranked[matcher.candidates :])
                cost.calls += verdict.calls
                cost.fallbacks += verdict.fallback is not None
                cost.tokens_in += verdict.tokens_in
                cost.tokens_out += verdict.tokens_out
                if verdict.calls and verdict.fallback is None:
                    cost.cost_usd = (
                        None
                        if verdict.cost_usd is None or cost.cost_usd is None
                        else (cost.cost_usd + verdict.cost_usd)
                    )
            cost.queries += 1
            cost.latencies_ms.append((time.perf_counter() - started) * 1000)
            return [r.source_name or "" for r in ranked]

        runs.append(MatcherRun(name or HYBRID, evaluate(queries, rank, judged=judged), cost))
    return runs
