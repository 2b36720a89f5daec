"""Matchers: who decides the final order and which candidates are good matches.

The built-in matcher is `hybrid`: the search's own order and its good-match threshold. Other matchers
re-rank the hybrid's top candidates; they live outside this package and register themselves here, so
`skillmatch` never imports them (the LLM matcher registers from `assistant` when its CLI or runtime is
imported):

    register_matcher("llm", lambda settings: LLMMatcher(settings, ...))
    matcher = build_matcher("llm", settings)          # MatcherUnavailable when it cannot run here
    judged = matcher.judge(query, candidates)         # Judged: order, grades, reasons, or a fallback

A matcher never loses the hybrid answer: when it fails (outage, invalid output) it returns the candidates
in their hybrid order with `fallback` saying why, and the caller shows that order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from skillmatch.config import Settings
from skillmatch.search import SearchResult

HYBRID = "hybrid"
GOOD_GRADE = 2  # a re-ranking matcher's grades: 3 ideal, 2 good, 1 partial, 0 not a fit


@dataclass
class Judged:
    """A matcher's verdict on the hybrid's candidates."""

    results: list[SearchResult]  # the candidates in the matcher's order (all of them, none added)
    grades: dict[int, int] = field(default_factory=dict)  # person_id -> 0..3
    reasons: dict[int, str] = field(default_factory=dict)  # person_id -> one line
    fallback: str | None = None  # why the hybrid order stands (outage, invalid answer); None: judged
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_ms: float = 0.0
    calls: int = 0

    def is_good(self, result: SearchResult) -> bool:
        """Graded good or better; an ungraded candidate (fallback, or left out by the model) keeps the
        hybrid's verdict."""
        grade = self.grades.get(result.person_id)
        return bool(result.good_match) if grade is None else grade >= GOOD_GRADE


class Matcher(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def candidates(self) -> int:
        """How many of the hybrid's best candidates it looks at."""
        ...

    def judge(self, query: str, candidates: Sequence[SearchResult]) -> Judged: ...

    def close(self) -> None: ...


MatcherFactory = Callable[[Settings], Matcher]
_REGISTRY: dict[str, MatcherFactory] = {}


class MatcherUnavailable(RuntimeError):
    """An unknown matcher name, or one that cannot run with this configuration; the message says why."""


def register_matcher(name: str, factory: MatcherFactory) -> None:
    if name == HYBRID:
        raise ValueError(f"{HYBRID!r} is the built-in matcher")
    _REGISTRY[name] = factory


def matcher_names() -> list[str]:
    return [HYBRID, *sorted(_REGISTRY)]


def build_matcher(name: str, settings: Settings) -> Matcher | None:
    """None for the built-in hybrid order; otherwise the registered matcher, built from settings."""
    if name == HYBRID:
        return None
    factory = _REGISTRY.get(name)
    if factory is None:
        raise MatcherUnavailable(f"unknown matcher {name!r}; use one of {', '.join(matcher_names())}")
    return factory(settings)


def apply(judged: Judged, rest: Sequence[SearchResult]) -> list[SearchResult]:
    """The matcher's order, then the candidates it did not see in hybrid order; `good_match` set from the
    grades where there are any."""
    for result in judged.results:
        result.good_match = judged.is_good(result)
        result.reason = judged.reasons.get(result.person_id, result.reason)
    return [*judged.results, *rest]
