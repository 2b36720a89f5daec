"""A minimal Microsoft 365 Agents SDK host for testing the Teams fakes through the real SDK: an
`AgentApplication` with the real `CloudAdapter`, MSAL connection manager and JWT check on
`POST /api/messages`, mounted on a plain aiohttp app beside another route, configured from the
environment exactly as a deployment is (`load_configuration_from_env`)."""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra

Handler = Callable[[TurnContext, TurnState], Awaitable[None]]


@dataclass
class SdkHost:
    """The SDK serving `/api/messages` (and `/healthz`) on 127.0.0.1; `seen` lists the activities that
    reached the agent (after the JWT check)."""

    http: TestClient
    adapter: CloudAdapter
    agent: AgentApplication[TurnState]
    entra: FakeEntra | None
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def post(
        self, activity: dict[str, Any], headers: dict[str, str] | None = None, **token: Any
    ) -> ClientResponse:
        """POST as Teams does: with a valid channel token unless `headers` says otherwise."""
        if headers is None:
            headers = self.entra.headers_for(activity, **token) if self.entra else {}
        return await self.http.post("/api/messages", json=activity, headers=headers)


def _clear_connection_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CONNECTIONS__") or name.startswith("CONNECTIONSMAP__"):
            monkeypatch.delenv(name)


@pytest.fixture
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    _clear_connection_settings(monkeypatch)
    with FakeEntra() as fake:
        fake.install(monkeypatch)
        yield fake
        assert fake.errors == []


@pytest.fixture
def connector(entra: FakeEntra) -> Iterator[FakeBotConnector]:
    with FakeBotConnector(entra) as fake:
        yield fake
        assert fake.errors == []


async def start_host(
    on_message: Handler | None,
    entra: FakeEntra | None,
    *,
    register: Callable[[AgentApplication[TurnState]], None] | None = None,
) -> SdkHost:
    config = load_configuration_from_env(os.environ)
    connections = MsalConnectionManager(**config)
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](storage=MemoryStorage(), connection_manager=connections, **config)
    seen: list[dict[str, Any]] = []

    @agent.before_turn
    async def record(context: TurnContext, state: TurnState) -> bool:
        seen.append(context.activity.model_dump(mode="json", by_alias=True, exclude_none=True))
        return True

    if on_message is not None:
        agent.activity("message")(on_message)
    if register is not None:
        register(agent)

    app = web.Application()
    # The SDK's JWT check reads this plain string key; aiohttp warns about non-AppKey keys.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        app["agent_configuration"] = connections.get_default_connection_configuration()

    @jwt_authorization_decorator
    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, agent)
        assert response is not None
        return response

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    http = TestClient(TestServer(app, host="127.0.0.1"))
    await http.start_server()
    return SdkHost(http, adapter, agent, entra, seen)


async def echo(context: TurnContext, state: TurnState) -> None:
    await context.send_activity(f"echo: {context.activity.text}")


@pytest.fixture
async def echo_host(entra: FakeEntra, connector: FakeBotConnector) -> AsyncIterator[SdkHost]:
    host = await start_host(echo, entra)
    yield host
    await host.http.close()
