"""Exactly one reply per user message, in order: Slack retries, duplicate deliveries to two replicas
sharing PostgreSQL, twenty messages into one thread at once, and Slack's rate limits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from skillmatch.models import Message
from tests.fakes import slack_events as ev
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import SlackApp, start_app


def answers(slack: FakeSlack, thread_ts: str) -> list[str]:
    out = []
    for message in slack.messages(thread_ts=thread_ts):
        text = message.get("text") or ""
        blocks = json.dumps(message.get("blocks") or [])
        out.append(text if text.startswith("Answer to:") else blocks)
    return out


def questions_in_arrival_order(app: SlackApp, channel: str) -> list[str]:
    with app.runtime.sessions() as session:
        return list(
            session.scalars(select(Message.content).where(Message.role == "user").order_by(Message.id))
        )


async def test_a_retry_storm_gets_one_answer(slack_app: SlackApp) -> None:
    body, _ = ev.app_mention("Go developer for event processing")
    root = json.loads(body)["event"]["ts"]
    responses = [await slack_app.send(body, retry_num=n) for n in (None, 1, 2, 3)]
    assert [r.status for r in responses] == [200, 200, 200, 200]
    await slack_app.settle()
    assert len(slack_app.slack.messages(thread_ts=root)) == 1
    assert len(slack_app.openai.chat_requests()) == 1


async def test_twenty_messages_into_one_thread_are_answered_in_slacks_order(slack_app: SlackApp) -> None:
    first, _ = ev.app_mention("question 00")
    root = json.loads(first)["event"]["ts"]
    await slack_app.send(first)
    # Written in this order (increasing ts), delivered in reverse: the answers follow Slack's order.
    bodies = [ev.app_mention(f"question {i:02d}", thread_ts=root)[0] for i in range(1, 20)]
    results = await asyncio.gather(*(slack_app.send(b) for b in reversed(bodies)))
    assert all(r.status == 200 for r in results)
    await slack_app.settle()
    expected = [f"question {i:02d}" for i in range(20)]
    assert sorted(questions_in_arrival_order(slack_app, ev.CHANNEL_ID)) == expected  # none lost
    replies = answers(slack_app.slack, root)
    assert len(replies) == 20
    assert all(f"Answer to: {q}" in reply for q, reply in zip(expected, replies, strict=True))


async def test_rate_limited_posts_are_retried(slack_app: SlackApp) -> None:
    slack_app.slack.rate_limit_next("chat.stopStream", retry_after=0)
    body, _ = ev.app_mention("Scrum Master for an insurer")
    root = json.loads(body)["event"]["ts"]
    await slack_app.send(body)
    await slack_app.settle()
    assert len(slack_app.slack.calls("chat.stopStream")) == 2  # the 429, then the retry
    assert len(slack_app.slack.messages(thread_ts=root)) == 1


async def test_two_app_instances_in_one_process_answer_once_and_in_order(postgres_url: str) -> None:
    with FakeSlack() as slack, FakeOpenAI() as openai:
        openai.responder = lambda body: f"Answer to: {_last_user(body)}"
        one = await start_app(postgres_url, slack, openai)
        two = await start_app(postgres_url, slack, openai)
        try:
            # The same event delivered to both replicas (and retried): one answer.
            body, _ = ev.app_mention("question 00")
            root = json.loads(body)["event"]["ts"]
            await asyncio.gather(one.send(body), two.send(body), one.send(body, retry_num=1))
            # Then ten follow-ups, spread over both replicas at once.
            bodies = [ev.app_mention(f"question {i:02d}", thread_ts=root)[0] for i in range(1, 11)]
            await asyncio.gather(*((one if i % 2 else two).send(b) for i, b in enumerate(bodies)))
            for _ in range(3):
                await one.settle()
                await two.settle()
            expected = [f"question {i:02d}" for i in range(11)]
            assert sorted(questions_in_arrival_order(one, ev.CHANNEL_ID)) == expected
            replies = answers(slack, root)
            assert len(replies) == 11
            assert all(f"Answer to: {q}" in r for q, r in zip(expected, replies, strict=True))
            assert len(openai.chat_requests()) == 11
        finally:
            for app in (one, two):
                await app.http.close()
                app.runtime.close()


def _last_user(body: dict[str, Any]) -> str:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
