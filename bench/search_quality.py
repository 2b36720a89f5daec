"""Ranking quality on the bundled gold file: hybrid against keyword search and against its own parts.

Baseline: `bm25-raw`, plain BM25 over the CV text as written (what keyword search does), in the same
process on the same freshly ingested sample set (60 CVs). Also shown: BM25 over the normalised text,
dense-only, skills-only and the fused hybrid. Targets (offline default): hybrid nDCG@10 >= 0.90 overall and
>= 0.80 on the hard half, and clearly above bm25-raw on the hard half; on the held-out file >= 0.90 overall
and >= 0.85 on its hard half.

Each gold file is scored twice: `plain` counts every CV it does not grade as not relevant (a lower bound:
gold.json and gold_holdout.json were graded before the 24 batch-3 CVs existed), `judged` drops those CVs
from the ranked list first (skillmatch/sample/judged.json; a condensed list).

    .venv/bin/python -m bench.search_quality [--static-model DIR] [--details] [--gold FILE ...]

`--static-model DIR` also evaluates a static model2vec embedder (scripts/distill_embedder.py builds one;
needs `pip install model2vec`): the comparison behind the choice of the offline default.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from rich.table import Table

from bench.common import console
from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import Embedder, StaticEmbedder, build_embedder
from skillmatch.evaluate import JUDGED_HEADROOM, EvalSummary, QueryScore, evaluate, load_gold, load_judged
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import MODES, Searcher

TODAY = date(2026, 11, 27)  # the sample data's "today": recency is judged against it


def run_modes(
    embedder: Embedder, workdir: Path, modes: tuple[str, ...], gold: Path, *, judged_only: bool = False
) -> dict[str, EvalSummary]:
    engine = create_db_engine(f"sqlite:///{workdir / (embedder.name.replace(':', '_') + '.db')}")
    upgrade(engine)
    sessions = session_factory(engine)
    ingest_folder(package_path("sample", "cvs"), CvStore(sessions, embedder, Settings(), today=TODAY))
    searcher = Searcher(sessions, embedder, today=TODAY)
    queries = load_gold(gold)
    judged = load_judged(gold) if judged_only else None
    depth = JUDGED_HEADROOM if judged else 10

    def ranked(query: str, mode: str) -> list[str]:
        return [r.source_name or "" for r in searcher.search(query, top=depth, mode=mode)]  # type: ignore[arg-type]

    out = {mode: evaluate(queries, lambda q, m=mode: ranked(q, m), judged=judged) for mode in modes}
    engine.dispose()
    return out


def detail(score: QueryScore) -> str:
    hard = "*" if score.query.hard else " "
    top3 = score.ranked[:3]
    return f"{score.query.id:>4}{hard} {score.query.kind:>13} nDCG@10={score.ndcg10:.3f}  top3={top3}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--static-model", type=Path, help="a model2vec folder to compare against")
    parser.add_argument("--gold", type=Path, action="append", help="default: gold.json and gold_holdout.json")
    parser.add_argument("--details", action="store_true", help="per-query nDCG@10 for each mode")
    args = parser.parse_args()
    golds = args.gold or [package_path("sample", "gold.json"), package_path("sample", "gold_holdout.json")]
    embedders: list[tuple[Embedder, tuple[str, ...]]] = [(build_embedder(Settings()), MODES)]
    if args.static_model:
        embedders.append((StaticEmbedder(args.static_model), ("dense", "hybrid")))
    table = Table(title="ranking quality on the bundled gold files", header_style="bold")
    for column in (
        "gold",
        "scored",
        "embedder",
        "mode",
        "subset",
        "n",
        "nDCG@5",
        "nDCG@10",
        "recall@10",
        "MRR",
    ):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for gold, judged_only in [(g, j) for g in golds for j in (False, True) if not j or load_judged(g)]:
            for embedder, modes in embedders:
                results = run_modes(embedder, Path(tmp), modes, gold, judged_only=judged_only)
                label = embedder.name.split("@")[0]
                for mode, summary in results.items():
                    for subset, group in (
                        ("all", summary),
                        ("hard", summary.subset(lambda s: s.query.hard)),
                        ("easy", summary.subset(lambda s: not s.query.hard)),
                    ):
                        d = group.as_dict()
                        table.add_row(
                            gold.name,
                            "judged" if judged_only else "plain",
                            label,
                            mode,
                            subset,
                            str(d["queries"]),
                            f"{d['ndcg@5']:.3f}",
                            f"{d['ndcg@10']:.3f}",
                            f"{d['recall@10']:.3f}",
                            f"{d['mrr']:.3f}",
                        )
                    if args.details:
                        for score in summary.scores:
                            console.print(f"{gold.stem:>13} {label:>14} {mode:>8} {detail(score)}")
    console.print(table)
    console.print(
        "targets: hybrid nDCG@10 >= 0.90 (all), >= 0.80 (hard); hybrid clearly above bm25-raw on hard; "
        "held-out >= 0.90 (all), >= 0.85 (hard)"
    )


if __name__ == "__main__":
    main()
