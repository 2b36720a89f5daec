"""Search latency p50/p99 for 10k and 100k synthetic people: hybrid vs its own parts.

Baseline: BM25-only search over the same index in the same process. Target: hybrid p50 <= 20 ms at 10k.

    .venv/bin/python -m bench.search_latency [--sizes 10000,100000] [--rounds 20]
"""

from __future__ import annotations

import argparse

from rich.table import Table

from bench.common import QUERIES, console, machine, p50, percentile, synthetic_index, timings_ms
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.search import Searcher


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query set")
    args = parser.parse_args()
    embedder = OnnxEmbedder()
    embedder.embed(["warm up"])
    table = Table(title=f"search latency ({machine()})", header_style="bold")
    for column in ("people", "passages", "mode", "p50 ms", "p99 ms", "vs bm25 p50"):
        table.add_column(column, justify="right")
    for size in (int(s) for s in args.sizes.split(",")):
        index = synthetic_index(size, embedder)
        searcher = Searcher(None, embedder, weights=None)  # type: ignore[arg-type]
        results: dict[str, list[float]] = {}
        for mode in ("bm25", "dense", "hybrid"):
            samples: list[float] = []
            for query in QUERIES:

                def run(q: str = query, m: str = mode) -> object:
                    return searcher.search(q, top=10, mode=m, index=index)  # type: ignore[arg-type]  # noqa: B023

                run()  # warm the query path once
                samples += timings_ms(run, args.rounds)
            results[mode] = samples
        base = p50(results["bm25"])
        for mode, samples in results.items():
            table.add_row(
                f"{size:,}",
                f"{len(index.chunks):,}",
                mode,
                f"{p50(samples):.2f}",
                f"{percentile(samples, 99):.2f}",
                f"{p50(samples) / base:.2f}x",
            )
        console.print(table)
        if size == 10_000:
            hybrid = p50(results["hybrid"])
            verdict = "met" if hybrid <= 20 else "MISSED"
            console.print(f"target hybrid p50 <= 20 ms at 10,000 people: {hybrid:.2f} ms, {verdict}")


if __name__ == "__main__":
    main()
