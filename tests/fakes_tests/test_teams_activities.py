"""The Teams activity builders: shaped as Teams sends them, read by the SDK's own model as Teams' would
be, and accepted (or deliberately routed) by the real `/api/messages` endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext, TurnState

from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import TENANT_ID, FakeEntra
from tests.fakes_tests.conftest import start_host

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")

URL = "http://127.0.0.1:9/amer/"


def every_builder() -> dict[str, dict[str, Any]]:
    return {
        "personal": ta.personal_message("hi", service_url=URL),
        "channel post": ta.channel_message("hi", service_url=URL),
        "channel reply": ta.channel_message("hi", service_url=URL, thread_root="1700000000000"),
        "group chat": ta.group_chat_message("hi", service_url=URL),
        "bot message": ta.bot_message("build failed", service_url=URL),
        "members added": ta.members_added(service_url=URL),
        "team install": ta.members_added(service_url=URL, kind="channel"),
        "reaction": ta.message_reaction("1700000000000", service_url=URL),
        "edit": ta.message_update("1700000000000", "new text", service_url=URL),
        "delete": ta.message_delete("1700000000000", service_url=URL),
        "typing": ta.typing(service_url=URL),
        "feedback": ta.feedback_invoke("1700000000000", "dislike", "too slow", service_url=URL),
        "other tenant": ta.personal_message("hi", service_url=URL, tenant_id=ta.OTHER_TENANT_ID),
    }


@pytest.mark.parametrize("name", list(every_builder()))
def test_every_activity_carries_what_teams_always_sends(name: str) -> None:
    activity = every_builder()[name]

    parsed = Activity.model_validate(activity)
    assert parsed.channel_id == "msteams"
    assert parsed.service_url == URL
    assert parsed.recipient.id == ta.BOT_ID
    assert activity["conversation"]["tenantId"] == activity["channelData"]["tenant"]["id"]
    expected_tenant = ta.OTHER_TENANT_ID if name == "other tenant" else TENANT_ID
    assert activity["channelData"]["tenant"]["id"] == expected_tenant
    assert activity["id"]
    json.dumps(activity)  # plain JSON, as posted


def test_conversation_ids_and_kinds_follow_teams() -> None:
    personal = ta.personal_message("hi", service_url=URL)
    post = ta.channel_message("hi", service_url=URL)
    reply = ta.channel_message("hi", service_url=URL, thread_root=post["id"])
    chat = ta.group_chat_message("hi", service_url=URL)

    assert personal["conversation"]["id"].startswith("a:")
    assert "isGroup" not in personal["conversation"]
    assert "team" not in personal["channelData"]
    assert post["conversation"]["id"] == f"{ta.CHANNEL_ID};messageid={post['id']}"
    assert reply["conversation"]["id"] == post["conversation"]["id"]
    assert reply["replyToId"] == post["id"] and "replyToId" not in post
    assert post["channelData"]["channel"] == {"id": ta.CHANNEL_ID}
    assert post["channelData"]["team"] == {"id": ta.TEAM_ID}
    assert (chat["conversation"]["conversationType"], chat["conversation"]["isGroup"]) == ("groupChat", True)
    assert chat["conversation"]["id"].endswith("@thread.v2")
    assert ta.personal_conversation_id(ta.ALICE) != ta.personal_conversation_id(ta.BOB)


def test_mentions_are_written_as_teams_writes_them_and_the_sdk_strips_them() -> None:
    mentioned = ta.channel_message("who knows Kotlin?", service_url=URL)
    plain = ta.channel_message("who knows Kotlin?", service_url=URL, mention=False)

    assert mentioned["text"] == "<at>SkillMatch</at> who knows Kotlin?"
    assert mentioned["entities"][0] == {
        "mentioned": {"id": ta.BOT_ID, "name": "SkillMatch"},
        "text": "<at>SkillMatch</at>",
        "type": "mention",
    }
    assert "schema.skype.com/Mention" in mentioned["attachments"][0]["content"]
    assert Activity.model_validate(mentioned).remove_recipient_mention() == "who knows Kotlin?"
    assert Activity.model_validate(mentioned).is_recipient_mentioned()
    assert not Activity.model_validate(plain).is_recipient_mentioned()


def test_a_bot_sender_is_recognisable_by_its_28_id() -> None:
    message = ta.bot_message("build failed", service_url=URL)
    assert message["from"]["id"].startswith("28:")
    assert message["from"]["id"] != ta.BOT_ID


def test_the_feedback_invoke_carries_reaction_and_comment_as_teams_sends_them() -> None:
    invoke = ta.feedback_invoke("1700000000000", "dislike", "too slow", service_url=URL)

    assert (invoke["type"], invoke["name"], invoke["replyToId"]) == (
        "invoke",
        "message/submitAction",
        "1700000000000",
    )
    assert invoke["value"]["actionName"] == "feedback"
    assert invoke["value"]["actionValue"]["reaction"] == "dislike"
    assert json.loads(invoke["value"]["actionValue"]["feedback"]) == {"feedbackText": "too slow"}


def test_message_ids_increase_in_creation_order() -> None:
    ids = [int(ta.new_message_id()) for _ in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50


async def test_the_real_endpoint_routes_each_activity_type(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    routed: list[tuple[str, str | None]] = []

    async def note(context: TurnContext, state: TurnState) -> None:
        routed.append((context.activity.type, context.activity.text))

    def register(agent: Any) -> None:
        agent.conversation_update("membersAdded")(note)
        agent.activity("messageReaction")(note)
        agent.activity("messageUpdate")(note)

        @agent.invoke("message/submitAction")
        async def feedback(context: TurnContext, state: TurnState) -> None:
            routed.append((context.activity.type, context.activity.value["actionValue"]["reaction"]))
            await context.send_activity(Activity(type="invokeResponse", value={"status": 200}))

    host = await start_host(note, entra, register=register)
    service_url = connector.service_url
    statuses = [
        (await host.post(activity)).status
        for activity in (
            ta.channel_message("who knows Kotlin?", service_url=service_url),
            ta.members_added(service_url=service_url),
            ta.message_reaction("1700000000000", service_url=service_url),
            ta.message_update("1700000000000", "edited", service_url=service_url),
            ta.feedback_invoke("1700000000000", "like", service_url=service_url),
        )
    ]
    await host.http.close()

    assert statuses == [202, 202, 202, 202, 200]
    assert routed == [
        ("message", "who knows Kotlin?"),  # mention stripped by the SDK
        ("conversationUpdate", None),
        ("messageReaction", None),
        ("messageUpdate", "edited"),
        ("invoke", "like"),
    ]
