"""Slack delivery under load on the production configuration: two `skillmatch serve` processes on one
PostgreSQL database, the fake Slack Web API and a fake model that takes its time, all on 127.0.0.1.

  ack    50 concurrent app_mention events (25 per replica) while the model takes 1 s per call:
         HTTP acknowledgement latency p50/p99 (each ack includes storing the message). Baseline:
         /healthz under the same load, in the same run. Target: p99 <= 100 ms (Slack allows 3 s).
  drain  200 conversations at once (distinct threads, 100 per replica), model 2 s per call: all answered
         once, time to drain against the ideal (200 x 2 s / total turn slots), peak database connections
         (pg_stat_activity, by application_name) and peak resident memory per replica.

    .venv/bin/python -m bench.slack_load [--conversations 200] [--ack-events 50] [--pool-size 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import console, machine, p50, percentile
from skillmatch.db import upgrade
from tests.conftest import POSTGRES_URL, postgres_schema_url
from tests.fakes import slack_events as ev
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.replicas import Replica, post_event, serve_env, wait_until

APP = "skillmatch-bench"


class SlowModel:
    """Answers after `seconds` (each request has its own server thread, as a real API's latency)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, body: dict[str, Any]) -> str:
        time.sleep(self.seconds)
        question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        return f"Answer to: {question}"


class ConnectionSampler:
    """Peak connections the replicas hold, sampled from pg_stat_activity every 50 ms in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._engine = create_engine(POSTGRES_URL, pool_size=1)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def _run(self) -> None:
        query = text("select count(*) from pg_stat_activity where application_name = :app")
        with self._engine.connect() as conn:
            while not self._stop.wait(0.05):
                self.peak = max(self.peak, int(conn.execute(query, {"app": APP}).scalar() or 0))


async def timed(coroutine: Any) -> float:
    started = time.perf_counter()
    await coroutine
    return (time.perf_counter() - started) * 1000


async def healthz(session: aiohttp.ClientSession, replica: Replica) -> None:
    async with session.get(f"{replica.url}/healthz") as response:
        await response.read()


def finished(slack: FakeSlack, roots: list[str]) -> bool:
    """Every thread has an answer that is no longer streaming."""
    return all(any(m["stream_state"] != "streaming" for m in slack.messages(thread_ts=ts)) for ts in roots)


async def warm_up(replicas: list[Replica], slack: FakeSlack) -> None:
    """One conversation per replica first: the first turn of a process loads what later ones reuse."""
    bodies = [ev.app_mention(f"warm up {r.name}")[0] for r in replicas]
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(post_event(session, r, b) for r, b in zip(replicas, bodies, strict=True)))
    roots = [str(json.loads(b)["event"]["ts"]) for b in bodies]
    await wait_until(lambda: finished(slack, roots), 120, "warm-up answers")


async def ack_phase(replicas: list[Replica], slack: FakeSlack, events: int) -> dict[str, list[float]]:
    bodies = [ev.app_mention(f"Kubernetes engineer {i}")[0] for i in range(events)]
    roots = [str(json.loads(b)["event"]["ts"]) for b in bodies]
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            asyncio.gather(*(timed(post_event(session, replicas[i % 2], b)) for i, b in enumerate(bodies))),
            asyncio.gather(*(timed(healthz(session, replicas[i % 2])) for i in range(events))),
        )
    await wait_until(lambda: finished(slack, roots), 120, "ack phase answers")
    return {"events (store + ack)": list(results[0]), "healthz (baseline)": list(results[1])}


async def drain_phase(replicas: list[Replica], slack: FakeSlack, conversations: int) -> dict[str, Any]:
    bodies = [ev.app_mention(f"question {i}")[0] for i in range(conversations)]
    roots = [str(json.loads(b)["event"]["ts"]) for b in bodies]
    with ConnectionSampler() as sampler:
        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            statuses = await asyncio.gather(
                *(post_event(session, replicas[i % 2], b) for i, b in enumerate(bodies))
            )
        await wait_until(lambda: finished(slack, roots), 600, "all answers")
        seconds = time.perf_counter() - started
    per_thread = [len(slack.messages(thread_ts=ts)) for ts in roots]
    answered = sum(
        1
        for ts in roots
        for m in slack.messages(thread_ts=ts)
        if (m.get("text") or "").startswith("Answer to:")
    )
    return {
        "acked": statuses.count(200),
        "answered": answered,
        "duplicates": sum(n - 1 for n in per_thread if n > 1),
        "seconds": seconds,
        "peak_connections": sampler.peak,
        "peak_rss": {r.name: r.peak_rss_mb() for r in replicas},
    }


async def main_async(args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_schema_url(schema)).update_query_dict({"application_name": APP})
    database_url = url.render_as_string(hide_password=False)
    db = create_engine(database_url)
    upgrade(db)
    model = SlowModel(1.0)
    slots = args.max_turns * 2
    try:
        with tempfile.TemporaryDirectory() as logs, FakeSlack() as slack, FakeOpenAI() as openai:
            openai.responder = model
            env = serve_env(
                database_url,
                slack.api_url,
                openai,
                SKILLMATCH_DB_POOL_SIZE=str(args.pool_size),
                SKILLMATCH_DB_MAX_OVERFLOW="0",
                SKILLMATCH_MAX_CONCURRENT_TURNS=str(args.max_turns),
            )
            replicas = [Replica(n, dict(env), Path(logs) / f"{n}.log") for n in ("a", "b")]
            for replica in replicas:
                replica.start()
            try:
                ready = await asyncio.gather(*(r.wait_ready() for r in replicas))
                console.print(f"replicas ready after {', '.join(f'{s:.1f} s' for s in ready)}")
                await warm_up(replicas, slack)
                acks: dict[str, list[float]] = {}
                for burst in range(1, args.bursts + 1):
                    for name, samples in (await ack_phase(replicas, slack, args.ack_events)).items():
                        acks[f"{name}, burst {burst}"] = samples
                model.seconds = 2.0
                load = await drain_phase(replicas, slack, args.conversations)
                errors = sum(r.log().count("Traceback") + r.log().count("QueuePool limit") for r in replicas)
            finally:
                for replica in replicas:
                    replica.terminate(timeout=30)
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    report(args, acks, load, errors, slots)


def report(
    args: argparse.Namespace, acks: dict[str, list[float]], load: dict[str, Any], errors: int, slots: int
) -> None:
    table = Table(
        title=f"Slack ack latency, 2 replicas on PostgreSQL, model 1 s ({machine()})", header_style="bold"
    )
    for column in ("requests", "n", "p50 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    for name, samples in acks.items():
        table.add_row(
            name,
            str(len(samples)),
            f"{p50(samples):.1f}",
            f"{percentile(samples, 99):.1f}",
            f"{max(samples):.1f}",
        )
    console.print(table)
    worst = max(percentile(v, 99) for k, v in acks.items() if k.startswith("events"))
    console.print(f"target ack p99 <= 100 ms: {worst:.1f} ms, {'met' if worst <= 100 else 'MISSED'}")
    ideal = math.ceil(args.conversations / slots) * 2.0
    n = args.conversations
    console.print(
        f"drain: {load['answered']}/{n} answered by the model ({load['acked']} acked, "
        f"{load['duplicates']} duplicates) in {load['seconds']:.1f} s; ideal {ideal:.1f} s "
        f"({n} x 2 s over {slots} turn slots), ratio {load['seconds'] / ideal:.2f}; "
        f"peak connections {load['peak_connections']} (pool {args.pool_size} x 2 replicas + overflow 0); "
        f"peak RSS {', '.join(f'{k} {v:.0f} MB' for k, v in load['peak_rss'].items() if v)}; "
        f"errors in logs {errors}"
    )
    ok = load["answered"] == n and load["duplicates"] == 0 and errors == 0
    console.print(f"target all {n} answered once, no errors: {'met' if ok else 'MISSED'}")


def main() -> None:
    logging.getLogger("langfuse").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--ack-events", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=5)
    parser.add_argument("--bursts", type=int, default=3, help="ack bursts, one after the other settled")
    parser.add_argument(
        "--max-turns", type=int, default=64, help="SKILLMATCH_MAX_CONCURRENT_TURNS per replica"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
