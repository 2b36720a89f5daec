"""Teams on the production configuration: two `skillmatch serve` processes on one PostgreSQL database,
JWT validation on (the fake Entra identity service's keys, `TEAMS_JWKS_URL`), the fake Bot Connector and
a fake model. The same activity delivered to both replicas gets one answer; a replica killed mid-turn is
replaced by the other, which answers proactively from the stored conversation reference."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra
from tests.fakes.openai_server import FakeOpenAI
from tests.replicas import Replica, base_env, fresh_postgres_schema, lease_owner_pid, wait_until

pytestmark = pytest.mark.postgres


@dataclass
class TeamsCluster:
    replicas: list[Replica]
    entra: FakeEntra
    connector: FakeBotConnector
    openai: FakeOpenAI
    release: threading.Event
    db: Engine

    async def ready(self) -> None:
        for replica in self.replicas:
            if replica.process is None or replica.process.poll() is not None:
                replica.start()
        await asyncio.gather(*(r.wait_ready() for r in self.replicas))

    async def post(self, replica: Replica, activity: dict[str, Any]) -> int:
        async with aiohttp.ClientSession() as session:
            headers = self.entra.headers_for(activity)
            async with session.post(
                f"{replica.url}/api/messages", json=activity, headers=headers
            ) as response:
                await response.read()
                return response.status


@pytest.fixture(scope="module")
def teams_cluster(
    postgres_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TeamsCluster]:
    logs = tmp_path_factory.mktemp("teams-replicas")
    release = threading.Event()

    def model(body: dict[str, Any]) -> str:
        question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        if "[stall]" in question and not release.is_set():
            release.wait(60)
            return "too late"
        return f"Answer to: {question}"

    with (
        fresh_postgres_schema() as url,
        FakeEntra() as entra,
        FakeBotConnector(entra) as connector,
        FakeOpenAI() as openai,
    ):
        db = create_engine(url)
        openai.responder = model
        env = base_env(
            DATABASE_URL=url,
            OPENAI_API_KEY=openai.api_key,
            OPENAI_BASE_URL=openai.base_url,
            SKILLMATCH_LLM_PROVIDERS="openai",
            SKILLMATCH_LEASE_SECONDS="2",
            SKILLMATCH_DELIVERY_POLL_SECONDS="0.2",
            SKILLMATCH_ORDER_WINDOW_MS="0",
            TEAMS_JWKS_URL=entra.jwks_url,
            **entra.environment(),
        )
        replicas = [Replica(name, dict(env), Path(logs) / f"{name}.log") for name in ("a", "b")]
        for replica in replicas:
            replica.start()
        try:
            yield TeamsCluster(replicas, entra, connector, openai, release, db)
        finally:
            release.set()
            for replica in replicas:
                replica.terminate(timeout=15)
            db.dispose()


async def test_the_same_activity_to_both_replicas_gets_one_answer(teams_cluster: TeamsCluster) -> None:
    await teams_cluster.ready()
    activity = ta.channel_message("Kotlin developer?", service_url=teams_cluster.connector.service_url)
    statuses = await asyncio.gather(*(teams_cluster.post(r, activity) for r in teams_cluster.replicas * 2))
    assert all(status in (200, 202) for status in statuses)
    chain = activity["conversation"]["id"]
    await wait_until(lambda: bool(teams_cluster.connector.messages(chain)), 30, "the answer")
    await wait_until(lambda: _settled(teams_cluster.db), 30, "every message settled")
    assert [m["text"] for m in teams_cluster.connector.messages(chain)] == ["Answer to: Kotlin developer?"]


async def test_a_replica_killed_mid_turn_is_replaced_and_the_answer_arrives_proactively(
    teams_cluster: TeamsCluster,
) -> None:
    await teams_cluster.ready()
    teams_cluster.release.clear()
    activity = ta.personal_message("[stall] SAP consultant", service_url=teams_cluster.connector.service_url)
    assert await teams_cluster.post(teams_cluster.replicas[0], activity) in (200, 202)
    await wait_until(
        lambda: any(b"[stall]" in r.body for r in teams_cluster.openai.chat_requests()), 30, "the model call"
    )
    key = f"teams:{ta.TENANT_ID}:{activity['conversation']['id']}"
    owner = lease_owner_pid(teams_cluster.db, key)
    victim = next(r for r in teams_cluster.replicas if r.pid == owner)
    victim.kill()
    teams_cluster.release.set()  # the survivor's attempt gets its answer at once
    conversation = activity["conversation"]["id"]
    await wait_until(
        lambda: any(
            "Answer to: [stall]" in (m.get("text") or "")
            for m in teams_cluster.connector.messages(conversation)
        ),
        30,
        "the survivor's answer",
    )
    await wait_until(lambda: _settled(teams_cluster.db), 30, "every message settled")
    answers = [m for m in teams_cluster.connector.messages(conversation) if m.get("text")]
    assert [m["text"] for m in answers] == ["Answer to: [stall] SAP consultant"]


def _settled(db: Engine) -> bool:
    with db.connect() as conn:
        query = "select count(*) from messages where status in ('pending','processing','answered')"
        return not conn.execute(text(query)).scalar()
