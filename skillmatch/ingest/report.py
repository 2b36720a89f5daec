"""What an ingestion run reports back: counts by outcome and one line per problem."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Problem:
    item: str
    reason: str


@dataclass
class IngestReport:
    source: str
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # remarks on items that were handled, not failures
    error: str | None = None  # a fatal error that stopped the run; what was done before it is kept
    seconds: float = 0.0

    def count(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def problem(self, item: str, reason: str) -> None:
        self.problems.append(Problem(item, reason))
        self.counts["failed"] += 1

    def note(self, item: str, remark: str) -> None:
        self.notes.append(Problem(item, remark))

    @property
    def ok(self) -> bool:
        return self.error is None
