"""Chat delivery under load on the production configuration: two `skillmatch serve` processes on one
PostgreSQL database, the fake Slack Web API (or, with `--channel teams`, the fake Bot Connector and the
fake Entra identity service with JWT validation on) and a fake model that takes its time, all on 127.0.0.1.

  ack    50 concurrent messages (25 per replica: Slack app_mention events or Teams channel mentions)
         while the model takes 1 s per call:
         HTTP acknowledgement latency p50/p99 (each ack includes storing the message). Baseline:
         /healthz under the same load, in the same run. Target: p99 <= 100 ms (Slack allows 3 s).
  drain  200 conversations at once (distinct threads, 100 per replica), model 2 s per call: all answered
         once, time to drain against the ideal (200 x 2 s / total turn slots), peak database connections
         (pg_stat_activity, by application_name) and peak resident memory per replica.

    .venv/bin/python -m bench.chat_load [--channel slack|teams] [--conversations 200] [--ack-events 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
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
from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.replicas import Replica, base_env, post_event, serve_env, wait_until

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


class SlackTraffic:
    """Signed app_mention events to /slack/events; answers counted in the fake Slack."""

    name = "Slack"

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.slack = stack.enter_context(FakeSlack())

    def env(self, database_url: str, openai: FakeOpenAI, **settings: str) -> dict[str, str]:
        return serve_env(database_url, self.slack.api_url, openai, **settings)

    def request(self, text: str) -> tuple[str, str]:
        body, _ = ev.app_mention(text)
        return body, str(json.loads(body)["event"]["ts"])

    async def post(self, session: aiohttp.ClientSession, replica: Replica, body: str) -> int:
        return await post_event(session, replica, body)

    def wire(self, replica: Replica, body: str) -> Wire:
        return ("POST", f"{replica.url}/slack/events", body.encode(), ev.sign(body, ev.SIGNING_SECRET))

    def answers(self, key: str) -> list[dict[str, Any]]:
        return [m for m in self.slack.messages(thread_ts=key) if m["stream_state"] != "streaming"]


class TeamsTraffic:
    """Channel mentions with real channel tokens to /api/messages; answers counted at the fake connector."""

    name = "Teams"

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.entra = stack.enter_context(FakeEntra())
        self.connector = stack.enter_context(FakeBotConnector(self.entra))

    def env(self, database_url: str, openai: FakeOpenAI, **settings: str) -> dict[str, str]:
        return base_env(
            DATABASE_URL=database_url,
            OPENAI_API_KEY=openai.api_key,
            OPENAI_BASE_URL=openai.base_url,
            SKILLMATCH_LLM_PROVIDERS="openai",
            TEAMS_JWKS_URL=self.entra.jwks_url,
            **self.entra.environment(),
            **settings,
        )

    def request(self, text: str) -> tuple[dict[str, Any], str]:
        activity = ta.channel_message(text, service_url=self.connector.service_url)
        return activity, str(activity["conversation"]["id"])

    def wire(self, replica: Replica, activity: dict[str, Any]) -> Wire:
        headers = {**self.entra.headers_for(activity), "Content-Type": "application/json"}
        return ("POST", f"{replica.url}/api/messages", json.dumps(activity).encode(), headers)

    async def post(self, session: aiohttp.ClientSession, replica: Replica, activity: Any) -> int:
        headers = self.entra.headers_for(activity)
        async with session.post(f"{replica.url}/api/messages", json=activity, headers=headers) as response:
            await response.read()
            return 200 if response.status in (200, 202) else response.status

    def answers(self, key: str) -> list[dict[str, Any]]:
        return [m for m in self.connector.messages(key) if m.get("text")]


Traffic = SlackTraffic | TeamsTraffic


def finished(traffic: Traffic, keys: list[str]) -> bool:
    """Every conversation has a complete answer."""
    return all(traffic.answers(key) for key in keys)


async def warm_up(replicas: list[Replica], traffic: Traffic) -> None:
    """One conversation per replica first: the first turn of a process loads what later ones reuse."""
    requests = [traffic.request(f"warm up {r.name}") for r in replicas]
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            *(traffic.post(session, r, body) for r, (body, _) in zip(replicas, requests, strict=True))
        )
    await wait_until(lambda: finished(traffic, [key for _, key in requests]), 120, "warm-up answers")


Wire = tuple[str, str, bytes | None, dict[str, str]]  # method, url, body, headers


def _fire(wires: list[Wire]) -> list[tuple[int, float]]:
    """In a separate process: send every request at once; (status, ms) each."""

    async def run() -> list[tuple[int, float]]:
        async with aiohttp.ClientSession() as session:

            async def one(
                method: str, url: str, body: bytes | None, headers: dict[str, str]
            ) -> tuple[int, float]:
                started = time.perf_counter()
                async with session.request(method, url, data=body, headers=headers) as response:
                    await response.read()
                    return response.status, (time.perf_counter() - started) * 1000

            return list(await asyncio.gather(*(one(*wire) for wire in wires)))

    return asyncio.run(run())


async def ack_phase(
    replicas: list[Replica], traffic: Traffic, events: int, client: Any
) -> dict[str, list[float]]:
    """The burst comes from its own process, so the fakes' work here does not slow the client down."""
    requests = [traffic.request(f"Kubernetes engineer {i}") for i in range(events)]
    messages = [traffic.wire(replicas[i % 2], body) for i, (body, _) in enumerate(requests)]
    health: list[Wire] = [("GET", f"{replicas[i % 2].url}/healthz", None, {}) for i in range(events)]
    results = await asyncio.to_thread(client.apply, _fire, (messages + health,))
    assert all(status in (200, 202) for status, _ in results), results
    await wait_until(lambda: finished(traffic, [key for _, key in requests]), 120, "ack phase answers")
    latencies = [ms for _, ms in results]
    return {"messages (store + ack)": latencies[:events], "healthz (baseline)": latencies[events:]}


