"""Conversation fixtures: the sample database, a scripted fake OpenAI (and a backup), a fake Langfuse, and
runtimes built from settings alone, exactly as `skillmatch chat` and `serve` build theirs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.config import AssistantSettings
from assistant.engine import TurnReply, TurnRequest
from assistant.runtime import Runtime, build_runtime
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.langfuse_server import FakeLangfuse, forget_langfuse
from tests.fakes.openai_server import FakeOpenAI

__all__ = ["TODAY"]

MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def backup_openai() -> Iterator[FakeOpenAI]:
    """A second OpenAI-compatible server, configured as the self-hosted vLLM fallback."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake_langfuse() -> Iterator[FakeLangfuse]:
    with FakeLangfuse() as fake:
        yield fake


@pytest.fixture
def make_runtime(
    sample_db_url: str, fake_openai: FakeOpenAI, backup_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> Iterator[MakeRuntime]:
    """`make_runtime(backup=True, tracing=True, **settings)`: OpenAI (and vLLM) against the fakes, Langfuse
    at the fake with a fresh public key; the Langfuse client is the production one (masking included)."""
    made: list[Runtime] = []

    def make(*, backup: bool = False, tracing: bool = True, **overrides: Any) -> Runtime:
        values: dict[str, Any] = {
            "DATABASE_URL": sample_db_url,
            "OPENAI_API_KEY": fake_openai.api_key,
            "OPENAI_BASE_URL": fake_openai.base_url,
            "SKILLMATCH_LLM_PROVIDERS": "openai",
        }
        if backup:
            values |= {
                "SKILLMATCH_LLM_PROVIDERS": "openai,vllm",
                "VLLM_BASE_URL": backup_openai.base_url,
                "VLLM_MODEL": "qwen2.5-7b",
                "VLLM_API_KEY": backup_openai.api_key,
            }
        if tracing:
            values |= {
                "LANGFUSE_PUBLIC_KEY": f"pk-lf-e2e-{uuid.uuid4().hex[:10]}",
                "LANGFUSE_SECRET_KEY": "sk-lf-test",
                "LANGFUSE_BASE_URL": fake_langfuse.origin,
            }
        settings = AssistantSettings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]
        rt = build_runtime(settings, today=lambda: TODAY)
        rt.searcher = rt.engine.searcher = Searcher(rt.sessions, rt.searcher.embedder, today=TODAY)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
        forget_langfuse(rt.settings.langfuse_public_key)


@pytest.fixture
def runtime(make_runtime: MakeRuntime) -> Runtime:
    return make_runtime()


async def say(
    rt: Runtime, key: str, text: str, *, user_id: str = "U123", **callbacks: Any
) -> tuple[str, TurnReply]:
    """One turn through `Engine.handle`, as the terminal runs it; returns the platform message id too."""
    message_id = uuid.uuid4().hex
    reply = await rt.engine.handle(
        TurnRequest(thread_key=key, platform="console", message_id=message_id, text=text, user_id=user_id),
        **callbacks,
    )
    return message_id, reply
