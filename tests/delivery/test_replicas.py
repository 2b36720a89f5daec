"""Delivery as deployed: two real `skillmatch serve` processes on one PostgreSQL database, the fake Slack
Web API and a fake model, killed with SIGKILL at the worst moments. Counting messages in the fake Slack:
every acknowledged message ends with exactly one complete answer, in Slack's order, whoever survives.

Short leases keep this quick (2 s lease, 0.2 s poll); waits poll the fakes or the database with a bound.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.fakes import slack_events as ev
from tests.fakes.http_server import Reply
from tests.fakes.openai_server import ChatReply, FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.replicas import Replica, fresh_postgres_schema, lease_owner_pid, post_event, serve_env, wait_until

pytestmark = pytest.mark.postgres
LEASE_SECONDS = 2.0
TAKEOVER = 30.0  # generous bound for a takeover on a loaded CI machine (lease + poll is ~2.2 s)


class ScriptedModel:
    """The fake model's behaviour, chosen by a marker in the question:

    [tool]    a search first; the first answer after the tool round stalls (a worker to kill)
    [stream]  the first answer streams a few words, then stalls
    [slow N]  answers after N seconds
    otherwise "Answer to: <question>" at once.
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self.stalled = threading.Event()
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, key: str) -> int:
        with self._lock:
            self._seen[key] += 1
            return self._seen[key]

    def _stall(self) -> None:
        self.stalled.set()
        self.release.wait(120)

    def __call__(self, body: dict[str, Any]) -> ChatReply | str | Reply:
        messages = body["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        question = messages[last_user]["content"]
        after_tools = any(m["role"] == "tool" for m in messages[last_user:])
        if "[tool]" in question and not after_tools:
            return ChatReply(tool_calls=[{"name": "search_candidates", "arguments": {"query": "Kubernetes"}}])
        if "[tool]" in question and self._count(question) == 1:
            self._stall()
            return Reply(503, b"{}")
        if "[stream]" in question and self._count(question) == 1:
            return stalled_stream(body, ["Partial ", "answer ", "that "], self._stall)
        if question.startswith("[slow "):
            time.sleep(float(question.split()[1].rstrip("]")))
        return f"Answer to: {question}"


def stalled_stream(body: dict[str, Any], words: list[str], stall: Any) -> Reply:
    """An OpenAI SSE stream that sends `words`, then stops sending (the model server hung)."""
    envelope = {
        "id": "chatcmpl-stall",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body["model"],
    }

    def line(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(chunk)}\n\n"

    head = line({"role": "assistant", "content": ""}) + "".join(line({"content": w}) for w in words)
    tail = line({"content": "finishes."}) + line({}, "stop") + "data: [DONE]\n\n"
    headers = {"Content-Type": "text/event-stream; charset=utf-8"}
    return Reply(200, (head + tail).encode(), headers, pause_at=len(head.encode()), pause=stall)


@dataclass
class Cluster:
    replicas: list[Replica]
    slack: FakeSlack
    model: ScriptedModel
    db: Engine
    session: aiohttp.ClientSession | None = None

    async def ready(self) -> None:
        for replica in self.replicas:
            if replica.process is None or replica.process.poll() is not None:
                replica.start()
        await asyncio.gather(*(r.wait_ready() for r in self.replicas))

    def by_pid(self, pid: int | None) -> Replica:
        return next(r for r in self.replicas if r.pid == pid)

    def answers(self, thread_ts: str) -> list[dict[str, Any]]:
        return self.slack.messages(channel=ev.CHANNEL_ID, thread_ts=thread_ts)

    def unfinished(self) -> int:
        with self.db.connect() as conn:
            query = "select count(*) from messages where status in ('pending','processing','answered')"
            return int(conn.execute(text(query)).scalar() or 0)

    def logs(self) -> str:
        return "\n".join(r.log() for r in self.replicas)


@pytest.fixture(scope="module")
def cluster(postgres_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("replicas")
    model = ScriptedModel()
    with fresh_postgres_schema() as url, FakeSlack() as slack, FakeOpenAI() as openai:
        db = create_engine(url)
        openai.responder = model
        env = serve_env(
            url,
            slack.api_url,
            openai,
            SKILLMATCH_LEASE_SECONDS=str(LEASE_SECONDS),
            SKILLMATCH_DELIVERY_POLL_SECONDS="0.2",
            SKILLMATCH_ORDER_WINDOW_MS="1000",
            SKILLMATCH_DB_POOL_SIZE="5",
            SKILLMATCH_DB_MAX_OVERFLOW="0",
            SKILLMATCH_SHUTDOWN_GRACE_SECONDS="2",
        )
        replicas = [Replica(name, dict(env), Path(logs) / f"{name}.log") for name in ("a", "b")]
        for replica in replicas:
            replica.start()
        try:
            yield Cluster(replicas, slack, model, db)
        finally:
            model.release.set()
            slack.release_holds()
            for replica in replicas:
                replica.terminate(timeout=15)
            db.dispose()


async def mention(cluster: Cluster, replica: Replica, question: str, **kw: Any) -> str:
    body, _ = ev.app_mention(question, **kw)
    async with aiohttp.ClientSession() as session:
        assert await post_event(session, replica, body) == 200
    return str(json.loads(body)["event"]["ts"])


async def one_complete_answer(cluster: Cluster, thread_ts: str, expected: str) -> dict[str, Any]:
    await wait_until(
        lambda: any(expected in (m.get("text") or "") for m in cluster.answers(thread_ts)),
        TAKEOVER,
        f"an answer containing {expected!r}",
    )
    await wait_until(lambda: cluster.unfinished() == 0, TAKEOVER, "every message settled")
    answers = cluster.answers(thread_ts)
    assert len(answers) == 1, [a["text"] for a in answers]
    assert answers[0]["stream_state"] != "streaming"
    return answers[0]


async def test_a_hundred_conversations_at_once_with_a_pool_of_five(cluster: Cluster) -> None:
    await cluster.ready()
    bodies = [ev.app_mention(f"[slow 1] conversation {i:03d}")[0] for i in range(100)]
    roots = [str(json.loads(b)["event"]["ts"]) for b in bodies]
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(
            *(post_event(session, cluster.replicas[i % 2], b) for i, b in enumerate(bodies))
        )
    assert statuses == [200] * 100
    await wait_until(lambda: all(cluster.answers(ts) for ts in roots), 90, "100 answers")
    assert [len(cluster.answers(ts)) for ts in roots] == [1] * 100
    await wait_until(lambda: cluster.unfinished() == 0, 30, "every message settled")
    logs = cluster.logs()
    assert "QueuePool limit" not in logs and "Traceback" not in logs


async def test_killed_right_after_the_ack_the_other_replica_answers(cluster: Cluster) -> None:
    await cluster.ready()
    victim, survivor = cluster.replicas
    ts = await mention(cluster, victim, "after the ack")
    victim.kill()
    answer = await one_complete_answer(cluster, ts, "Answer to: after the ack")
    assert victim.process is not None and victim.process.poll() is not None  # not restarted meanwhile
    assert survivor.process is not None and survivor.process.poll() is None
    assert answer["text"].startswith("Answer to: after the ack")


async def test_killed_during_a_tool_round_the_turn_is_taken_over(cluster: Cluster) -> None:
    await cluster.ready()
    cluster.model.stalled.clear()
    ts = await mention(cluster, cluster.replicas[0], "[tool] Kubernetes people")
    await wait_until(cluster.model.stalled.is_set, TAKEOVER, "the model call after the tool round")
    victim = cluster.by_pid(lease_owner_pid(cluster.db, thread_key(ts)))
    victim.kill()
    await one_complete_answer(cluster, ts, "Answer to: [tool] Kubernetes people")


async def test_killed_while_streaming_the_half_written_message_is_completed(cluster: Cluster) -> None:
    await cluster.ready()
    cluster.model.stalled.clear()
    ts = await mention(cluster, cluster.replicas[1], "[stream] Scrum master")
    await wait_until(cluster.model.stalled.is_set, TAKEOVER, "the stream to stall")
    await wait_until(lambda: bool(cluster.answers(ts)), TAKEOVER, "the stream to reach Slack")
    assert cluster.answers(ts)[0]["stream_state"] == "streaming"
    victim = cluster.by_pid(lease_owner_pid(cluster.db, thread_key(ts)))
    victim.kill()
    answer = await one_complete_answer(cluster, ts, "Answer to: [stream] Scrum master")
    assert "Partial" not in answer["text"]


async def test_killed_after_the_reply_before_it_is_marked_done_no_second_answer(cluster: Cluster) -> None:
    await cluster.ready()
    cluster.slack.held.clear()
    cluster.slack.hold_next("chat.stopStream")
    ts = await mention(cluster, cluster.replicas[0], "posted but not confirmed")
    await wait_until(cluster.slack.held.is_set, TAKEOVER, "the final post to take effect")
    victim = cluster.by_pid(lease_owner_pid(cluster.db, thread_key(ts)))
    victim.kill()
    answer = await one_complete_answer(cluster, ts, "Answer to: posted but not confirmed")
    assert answer["text"].count("Answer to:") == 1


async def test_a_restart_under_backlog_is_ready_at_once_and_the_backlog_drains(cluster: Cluster) -> None:
    await cluster.ready()
    victim, other = cluster.replicas
    bodies = [ev.app_mention(f"[slow 4] backlog {i:02d}")[0] for i in range(40)]
    roots = [str(json.loads(b)["event"]["ts"]) for b in bodies]
    async with aiohttp.ClientSession() as session:
        assert await asyncio.gather(*(post_event(session, victim, b) for b in bodies)) == [200] * 40
    other.kill()  # nobody else may drain the backlog while the victim restarts
    victim.kill()
    victim.start()
    seconds = await victim.wait_ready()
    assert cluster.unfinished() > 0, "readiness waited for the backlog"
    assert seconds < 60, f"ready after {seconds:.1f}s"
    await wait_until(lambda: all(cluster.answers(ts) for ts in roots), 90, "the backlog to drain")
    assert [len(cluster.answers(ts)) for ts in roots] == [1] * 40


async def test_twenty_messages_in_one_thread_over_both_replicas_follow_slacks_order(cluster: Cluster) -> None:
    await cluster.ready()
    root = await mention(cluster, cluster.replicas[0], "order 00")
    follow_ups = [ev.app_mention(f"order {i:02d}", thread_ts=root)[0] for i in range(1, 20)]
    shuffled = list(enumerate(follow_ups))
    random.Random(7).shuffle(shuffled)
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(
            *(post_event(session, cluster.replicas[i % 2], body) for i, body in shuffled)
        )
    assert statuses == [200] * 19
    await wait_until(lambda: len(cluster.answers(root)) >= 20, 60, "20 answers")
    await wait_until(lambda: cluster.unfinished() == 0, 30, "every message settled")
    texts = [m["text"] for m in cluster.answers(root)]
    assert texts == [f"Answer to: order {i:02d}" for i in range(20)]


async def test_a_retry_storm_over_both_replicas_gets_one_answer(cluster: Cluster) -> None:
    await cluster.ready()
    body, _ = ev.app_mention("retried everywhere")
    ts = str(json.loads(body)["event"]["ts"])
    async with aiohttp.ClientSession() as session:
        sends = [post_event(session, r, body, retry_num=n) for r in cluster.replicas for n in (None, 1, 2)]
        assert await asyncio.gather(*sends) == [200] * 6
    await one_complete_answer(cluster, ts, "Answer to: retried everywhere")


def thread_key(ts: str) -> str:
    return f"slack:{ev.TEAM_ID}:{ev.CHANNEL_ID}:{ts}"
