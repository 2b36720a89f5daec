"""FakeBotConnector driven by the real Microsoft 365 Agents SDK (send, reply, update, delete, stream,
proactive continue, create), and its model of Teams' rules checked on the wire."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import aiohttp
import pytest
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.core import TurnContext, TurnState

from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import MAX_MESSAGE_BYTES, FakeBotConnector, utf16_size
from tests.fakes.entra_openid import FakeEntra
from tests.fakes_tests.conftest import SdkHost, start_host

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")


async def host_with(entra: FakeEntra, handler: Any) -> SdkHost:
    return await start_host(handler, entra)


@pytest.fixture
async def http(entra: FakeEntra) -> Any:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {entra.access_token()}"}) as session:
        yield session


def activities_url(connector: FakeBotConnector, conversation_id: str, activity_id: str | None = None) -> str:
    url = f"{connector.service_url}v3/conversations/{conversation_id}/activities"
    return f"{url}/{activity_id}" if activity_id else url


def stream_part(
    conversation_id: str,
    text: str,
    sequence: int | None,
    stream_type: str = "streaming",
    stream_id: str | None = None,
    *,
    activity_type: str = "typing",
    kind: str = "personal",
) -> dict[str, Any]:
    info: dict[str, Any] = {"type": "streaminfo", "streamType": stream_type}
    if sequence is not None:
        info["streamSequence"] = sequence
    if stream_id is not None:
        info["streamId"] = stream_id
    return {
        "type": activity_type,
        "text": text,
        "conversation": {"id": conversation_id, "conversationType": kind},
        "entities": [info],
    }


PERSONAL = ta.personal_conversation_id(ta.ALICE)

# -- the SDK against the fake --


async def test_a_reply_lands_in_the_conversation_threaded_under_the_user_message(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    sent: list[str] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        sent.append((await context.send_activity("hello")).id)

    host = await host_with(entra, handler)
    activity = ta.personal_message("hi", service_url=connector.service_url)
    assert (await host.post(activity)).status == 202
    await host.http.close()

    [message] = connector.messages(activity["conversation"]["id"])
    assert message["text"] == "hello"
    assert message["replyToId"] == activity["id"]
    assert message["from"]["id"] == ta.BOT_ID
    assert sent == [message["id"]], "the SDK got the id the connector assigned"
    assert connector.requests[-1].path.endswith(f"/activities/{activity['id']}")


async def test_a_channel_reply_chain_id_survives_the_url_round_trip(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    async def handler(context: TurnContext, state: TurnState) -> None:
        await context.send_activity(f"seen: {context.activity.text}")

    host = await host_with(entra, handler)
    root = ta.channel_message("first question", service_url=connector.service_url)
    reply = ta.channel_message("and in Munich?", service_url=connector.service_url, thread_root=root["id"])
    for activity in (root, reply):
        assert (await host.post(activity)).status == 202
    await host.http.close()

    thread = ta.channel_thread_id(root["id"])
    assert root["conversation"]["id"] == reply["conversation"]["id"] == thread
    assert [m["text"] for m in connector.messages(thread)] == ["seen: first question", "seen: and in Munich?"]
    assert [m["replyToId"] for m in connector.messages(thread)] == [root["id"], reply["id"]]


async def test_updating_and_deleting_the_bot_s_own_message(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    async def handler(context: TurnContext, state: TurnState) -> None:
        first = await context.send_activity("draft answer")
        second = await context.send_activity("to be removed")
        await context.update_activity(Activity(type=ActivityTypes.message, id=first.id, text="final answer"))
        await context.delete_activity(second.id)

    host = await host_with(entra, handler)
    activity = ta.personal_message("hi", service_url=connector.service_url)
    assert (await host.post(activity)).status == 202
    await host.http.close()

    conversation = activity["conversation"]["id"]
    assert [m["text"] for m in connector.messages(conversation)] == ["final answer"]
    assert [u["text"] for u in connector.updates(conversation)] == ["final answer"]
    assert len(connector.deletes(conversation)) == 1
    assert [a["text"] for a in connector.activities(conversation)] == ["draft answer", "to be removed"]


async def test_updating_an_unknown_activity_is_a_404_the_sdk_raises(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    errors: list[int] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        try:
            await context.update_activity(Activity(type=ActivityTypes.message, id="1234", text="x"))
        except aiohttp.ClientResponseError as error:
            errors.append(error.status)

    host = await host_with(entra, handler)
    assert (await host.post(ta.personal_message("hi", service_url=connector.service_url))).status == 202
    await host.http.close()

    assert errors == [404]
    assert connector.rejections()[0].code == "NotFound"


async def test_a_streamed_answer_goes_informative_then_streaming_then_final(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    async def handler(context: TurnContext, state: TurnState) -> None:
        stream = context.streaming_response
        stream.set_feedback_loop(True)
        stream.set_generated_by_ai_label(True)
        stream.queue_informative_update("Searching CVs…")
        await stream.wait_for_queue()
        stream.queue_text_chunk("Anna Schmidt ")
        await stream.wait_for_queue()
        stream.queue_text_chunk("knows Kotlin.")
        await stream.end_stream()

    host = await host_with(entra, handler)
    activity = ta.personal_message("who knows Kotlin?", service_url=connector.service_url)
    assert (await host.post(activity)).status == 202
    await host.http.close()

    [stream] = connector.streams(activity["conversation"]["id"])
    assert stream.types == ["informative", "streaming", "final"]
    assert stream.informative == ["Searching CVs…"]
    assert stream.state == "final"
    [message] = connector.messages(activity["conversation"]["id"])
    assert message["id"] == stream.id
    assert message["text"] == "Anna Schmidt knows Kotlin."
    assert message["channelData"] == {"feedbackLoop": {"type": "default"}}
    assert {"type": "https://schema.org/Message", "additionalType": ["AIGeneratedContent"]}.items() <= next(
        e for e in message["entities"] if e["type"] == "https://schema.org/Message"
    ).items()
    assert connector.rejections() == []


async def test_streaming_outside_a_personal_chat_is_refused_and_the_sdk_raises(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    errors: list[int] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        stream = context.streaming_response
        stream.queue_informative_update("Searching CVs…")
        stream.queue_text_chunk("Anna")
        try:
            await stream.end_stream()
        except aiohttp.ClientResponseError as error:
            errors.append(error.status)

    host = await host_with(entra, handler)
    for activity in (
        ta.channel_message("who?", service_url=connector.service_url),
        ta.group_chat_message("who?", service_url=connector.service_url),
    ):
        assert (await host.post(activity)).status == 202
    await host.http.close()

    assert errors == [405, 405]
    assert connector.messages() == []
    assert {r.status for r in connector.rejections()} == {405}


async def test_a_typing_indicator_is_recorded_while_a_slow_turn_runs(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    async def handler(context: TurnContext, state: TurnState) -> None:
        # The SDK starts typing after 0.5 s; this turn lasts until the fake has seen it.
        await connector.async_wait_for(lambda c: bool(c.typing()))
        await context.send_activity("done")

    host = await host_with(entra, handler)
    activity = ta.channel_message("who?", service_url=connector.service_url)
    assert (await host.post(activity)).status == 202
    await host.http.close()

    [typing] = connector.typing(activity["conversation"]["id"])
    assert typing["type"] == "typing"
    assert [m["text"] for m in connector.messages()] == ["done"]


async def test_a_proactive_turn_from_a_stored_json_reference_answers_in_the_same_thread(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    stored: list[str] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        stored.append(
            context.activity.get_conversation_reference().model_dump_json(by_alias=True, exclude_none=True)
        )

    host = await host_with(entra, handler)
    activity = ta.channel_message("who?", service_url=connector.service_url)
    assert (await host.post(activity)).status == 202
    assert connector.messages() == []

    reference = ConversationReference.model_validate_json(stored[0])
    continuation = reference.get_continuation_activity()
    continuation.id = reference.activity_id  # so replies thread under the user's message, not a random id

    async def later(context: TurnContext) -> None:
        await context.send_activity("here is the answer")

    await host.adapter.continue_conversation(entra.app_id, continuation, later)
    await host.http.close()

    thread = activity["conversation"]["id"]
    [message] = connector.messages(thread)
    assert (message["text"], message["replyToId"]) == ("here is the answer", activity["id"])


async def test_a_proactive_turn_can_stream_in_a_personal_chat(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    activity = ta.personal_message("who?", service_url=connector.service_url)
    reference = Activity.model_validate(activity).get_conversation_reference()
    host = await host_with(entra, None)

    async def later(context: TurnContext) -> None:
        stream = context.streaming_response
        stream.queue_informative_update("Checking availability…")
        await stream.wait_for_queue()
        stream.queue_text_chunk("Anna is free.")
        await stream.end_stream()

    await host.adapter.continue_conversation(entra.app_id, reference.get_continuation_activity(), later)
    await host.http.close()

    [stream] = connector.streams(activity["conversation"]["id"])
    assert stream.types == ["informative", "final"]
    assert connector.messages()[0]["text"] == "Anna is free."


async def test_creating_a_conversation_posts_a_new_channel_thread(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    host = await host_with(entra, None)
    created: list[str] = []

    async def started(context: TurnContext) -> None:
        created.append(context.activity.conversation.id)

    parameters = ConversationParameters(
        is_group=True,
        agent=ChannelAccount(id=ta.BOT_ID, name=ta.BOT_NAME),
        tenant_id=entra.tenant_id,
        channel_data={"channel": {"id": ta.CHANNEL_ID}, "tenant": {"id": entra.tenant_id}},
        activity=Activity(type=ActivityTypes.message, text="Weekly availability digest"),
    )
    await host.adapter.create_conversation(
        entra.app_id, "msteams", connector.service_url, "https://api.botframework.com", parameters, started
    )
    await host.http.close()

    [conversation] = created
    assert conversation.startswith(f"{ta.CHANNEL_ID};messageid=")
    assert [m["text"] for m in connector.messages(conversation)] == ["Weekly availability digest"]
    assert connector.created()[0].conversation_id == conversation


# -- faults --


async def test_a_throttled_send_raises_429_with_retry_after_and_the_next_one_succeeds(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    outcomes: list[Any] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        for _ in range(2):
            try:
                outcomes.append((await context.send_activity("answer")).id is not None)
            except aiohttp.ClientResponseError as error:
                outcomes.append((error.status, error.headers and error.headers.get("Retry-After")))

    host = await host_with(entra, handler)
    connector.throttle_next(retry_after=3)
    assert (await host.post(ta.personal_message("hi", service_url=connector.service_url))).status == 202
    await host.http.close()

    assert outcomes == [(429, "3"), True]
    assert json.loads(connector.requests[0].body)["text"] == "answer", "the throttled request was recorded"


async def test_a_server_error_reaches_the_sdk_as_a_client_response_error(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    statuses: list[int] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        try:
            await context.send_activity("answer")
        except aiohttp.ClientResponseError as error:
            statuses.append(error.status)

    host = await host_with(entra, handler)
    connector.fail_next(502)
    assert (await host.post(ta.personal_message("hi", service_url=connector.service_url))).status == 202
    await host.http.close()

    assert statuses == [502]
    assert connector.messages() == []


async def test_a_hanging_connector_holds_the_send_until_released(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    timed_out: list[bool] = []

    async def handler(context: TurnContext, state: TurnState) -> None:
        try:
            await asyncio.wait_for(context.send_activity("answer"), timeout=0.3)
        except TimeoutError:
            timed_out.append(True)

    host = await host_with(entra, handler)
    connector.hang_next(30, match="/activities")
    assert (await host.post(ta.personal_message("hi", service_url=connector.service_url))).status == 202
    await host.http.close()
    connector.release()
    await connector.async_wait_for(lambda c: bool(c.messages()))

    assert timed_out == [True]
    assert [m["text"] for m in connector.messages()] == ["answer"], (
        "the stalled request completes when released"
    )


# -- Teams' rules, on the wire --


async def test_requests_without_a_token_from_the_token_endpoint_are_denied(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    body = {"type": "message", "text": "hi"}
    async with aiohttp.ClientSession() as session:
        anonymous = await session.post(activities_url(connector, PERSONAL), json=body)
        channel_token = await session.post(
            activities_url(connector, PERSONAL),
            json=body,
            headers={"Authorization": f"Bearer {entra.channel_token(connector.service_url)}"},
        )
        assert (anonymous.status, channel_token.status) == (401, 401)
        assert await anonymous.json() == {"message": "Authorization has been denied for this request."}
    assert connector.messages() == []


async def test_stream_protocol_violations_are_refused_as_teams_refuses_them(
    http: aiohttp.ClientSession, connector: FakeBotConnector
) -> None:
    url = activities_url(connector, PERSONAL)

    async def post(part: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await http.post(url, json=part)
        return response.status, await response.json()

    assert (await post(stream_part(PERSONAL, "a", 2)))[0] == 400, "the first part must be sequence 1"
    assert (await post(stream_part(PERSONAL, "", 1, "informative")))[0] == 400, "parts need text"
    status, started = await post(stream_part(PERSONAL, "Searching…", 1, "informative"))
    assert status == 201
    stream_id = started["id"]
    assert (await post(stream_part(PERSONAL, "Anna", 2, stream_id=stream_id)))[0] == 202
    stale = await post(stream_part(PERSONAL, "Anna k", 2, stream_id=stream_id))
    assert stale == (
        202,
        {
            "error": {
                "code": "ContentStreamSequenceOrderPreConditionFailed",
                "message": "PreCondition failed exception when processing streaming activity.",
            }
        },
    )
    rewrite = await post(stream_part(PERSONAL, "Bob", 3, stream_id=stream_id))
    assert rewrite[0] == 403, "streamed text must extend what was streamed"
    assert (await post(stream_part(PERSONAL, "x", 4, stream_id="unknown")))[0] == 400
    with_sequence = stream_part(
        PERSONAL, "Anna knows Kotlin.", 4, "final", stream_id, activity_type="message"
    )
    assert (await post(with_sequence))[0] == 400, "the final part has no sequence"
    final = stream_part(PERSONAL, "Anna knows Kotlin.", None, "final", stream_id, activity_type="message")
    assert (await post(final)) == (202, {})
    after = await post(stream_part(PERSONAL, "Anna knows Kotlin. More", 5, stream_id=stream_id))
    assert after == (
        403,
        {
            "error": {
                "code": "ContentStreamNotAllowed",
                "message": "Content stream is not allowed on an already completed streamed message",
            }
        },
    )

    [stream] = connector.streams()
    assert stream.types == ["informative", "streaming", "final"]
    assert [m["text"] for m in connector.messages(PERSONAL)] == ["Anna knows Kotlin."]


async def test_an_expired_stream_refuses_further_parts(
    http: aiohttp.ClientSession, connector: FakeBotConnector
) -> None:
    url = activities_url(connector, PERSONAL)
    stream_id = (
        await (await http.post(url, json=stream_part(PERSONAL, "Searching…", 1, "informative"))).json()
    )["id"]
    connector.expire_stream(stream_id)

    response = await http.post(url, json=stream_part(PERSONAL, "Anna", 2, stream_id=stream_id))

    assert response.status == 403
    assert (await response.json())["error"][
        "message"
    ] == "Content stream finished due to exceeded streaming time."


async def test_parts_faster_than_the_stream_interval_are_throttled(entra: FakeEntra) -> None:
    with FakeBotConnector(entra, stream_min_interval=60) as connector:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {entra.access_token()}"}) as http:
            url = activities_url(connector, PERSONAL)
            started = await (
                await http.post(url, json=stream_part(PERSONAL, "Searching…", 1, "informative"))
            ).json()
            burst = await http.post(url, json=stream_part(PERSONAL, "Anna", 2, stream_id=started["id"]))

            assert burst.status == 403
            assert (await burst.json())["error"]["code"] == "ContentStreamNotAllowed"


async def test_oversized_messages_and_entity_mistakes_are_refused(
    http: aiohttp.ClientSession, connector: FakeBotConnector
) -> None:
    url = activities_url(connector, PERSONAL)
    ai = {"type": "https://schema.org/Message", "@type": "Message", "@context": "https://schema.org"}
    # "ä" is 2 bytes in UTF-8 and in UTF-16: the limit is measured in UTF-16, as Teams does.
    big = {"type": "message", "text": "ä" * (MAX_MESSAGE_BYTES // 2)}
    assert utf16_size(big) > MAX_MESSAGE_BYTES
    fits = {"type": "message", "text": "ä" * (MAX_MESSAGE_BYTES // 2 - 100)}
    assert utf16_size(fits) <= MAX_MESSAGE_BYTES
    citations = [{"@type": "Claim", "position": i, "appearance": {"name": f"CV {i}"}} for i in range(1, 12)]

    too_big = await http.post(url, json=big)
    assert (too_big.status, (await too_big.json())["error"]["code"]) == (413, "MessageSizeTooBig")
    assert (await http.post(url, json=fits)).status == 201
    two_roots = await http.post(url, json={"type": "message", "text": "x", "entities": [ai, ai]})
    assert two_roots.status == 400
    eleven = await http.post(
        url, json={"type": "message", "text": "x", "entities": [{**ai, "citation": citations}]}
    )
    assert eleven.status == 400
    stream_big = stream_part(PERSONAL, "ä" * (MAX_MESSAGE_BYTES // 2), 1)
    assert (await http.post(url, json=stream_big)).status == 403

    assert [len(m["text"]) for m in connector.messages(PERSONAL)] == [len(fits["text"])]


# -- waiting --


def test_wait_for_returns_once_another_thread_changed_the_fake(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    import requests

    def post_later() -> None:
        requests.post(
            activities_url(connector, PERSONAL),
            json={"type": "message", "text": "from a thread"},
            headers={"Authorization": f"Bearer {entra.access_token()}"},
            timeout=5,
        )

    thread = threading.Thread(target=post_later)
    thread.start()
    connector.wait_for(lambda c: bool(c.messages(PERSONAL)), timeout=5)
    thread.join()

    assert connector.messages(PERSONAL)[0]["text"] == "from a thread"
    with pytest.raises(TimeoutError):
        connector.wait_for(lambda c: len(c.messages()) > 1, timeout=0.05)
