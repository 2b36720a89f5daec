"""The Teams app as deployed: the real aiohttp endpoint with the Microsoft 365 Agents SDK (JWT checked
against the fake Entra identity service), activities POSTed to /api/messages with real channel tokens,
answers going proactively to the fake Bot Connector; the model is the scripted fake OpenAI server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from assistant.channels.teams import TeamsChannel
from assistant.config import AssistantSettings
from assistant.delivery import Delivery
from assistant.runtime import Runtime, build_runtime
from assistant.server import build_delivery, build_web_app
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes_tests.conftest import connector, entra  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")


def last_user_text(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


@dataclass
class TeamsApp:
    runtime: Runtime
    channel: TeamsChannel
    delivery: Delivery
    http: TestClient
    entra: FakeEntra
    connector: FakeBotConnector
    openai: FakeOpenAI

    async def send(
        self, activity: dict[str, Any], *, headers: dict[str, str] | None = None, **token: Any
    ) -> ClientResponse:
        """POST as Teams does: with a valid channel token unless told otherwise."""
        if headers is None:
            headers = self.entra.headers_for(activity, **token)
        return await self.http.post("/api/messages", json=activity, headers=headers)

    async def settle(self) -> None:
        await self.delivery.drain(timeout=30)

    def answers(self, conversation_id: str) -> list[dict[str, Any]]:
        return self.connector.messages(conversation_id)

    async def close(self) -> None:
        await self.http.close()
        self.runtime.close()


async def start_app(
    database_url: str,
    identity: FakeEntra,
    bot_connector: FakeBotConnector,
    openai: FakeOpenAI,
    *,
    langfuse: Any = None,
    **settings: Any,
) -> TeamsApp:
    config = AssistantSettings(
        DATABASE_URL=database_url,
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=openai.base_url,
        SKILLMATCH_LLM_PROVIDERS="openai",
        SKILLMATCH_ORDER_WINDOW_MS=0,
        **settings,
    )
    runtime = build_runtime(config, today=lambda: TODAY, langfuse=langfuse)
    runtime.searcher = runtime.engine.searcher = Searcher(
        runtime.sessions, runtime.searcher.embedder, today=TODAY
    )
    delivery = build_delivery(runtime)
    channel = TeamsChannel(config, delivery, engine=runtime.engine, store=runtime.store)
    http = TestClient(TestServer(build_web_app(runtime, delivery, [channel]), host="127.0.0.1"))
    await http.start_server()
    return TeamsApp(runtime, channel, delivery, http, identity, bot_connector, openai)


@pytest.fixture
def fake_openai() -> Any:
    with FakeOpenAI() as fake:
        fake.responder = lambda body: f"Answer to: {last_user_text(body)}"
        yield fake


@pytest.fixture
async def teams_app(
    sample_db_url: str,
    entra: FakeEntra,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
    fake_openai: FakeOpenAI,
) -> AsyncIterator[TeamsApp]:
    app = await start_app(sample_db_url, entra, connector, fake_openai)
    yield app
    await app.settle()
    await app.close()