async def drain_phase(replicas: list[Replica], traffic: Traffic, conversations: int) -> dict[str, Any]:
    requests = [traffic.request(f"question {i}") for i in range(conversations)]
    keys = [key for _, key in requests]
    with ConnectionSampler() as sampler:
        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            statuses = await asyncio.gather(
                *(traffic.post(session, replicas[i % 2], body) for i, (body, _) in enumerate(requests))
            )
        await wait_until(lambda: finished(traffic, keys), 600, "all answers")
        seconds = time.perf_counter() - started
    per_thread = [len(traffic.answers(key)) for key in keys]
    answered = sum(
        1 for key in keys for m in traffic.answers(key) if (m.get("text") or "").startswith("Answer to:")
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
        with tempfile.TemporaryDirectory() as logs, contextlib.ExitStack() as stack:
            openai = stack.enter_context(FakeOpenAI())
            openai.responder = model
            traffic: Traffic = TeamsTraffic(stack) if args.channel == "teams" else SlackTraffic(stack)
            env = traffic.env(
                database_url,
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
                await warm_up(replicas, traffic)
                acks: dict[str, list[float]] = {}
                with multiprocessing.get_context("spawn").Pool(1) as client:
                    for burst in range(1, args.bursts + 1):
                        await asyncio.sleep(args.pause)  # the previous burst's turns settle first
                        phase = await ack_phase(replicas, traffic, args.ack_events, client)
                        for name, samples in phase.items():
                            acks[f"{name}, burst {burst}"] = samples
                model.seconds = 2.0
                load = await drain_phase(replicas, traffic, args.conversations)
                errors = sum(r.log().count("Traceback") + r.log().count("QueuePool limit") for r in replicas)
            finally:
                for replica in replicas:
                    replica.terminate(timeout=30)
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    report(args, traffic.name, acks, load, errors, slots)


def report(
    args: argparse.Namespace,
    channel: str,
    acks: dict[str, list[float]],
    load: dict[str, Any],
    errors: int,
    slots: int,
) -> None:
    table = Table(
        title=f"{channel} ack latency, 2 replicas on PostgreSQL, model 1 s ({machine()})", header_style="bold"
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
    worst = max(percentile(v, 99) for k, v in acks.items() if k.startswith("messages"))
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
    parser.add_argument("--channel", choices=("slack", "teams"), default="slack")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--ack-events", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=5)
    parser.add_argument("--bursts", type=int, default=3, help="ack bursts, one after the other settled")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds of quiet before each burst")
    parser.add_argument(
        "--max-turns", type=int, default=64, help="SKILLMATCH_MAX_CONCURRENT_TURNS per replica"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
