"""Ranking quality on the bundled gold file: hybrid against keyword search and against its own parts.

Baseline: `bm25-raw`, plain BM25 over the CV text as written (what keyword search does), in the same
process on the same freshly ingested sample set. Also shown: BM25 over the normalised text, dense-only,
skills-only and the fused hybrid. Targets (offline default): hybrid nDCG@10 >= 0.90 overall and >= 0.80 on
the hard half, and clearly above bm25-raw on the hard half.

    .venv/bin/python -m bench.search_quality [--model-dir DIR ...] [--details]

`--model-dir` evaluates other static (model2vec) embedders, e.g. when choosing the offline default.
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
from skillmatch.embeddings import BUNDLED_MODEL_DIR, StaticEmbedder
from skillmatch.evaluate import EvalSummary, evaluate, load_gold
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import MODES, Searcher

TODAY = date(2026, 11, 27)  # the sample data's "today": recency is judged against it


def run_modes(model_dir: Path, workdir: Path, modes: tuple[str, ...]) -> dict[str, EvalSummary]:
    engine = create_db_engine(f"sqlite:///{workdir / (model_dir.name + '.db')}")
    upgrade(engine)
    embedder = StaticEmbedder(model_dir)
    sessions = session_factory(engine)
    ingest_folder(package_path("sample", "cvs"), CvStore(sessions, embedder, Settings(), today=TODAY))
    searcher = Searcher(sessions, embedder, today=TODAY)
    queries = load_gold(package_path("sample", "gold.json"))
    out = {
        mode: evaluate(
            queries, lambda q, m=mode: [r.source_name or "" for r in searcher.search(q, top=10, mode=m)]
        )
        for mode in modes
    }
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", action="append", type=Path, default=[])
    parser.add_argument("--details", action="store_true", help="per-query nDCG@10 for each mode")
    args = parser.parse_args()
    model_dirs = [BUNDLED_MODEL_DIR, *args.model_dir]
    table = Table(title="ranking quality on skillmatch/sample/gold.json", header_style="bold")
    for column in ("embedder", "mode", "subset", "n", "nDCG@5", "nDCG@10", "recall@10", "MRR"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for model_dir in model_dirs:
            modes = MODES if model_dir == BUNDLED_MODEL_DIR else ("dense", "hybrid")
            results = run_modes(model_dir, Path(tmp), modes)
            for mode, summary in results.items():
                for subset, group in (
                    ("all", summary),
                    ("hard", summary.subset(lambda s: s.query.hard)),
                    ("easy", summary.subset(lambda s: not s.query.hard)),
                ):
                    d = group.as_dict()
                    table.add_row(
                        model_dir.name,
                        mode,
                        subset,
                        str(d["queries"]),
                        f"{d['ndcg@5']:.3f}",
                        f"{d['ndcg@10']:.3f}",
                        f"{d['recall@10']:.3f}",
                        f"{d['mrr']:.3f}",
                    )
                if args.details:
                    for s in summary.scores:
                        console.print(
                            f"{model_dir.name:>16} {mode:>8} {s.query.id:>4}{'*' if s.query.hard else ' '} "
                            f"{s.query.kind:>13} nDCG@10={s.ndcg10:.3f}  top3={s.ranked[:3]}"
                        )
    console.print(table)
    console.print(
        "targets: hybrid nDCG@10 >= 0.90 (all), >= 0.80 (hard); hybrid clearly above bm25-raw on hard"
    )


if __name__ == "__main__":
    main()
