"""Failover overhead of the routed LLM client: a primary refusing connections, a backup answering at once.

Baseline: only the backup configured, same process, same fake. Scenarios with the primary down:
circuit open (after the first failure, the steady state during an outage) and circuit disabled
(every request pays the refused connection and its retry, as the first request of an outage does).
Target: <= 50 ms extra p50 over the baseline once the circuit is open.

Then two outages measured in wall time (a few runs each):
- every provider hanging (three providers with the default timeouts 30/30/60 s), with a turn budget of
  `--budget` seconds: the time until the router gives up (the search answer follows at once);
- exiting with Langfuse hanging: the Langfuse SDK's own shutdown (what `chat` did) against the bounded
  `Telemetry.shutdown()` (SKILLMATCH_TRACE_FLUSH_TIMEOUT, default 2 s), one finished turn's spans queued.

    .venv/bin/python -m bench.llm_failover [--rounds 300] [--budget 3]
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


async def hanging_providers(budget: float, runs: int = 3) -> list[float]:
    """Seconds until TurnBudgetSpent with every provider hanging and the default provider timeouts."""
    from langfuse.openai import AsyncOpenAI

    from assistant.llm import LLMRequest, Provider, RoutedLLM, TurnBudgetSpent
    from tests.fakes.openai_server import FakeOpenAI

    waits = []
    with FakeOpenAI() as fake:
        fake.hang_next(600, times=None)
        providers = [
            Provider(
                name, "gpt-4o-mini", AsyncOpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0), t
            )
            for name, t in (("openai", 30.0), ("azure", 30.0), ("vllm", 60.0))
        ]
        for _ in range(runs):
            llm = RoutedLLM(providers, retries=1, cooldown_seconds=0)
            request = LLMRequest([{"role": "user", "content": "hi"}], deadline=llm.clock() + budget)
            started = time.perf_counter()
            try:
                await llm.complete(request)
            except TurnBudgetSpent:
                waits.append(time.perf_counter() - started)
        for provider in providers:
            await provider.client.close()
    return waits


def exit_with_langfuse_hanging(runs: int = 3) -> tuple[list[float], list[float]]:
    """Seconds `Langfuse.shutdown()` (SDK defaults) and `Telemetry.shutdown()` take with one turn's spans
    queued and Langfuse hanging."""
    import uuid

    from langfuse import Langfuse
    from opentelemetry.sdk.trace import TracerProvider

    from assistant.config import AssistantSettings
    from assistant.telemetry import Telemetry
    from tests.fakes.langfuse_server import FakeLangfuse, forget_langfuse

    def queue_a_turn(client: Langfuse) -> None:
        with (
            client.start_as_current_observation(name="assistant.turn"),
            client.start_as_current_observation(name="tool.search_candidates", as_type="tool"),
        ):
            pass

    sdk, bounded = [], []
    with FakeLangfuse() as fake:
        fake.hang_next(600, times=None)
        for _ in range(runs):
            key = f"pk-bench-{uuid.uuid4().hex[:8]}"
            client = Langfuse(
                public_key=key, secret_key="sk", base_url=fake.origin, tracer_provider=TracerProvider()
            )
            queue_a_turn(client)
            started = time.perf_counter()
            client.shutdown()
            sdk.append(time.perf_counter() - started)
            forget_langfuse(key)

            key = f"pk-bench-{uuid.uuid4().hex[:8]}"
            settings = AssistantSettings(
                _env_file=None,  # type: ignore[call-arg]
                LANGFUSE_PUBLIC_KEY=key,
                LANGFUSE_SECRET_KEY="sk",
                LANGFUSE_BASE_URL=fake.origin,
            )
            telemetry = Telemetry(settings, None)  # type: ignore[arg-type]
            assert telemetry.client is not None
            queue_a_turn(telemetry.client)
            started = time.perf_counter()
            telemetry.shutdown()
            bounded.append(time.perf_counter() - started)
            forget_langfuse(key)
    return sdk, bounded


def outages(budget: float) -> None:
    logging.getLogger("assistant").setLevel(logging.CRITICAL)
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)
    waits = asyncio.run(hanging_providers(budget))
    sdk, bounded = exit_with_langfuse_hanging()
    table = Table(title="outages (wall time, s)", header_style="bold")
    for column in ("scenario", "runs", "min", "max"):
        table.add_column(column, justify="right")
    table.add_row(
        f"every provider hanging, turn budget {budget:g} s",
        str(len(waits)),
        f"{min(waits):.2f}",
        f"{max(waits):.2f}",
    )
    table.add_row(
        "exit, Langfuse hanging: SDK shutdown()", str(len(sdk)), f"{min(sdk):.2f}", f"{max(sdk):.2f}"
    )
    table.add_row(
        "exit, Langfuse hanging: Telemetry.shutdown() (2 s bound)",
        str(len(bounded)),
        f"{min(bounded):.2f}",
        f"{max(bounded):.2f}",
    )
    console.print(table)
    console.print(
        "without a budget the same hang costs 30 + 30 + 60 + 60 s = 180 s (timeouts are not retried "
        "while another provider is left; the last one is retried once)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--budget", type=float, default=3.0)
    args = parser.parse_args()
    os.environ["LANGFUSE_TRACING_ENABLED"] = "false"
    asyncio.run(run(args.rounds))
    os.environ.pop("LANGFUSE_TRACING_ENABLED")
    outages(args.budget)


if __name__ == "__main__":
    main()
