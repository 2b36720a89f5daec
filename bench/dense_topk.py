"""Dense top-k: numpy (matrix-vector product + argpartition, as the search uses) against faiss-cpu
IndexFlatIP on the same matrix and queries, in the same process. Target: numpy within 1.5x of faiss.

    .venv/bin/python -m bench.dense_topk [--sizes 50000,500000] [--k 200]
"""

from __future__ import annotations

import argparse
import os

import faiss
import numpy as np
from rich.table import Table

from bench.common import QUERIES, console, machine, p50, percentile, timings_ms
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.search import top_positive


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--sizes", default="50000,500000", help="passages (5 per person: 10k and 100k people)"
    )
    parser.add_argument("--k", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    embedder = OnnxEmbedder()
    queries = embedder.embed(QUERIES)
    rng = np.random.default_rng(3)
    table = Table(
        title=f"dense top-{args.k}, {embedder.dim} dims, ms ({machine()}, faiss {faiss.__version__})",
        header_style="bold",
    )
    for column in (
        "passages",
        "faiss threads",
        "numpy p50 ms",
        "numpy p99 ms",
        "faiss p50 ms",
        "faiss p99 ms",
        "numpy/faiss",
    ):
        table.add_column(column, justify="right")
    for size in (int(s) for s in args.sizes.split(",")):
        # Random unit rows: neither method's cost depends on the values, and setup stays quick.
        matrix = rng.standard_normal((size, embedder.dim)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        index = faiss.IndexFlatIP(embedder.dim)
        index.add(matrix)
        agree = 0
        for q in queries:
            ours = top_positive(matrix @ q, args.k)
            _, theirs = index.search(q[None, :], args.k)
            agree += len(set(ours[:10].tolist()) & set(theirs[0][:10].tolist()))
        for threads in sorted({1, os.cpu_count() or 1}):
            faiss.omp_set_num_threads(threads)
            numpy_ms: list[float] = []
            faiss_ms: list[float] = []
            for q in queries:
                numpy_ms += timings_ms(lambda q=q, m=matrix: top_positive(m @ q, args.k), args.rounds)
                faiss_ms += timings_ms(lambda q=q, i=index: i.search(q[None, :], args.k), args.rounds)
            table.add_row(
                f"{size:,}",
                str(threads),
                f"{p50(numpy_ms):.2f}",
                f"{percentile(numpy_ms, 99):.2f}",
                f"{p50(faiss_ms):.2f}",
                f"{percentile(faiss_ms, 99):.2f}",
                f"{p50(numpy_ms) / p50(faiss_ms):.2f}x",
            )
        console.print(f"{size:,} passages: top-10 agreement {agree}/{10 * len(queries)}")
    console.print(table)
    console.print("target: numpy/faiss <= 1.5x")


if __name__ == "__main__":
    main()
