"""`skillmatch audit` over a real conversation, from the ledger and read back from Langfuse: the attempts of a
retried or failed-over call are one call, not duplicates; a request repeated after success is a duplicate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.runtime import Runtime
from assistant.sessions import thread_key_console
from tests.assistant.conftest import MakeRuntime, say
from tests.fakes.langfuse_server import FakeLangfuse
from tests.fakes.openai_server import FakeOpenAI


def audit(rt: Runtime, fake_langfuse: FakeLangfuse, source: str, key: str) -> Any:
    env = {
        "LANGFUSE_PUBLIC_KEY": rt.settings.langfuse_public_key,
        "LANGFUSE_SECRET_KEY": "sk-lf-test",
        "LANGFUSE_BASE_URL": fake_langfuse.origin,
        "COLUMNS": "200",  # rich would shorten the session column to fit 80
    }
    url = rt.settings.database_url
    args = ["audit", "--source", source, "--session", key, "--since", "1h", "--database-url", url]
    return CliRunner().invoke(app, args, env=env)


def row_of(output: str, key: str) -> list[str]:
    line = next(line for line in output.splitlines() if key[:30] in line)
    return [cell.strip() for cell in line.split("│") if cell.strip()]


async def test_retried_and_failed_over_attempts_are_not_duplicates(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, backup_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    rt = make_runtime(backup=True)
    key = thread_key_console()
    fake_openai.fail_next(500)  # the first call is retried on OpenAI
    fake_openai.enqueue_reply(
        tool_calls=[{"name": "search_candidates", "arguments": json.dumps({"query": "SRE"})}]
    )
    fake_openai.fail_next(503, times=2, after=1)  # the second fails over to vLLM
    backup_openai.enqueue_reply("Daniel Koch.")
    _, reply = await say(rt, key, "SRE with Prometheus")
    assert reply.status == "ok"
    rt.telemetry.flush()
    assert len(fake_langfuse.spans_of_type("generation")) == 5  # one per attempt
    for source in ("langfuse", "ledger"):
        result = audit(rt, fake_langfuse, source, key)
        assert result.exit_code == 0, result.output
        assert "duplicate" not in result.output.lower().replace("duplicates", "")
    langfuse_row = row_of(audit(rt, fake_langfuse, "langfuse", key).output, key)
    assert langfuse_row[2:6] == ["2", "5", "0", "0"]  # calls, attempts, failed, duplicates


async def test_a_request_repeated_after_success_is_a_duplicate_in_both_audits(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    """A turn that broke after its first model call (here the channel went away) runs again for the same
    stored message, as delivery retries it: one trace, the same first request, two successful calls."""
    from assistant.engine import TurnRequest

    key = thread_key_console()
    fake_openai.responder = lambda body: (
        "Daniel Koch."
        if body["messages"][-1]["role"] == "tool"
        else {"tool_calls": [{"name": "search_candidates", "arguments": json.dumps({"query": "SRE"})}]}
    )
    message_id = await runtime.engine.accept(TurnRequest(key, "console", "m-1", "SRE with Prometheus", "U1"))
    assert isinstance(message_id, int)

    async def channel_gone(status: str) -> None:
        raise ConnectionError("the channel went away")

    with pytest.raises(ConnectionError):
        await runtime.engine.run_message(message_id, on_status=channel_gone)
    reply = await runtime.engine.run_message(message_id)
    assert reply.text == "Daniel Koch."
    runtime.telemetry.flush()
    for source in ("langfuse", "ledger"):
        result = audit(runtime, fake_langfuse, source, key)
        assert result.exit_code == 1, (source, result.output)
        assert "1 duplicate LLM call(s) found" in result.output
