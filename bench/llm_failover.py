"""Failover overhead of the routed LLM client: a primary refusing connections, a backup answering at once.

Baseline: only the backup configured, same process, same fake. Scenarios with the primary down:
circuit open (after the first failure, the steady state during an outage) and circuit disabled
(every request pays the refused connection and its retry, as the first request of an outage does).
Target: <= 50 ms extra p50 over the baseline once the circuit is open.

    .venv/bin/python -m bench.llm_failover [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time

from rich.table import Table

from bench.common import console, machine, p50, percentile

TARGET_MS = 50.0


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def run(rounds: int) -> None:
    # Langfuse off, as in a deployment without keys; its per-call "no public_key" warning is muted.
    os.environ["LANGFUSE_TRACING_ENABLED"] = "false"
    from langfuse.openai import AsyncOpenAI

    from assistant.llm import LLMRequest, Provider, RoutedLLM
    from tests.fakes.openai_server import FakeOpenAI

    logging.getLogger("langfuse").setLevel(logging.ERROR)  # after the import: it sets its own level
    logging.getLogger("assistant.llm").setLevel(logging.CRITICAL)  # one failover warning per request

    def provider(name: str, base_url: str) -> Provider:
        client = AsyncOpenAI(api_key="sk-test", base_url=base_url, timeout=5.0, max_retries=0)
        return Provider(name, "gpt-4o-mini", client, 5.0)

    request = LLMRequest(
        [{"role": "system", "content": "You staff projects."}, {"role": "user", "content": "hi"}]
    )
    dead = closed_port_url()
    with FakeOpenAI() as fake:
        fake.responder = lambda body: "Anna Roth."
        backup = provider("backup", fake.base_url)
        scenarios = {
            "baseline: backup only": (RoutedLLM([backup]), rounds),
            "circuit open": (RoutedLLM([provider("primary", dead), backup], retries=1), rounds),
            "no circuit, retries=0": (
                RoutedLLM([provider("primary", dead), backup], retries=0, cooldown_seconds=0),
                rounds,
            ),
            "no circuit, retries=1": (
                RoutedLLM([provider("primary", dead), backup], retries=1, cooldown_seconds=0),
                max(rounds // 3, 20),
            ),
        }
        first_failure_ms = 0.0
        for name, (llm, _) in scenarios.items():
            for i in range(20):  # warm connections and code paths; opens the circuit where there is one
                started = time.perf_counter()
                await llm.complete(request)
                if name == "circuit open" and i == 0:
                    first_failure_ms = (time.perf_counter() - started) * 1000
        # Interleaved, so drift (GC, CPU frequency, the fake's threads) hits every scenario alike.
        results: dict[str, list[float]] = {name: [] for name in scenarios}
        for round_ in range(rounds):
            for name, (llm, n) in scenarios.items():
                if round_ >= n:
                    continue
                started = time.perf_counter()
                response = await llm.complete(request)
                results[name].append((time.perf_counter() - started) * 1000)
                assert response.provider == "backup", response.attempts
        for llm, _ in scenarios.values():
            await llm.aclose()

    base50 = p50(results["baseline: backup only"])
    base99 = percentile(results["baseline: backup only"], 99)
    table = Table(title=f"LLM failover, primary refusing connections ({machine()})", header_style="bold")
    for column in ("scenario", "requests", "p50 ms", "p99 ms", "extra p50 ms", "extra p99 ms"):
        table.add_column(column, justify="right")
    for name, samples in results.items():
        q50, q99 = p50(samples), percentile(samples, 99)
        table.add_row(
            name,
            str(len(samples)),
            f"{q50:.2f}",
            f"{q99:.2f}",
            f"{q50 - base50:+.2f}",
            f"{q99 - base99:+.2f}",
        )
    console.print(table)
    console.print(
        f"first request of the outage (refused, retried after 50 ms, backup): {first_failure_ms:.1f} ms"
    )
    extra = p50(results["circuit open"]) - base50
    verdict = "met" if extra <= TARGET_MS else "MISSED"
    console.print(
        f"target <= {TARGET_MS:.0f} ms extra p50 after the first failure: {extra:+.2f} ms, {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.rounds))


if __name__ == "__main__":
    main()
