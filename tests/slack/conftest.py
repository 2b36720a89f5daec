"""The Slack app as deployed: the real aiohttp endpoint and slack-bolt, signed requests in, the real
AsyncWebClient out to a fake Slack Web API; the model is a scripted fake OpenAI server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from assistant.channels.slack import SlackChannel
from assistant.config import AssistantSettings
from assistant.delivery import Delivery
from assistant.runtime import Runtime, build_runtime
from assistant.server import build_delivery, build_web_app
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_events import BOT_TOKEN, SIGNING_SECRET, sign


def last_user_text(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


@dataclass
class SlackApp:
    runtime: Runtime
    channel: SlackChannel
    delivery: Delivery
    http: TestClient
    slack: FakeSlack
    openai: FakeOpenAI

    async def send(
        self,
        body: str,
        *,
        form: bool = False,
        retry_num: int | None = None,
        secret: str = SIGNING_SECRET,
        **sign_kw: Any,
    ) -> ClientResponse:
        content_type = "application/x-www-form-urlencoded" if form else "application/json"
        headers = sign(body, secret, content_type=content_type, retry_num=retry_num, **sign_kw)
        return await self.http.post("/slack/events", data=body.encode(), headers=headers)

    async def settle(self) -> None:
        """Wait (bounded) until every acknowledged request has been fully handled."""
        await self.delivery.drain(timeout=20)


async def start_app(
    database_url: str, slack: FakeSlack, openai: FakeOpenAI, *, langfuse: Any = None, **settings: Any
) -> SlackApp:
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "OPENAI_API_KEY": openai.api_key,
        "OPENAI_BASE_URL": openai.base_url,
        "SKILLMATCH_LLM_PROVIDERS": "openai",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": slack.api_url,
    }
    config = AssistantSettings(**{**values, **settings})
    runtime = build_runtime(config, today=lambda: TODAY, langfuse=langfuse)
    runtime.searcher = runtime.engine.searcher = Searcher(
        runtime.sessions, runtime.searcher.embedder, today=TODAY
    )
    delivery = build_delivery(runtime)
    channel = SlackChannel(config, delivery, engine=runtime.engine, store=runtime.store)
    http = TestClient(TestServer(build_web_app(runtime, delivery, [channel])))
    await http.start_server()
    return SlackApp(runtime, channel, delivery, http, slack, openai)


@pytest.fixture
def fake_slack() -> Any:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Any:
    with FakeOpenAI() as fake:
        fake.responder = lambda body: f"Answer to: {last_user_text(body)}"
        yield fake


@pytest.fixture
async def slack_app(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> AsyncIterator[SlackApp]:
    app = await start_app(sample_db_url, fake_slack, fake_openai)
    yield app
    await app.settle()
    await app.http.close()  # shuts the app down: delivery stops
    app.runtime.close()
