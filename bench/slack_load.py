"""Slack endpoint under load, one process: the real aiohttp endpoint and slack-bolt, signed requests from
a client in the same process, the fake Slack Web API and a fake model that takes its time.

  ack        50 concurrent app_mention events and 50 /skillmatch commands while the model takes 1 s per
             call: HTTP acknowledgement latency p50/p99. Baseline: /healthz under the same load.
             Target: p99 <= 100 ms (Slack's limit is 3 s).
  throughput 200 conversations at once (distinct threads) with the model taking 2 s per call: all answered,
             no errors, peak memory. Target: 200 in flight, no errors, memory < 500 MB.

    .venv/bin/python -m bench.slack_load [--conversations 200] [--ack-events 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from rich.table import Table

from assistant.channels.slack import SlackChannel
from assistant.config import AssistantSettings
from assistant.runtime import build_runtime
from assistant.server import build_web_app
from bench.common import console, machine, p50, percentile
from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.sample import ingest_sample
from tests.fakes import slack_events as ev
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


def slow_model(seconds: float):  # type: ignore[no-untyped-def]
    """A model that answers after `seconds` (each request has its own server thread)."""

    def respond(body: dict[str, Any]) -> str:
        time.sleep(seconds)
        question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        return f"Answer to: {question}"

    return respond


async def start(
    database_url: str, slack: FakeSlack, model: FakeOpenAI
) -> tuple[Any, SlackChannel, str, web.AppRunner]:
    settings = AssistantSettings(
        DATABASE_URL=database_url,
        OPENAI_API_KEY=model.api_key,
        OPENAI_BASE_URL=model.base_url,
        SKILLMATCH_LLM_PROVIDERS="openai",
        SLACK_BOT_TOKEN=ev.BOT_TOKEN,
        SLACK_SIGNING_SECRET=ev.SIGNING_SECRET,
        SLACK_API_BASE_URL=slack.api_url,
        SKILLMATCH_MAX_CONCURRENT_TURNS=256,
    )
    runtime = build_runtime(settings)
    channel = SlackChannel(runtime)
    runner = web.AppRunner(build_web_app(runtime, channel), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runtime, channel, f"http://127.0.0.1:{port}", runner


async def post(session: aiohttp.ClientSession, url: str, body: str, form: bool = False) -> float:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = ev.sign(body, content_type=content_type)
    started = time.perf_counter()
    async with session.post(f"{url}/slack/events", data=body.encode(), headers=headers) as response:
        await response.read()
        assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000


async def ack_latency(url: str, channel: SlackChannel, events: int) -> dict[str, list[float]]:
    async with aiohttp.ClientSession() as session:
        await post(session, url, ev.app_mention("warm up")[0])
        await channel.drain(timeout=30)
        mentions = [ev.app_mention(f"Kubernetes engineer {i}")[0] for i in range(events)]
        commands = [ev.slash_command(f"Java developer {i}") for i in range(events)]

        async def health() -> float:
            started = time.perf_counter()
            async with session.get(f"{url}/healthz") as response:
                await response.read()
            return (time.perf_counter() - started) * 1000

        results = await asyncio.gather(
            asyncio.gather(*(post(session, url, b) for b in mentions)),
            asyncio.gather(*(post(session, url, b, form=True) for b in commands)),
            asyncio.gather(*(health() for _ in range(events))),
        )
        await channel.drain(timeout=120)
    return {"events": list(results[0]), "commands": list(results[1]), "healthz (baseline)": list(results[2])}


async def throughput(url: str, channel: SlackChannel, slack: FakeSlack, conversations: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        bodies = [ev.app_mention(f"question {i}")[0] for i in range(conversations)]
        roots = [json.loads(b)["event"]["ts"] for b in bodies]
        started = time.perf_counter()
        await asyncio.gather(*(post(session, url, b) for b in bodies))
        peak_in_flight, peak_rss = 0, rss_mb()
        while channel.in_flight:
            peak_in_flight = max(peak_in_flight, channel.in_flight)
            peak_rss = max(peak_rss, rss_mb())
            await channel.drain(timeout=0.2)
        elapsed = time.perf_counter() - started
    replies = [m for r in roots for m in slack.messages(thread_ts=r)]
    answered = sum(1 for m in replies if "Answer to: question" in json.dumps(m))  # by the model, not degraded
    errors = len(replies) - answered
    return {
        "answered": answered,
        "errors": errors,
        "seconds": elapsed,
        "peak_in_flight": peak_in_flight,
        "peak_rss": peak_rss,
    }


def _ingest(url: str) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    ingest_sample(sessions, CvStore(sessions, OnnxEmbedder(), Settings()))
    engine.dispose()


def sample_database(folder: Path) -> str:
    """Built in a child process: ingestion's memory is not the serving process's."""
    url = f"sqlite:///{folder / 'sample.db'}"
    child = multiprocessing.get_context("spawn").Process(target=_ingest, args=(url,))
    child.start()
    child.join()
    assert child.exitcode == 0
    return url


def rss_mb() -> float:
    """Current resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack, FakeOpenAI() as model:
        url_db = sample_database(Path(tmp))
        model.responder = slow_model(1.0)
        runtime, channel, url, runner = await start(url_db, slack, model)
        await asyncio.to_thread(runtime.searcher.index)  # as the server's start-up does
        startup_rss = rss_mb()
        try:
            acks = await ack_latency(url, channel, args.ack_events)
            model.responder = slow_model(2.0)
            load = await throughput(url, channel, slack, args.conversations)
        finally:
            await runner.cleanup()
            runtime.close()
    table = Table(title=f"Slack HTTP acknowledgement, model 1 s ({machine()})", header_style="bold")
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
    worst = max(percentile(acks["events"], 99), percentile(acks["commands"], 99))
    console.print(f"target ack p99 <= 100 ms: {worst:.1f} ms, {'met' if worst <= 100 else 'MISSED'}")
    console.print(
        f"throughput: {load['answered']}/{args.conversations} answered by the model, {load['errors']} other "
        f"replies (errors or degraded), peak in flight {load['peak_in_flight']}, {load['seconds']:.1f} s "
        f"with a 2 s model; resident memory {startup_rss:.0f} MB after start-up, "
        f"peak {load['peak_rss']:.0f} MB"
    )
    ok = load["answered"] == args.conversations and load["errors"] == 0 and load["peak_rss"] < 500
    console.print(f"target 200 in flight, no errors, < 500 MB: {'met' if ok else 'MISSED'}")


def main() -> None:
    logging.getLogger("langfuse").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--ack-events", type=int, default=50)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
