"""FakeSlack against the real AsyncWebClient, and the signed request builders against Bolt's own checks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_events as ev
from tests.fakes.slack_api import FakeSlack

CHANNEL = ev.CHANNEL_ID
DM = ev.DM_CHANNEL_ID


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server
        assert server.errors == []


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.token, base_url=fake.api_url, timeout=5)


def error_of(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return excinfo.value.response["error"]


# -- Web API --


async def test_auth_test_names_the_bot_the_events_name(fake: FakeSlack) -> None:
    # base_url without the trailing slash works too: the SDK appends it before joining method names
    client = AsyncWebClient(token=fake.token, base_url=fake.api_url.rstrip("/"))
    response = await client.auth_test()
    assert (response["team_id"], response["user_id"], response["bot_id"]) == (
        ev.TEAM_ID,
        ev.BOT_USER_ID,
        ev.BOT_ID,
    )
    assert fake.requests[0].path == "/api/auth.test"
    assert fake.requests[0].header("authorization") == f"Bearer {fake.token}"


async def test_post_message_returns_increasing_ts_and_is_recorded(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Anna* fits"}}]
    first = await client.chat_postMessage(channel=CHANNEL, text="Searching…")
    second = await client.chat_postMessage(
        channel=CHANNEL, text="Anna fits", blocks=blocks, thread_ts=first["ts"]
    )
    assert first["channel"] == CHANNEL and float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"] and second["message"]["bot_id"] == ev.BOT_ID
    assert second["message"]["blocks"] == blocks
    assert first["message"]["blocks"][0]["type"] == "rich_text"  # Slack derives one from plain text
    assert [m["text"] for m in fake.messages(channel=CHANNEL)] == ["Searching…", "Anna fits"]
    [reply] = fake.messages(thread_ts=first["ts"])
    assert reply["blocks"] == blocks and reply["ts"] == second["ts"]
    assert fake.requests_to("/api/chat.postMessage")[0].header("content-type").startswith("application/json")
    assert fake.calls("chat.postMessage")[1]["blocks"] == blocks


async def test_form_encoded_arguments_and_json_strings_are_decoded(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "divider"}]
    response = await client.api_call(
        "chat.postMessage", data={"channel": CHANNEL, "text": "form", "blocks": json.dumps(blocks)}
    )
    assert fake.messages()[0]["blocks"] == blocks
    # chat.delete sends its arguments in the query string of a POST
    await client.chat_delete(channel=CHANNEL, ts=response["ts"])
    assert fake.requests_to("/api/chat.delete")[0].query["ts"] == [response["ts"]]
    assert fake.messages() == [] and fake.messages(include_deleted=True)[0]["deleted"] is True
    # a token in the form works as well as the header
    anonymous = AsyncWebClient(base_url=fake.api_url)
    assert (await anonymous.api_call("auth.test", data={"token": fake.token}))["ok"] is True


async def test_update_keeps_history_and_unknown_messages_fail(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="draft")
    updated = await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="final")
    assert updated["ts"] == posted["ts"] and updated["message"]["edited"]["user"] == ev.BOT_USER_ID
    [message] = fake.messages()
    assert message["text"] == "final" and [h["text"] for h in message["history"]] == ["draft"]
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    assert error_of(excinfo) == "message_not_found"
    with (
        pytest.raises(SlackApiError) as excinfo,
        pytest.warns(UserWarning, match="`text` argument is missing"),
    ):
        await client.chat_postMessage(channel=CHANNEL)
    assert error_of(excinfo) == "no_text"


async def test_ephemeral_is_not_a_channel_message(fake: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel=CHANNEL, user=ev.USER_ID, text="only you")
    assert response["message_ts"]
    assert fake.ephemerals() == [
        {
            "channel": CHANNEL,
            "user": ev.USER_ID,
            "text": "only you",
            "blocks": None,
            "thread_ts": None,
            "message_ts": response["message_ts"],
        }
    ]
    assert fake.messages() == []


async def test_chat_stream_assembles_start_append_stop(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = ev.ts()
    stream = await client.chat_stream(
        channel=CHANNEL,
        thread_ts=parent,
        recipient_team_id=ev.TEAM_ID,
        recipient_user_id=ev.USER_ID,
        buffer_size=10,
    )
    assert fake.requests == []  # chat_stream() itself calls nothing; the first flush starts the stream
    assert await stream.append(markdown_text="Anna ") is None  # buffered
    await stream.append(markdown_text="knows Kotlin")  # buffer over 10 chars: chat.startStream
    await stream.append(markdown_text=" and Go, ")
    await stream.append(markdown_text="and Rust.")  # chat.appendStream
    feedback = [{"type": "context_actions", "elements": [{"type": "feedback_buttons", "action_id": "fb"}]}]
    stopped = await stream.stop(markdown_text="\nDone.", blocks=feedback)
    assert [r.path.removeprefix("/api/") for r in fake.requests] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    assert fake.calls("chat.startStream")[0]["chunks"] == [
        {"type": "markdown_text", "text": "Anna knows Kotlin"}
    ]
    [message] = fake.messages(thread_ts=parent)
    assert message["text"] == "Anna knows Kotlin and Go, and Rust.\nDone."
    assert message["stream_state"] == "stopped" and message["blocks"] == feedback
    assert stopped["message"]["text"] == message["text"] and stream.ts == message["ts"]
    with pytest.raises(SlackApiError) as excinfo:  # the stream is over
        await client.chat_appendStream(channel=CHANNEL, ts=message["ts"], markdown_text="more")
    assert error_of(excinfo) == "message_not_in_streaming_state"


async def test_short_stream_starts_and_stops_in_stop(fake: FakeSlack, client: AsyncWebClient) -> None:
    stream = await client.chat_stream(channel=DM, thread_ts=ev.ts())  # a DM needs no recipient
    await stream.append(markdown_text="short")
    await stream.stop()
    assert [r.path for r in fake.requests] == ["/api/chat.startStream", "/api/chat.stopStream"]
    assert fake.messages(channel=DM)[0]["text"] == "short"


async def test_streaming_not_supported_fails_like_slack(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.streaming_supported = False
    stream = await client.chat_stream(
        channel=CHANNEL, thread_ts=ev.ts(), recipient_team_id=ev.TEAM_ID, recipient_user_id=ev.USER_ID
    )
    await stream.append(markdown_text="short answer")  # still buffered: nothing fails yet
    with pytest.raises(SlackApiError) as excinfo:
        await stream.stop()
    assert error_of(excinfo) == "channel_type_not_supported"
    assert excinfo.value.response.status_code == 200
    assert fake.messages() == []
    await client.chat_postMessage(channel=CHANNEL, text="short answer")  # the fallback works
    assert fake.messages()[0]["text"] == "short answer"


async def test_channel_streams_need_recipients(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_startStream(channel=CHANNEL, thread_ts=ev.ts(), markdown_text="x")
    assert error_of(excinfo) == "missing_recipient_team_id"
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_startStream(
            channel=CHANNEL, thread_ts=ev.ts(), recipient_team_id=ev.TEAM_ID, markdown_text="x"
        )
    assert error_of(excinfo) == "missing_recipient_user_id"
    with pytest.raises(SlackApiError) as excinfo:
        await client.api_call("chat.startStream", json={"channel": DM})
    assert error_of(excinfo) == "invalid_arguments"


async def test_an_expired_stream_can_still_be_updated(fake: FakeSlack, client: AsyncWebClient) -> None:
    started = await client.chat_startStream(channel=DM, thread_ts=ev.ts(), markdown_text="partial")
    fake.expire_stream(started["ts"])
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_stopStream(channel=DM, ts=started["ts"])
    assert error_of(excinfo) == "message_not_in_streaming_state"
    await client.chat_update(channel=DM, ts=started["ts"], text="partial, then the rest")
    message = fake.message(started["ts"])
    assert (message["stream_state"], message["text"]) == ("expired", "partial, then the rest")


async def test_assistant_thread_utilities(fake: FakeSlack, client: AsyncWebClient) -> None:
    thread = ev.ts()
    await client.assistant_threads_setStatus(
        channel_id=DM, thread_ts=thread, status="is searching…", loading_messages=["Reading CVs…"]
    )
    await client.assistant_threads_setTitle(channel_id=DM, thread_ts=thread, title="Kotlin people")
    prompts = [{"title": "Find", "message": "Who knows Kotlin?"}]
    await client.assistant_threads_setSuggestedPrompts(
        channel_id=DM, thread_ts=thread, title="Try", prompts=prompts
    )
    assert fake.statuses() == [
        {
            "channel_id": DM,
            "thread_ts": thread,
            "status": "is searching…",
            "loading_messages": ["Reading CVs…"],
        }
    ]
    assert fake.titles() == [{"channel_id": DM, "thread_ts": thread, "title": "Kotlin people"}]
    assert fake.suggested_prompts(thread_ts=thread)[0]["prompts"] == prompts
    with pytest.raises(SlackApiError) as excinfo:
        await client.assistant_threads_setSuggestedPrompts(channel_id=DM, prompts=[{"title": "no message"}])
    assert error_of(excinfo) == "invalid_arguments"


async def test_views_publish(fake: FakeSlack, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}]}
    first = await client.views_publish(user_id=ev.USER_ID, view=home)
    second = await client.views_publish(user_id=ev.USER_ID, view=home, hash=first["view"]["hash"])
    assert first["view"]["id"] == second["view"]["id"] and second["view"]["blocks"] == home["blocks"]
    assert [v["user_id"] for v in fake.views()] == [ev.USER_ID, ev.USER_ID]
    with pytest.raises(SlackApiError) as excinfo:
        await client.views_publish(user_id=ev.USER_ID, view=home, hash="stale")
    assert error_of(excinfo) == "hash_conflict"


async def test_reading_conversations_and_users(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = fake.seed_message(DM, "who knows Kotlin?")
    metadata = {"event_type": "assistant_thread_context", "event_payload": {"channel_id": CHANNEL}}
    await client.chat_postMessage(channel=DM, thread_ts=parent, text="Anna", metadata=metadata)
    replies = await client.conversations_replies(channel=DM, ts=parent, include_all_metadata=True)
    assert [m["text"] for m in replies["messages"]] == ["who knows Kotlin?", "Anna"]
    assert replies["messages"][0]["reply_count"] == 1 and replies["messages"][1]["metadata"] == metadata
    assert "metadata" not in (await client.conversations_replies(channel=DM, ts=parent))["messages"][1]
    assert fake.messages() and all(m["bot_id"] for m in fake.messages())  # the seeded one is not the app's
    with pytest.raises(SlackApiError) as excinfo:
        await client.conversations_replies(channel=DM, ts="1.000000")
    assert error_of(excinfo) == "thread_not_found"

    assert (await client.conversations_info(channel=DM))["channel"]["is_im"] is True
    fake.add_channel(CHANNEL, name="staffing", is_private=True)
    assert (await client.conversations_info(channel=CHANNEL))["channel"]["name"] == "staffing"
    fake.add_user(ev.USER_ID, name="alice", real_name="Alice Example", email="alice@example.com")
    user = (await client.users_info(user=ev.USER_ID))["user"]
    assert (user["real_name"], user["profile"]["email"], user["tz"]) == (
        "Alice Example",
        "alice@example.com",
        "Europe/Berlin",
    )
    assert (await client.users_info(user=ev.BOT_USER_ID))["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as excinfo:
        await client.users_info(user="nobody")
    assert error_of(excinfo) == "user_not_found"


async def test_auth_errors_and_unknown_methods(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url).chat_postMessage(
            channel=CHANNEL, text="x"
        )
    assert error_of(excinfo) == "invalid_auth" and excinfo.value.response.status_code == 200
    with pytest.raises(SlackApiError) as excinfo:
        await AsyncWebClient(base_url=fake.api_url).auth_test()
    assert error_of(excinfo) == "not_authed"
    with pytest.raises(SlackApiError) as excinfo:
        await AsyncWebClient(token=fake.token, base_url=fake.api_url).api_call("chat.teleport")
    assert error_of(excinfo) == "unknown_method"
    assert fake.messages() == []


async def test_scripted_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.error_next("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert error_of(excinfo) == "not_in_channel"
    await client.chat_postMessage(channel=CHANNEL, text="x")  # only the next one
    fake.fail_next(503, match="/api/auth.test")
    with pytest.raises(SlackApiError) as excinfo:
        await client.auth_test()
    assert excinfo.value.response.status_code == 503 and error_of(excinfo) == "service_unavailable"


async def test_rate_limit_is_retried_by_the_sdk_handler(fake: FakeSlack) -> None:
    fake.rate_limit_next("chat.postMessage", retry_after=0)
    client = AsyncWebClient(
        token=fake.token,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    response = await client.chat_postMessage(channel=CHANNEL, text="after a pause")
    assert response["ok"] is True and time.monotonic() - started < 1.5  # 0 + up to 1 s of jitter
    assert len(fake.requests_to("/api/chat.postMessage")) == 2
    assert len(fake.calls("chat.postMessage")) == 2 and len(fake.messages()) == 1


async def test_rate_limit_without_a_handler_raises(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit_next("chat.update", retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    response = excinfo.value.response
    assert (response.status_code, response["error"], response.headers["Retry-After"]) == (
        429,
        "ratelimited",
        "7",
    )


async def test_async_retry_handler_sleeps_retry_after_plus_jitter(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler sleeps int(Retry-After) + random() in [0, 1) seconds, once per retry (default: one)."""
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", SimpleNamespace(sleep=record))
    fake.rate_limit_next("auth.test", retry_after=25)
    client = AsyncWebClient(
        token=fake.token, base_url=fake.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    assert (await client.auth_test())["ok"] is True
    assert len(slept) == 1 and 25 <= slept[0] < 26


async def test_file_downloads_need_the_bot_token(fake: FakeSlack) -> None:
    file = fake.add_file("cv-alice.pdf", b"%PDF-1.4 fake")

    def get(url: str, token: str | None) -> tuple[str, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.headers["Content-Type"], response.read()

    assert await asyncio.to_thread(get, file["url_private"], fake.token) == (
        "application/pdf",
        b"%PDF-1.4 fake",
    )
    content_type, body = await asyncio.to_thread(get, file["url_private_download"], None)
    assert content_type.startswith("text/html") and b"Sign in" in body  # Slack's trap: 200 and a login page


def test_wait_for_wakes_on_requests_and_times_out(fake: FakeSlack) -> None:
    def post_later() -> None:
        request = urllib.request.Request(
            f"{fake.api_url}chat.postMessage",
            data=json.dumps({"channel": CHANNEL, "text": "late"}).encode(),
            headers={"Authorization": f"Bearer {fake.token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).read()

    worker = threading.Thread(target=post_later)
    worker.start()
    fake.wait_for(lambda f: len(f.messages()) == 1, timeout=5)
    worker.join()
    with pytest.raises(TimeoutError):
        fake.wait_for(lambda f: len(f.messages()) == 2, timeout=0.05)


async def test_async_wait_for_times_out(fake: FakeSlack) -> None:
    with pytest.raises(TimeoutError):
        await fake.async_wait_for(lambda f: bool(f.messages()), timeout=0.05)


# -- signed requests through Bolt --


class Seen:
    """What the app's listeners received, with a bounded wait (listeners run after the ack)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._event = asyncio.Event()

    def add(self, kind: str, value: Any) -> None:
        self.items.append((kind, value))
        self._event.set()

    async def wait(self, count: int = 1, timeout: float = 5.0) -> list[tuple[str, Any]]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._event.clear()
                await self._event.wait()
        return self.items


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[tuple[AsyncApp, Seen]]:
    seen = Seen()
    app = AsyncApp(
        client=AsyncWebClient(token=fake.token, base_url=fake.api_url, timeout=5),
        signing_secret=ev.SIGNING_SECRET,
        request_verification_enabled=True,
    )

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Any, request: AsyncBoltRequest) -> None:
        await say(text="On it", thread_ts=event["ts"])
        seen.add("mention", (event, request.headers.get("x-slack-retry-num")))

    @app.command(ev.COMMAND)
    async def on_command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"Searching for {command['text']}", response_type="ephemeral")
        seen.add("command", command)

    @app.action("pick_candidate")
    async def on_pick(ack: Any, action: dict[str, Any], body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text="Picked", replace_original=False)
        seen.add("action", (action, body))

    yield app, seen


async def test_app_mention_reaches_the_listener(fake: FakeSlack, bolt: tuple[AsyncApp, Seen]) -> None:
    app, seen = bolt
    body, event_id = ev.app_mention("who knows Kotlin?")
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=ev.sign(body, ev.SIGNING_SECRET)))
    assert response.status == 200
    [(kind, (event, retry))] = await seen.wait()
    assert kind == "mention" and event["text"] == f"<@{ev.BOT_USER_ID}> who knows Kotlin?" and retry is None
    assert json.loads(body)["event_id"] == event_id
    await fake.async_wait_for(lambda f: len(f.messages()) == 1)
    assert fake.messages(thread_ts=event["ts"])[0]["text"] == "On it"
    assert fake.calls("auth.test")  # Bolt authorised against the fake

    # a redelivery: same event_id, retry headers; Bolt itself does not dedupe
    again, same_id = ev.app_mention("who knows Kotlin?", ts=event["ts"], event_id=event_id)
    assert same_id == event_id
    response = await app.async_dispatch(ev.bolt_request(again, retry_num=1))
    assert response.status == 200
    items = await seen.wait(2)
    assert items[1][1][1] == ["1"]


async def test_slash_command_acks_and_responds(fake: FakeSlack, bolt: tuple[AsyncApp, Seen]) -> None:
    app, seen = bolt
    url = fake.response_url("cmd1")
    body = ev.slash_command("kotlin berlin", response_url=url)
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=ev.sign(body, ev.SIGNING_SECRET)))
    assert response.status == 200
    [(kind, command)] = await seen.wait()
    assert (kind, command["command"], command["text"], command["user_id"]) == (
        "command",
        ev.COMMAND,
        "kotlin berlin",
        ev.USER_ID,
    )
    assert fake.responses("cmd1") == [
        {"response_id": "cmd1", "text": "Searching for kotlin berlin", "response_type": "ephemeral"}
    ]


async def test_block_action_reaches_the_listener(fake: FakeSlack, bolt: tuple[AsyncApp, Seen]) -> None:
    app, seen = bolt
    message_ts, thread_ts = ev.ts(), ev.ts()
    body = ev.block_actions(
        "pick_candidate", "anna", message_ts=message_ts, thread_ts=thread_ts, response_url=fake.response_url()
    )
    assert body.startswith("payload=")
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=ev.sign(body, ev.SIGNING_SECRET)))
    assert response.status == 200
    [(_, (action, payload))] = await seen.wait()
    assert (action["action_id"], action["value"], action["type"]) == ("pick_candidate", "anna", "button")
    assert payload["container"] == {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": CHANNEL,
        "is_ephemeral": False,
        "thread_ts": thread_ts,
    }
    assert payload["message"]["ts"] == message_ts and payload["user"]["id"] == ev.USER_ID
    await fake.async_wait_for(lambda f: len(f.responses()) == 1)
    assert fake.responses()[0]["text"] == "Picked"


@pytest.mark.parametrize("problem", ["wrong secret", "stale timestamp", "tampered body", "no headers"])
async def test_bad_signatures_are_rejected(
    fake: FakeSlack, bolt: tuple[AsyncApp, Seen], problem: str
) -> None:
    app, seen = bolt
    body, _ = ev.app_mention("hi")
    headers = {
        "wrong secret": ev.sign(body, "not-the-secret"),
        "stale timestamp": ev.sign(body, ev.SIGNING_SECRET, timestamp=int(time.time()) - 301),
        "tampered body": ev.sign(body.replace("hi", "ho"), ev.SIGNING_SECRET),
        "no headers": {"Content-Type": "application/json"},
    }[problem]
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
    assert response.status == 401
    assert seen.items == [] and fake.requests == []  # rejected before authorisation calls auth.test


async def test_url_verification_is_answered(bolt: tuple[AsyncApp, Seen]) -> None:
    app, _ = bolt
    body = ev.url_verification("challenge-123")
    response = await app.async_dispatch(ev.bolt_request(body))
    assert response.status == 200 and json.loads(response.body) == {"challenge": "challenge-123"}


async def test_assistant_events_through_bolt(fake: FakeSlack) -> None:
    """The assistant pane: thread_started → prompts; a threaded DM → user_message with set_status and
    say_stream, which streams into the fake."""
    app = AsyncApp(
        client=AsyncWebClient(token=fake.token, base_url=fake.api_url, timeout=5),
        signing_secret=ev.SIGNING_SECRET,
    )
    assistant = AsyncAssistant()
    done = asyncio.Event()

    @assistant.thread_started
    async def started(say: Any, set_suggested_prompts: Any) -> None:
        await say("Hi, whom are you looking for?")
        await set_suggested_prompts(prompts=[{"title": "Kotlin", "message": "Who knows Kotlin?"}])

    @assistant.user_message
    async def answer(payload: dict[str, Any], set_status: Any, say_stream: Any) -> None:
        await set_status("is searching…")
        stream = await say_stream(buffer_size=5)
        await stream.append(markdown_text="Anna knows ")
        await stream.append(markdown_text="Kotlin.")
        await stream.stop()
        done.set()

    app.use(assistant)
    thread = ev.ts()
    body, _ = ev.assistant_thread_started(DM, thread, context={"channel_id": CHANNEL, "team_id": ev.TEAM_ID})
    assert (await app.async_dispatch(ev.bolt_request(body))).status == 200
    await fake.async_wait_for(lambda f: bool(f.suggested_prompts()) and bool(f.messages()))
    assert fake.suggested_prompts()[0]["thread_ts"] == thread
    assert fake.messages(channel=DM, thread_ts=thread)[0]["text"] == "Hi, whom are you looking for?"

    body, _ = ev.message_im("Who knows Kotlin?", DM, thread_ts=thread)
    assert (await app.async_dispatch(ev.bolt_request(body))).status == 200
    async with asyncio.timeout(5):
        await done.wait()
    assert fake.statuses()[0]["status"] == "is searching…"
    streamed = [m for m in fake.messages(channel=DM, thread_ts=thread) if m["stream_state"]]
    assert [(m["text"], m["stream_state"]) for m in streamed] == [("Anna knows Kotlin.", "stopped")]
    start = fake.calls("chat.startStream")[0]
    assert (start["recipient_team_id"], start["recipient_user_id"]) == (ev.TEAM_ID, ev.USER_ID)


def test_event_payload_shapes() -> None:
    thread = ev.ts()
    mention = ev.app_mention("hi", thread_ts=thread).payload()
    assert mention["type"] == "event_callback" and mention["authorizations"][0]["user_id"] == ev.BOT_USER_ID
    assert mention["event"]["thread_ts"] == thread and mention["event"]["blocks"][0]["type"] == "rich_text"
    assert ev.message_channel("more", thread_ts=thread).payload()["event"]["channel_type"] == "channel"
    changed = ev.message_changed("new", "old").payload()["event"]
    assert (changed["subtype"], changed["message"]["text"], changed["previous_message"]["text"]) == (
        "message_changed",
        "new",
        "old",
    )
    assert ev.message_deleted(thread, "gone").payload()["event"]["deleted_ts"] == thread
    assert ev.channel_join().payload()["event"]["user"] == ev.BOT_USER_ID
    assert ev.bot_message("beep").payload()["event"]["bot_id"] == "B0OTHERBOT"
    shared = ev.message_file_share([ev.file_object("cv.docx")], "my CV").payload()["event"]
    assert shared["subtype"] == "file_share" and shared["files"][0]["name"] == "cv.docx"
    changed_ctx = ev.assistant_thread_context_changed(context={"channel_id": CHANNEL}).payload()["event"]
    assert changed_ctx["assistant_thread"]["context"] == {"channel_id": CHANNEL}
    assert ev.app_home_opened().payload()["event"]["tab"] == "home"
    ids = {ev.message_im("x").event_id for _ in range(50)}
    assert len(ids) == 50
    stamps = [ev.ts() for _ in range(3)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 3
    headers = ev.sign("a=1", "s", timestamp=1_700_000_000, retry_num=2)
    assert headers["X-Slack-Retry-Num"] == "2" and headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


async def test_bolt_ignores_the_bots_own_messages(fake: FakeSlack) -> None:
    """The ids in the payloads match the fake's auth.test, so Bolt's self-event filter recognises its bot."""
    app = AsyncApp(
        client=AsyncWebClient(token=fake.token, base_url=fake.api_url, timeout=5),
        signing_secret=ev.SIGNING_SECRET,
    )
    received: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, Any]) -> None:
        received.append(event["text"])

    own, _ = ev.bot_message("my own echo", bot_id=ev.BOT_ID)
    other, _ = ev.bot_message("another integration")
    assert (await app.async_dispatch(ev.bolt_request(own))).status == 200
    assert (await app.async_dispatch(ev.bolt_request(other))).status == 200
    await fake.async_wait_for(lambda f: bool(received), timeout=5)
    assert received == ["another integration"]
