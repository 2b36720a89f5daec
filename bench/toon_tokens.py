"""Tokens the model reads for one `search_candidates` answer: TOON vs compact JSON vs indented JSON.

o200k_base, offline. The same payload (flat candidate records, exactly what the tool returns) is encoded
three ways; compact JSON is the baseline (what a careful engineer would send without TOON). Figures are
means over the benchmark query set. Corpora: the bundled sample (60 CVs; the tool allows at most 25
candidates) and a synthetic one (2,000 people) for 50 candidates, built from the tool's own record code
beyond its `top` limit. "no evidence" rows drop the evidence sentence, which is the same text in every
encoding, to show what the structure alone costs. Target: TOON <= 0.7x compact JSON.

    .venv/bin/python -m bench.toon_tokens [--synthetic-people 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import toon_format
from rich.table import Table

from assistant.tools import ToolContext, run_tool
from assistant.tools.base import Output, compact_json, encode_toon, payload
from assistant.tools.cv import candidate_records
from bench.common import QUERIES, console, machine, synthetic_index
from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.index import SearchIndex
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.sample import ingest_sample
from skillmatch.search import Searcher
from skillmatch.tokencount import count_tokens

TODAY = date(2026, 11, 27)
TARGET = 0.7


class FixedIndexSearcher(Searcher):
    """Serves a prebuilt (synthetic) index instead of loading the database's corpus."""

    def __init__(self, index: SearchIndex, embedder: OnnxEmbedder):
        super().__init__(None, embedder, today=TODAY)  # type: ignore[arg-type]
        self._fixed = index

    def index(self) -> SearchIndex:
        return self._fixed


def measure(payloads: list[dict[str, Any]]) -> dict[str, float]:
    def mean(encode: Any) -> float:
        return statistics.mean(count_tokens(encode(p)) for p in payloads)

    return {
        "rows": statistics.mean(len(p["candidates"]) for p in payloads),
        "toon": mean(encode_toon),
        "compact": mean(compact_json),
        "indented": mean(lambda p: json.dumps(p, indent=2, ensure_ascii=False)),
    }


def via_tool(context: ToolContext, top: int) -> list[dict[str, Any]]:
    """Through `run_tool`, as the assistant calls it; checks the tool's own counts on the way."""
    payloads = []
    for query in QUERIES:
        result = run_tool("search_candidates", {"query": query, "top": top}, context)
        assert result.error is None, result.error
        decoded = toon_format.loads(result.content)
        assert result.tokens_toon == count_tokens(result.content)
        assert result.tokens_json == count_tokens(compact_json(decoded))
        payloads.append(decoded)
    return payloads


def direct(searcher: Searcher, top: int) -> list[dict[str, Any]]:
    """Beyond the tool's `top` limit: the same records and payload, built from a direct search."""
    return [payload(Output("candidates", candidate_records(searcher.search(q, top=top)))) for q in QUERIES]


def sample_context(folder: Path, embedder: OnnxEmbedder) -> ToolContext:
    engine = create_db_engine(f"sqlite:///{folder / 'sample.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with console.status("loading the sample data (60 CVs, Jira, MOCO)…"):
        ingest_sample(sessions, CvStore(sessions, embedder, Settings(), today=TODAY))
    return ToolContext(sessions, Searcher(sessions, embedder, today=TODAY), TODAY)


def without_evidence(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The structural part alone: the evidence sentence is the same text in every encoding."""
    return [
        {"candidates": [{k: v for k, v in r.items() if k != "evidence"} for r in p["candidates"]]}
        for p in payloads
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic-people", type=int, default=2000)
    args = parser.parse_args()
    embedder = OnnxEmbedder()
    rows: list[tuple[str, int, str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        context = sample_context(Path(tmp), embedder)
        for top in (10, 25):
            payloads = via_tool(context, top)
            rows.append(("sample", top, "tool", measure(payloads)))
        rows.append(("sample", 25, "no evidence", measure(without_evidence(payloads))))
    synthetic = FixedIndexSearcher(synthetic_index(args.synthetic_people, embedder), embedder)
    synthetic_context = ToolContext(None, synthetic, TODAY)  # type: ignore[arg-type]
    label = f"synthetic {args.synthetic_people // 1000}k" if args.synthetic_people >= 1000 else "synthetic"
    rows.append((label, 10, "tool", measure(via_tool(synthetic_context, 10))))
    payloads = direct(synthetic, 50)
    rows.append((label, 50, "tool records", measure(payloads)))
    rows.append((label, 50, "no evidence", measure(without_evidence(payloads))))

    table = Table(
        title=f"search_candidates output: o200k_base tokens, mean of {len(QUERIES)} queries",
        caption=machine(),
        header_style="bold",
    )
    for column in ("corpus", "top", "payload", "TOON", "JSON", "JSON indent", "TOON/JSON"):
        table.add_column(column, justify="right")
    for corpus, top, variant, m in rows:
        table.add_row(
            corpus,
            f"{m['rows']:.0f}" if m["rows"] == top else f"{top} ({m['rows']:.1f})",
            variant,
            f"{m['toon']:.0f}",
            f"{m['compact']:.0f}",
            f"{m['indented']:.0f}",
            f"{m['toon'] / m['compact']:.2f}x",
        )
    console.print(table)
    console.print("JSON = compact JSON (the baseline); lower is better.")
    for corpus, top, variant, m in rows:
        if variant == "no evidence":
            continue
        ratio = m["toon"] / m["compact"]
        verdict = "met" if ratio <= TARGET else "missed"
        console.print(f"TOON <= {TARGET}x compact JSON, {corpus}, {top} candidates: {ratio:.3f}x {verdict}")


if __name__ == "__main__":
    main()
