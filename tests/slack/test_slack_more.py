"""Thread follow-ups without a mention, feedback reaching Langfuse, a failing turn, and secrets in logs."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from assistant.masking import langfuse_mask
from tests.fakes import slack_events as ev
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SlackApp, start_app


async def test_following_a_thread_without_a_new_mention(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    app = await start_app(sample_db_url, fake_slack, fake_openai, SLACK_FOLLOW_THREADS="true")
    try:
        first, _ = ev.app_mention("Data engineer with Airflow")
        root = json.loads(first)["event"]["ts"]
        await app.send(first)
        await app.settle()
        # A reply without a mention in that thread continues the conversation ...
        await app.send(ev.message_channel("only Hamburg", thread_ts=root)[0])
        await app.settle()
        # ... a mention in the thread arrives twice (app_mention and message): one turn.
        mention_ts = ev.ts()
        await app.send(ev.app_mention("and in Berlin?", ts=mention_ts, thread_ts=root)[0])
        await app.send(
            ev.message_channel(f"<@{ev.BOT_USER_ID}> and in Berlin?", ts=mention_ts, thread_ts=root)[0]
        )
        # ... and a thread the assistant never joined stays untouched.
        await app.send(ev.message_channel("unrelated chat", thread_ts=ev.ts())[0])
        await app.settle()
        asked = [
            [m["content"] for m in r.json()["messages"] if m["role"] == "user"][-1]
            for r in fake_openai.chat_requests()
        ]
        assert asked == ["Data engineer with Airflow", "only Hamburg", "and in Berlin?"]
        assert len(fake_slack.messages(thread_ts=root)) == 3
    finally:
        await app.http.close()
        app.runtime.close()


async def test_feedback_click_sends_a_score_to_langfuse(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    public_key = f"pk-lf-slack-{uuid.uuid4().hex[:8]}"
    with (
        FakeLangfuse() as fake_langfuse,
        isolated_langfuse(fake_langfuse, public_key=public_key, mask=langfuse_mask) as client,
    ):
        app = await start_app(
            sample_db_url,
            fake_slack,
            fake_openai,
            langfuse=client,
            LANGFUSE_PUBLIC_KEY=public_key,
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_BASE_URL=fake_langfuse.origin,
        )
        try:
            body, _ = ev.app_mention("Embedded C++ developer for automotive")
            await app.send(body)
            await app.settle()
            answer = fake_slack.messages(channel=ev.CHANNEL_ID)[0]
            button = next(
                e
                for b in answer["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == "feedback_down"
            )
            await app.send(
                ev.block_actions("feedback_down", button["value"], message_ts=answer["ts"]), form=True
            )
            await app.settle()
            client.flush()
            turn = fake_langfuse.span_named("assistant.turn")
            assert [(s["traceId"], s["name"], s["value"]) for s in fake_langfuse.scores] == [
                (turn.trace_id, "user_feedback", 0.0)
            ]
        finally:
            await app.http.close()
            app.runtime.close()


async def test_a_failing_turn_ends_in_a_friendly_message(
    slack_app: SlackApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database on fire")

    monkeypatch.setattr(slack_app.runtime.engine, "run_message", broken)
    body, _ = ev.app_mention("Kotlin backend engineer")
    root = json.loads(body)["event"]["ts"]
    with caplog.at_level(logging.DEBUG):
        await slack_app.send(body)
        await slack_app.settle()
    reply = slack_app.slack.messages(thread_ts=root)[0]
    assert "went wrong" in reply["text"] or "went wrong" in json.dumps(reply.get("blocks"))
    assert ev.BOT_TOKEN not in caplog.text and ev.SIGNING_SECRET not in caplog.text


async def test_a_failover_is_told_in_one_line_under_the_answer(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI
) -> None:
    with FakeOpenAI() as backup:
        backup.responder = lambda body: "Daniel Koch runs Prometheus at scale."
        app = await start_app(
            sample_db_url,
            fake_slack,
            fake_openai,
            SKILLMATCH_LLM_PROVIDERS="openai,vllm",
            VLLM_BASE_URL=backup.base_url,
            VLLM_MODEL="qwen2.5",
            VLLM_API_KEY=backup.api_key,
        )
        try:
            fake_openai.fail_next(500, times=None)
            body, _ = ev.app_mention("SRE with Prometheus")
            root = json.loads(body)["event"]["ts"]
            await app.send(body)
            await app.settle()
            [answer] = fake_slack.messages(thread_ts=root)
            assert answer["text"].startswith("Daniel Koch runs Prometheus")
            assert "OpenAI unavailable (HTTP 500), answered by vLLM" in json.dumps(answer["blocks"])
        finally:
            await app.http.close()
            app.runtime.close()
