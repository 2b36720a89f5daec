"""Activities as Microsoft Teams (through the Bot Connector) POSTs them to a bot's `/api/messages`.

Every builder returns the JSON body Teams sends, shaped after captured Teams traffic: `channelId`
`msteams`, `serviceUrl` (pass the fake connector's), `from`/`recipient` with `29:`/`28:` ids, the tenant in
both `conversation.tenantId` and `channelData.tenant.id`, a `clientInfo` entity, millisecond-epoch message
ids. Post it with a token from the fake identity service:

    activity = personal_message("who knows Kotlin?", service_url=connector.service_url)
    await http.post("/api/messages", json=activity, headers=entra.headers_for(activity))

Conversations (ids as Teams writes them):
- personal: `a:1...` (one per user and bot), `conversationType: "personal"`, no `isGroup`;
- channel: `19:...@thread.tacv2;messageid=<root>` - every reply chain is its own conversation; a new post's
  id names itself as the root, a reply carries `replyToId: <root>`; `channelData` has team and channel;
- group chat: `19:...@thread.v2`, `isGroup: true`, `conversationType: "groupChat"`.
In channels and group chats the bot only gets messages that @mention it: the text holds `<at>Name</at>`
and a `mention` entity names the bot (`mention=False` builds the rare unmentioned case, e.g. RSC).

Also: `members_added` (bot installed), `message_reaction`, `message_update` (user edited),
`message_delete`, `feedback_invoke` (`message/submitAction`, the built-in thumbs up/down), `typing`,
`bot_message` (another bot's post), and any builder with `tenant_id=OTHER_TENANT_ID`.
Ids come from one process-wide counter (`new_message_id()`), shared with the fake connector, so the
order of ids is the order things happened.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from tests.fakes.entra_openid import APP_ID, TENANT_ID

Activity = dict[str, Any]
ConversationKind = Literal["personal", "channel", "groupChat"]

OTHER_TENANT_ID = "9c0e7d15-3b2a-4f68-8e41-d7a6c5b4f321"
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "SkillMatch"

TEAM_ID = "19:Xk3vYb7Qm2nP4rT8sW1uZ5aC9dE6fG0h@thread.tacv2"  # the team's General channel id
TEAM_AAD_GROUP_ID = "6a1f0c2e-9b7d-4e35-a8c4-2d1e0f9b8a76"
TEAM_NAME = "Staffing"
CHANNEL_ID = "19:3d2c1b0a9f8e7d6c5b4a39281706f5e4@thread.tacv2"
CHANNEL_NAME = "Project requests"
GROUP_CHAT_ID = "19:b1a2c3d4e5f60718293a4b5c6d7e8f90@thread.v2"


@dataclass(frozen=True)
class TeamsUser:
    id: str  # `29:` + an opaque per-bot id
    name: str
    aad_object_id: str

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


ALICE = TeamsUser(
    "29:1Lg0WbHq8t4nQeYvJm2kR7sXcA5pZ9dF3uN6oB1iT0wE4yK8vM2hG7jS5aD9fL3qP6rU0xC",
    "Alice Example",
    "0f7c4a9e-2b1d-4e68-9a35-c8d7e6f5a4b3",
)
BOB = TeamsUser(
    "29:1Qx7Vn2Mb5Kc8Jd1Hf4Gs7La0Pw3Oe6Iu9Yt2Rr5Ee8Ww1Qq4Aa7Ss0Dd3Ff6Gg9Hh2Jj5K",
    "Bob Beispiel",
    "5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
)
OTHER_BOT = TeamsUser("28:2c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f", "Build Notifier", "")

# -- ids --

_lock = threading.Lock()
_ids = itertools.count(int(time.time() * 1000))


def new_message_id() -> str:
    """The next message id (epoch milliseconds as Teams uses them, strictly increasing in the process)."""
    with _lock:
        return str(next(_ids))


def new_event_id() -> str:
    """An id for non-message activities (`f:` + digits, as Teams sends for events and invokes)."""
    return f"f:{uuid.uuid4().int % 10**19:019d}"


def personal_conversation_id(user: TeamsUser) -> str:
    """The 1:1 conversation between `user` and the bot (stable per user)."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, f"{user.id}|{APP_ID}").hex
    return f"a:1{digest}{digest[::-1]}{digest[:20]}"


