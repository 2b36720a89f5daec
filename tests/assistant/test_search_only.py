"""Without an LLM the assistant still answers from the search, says so, and refines in follow-ups;
`skillmatch chat` works from a pipe and can be resumed by its session key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import AssistantSettings
from assistant.engine import TurnRequest
from assistant.runtime import Runtime, build_runtime
from assistant.sessions import thread_key_console
from skillmatch.search import Searcher
from tests.assistant.conftest import TODAY


@pytest.fixture
def runtime(sample_db_url: str) -> Iterator[Runtime]:
    settings = AssistantSettings(DATABASE_URL=sample_db_url, SKILLMATCH_LLM_PROVIDERS="")
    rt = build_runtime(settings, today=lambda: TODAY)
    rt.searcher = rt.engine.searcher = Searcher(rt.sessions, rt.searcher.embedder, today=TODAY)
    yield rt
    rt.close()


async def ask(rt: Runtime, key: str, text: str):  # type: ignore[no-untyped-def]
    return await rt.engine.handle(TurnRequest(key, "console", uuid.uuid4().hex, text, "me"))


async def test_follow_ups_refine_the_previous_search(runtime: Runtime) -> None:
    key = thread_key_console()
    first = await ask(runtime, key, "Who could lead a Kubernetes migration for a bank?")
    assert first.status == "retrieval_only"
    assert "No language model is configured" in first.text
    assert first.candidates[0]["name"] == "Anna Schmidt"
    munich = await ask(runtime, key, "only Munich")
    assert munich.candidates and all(c["location"] == "Munich" for c in munich.candidates)
    assert "Kubernetes" in munich.text  # still the Kubernetes search, now narrowed
    january = await ask(runtime, key, "available from January")
    assert "2027-01-01" in january.text
    fresh = await ask(runtime, key, "SAP ABAP developer")  # names skills: a new search, filters reset
    assert fresh.candidates[0]["name"] == "Jürgen Hartmann"


def test_chat_from_a_pipe_and_resume(sample_db_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"SKILLMATCH_LOG_FILE": str(tmp_path / "chat.log")})
    key = f"console:{uuid.uuid4()}"
    first = runner.invoke(
        app,
        ["chat", "--session", key, "--database-url", sample_db_url],
        input="Python developer with FastAPI experience\n",
    )
    assert first.exit_code == 0, first.output
    assert key in first.output and "Ahmet Demir" in first.output
    again = runner.invoke(
        app, ["chat", "--session", key, "--database-url", sample_db_url], input="only Cologne\n/quit\n"
    )
    assert again.exit_code == 0, again.output
    assert "Python developer with FastAPI experience only Cologne" in again.output  # the resumed search
