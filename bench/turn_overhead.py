"""Turn overhead of the engine, excluding model time: a fake OpenAI provider that answers at once, 10k
synthetic people indexed, tracing off (baseline, ledger only) and on (Langfuse SDK exporting to a fake
receiver on 127.0.0.1). Each turn is a real two-round turn: a search_candidates tool call, then the answer.

Overhead = turn wall time minus the time spent inside the routed LLM client (HTTP to the fake included in
the latter). Targets: p50 <= 25 ms; tracing adds <= 10%.

    .venv/bin/python -m bench.turn_overhead [--turns 60]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from rich.table import Table

from assistant.config import AssistantSettings
from assistant.engine import TurnRequest
from assistant.masking import langfuse_mask
from assistant.prompts import latest_file
from assistant.runtime import build_runtime
from bench.common import QUERIES, console, machine, p50, percentile, synthetic_index
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.search import Searcher
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI


def scripted(body: dict[str, Any]) -> dict[str, Any]:
    """Search first, then answer: the shape of a typical staffing turn."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        return {"content": "Here are the best three candidates."}
    question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return {
        "tool_calls": [{"name": "search_candidates", "arguments": f'{{"query": "{question}", "top": 8}}'}]
    }


def timed_llm(runtime) -> list[float]:  # type: ignore[no-untyped-def]
    """Accumulates the seconds spent inside the routed LLM client (model time, incl. HTTP to the fake)."""
    spent = [0.0]
    original = runtime.llm.complete

    async def complete(request):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return await original(request)
        finally:
            spent[0] += time.perf_counter() - start

    runtime.llm.complete = complete
    return spent


async def one_turn(runtime, spent: list[float], text: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    spent[0] = 0.0
    request = TurnRequest(
        thread_key=f"console:bench-{uuid.uuid4()}",
        platform="console",
        message_id=uuid.uuid4().hex,
        text=text,
        user_id="bench",
    )
    start = time.perf_counter()
    reply = await runtime.engine.handle(request)
    elapsed = time.perf_counter() - start
    assert reply.status == "ok", reply
    return elapsed * 1000, (elapsed - spent[0]) * 1000


async def interleaved(runtimes: dict[str, object], turns: int) -> dict[str, tuple[list[float], list[float]]]:
    """Both modes turn by turn, so warm-up and machine noise hit them alike; 5 warm-up turns each."""
    spent = {mode: timed_llm(rt) for mode, rt in runtimes.items()}
    results: dict[str, tuple[list[float], list[float]]] = {mode: ([], []) for mode in runtimes}
    for i in range(turns + 5):
        for mode, rt in runtimes.items():
            total, overhead = await one_turn(rt, spent[mode], QUERIES[i % len(QUERIES)])
            if i >= 5:
                results[mode][0].append(total)
                results[mode][1].append(overhead)
    return results


def main() -> None:
    # Two runtimes share this process, so the keyless one's openai wrapper sees two Langfuse clients and
    # warns on every call; a real keyless deployment has one (disabled) client and never does.
    logging.getLogger("langfuse").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    embedder = OnnxEmbedder()
    index = synthetic_index(args.people, embedder, version=0)  # version 0 = an empty database's corpus
    table = Table(title=f"turn overhead, {args.people:,} people ({machine()})", header_style="bold")
    for column in ("tracing", "turns", "overhead p50 ms", "overhead p99 ms", "turn p50 ms", "vs off (p50)"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake_openai, FakeLangfuse() as fake_langfuse:
        fake_openai.responder = scripted
        fake_langfuse.add_prompt("skillmatch-system", latest_file()[0], version=1)

        def settings(mode: str, **extra: str) -> AssistantSettings:
            return AssistantSettings(
                DATABASE_URL=f"sqlite:///{Path(tmp) / (mode + '.db')}",
                OPENAI_API_KEY=fake_openai.api_key,
                OPENAI_BASE_URL=fake_openai.base_url,
                SKILLMATCH_LLM_PROVIDERS="openai",
                **extra,
            )

        def searcher() -> Searcher:
            s = Searcher(None, embedder, today=date(2026, 11, 27))  # type: ignore[arg-type]
            s.use_index(index)
            return s

        with isolated_langfuse(fake_langfuse, public_key="pk-bench", mask=langfuse_mask) as client:
            traced = build_runtime(
                settings("on", LANGFUSE_PUBLIC_KEY="pk-bench", LANGFUSE_SECRET_KEY="sk-bench"),
                langfuse=client,
                searcher=searcher(),
            )
            plain = build_runtime(settings("off"), searcher=searcher())
            for rt in (traced, plain):
                rt.searcher.sessions = rt.sessions
            results = asyncio.run(interleaved({"off": plain, "on": traced}, args.turns))
            traced.telemetry.flush()
            exported = len(fake_langfuse.spans)
            for rt in (traced, plain):
                rt.db.dispose()
    base = p50(results["off"][1])
    for mode, (totals, overheads) in results.items():
        table.add_row(
            mode,
            str(len(totals)),
            f"{p50(overheads):.2f}",
            f"{percentile(overheads, 99):.2f}",
            f"{p50(totals):.2f}",
            f"{p50(overheads) / base:.2f}x",
        )
    console.print(table)
    console.print(f"spans exported with tracing on: {exported} (assistant.turn, tool, generation per turn)")
    assert exported >= args.turns * 4, "tracing was not on"
    off, on = p50(results["off"][1]), p50(results["on"][1])
    console.print(
        f"targets: overhead p50 <= 25 ms: {max(off, on):.2f} ms {'met' if max(off, on) <= 25 else 'MISSED'}; "
        f"tracing adds <= 10%: +{(on / off - 1) * 100:.1f}% {'met' if on <= off * 1.10 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