def channel_thread_id(root_message_id: str, channel_id: str = CHANNEL_ID) -> str:
    """The conversation id of the reply chain under `root_message_id` in `channel_id`."""
    return f"{channel_id};messageid={root_message_id}"


# -- pieces --


def _now() -> tuple[str, str]:
    moment = datetime.now(UTC)
    local = moment.astimezone(timezone(timedelta(hours=1)))
    return (
        moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        local.isoformat(timespec="milliseconds"),
    )


def client_info(locale: str = "en-US") -> dict[str, Any]:
    return {
        "locale": locale,
        "country": locale.split("-")[-1],
        "platform": "Web",
        "timezone": "Europe/Berlin",
        "type": "clientInfo",
    }


def mention_entity(account_id: str = BOT_ID, name: str = BOT_NAME) -> dict[str, Any]:
    return {"mentioned": {"id": account_id, "name": name}, "text": f"<at>{name}</at>", "type": "mention"}


def _conversation(kind: ConversationKind, conversation_id: str, tenant_id: str) -> dict[str, Any]:
    conversation: dict[str, Any] = {"conversationType": kind, "tenantId": tenant_id, "id": conversation_id}
    if kind != "personal":
        conversation["isGroup"] = True
    return conversation


def _channel_data(kind: ConversationKind, tenant_id: str, channel_id: str, team_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {"tenant": {"id": tenant_id}}
    if kind == "channel":
        data.update(
            teamsChannelId=channel_id,
            teamsTeamId=team_id,
            channel={"id": channel_id},
            team={"id": team_id},
        )
    return data


def _base(
    activity_type: str,
    *,
    service_url: str,
    kind: ConversationKind,
    conversation_id: str,
    sender: TeamsUser,
    tenant_id: str,
    activity_id: str,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    locale: str = "en-US",
) -> Activity:
    timestamp, local = _now()
    return {
        "type": activity_type,
        "id": activity_id,
        "timestamp": timestamp,
        "localTimestamp": local,
        "localTimezone": "Europe/Berlin",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender.account(),
        "conversation": _conversation(kind, conversation_id, tenant_id),
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "entities": [client_info(locale)],
        "channelData": _channel_data(kind, tenant_id, channel_id, team_id),
        "locale": locale,
    }


def _html(text: str, mentioned: bool) -> dict[str, Any]:
    """The `text/html` attachment Teams adds to channel and chat messages (the rich version of `text`)."""
    body = text.replace(
        f"<at>{BOT_NAME}</at>",
        f'<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">{BOT_NAME}</span>',
    )
    return {"contentType": "text/html", "content": f"<p>{body}</p>" if mentioned else f"<p>{text}</p>"}


# -- messages --


def personal_message(
    text: str,
    *,
    service_url: str,
    user: TeamsUser = ALICE,
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
    activity_id: str | None = None,
    locale: str = "en-US",
) -> Activity:
    """A message in the user's 1:1 chat with the bot (no mention needed, no `channelData.team`)."""
    activity = _base(
        "message",
        service_url=service_url,
        kind="personal",
        conversation_id=conversation_id or personal_conversation_id(user),
        sender=user,
        tenant_id=tenant_id,
        activity_id=activity_id or new_message_id(),
        locale=locale,
    )
    activity.update(text=text, textFormat="plain", attachments=[])
    return activity


def channel_message(
    text: str,
    *,
    service_url: str,
    thread_root: str | None = None,
    mention: bool = True,
    user: TeamsUser = ALICE,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    tenant_id: str = TENANT_ID,
    activity_id: str | None = None,
) -> Activity:
    """A channel post (`thread_root=None`: a new post, its own root) or a reply in the chain under
    `thread_root`. With `mention`, the text starts with `<at>SkillMatch</at>` as Teams writes it."""
    activity_id = activity_id or new_message_id()
    root = thread_root or activity_id
    activity = _base(
        "message",
        service_url=service_url,
        kind="channel",
        conversation_id=channel_thread_id(root, channel_id),
        sender=user,
        tenant_id=tenant_id,
        activity_id=activity_id,
        channel_id=channel_id,
        team_id=team_id,
    )
    _message_text(activity, text, mention)
    if thread_root is not None:
        activity["replyToId"] = thread_root
    return activity


def group_chat_message(
    text: str,
    *,
    service_url: str,
    mention: bool = True,
    user: TeamsUser = ALICE,
    chat_id: str = GROUP_CHAT_ID,
    tenant_id: str = TENANT_ID,
    activity_id: str | None = None,
) -> Activity:
    """A message in a group chat the bot was added to; one conversation for the whole chat."""
    activity = _base(
        "message",
        service_url=service_url,
        kind="groupChat",
        conversation_id=chat_id,
        sender=user,
        tenant_id=tenant_id,
        activity_id=activity_id or new_message_id(),
    )
    _message_text(activity, text, mention)
    return activity


def _message_text(activity: Activity, text: str, mention: bool) -> None:
    full = f"<at>{BOT_NAME}</at> {text}" if mention else text
    activity.update(text=full, textFormat="plain", attachments=[_html(full, mention)])
    if mention:
        activity["entities"].insert(0, mention_entity())


def bot_message(
    text: str,
    *,
    service_url: str,
    kind: ConversationKind = "channel",
    bot: TeamsUser = OTHER_BOT,
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
    mention: bool = True,
) -> Activity:
    """A message posted by another bot (`from.id` starts with `28:`), e.g. a notifier that @mentions us."""
    activity_id = new_message_id()
    conversation_id = (
        conversation_id
        or {
            "channel": channel_thread_id(activity_id),
            "groupChat": GROUP_CHAT_ID,
            "personal": personal_conversation_id(bot),
        }[kind]
    )
    activity = _base(
        "message",
        service_url=service_url,
        kind=kind,
        conversation_id=conversation_id,
        sender=bot,
        tenant_id=tenant_id,
        activity_id=activity_id,
    )
    activity["from"] = {"id": bot.id, "name": bot.name}
    _message_text(activity, text, mention and kind != "personal")
    return activity


# -- events --


def members_added(
    *,
    service_url: str,
    kind: ConversationKind = "personal",
    members: list[str] | None = None,
    user: TeamsUser = ALICE,
    tenant_id: str = TENANT_ID,
    conversation_id: str | None = None,
) -> Activity:
    """`conversationUpdate` with `membersAdded` - by default the bot itself was added (installed) to a
    personal chat, a team (`kind="channel"`, in the General channel) or a group chat."""
    conversation_id = (
        conversation_id
        or {
            "personal": personal_conversation_id(user),
            "channel": TEAM_ID,
            "groupChat": GROUP_CHAT_ID,
        }[kind]
    )
    activity = _base(
        "conversationUpdate",
        service_url=service_url,
        kind=kind,
        conversation_id=conversation_id,
        sender=user,
        tenant_id=tenant_id,
        activity_id=new_event_id(),
        channel_id=TEAM_ID,
    )
    activity["membersAdded"] = [{"id": member} for member in (members or [BOT_ID])]
    activity.pop("entities")
    activity.pop("locale")
    if kind == "channel":
        activity["channelData"].update(
            eventType="teamMemberAdded",
            team={"id": TEAM_ID, "name": TEAM_NAME, "aadGroupId": TEAM_AAD_GROUP_ID},
            settings={"selectedChannel": {"id": TEAM_ID}},
        )
    return activity


def message_reaction(
    reply_to_id: str,
    reaction: str = "like",
    *,
    service_url: str,
    added: bool = True,
    kind: ConversationKind = "personal",
    conversation_id: str | None = None,
    user: TeamsUser = ALICE,
    tenant_id: str = TENANT_ID,
) -> Activity:
    """A user added (or removed) a reaction (`like`, `heart`, `laugh`, ...) on message `reply_to_id`."""
    activity = _event(
        "messageReaction", service_url, kind, conversation_id, user, tenant_id, reply_to_id=reply_to_id
    )
    activity["reactionsAdded" if added else "reactionsRemoved"] = [{"type": reaction}]
    activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
    return activity


def message_update(
    activity_id: str,
    new_text: str,
    *,
    service_url: str,
    kind: ConversationKind = "personal",
    conversation_id: str | None = None,
    user: TeamsUser = ALICE,
    tenant_id: str = TENANT_ID,
) -> Activity:
    """The user edited their message `activity_id` (`messageUpdate`, `channelData.eventType: editMessage`)."""
    activity = _event("messageUpdate", service_url, kind, conversation_id, user, tenant_id)
    activity.update(id=activity_id, text=new_text, textFormat="plain")
    activity["channelData"]["eventType"] = "editMessage"
    return activity


def message_delete(
    activity_id: str,
    *,
    service_url: str,
    kind: ConversationKind = "personal",
    conversation_id: str | None = None,
    user: TeamsUser = ALICE,
    tenant_id: str = TENANT_ID,
) -> Activity:
    """The user deleted their message `activity_id` (`messageDelete`, `eventType: softDeleteMessage`)."""
    activity = _event("messageDelete", service_url, kind, conversation_id, user, tenant_id)
    activity["id"] = activity_id
    activity["channelData"]["eventType"] = "softDeleteMessage"
    return activity


def typing(
    *,
    service_url: str,
    user: TeamsUser = ALICE,
    conversation_id: str | None = None,
    tenant_id: str = TENANT_ID,
) -> Activity:
    """The user is typing in their 1:1 chat."""
    return _event("typing", service_url, "personal", conversation_id, user, tenant_id)


def feedback_invoke(
    reply_to_id: str,
    reaction: Literal["like", "dislike"] = "like",
    comment: str | None = None,
    *,
    service_url: str,
    kind: ConversationKind = "personal",
    conversation_id: str | None = None,
    user: TeamsUser = ALICE,
    tenant_id: str = TENANT_ID,
) -> Activity:
    """The user clicked 👍/👎 of Teams' built-in feedback loop on the bot's message `reply_to_id` and
    submitted the form. The default form sends the comment as a JSON string `{"feedbackText": ...}`.
    Teams expects HTTP 200 with an empty body back (anything else shows an error to the user)."""
    activity = _event("invoke", service_url, kind, conversation_id, user, tenant_id, reply_to_id=reply_to_id)
    activity["name"] = "message/submitAction"
    activity["channelData"].update(source={"name": "message"}, legacy={"replyToId": reply_to_id})
    activity["value"] = {
        "actionName": "feedback",
        "actionValue": {"reaction": reaction, "feedback": json.dumps({"feedbackText": comment or ""})},
    }
    return activity


def _event(
    activity_type: str,
    service_url: str,
    kind: ConversationKind,
    conversation_id: str | None,
    user: TeamsUser,
    tenant_id: str,
    *,
    reply_to_id: str | None = None,
) -> Activity:
    conversation_id = (
        conversation_id
        or {
            "personal": personal_conversation_id(user),
            "channel": channel_thread_id(reply_to_id or new_message_id()),
            "groupChat": GROUP_CHAT_ID,
        }[kind]
    )
    activity = _base(
        activity_type,
        service_url=service_url,
        kind=kind,
        conversation_id=conversation_id,
        sender=user,
        tenant_id=tenant_id,
        activity_id=new_event_id(),
    )
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity
