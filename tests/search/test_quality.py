"""The quality bar on the bundled data, through the real offline pipeline (ingest -> hybrid search -> eval).

Targets from the core issue: nDCG@10 >= 0.90 on the gold file, >= 0.80 on its hard half, and the hybrid
clearly above keyword search (BM25 on the CV text as written) on the hard half. The held-out file, written
by someone who never saw the ranking code, must reach >= 0.90 overall and >= 0.85 on its hard half (issue
11), and the gold file must not fall below where it stood on the 60-CV sample before that work (0.970 /
0.965 judged-only). Both files were graded before the batch-3 CVs existed: `judged` scores leave those
CVs out of the ranked list (skillmatch/sample/judged.json), plain scores count them as misses.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.evaluate import JUDGED_HEADROOM, EvalSummary, evaluate, load_gold, load_judged
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def sample_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    path: Path = tmp_path_factory.mktemp("quality") / "sample.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = session_factory(engine)
    embedder = OnnxEmbedder()
    report = ingest_folder(
        package_path("sample", "cvs"), CvStore(sessions, embedder, Settings(), today=TODAY)
    )
    assert report.counts["added"] == 60 and not report.problems
    return Searcher(sessions, embedder, today=TODAY)


def run(searcher: Searcher, gold: str, mode: str, *, judged_only: bool = False) -> EvalSummary:
    path = package_path("sample", gold)
    judged = load_judged(path) if judged_only else None
    depth = JUDGED_HEADROOM if judged else 10
    return evaluate(
        load_gold(path),
        lambda q: [r.source_name or "" for r in searcher.search(q, top=depth, mode=mode)],  # type: ignore[arg-type]
        judged=judged,
    )


def hard(summary: EvalSummary) -> EvalSummary:
    return summary.subset(lambda s: s.query.hard)


def test_gold_file_targets(sample_searcher: Searcher) -> None:
    hybrid = run(sample_searcher, "gold.json", "hybrid")
    keyword = run(sample_searcher, "gold.json", "bm25-raw")
    assert hybrid.mean("ndcg10") >= 0.90
    assert hard(hybrid).mean("ndcg10") >= 0.80
    assert hard(hybrid).mean("ndcg10") >= hard(keyword).mean("ndcg10") + 0.10
    assert hybrid.mean("recall10") >= 0.95


def test_the_gold_file_keeps_its_figures_from_before_the_generalisation_work(
    sample_searcher: Searcher,
) -> None:
    judged = run(sample_searcher, "gold.json", "hybrid", judged_only=True)
    assert judged.mean("ndcg10") >= 0.965
    assert hard(judged).mean("ndcg10") >= 0.96


def test_held_out_queries_meet_the_generalisation_targets(sample_searcher: Searcher) -> None:
    for judged_only in (False, True):
        hybrid = run(sample_searcher, "gold_holdout.json", "hybrid", judged_only=judged_only)
        assert hybrid.mean("ndcg10") >= 0.90
        assert hard(hybrid).mean("ndcg10") >= 0.85
    keyword = run(sample_searcher, "gold_holdout.json", "bm25-raw")
    assert (
        hard(run(sample_searcher, "gold_holdout.json", "hybrid")).mean("ndcg10")
        > hard(keyword).mean("ndcg10") + 0.10
    )


def test_bundled_bad_files_are_all_refused_with_reasons(sample_searcher: Searcher) -> None:
    store = CvStore(sample_searcher.sessions, sample_searcher.embedder, Settings(), today=TODAY)
    report = ingest_folder(package_path("sample", "bad_cvs"), store)
    reasons = {Path(p.item).name: p.reason for p in report.problems}
    assert set(reasons) == {
        "empty.md",
        "binary.txt",
        "corrupt.docx",
        "corrupt.pdf",
        "scanned.pdf",
        "unsupported.xlsx",
    }
    assert report.counts["added"] == 0
    assert len(sample_searcher.search("Kubernetes", top=40)) > 0  # the index is untouched
