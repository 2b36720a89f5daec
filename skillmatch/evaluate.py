"""Ranking quality on a graded gold file: nDCG@5, nDCG@10, recall@10 and MRR.

Gold: [{"id", "query", "relevance": {"<source file name>": grade 0-3}, "hard"?: bool, "kind"?: str}].
Gains are 2^grade - 1; recall@10 and MRR count a result as relevant from grade 2 ("good") upwards.

A gold file graded against an older, smaller corpus says nothing about CVs added since. `judged.json`
beside it may list the files it was graded against; a judged-only evaluation then drops every other file
from the ranked list before scoring (a condensed list), so a new CV that fits is not counted as a miss.
The plain evaluation counts unlisted files as not relevant (a lower bound).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

RELEVANT_FROM = 2


@dataclass(frozen=True)
class GoldQuery:
    id: str
    query: str
    relevance: dict[str, int]
    hard: bool = False
    kind: str = "plain"


@dataclass
class QueryScore:
    query: GoldQuery
    ranked: list[str]
    ndcg5: float
    ndcg10: float
    recall10: float
    rr: float


@dataclass
class EvalSummary:
    scores: list[QueryScore] = field(default_factory=list)

    def subset(self, predicate: Callable[[QueryScore], bool]) -> EvalSummary:
        return EvalSummary([s for s in self.scores if predicate(s)])

    def mean(self, metric: str) -> float:
        values = [getattr(s, metric) for s in self.scores]
        return sum(values) / len(values) if values else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "queries": len(self.scores),
            "ndcg@5": round(self.mean("ndcg5"), 4),
            "ndcg@10": round(self.mean("ndcg10"), 4),
            "recall@10": round(self.mean("recall10"), 4),
            "mrr": round(self.mean("rr"), 4),
        }


def load_gold(path: Path) -> list[GoldQuery]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of queries")
    queries = []
    for i, item in enumerate(raw):
        try:
            queries.append(
                GoldQuery(
                    id=str(item.get("id", f"q{i + 1}")),
                    query=str(item["query"]),
                    relevance={str(k): int(v) for k, v in item["relevance"].items()},
                    hard=bool(item.get("hard", False)),
                    kind=str(item.get("kind", "plain")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: query #{i + 1} is malformed ({exc})") from exc
    return queries


JUDGED_FILE = "judged.json"
# Results asked of the ranker when unjudged files are dropped: enough that ten judged ones remain.
JUDGED_HEADROOM = 40


def load_judged(gold: Path) -> frozenset[str] | None:
    """The CV file names `gold` was graded against, or None when it covers every file of the corpus."""
    path = gold.with_name(JUDGED_FILE)
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    files = raw.get(gold.name) if isinstance(raw, dict) else None
    if files is None:
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ValueError(f"{path}: {gold.name!r} must map to a list of file names")
    return frozenset(files)


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranked: Sequence[str], relevance: dict[str, int], k: int) -> float:
    gains = [2 ** relevance.get(name, 0) - 1 for name in ranked[:k]]
    ideal = sorted((2**g - 1 for g in relevance.values() if g > 0), reverse=True)[:k]
    best = dcg(ideal)
    return dcg(gains) / best if best > 0 else 0.0


def score_query(query: GoldQuery, ranked: Sequence[str]) -> QueryScore:
    relevant = {name for name, grade in query.relevance.items() if grade >= RELEVANT_FROM}
    hits = [name for name in ranked[:10] if name in relevant]
    rr = next((1.0 / (i + 1) for i, name in enumerate(ranked) if name in relevant), 0.0)
    return QueryScore(
        query=query,
        ranked=list(ranked),
        ndcg5=ndcg_at(ranked, query.relevance, 5),
        ndcg10=ndcg_at(ranked, query.relevance, 10),
        recall10=len(hits) / len(relevant) if relevant else 1.0,
        rr=rr,
    )


def evaluate(
    queries: Sequence[GoldQuery],
    rank: Callable[[str], list[str]],
    *,
    judged: frozenset[str] | None = None,
    depth: int = 10,
) -> EvalSummary:
    """`rank(query)` returns source file names (or paths; the file name is what counts), best first. With
    `judged`, files outside it are dropped first (ask `rank` for JUDGED_HEADROOM results then)."""
    scores = []
    for q in queries:
        names = [PurePath(s).name for s in rank(q.query)]
        if judged is not None:
            names = [n for n in names if n in judged]
        scores.append(score_query(q, names[:depth]))
    return EvalSummary(scores)
