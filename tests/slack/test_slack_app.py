"""Slack end to end: mentions, follow-ups, DMs, the assistant pane, /skillmatch, feedback, App Home,
signatures, allowlists, and the odd messages a workspace produces."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from sqlalchemy import select

from assistant.channels.slack import DM_THREAD, SlackThread
from skillmatch.models import Feedback
from tests.fakes import slack_events as ev
from tests.slack.conftest import SlackApp, start_app


async def test_mention_is_answered_in_its_thread_with_candidates_and_feedback(slack_app: SlackApp) -> None:
    slack_app.openai.responder = None
    slack_app.openai.enqueue_reply(
        tool_calls=[{"name": "search_candidates", "arguments": json.dumps({"query": "Kubernetes bank"})}]
    )
    slack_app.openai.enqueue_reply("**Anna Schmidt** led a [Kubernetes](https://kubernetes.io) migration.")
    body, _ = ev.app_mention("Who could lead a Kubernetes migration for a bank?")
    mention_ts = json.loads(body)["event"]["ts"]
    response = await slack_app.send(body)
    assert response.status == 200
    await slack_app.settle()
    replies = slack_app.slack.messages(channel=ev.CHANNEL_ID, thread_ts=mention_ts)
    assert len(replies) == 1
    reply = replies[0]
    # Streamed into the thread as Markdown (Slack renders it), the candidates as Block Kit underneath.
    assert reply["text"].startswith("**Anna Schmidt** led a [Kubernetes](https://kubernetes.io) migration.")
    assert slack_app.slack.calls("chat.startStream")[0]["recipient_user_id"] == ev.USER_ID
    assert "Anna Schmidt" in json.dumps(reply["blocks"])
    actions = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {a["action_id"] for a in actions} == {"feedback_up", "feedback_down"}


async def test_follow_up_in_the_thread_continues_the_conversation(slack_app: SlackApp) -> None:
    first, _ = ev.app_mention("Python developer with FastAPI")
    root = json.loads(first)["event"]["ts"]
    await slack_app.send(first)
    await slack_app.settle()
    follow, _ = ev.app_mention("only Cologne", thread_ts=root)
    await slack_app.send(follow)
    await slack_app.settle()
    second_request = slack_app.openai.chat_requests()[-1].json()["messages"]
    assert [m["content"] for m in second_request if m["role"] == "user"] == [
        "Python developer with FastAPI",
        "only Cologne",
    ]
    assert len(slack_app.slack.messages(thread_ts=root)) == 2


async def test_direct_message_is_answered_in_the_dm(slack_app: SlackApp) -> None:
    body, _ = ev.message_im("SAP ABAP developer?")
    await slack_app.send(body)
    await slack_app.settle()
    messages = slack_app.slack.messages(channel=ev.DM_CHANNEL_ID)
    assert len(messages) == 1 and messages[0]["thread_ts"] is None
    assert "Answer to: SAP ABAP developer?" in json.dumps(messages[0]["blocks"])


async def test_assistant_pane_prompts_status_title_and_streamed_answer(slack_app: SlackApp) -> None:
    thread_ts = ev.ts()
    body, _ = ev.assistant_thread_started(channel=ev.DM_CHANNEL_ID, thread_ts=thread_ts)
    await slack_app.send(body)
    await slack_app.slack.async_wait_for(lambda f: f.suggested_prompts())
    assert len(slack_app.slack.suggested_prompts()[0]["prompts"]) >= 3

    slack_app.openai.responder = None
    slack_app.openai.enqueue_reply(
        tool_calls=[{"name": "search_candidates", "arguments": json.dumps({"query": "iOS developer"})}]
    )
    slack_app.openai.enqueue_reply(
        "Mia Fischer builds iPhone apps.", chunks=["Mia Fischer ", "builds ", "iPhone apps."]
    )
    message, _ = ev.message_im("Someone who can build apps for iPhone", thread_ts=thread_ts)
    await slack_app.send(message)
    await slack_app.settle()
    assert slack_app.slack.titles() and slack_app.slack.titles()[0]["title"].startswith(
        "Someone who can build"
    )
    assert any(s["status"] == "Searching CVs…" for s in slack_app.slack.statuses(thread_ts=thread_ts))
    streamed = slack_app.slack.messages(thread_ts=thread_ts)
    assert len(streamed) == 1
    assert streamed[0]["text"].startswith("Mia Fischer builds iPhone apps.")
    assert slack_app.slack.calls("chat.startStream") and slack_app.slack.calls("chat.stopStream")


async def test_streaming_refused_falls_back_to_post_and_update(slack_app: SlackApp) -> None:
    slack_app.slack.streaming_supported = False
    slack_app.openai.responder = None
    slack_app.openai.enqueue_reply("Thomas Becker.", chunks=["Thomas ", "Becker."])
    thread_ts = ev.ts()
    body, _ = ev.message_im("IT project manager with PRINCE2", thread_ts=thread_ts)
    await slack_app.send(body)
    await slack_app.settle()
    messages = slack_app.slack.messages(thread_ts=thread_ts)
    assert len(messages) == 1 and "Thomas Becker." in json.dumps(messages[0]["blocks"])


async def test_slash_command_starts_a_thread_and_help_is_ephemeral(slack_app: SlackApp) -> None:
    response = await slack_app.send(ev.slash_command("Vue.js developer for a booking platform"), form=True)
    assert response.status == 200
    await slack_app.settle()
    root, answer = slack_app.slack.messages(channel=ev.CHANNEL_ID)
    assert root["thread_ts"] is None and "Vue.js developer" in root["text"]
    assert answer["thread_ts"] == root["ts"]

    for text in ("help", ""):
        help_response = await slack_app.send(ev.slash_command(text), form=True)
        payload = await help_response.json()
        assert help_response.status == 200
        assert payload["response_type"] == "ephemeral" and "/skillmatch" in payload["text"]
    assert len(slack_app.slack.messages(channel=ev.CHANNEL_ID)) == 2  # help posted nothing in the channel


async def test_feedback_click_becomes_a_score_and_a_row(slack_app: SlackApp) -> None:
    body, _ = ev.app_mention("COBOL mainframe developer")
    await slack_app.send(body)
    await slack_app.settle()
    answer = slack_app.slack.messages(channel=ev.CHANNEL_ID)[0]
    button = next(
        e
        for b in answer["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "feedback_up"
    )
    click = ev.block_actions(
        "feedback_up", button["value"], message_ts=answer["ts"], thread_ts=answer["thread_ts"]
    )
    for _ in range(2):  # a double click counts once
        response = await slack_app.send(click, form=True)
        assert response.status == 200
    await slack_app.settle()
    with slack_app.runtime.sessions() as session:
        rows = list(session.scalars(select(Feedback)))
    assert [(r.trace_id, r.value, r.user_id) for r in rows] == [(button["value"], 1.0, ev.USER_ID)]
    assert "Thanks" in slack_app.slack.ephemerals()[0]["text"]


async def test_app_home_lists_the_users_recent_conversations(slack_app: SlackApp) -> None:
    body, _ = ev.app_mention("Angular developer for an insurance portal")
    await slack_app.send(body)
    await slack_app.settle()
    home, _ = ev.app_home_opened(ev.USER_ID)
    await slack_app.send(home)
    await slack_app.slack.async_wait_for(lambda f: f.views())
    view = slack_app.slack.views(ev.USER_ID)[0]["view"]
    assert view["type"] == "home" and "Angular developer" in json.dumps(view)


async def test_bad_or_stale_signatures_are_refused_and_nothing_happens(slack_app: SlackApp) -> None:
    body, _ = ev.app_mention("Kotlin developer")
    assert (await slack_app.send(body, secret="not-the-secret")).status == 401
    assert (await slack_app.send(body, timestamp=1_600_000_000)).status == 401
    await slack_app.settle()
    assert slack_app.slack.messages() == [] and slack_app.openai.chat_requests() == []


async def test_a_signature_failure_is_logged_without_the_request_body(
    slack_app: SlackApp, caplog: pytest.LogCaptureFixture
) -> None:
    body, _ = ev.app_mention("Reach me at anna.schmidt@example.com about Kotlin")
    with caplog.at_level(logging.DEBUG):
        assert (await slack_app.send(body, secret="not-the-secret")).status == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "signature" in logged.lower()
    assert "anna.schmidt" not in logged and "Kotlin" not in logged


async def test_a_mention_written_by_another_bot_is_not_answered(slack_app: SlackApp) -> None:
    body, _ = ev.app_mention("I am a bot asking for a Kotlin developer")
    payload = json.loads(body)
    payload["event"].update(bot_id="B0OTHERBOT", bot_profile={"id": "B0OTHERBOT", "name": "Other"})
    assert (await slack_app.send(json.dumps(payload))).status == 200
    await slack_app.settle()
    assert slack_app.slack.messages() == [] and slack_app.openai.chat_requests() == []


async def test_ignored_messages_and_file_shares(slack_app: SlackApp) -> None:
    for body in (
        ev.bot_message("I am another bot")[0],
        ev.message_changed("edited", "old")[0],
        ev.message_deleted(ev.ts(), "gone")[0],
        ev.channel_join(ev.CHANNEL_ID)[0],
    ):
        assert (await slack_app.send(body)).status == 200
    shared, _ = ev.message_file_share([ev.file_object("cv.pdf")], text="", channel=ev.DM_CHANNEL_ID)
    await slack_app.send(shared)
    await slack_app.settle()
    messages = slack_app.slack.messages()
    assert len(messages) == 1 and "SharePoint" in messages[0]["text"]
    assert slack_app.openai.chat_requests() == []


async def test_oversized_message_and_provider_outage_get_friendly_answers(slack_app: SlackApp) -> None:
    huge, _ = ev.message_im("Java " * 2000)
    await slack_app.send(huge)
    await slack_app.settle()
    assert "characters long" in slack_app.slack.messages(channel=ev.DM_CHANNEL_ID)[-1]["text"]

    slack_app.openai.fail_next(500, times=None)
    body, _ = ev.app_mention("Python developer with FastAPI")
    root = json.loads(body)["event"]["ts"]
    await slack_app.send(body)
    await slack_app.settle()
    answer = json.dumps(slack_app.slack.messages(thread_ts=root)[-1]["blocks"])
    assert "unavailable" in answer and "Ahmet Demir" in answer  # the search still answered


async def test_allowlists_refuse_politely(sample_db_url: str, fake_slack, fake_openai) -> None:  # type: ignore[no-untyped-def]
    app = await start_app(sample_db_url, fake_slack, fake_openai, SLACK_ALLOWED_CHANNELS="C0OTHER")
    try:
        body, _ = ev.app_mention("Kubernetes engineer")
        await app.send(body)
        await app.settle()
        assert "isn't enabled" in fake_slack.messages()[0]["text"]
        assert fake_openai.chat_requests() == []
        refused = await app.send(ev.slash_command("Kubernetes engineer"), form=True)
        assert "isn't enabled" in (await refused.json())["text"]
    finally:
        await app.http.close()
        app.runtime.close()


def test_thread_keys_round_trip() -> None:
    thread = SlackThread("T1", "C1", "1700000000.000100")
    assert SlackThread.from_key(thread.key) == thread
    assert SlackThread("T1", "D1", DM_THREAD).reply_thread_ts is None
    assert uuid.UUID(int=0)  # keeps the uuid import honest for readers of the fixtures


async def test_health_and_readiness(slack_app: SlackApp) -> None:
    health = await slack_app.http.get("/healthz")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    ready = await slack_app.http.get("/readyz")
    assert ready.status == 200 and (await ready.json())["status"] == "ready"


def test_manifest_installs_an_assistant_app_with_only_the_scopes_it_needs() -> None:
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
    features = manifest["features"]
    assert "assistant_view" in features
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["app_home"]["messages_tab_read_only_enabled"] is False
    assert [c["command"] for c in features["slash_commands"]] == ["/skillmatch"]
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "message.im",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "assistant:write",
        "chat:write",
        "commands",
        "im:history",
        "app_mentions:read",
    }
