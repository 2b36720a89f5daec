"""Without Langfuse keys tracing is off and silent: no warning per call, and the ledger still records."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from assistant.config import AssistantSettings
from assistant.engine import TurnRequest
from assistant.runtime import Runtime, build_runtime
from assistant.sessions import thread_key_console
from skillmatch.models import LlmCall
from skillmatch.search import Searcher
from tests.assistant.conftest import TODAY
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def only_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment without keys has no other Langfuse client; other tests in this process may have one."""
    from langfuse._client.resource_manager import LangfuseResourceManager

    from assistant import telemetry

    monkeypatch.setattr(LangfuseResourceManager, "_instances", {})
    telemetry._disabled_client.cache_clear()


@pytest.fixture
def runtime(sample_db_url: str, only_this_process: None) -> Iterator[tuple[Runtime, FakeOpenAI]]:
    with FakeOpenAI() as fake:
        settings = AssistantSettings(
            DATABASE_URL=sample_db_url,
            OPENAI_API_KEY=fake.api_key,
            OPENAI_BASE_URL=fake.base_url,
            SKILLMATCH_LLM_PROVIDERS="openai",
        )
        rt = build_runtime(settings, today=lambda: TODAY)
        rt.searcher = rt.engine.searcher = Searcher(rt.sessions, rt.searcher.embedder, today=TODAY)
        yield rt, fake
        rt.close()


async def test_no_keys_no_warnings_and_the_ledger_records(
    runtime: tuple[Runtime, FakeOpenAI], caplog: pytest.LogCaptureFixture
) -> None:
    rt, fake = runtime
    assert not rt.telemetry.enabled
    fake.enqueue_reply('{"ok": true}')
    fake.enqueue_reply("second")
    with caplog.at_level(logging.WARNING):
        for text in ("first question", "second question"):
            reply = await rt.engine.handle(
                TurnRequest(thread_key_console(), "console", uuid.uuid4().hex, text)
            )
            assert reply.status == "ok"
    assert [r for r in caplog.records if r.name.startswith("langfuse")] == []
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LlmCall)) == 2
