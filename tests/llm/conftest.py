"""Routed-LLM fixtures: fake providers on 127.0.0.1, a fake clock and a recording sleep."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from langfuse.openai import AsyncAzureOpenAI, AsyncOpenAI

from assistant.llm import Provider, RoutedLLM
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture(autouse=True)
def _langfuse_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Langfuse here. The wrapper still builds an unconfigured client per call, which warns each time
    even with tracing disabled, so the SDK's logger is turned down for these tests too."""
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "false")
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    sdk_logger = logging.getLogger("langfuse")
    level = sdk_logger.level
    sdk_logger.setLevel(logging.ERROR)
    yield
    sdk_logger.setLevel(level)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delays, never waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def closed_port_url() -> str:
    """A base URL nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def openai_provider(
    base_url: str,
    *,
    name: str = "openai",
    model: str = "gpt-4o-mini",
    api_key: str = "sk-test",
    timeout: float = 5.0,
    supports_tools: bool = True,
) -> Provider:
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
    return Provider(name, model, client, timeout, supports_tools)


def azure_provider(fake: FakeOpenAI, *, deployment: str = "gpt-4o-prod", timeout: float = 5.0) -> Provider:
    client = AsyncAzureOpenAI(
        azure_endpoint=fake.azure_endpoint,
        api_key=fake.api_key,
        api_version="2024-10-21",
        azure_deployment=deployment,
        timeout=timeout,
        max_retries=0,
    )
    return Provider("azure", deployment, client, timeout)


@pytest.fixture
def primary() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def backup() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def make_llm(clock: FakeClock, sleep: RecordingSleep) -> AsyncIterator[Callable[..., RoutedLLM]]:
    made: list[RoutedLLM] = []

    def make(*providers: Provider, retries: int = 1, cooldown_seconds: float = 60.0) -> RoutedLLM:
        llm = RoutedLLM(
            list(providers), retries=retries, cooldown_seconds=cooldown_seconds, clock=clock, sleep=sleep
        )
        made.append(llm)
        return llm

    yield make
    for llm in made:
        await llm.aclose()
