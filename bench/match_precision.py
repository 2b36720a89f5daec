"""Precision of the list a user is shown: the good-match floor against the top 10 it replaced.

The sample set is ingested into a fresh SQLite database. For every query of the gold files the script
compares two lists:

- `top 10` (the baseline): the ten best-ranked people, which is what `skillmatch search` printed before
  the floor;
- `good matches`: what `find_matches(top=10)` returns, i.e. the ranked people whose match quality clears
  SKILLMATCH_GOOD_MATCH.

Precision counts a shown person as relevant at grade 2 or better (and, in the second column, grade 1 or
better); people the gold file does not grade count as not relevant, so the figures are a lower bound.
`judged` rows leave out the CVs the gold file was never graded against (skillmatch/sample/judged.json: the
batch-3 CVs for gold.json and gold_holdout.json) before counting. Recall is the share of all grade-2+
people of the gold file that the list shows. The hostile queries must show nobody (the C# one may show the
C# developers). `--baseline-only` prints just the top-10 figures, for running against an older checkout
(`PYTHONPATH=<checkout> .venv/bin/python -m bench.match_precision --baseline-only`). `--sweep` prints
precision and recall for a range of thresholds instead (how SKILLMATCH_GOOD_MATCH was calibrated).

    .venv/bin/python -m bench.match_precision [--threshold 0.55] [--sweep]
    .venv/bin/python -m bench.match_precision --gold gold_third.json
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.table import Table
from rich.text import Text

from bench.common import console
from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.evaluate import GoldQuery, load_gold, load_judged
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)
HOSTILE = [
    "'; DROP TABLE people; --",
    "k" * 10_000,
    "🚀🚀 rockstar ninja 🤖",
    "Haskell developer",
    "someone good",
    "C# [/] developer [bold]",
]


@dataclass
class Tally:
    shown: int = 0
    relevant: int = 0  # grade >= 2
    somewhat: int = 0  # grade >= 1
    wanted: int = 0  # grade-2+ people of the gold file
    empty: int = 0  # queries with nothing shown
    queries: int = 0

    def add(self, query: GoldQuery, names: list[str]) -> None:
        grades = [query.relevance.get(n, 0) for n in names]
        self.queries += 1
        self.shown += len(names)
        self.relevant += sum(g >= 2 for g in grades)
        self.somewhat += sum(g >= 1 for g in grades)
        self.wanted += sum(g >= 2 for g in query.relevance.values())
        self.empty += not names

    def row(self) -> list[str]:
        return [
            f"{self.shown / max(1, self.queries):.1f}",
            f"{self.relevant / max(1, self.shown):.3f}",
            f"{self.somewhat / max(1, self.shown):.3f}",
            f"{self.relevant / max(1, self.wanted):.3f}",
            str(self.empty),
        ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, help="override SKILLMATCH_GOOD_MATCH")
    parser.add_argument("--baseline-only", action="store_true", help="only the top-10 lists (older code)")
    parser.add_argument("--sweep", action="store_true", help="precision/recall per threshold (calibration)")
    parser.add_argument("--gold", action="append", help="gold file names in skillmatch/sample (default: two)")
    parser.add_argument("--also-ingest", type=Path, action="append", default=[], help="more CV folders")
    args = parser.parse_args()
    table = Table(title="the list shown to the user, on the bundled gold files", header_style="bold")
    for column in ("gold", "list", "shown/query", "precision (2+)", "precision (1+)", "recall (2+)", "empty"):
        table.add_column(column, justify="right")
    hostile = Table(title="hostile queries: people shown", header_style="bold")
    hostile.add_column("query")
    hostile.add_column("top 10", justify="right")
    if not args.baseline_only:
        hostile.add_column("good matches", justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'sample.db'}")
        upgrade(engine)
        sessions = session_factory(engine)
        embedder = OnnxEmbedder()
        store = CvStore(sessions, embedder, Settings(), today=TODAY)
        for folder in [package_path("sample", "cvs"), *args.also_ingest]:
            ingest_folder(folder, store)
        extra = {} if args.threshold is None or args.baseline_only else {"good_match": args.threshold}
        searcher = Searcher(sessions, embedder, today=TODAY, **extra)
        golds = args.gold or ["gold.json", "gold_holdout.json"]
        if args.sweep:
            sweep(searcher, golds)
            engine.dispose()
            return

        def top10(query: str) -> list[str]:
            return [r.source_name or "" for r in searcher.search(query, top=10)]

        lists: dict[str, Callable[[str], list[str]]] = {"top 10 (baseline)": top10}
        if not args.baseline_only:
            from skillmatch.matches import find_matches

            lists["good matches"] = lambda q: [r.source_name or "" for r in find_matches(searcher, q).good]
        for gold in golds:
            path = package_path("sample", gold)
            queries, judged = load_gold(path), load_judged(path)
            for label, make in lists.items():
                shown = {q.id: make(q.query) for q in queries}
                for scope, pool in (("", None), (", judged", judged)):
                    if scope and pool is None:
                        continue
                    tally = Tally()
                    for query in queries:
                        tally.add(query, [n for n in shown[query.id] if pool is None or n in pool])
                    table.add_row(gold, label + scope, *tally.row())
        for query in HOSTILE:
            name = Text(query[:40] + ("…" if len(query) > 40 else ""))  # a query is never markup
            hostile.add_row(name, *(str(len(m(query))) for m in lists.values()))
        engine.dispose()
    console.print(table)
    console.print(hostile)
    if not args.baseline_only:
        console.print(f"good-match threshold: {searcher.good_match}")


def sweep(searcher: Searcher, golds: list[str]) -> None:
    """The shown list for each threshold: the ranked people (top 30) whose match clears it, first 10."""
    ranked = {}
    for gold in golds:
        path = package_path("sample", gold)
        for query in load_gold(path):
            ranked[(gold, query.id)] = (query, load_judged(path), searcher.search(query.query, top=30))
    hostile = {q: searcher.search(q, top=10) for q in HOSTILE}
    table = Table(title="precision (2+) and recall (2+) of the shown list per threshold", header_style="bold")
    table.add_column("threshold", justify="right")
    for gold in golds:
        for scope in ("plain", "judged"):
            table.add_column(f"{gold} {scope} P / R / empty", justify="right")
    table.add_column("hostile queries showing anyone", justify="right")
    for threshold in (0.45, 0.50, 0.52, 0.55, 0.58, 0.60, 0.65, 0.70):
        cells = [f"{threshold:.2f}"]
        for gold in golds:
            for scope in ("plain", "judged"):
                tally = Tally()
                for (g, _), (query, judged, results) in ranked.items():
                    if g != gold:
                        continue
                    names = [r.source_name or "" for r in results if (r.match or 0) >= threshold][:10]
                    pool = judged if scope == "judged" else None
                    tally.add(query, [n for n in names if pool is None or n in pool])
                row = tally.row()
                cells.append(f"{row[1]} / {row[3]} / {row[4]}")
        showing = [q for q, rs in hostile.items() if any((r.match or 0) >= threshold for r in rs)]
        listed = f" ({', '.join(q[:12] for q in showing)})" if showing else ""
        table.add_row(*cells, Text(f"{len(showing)}{listed}"))  # a query is never markup
    console.print(table)


if __name__ == "__main__":
    main()
