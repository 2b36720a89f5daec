"""Requests as Slack sends them to an app (Events API, slash commands, interactivity), signed like Slack.

Every builder returns the exact body Slack would POST, so a test can dispatch it through the real Bolt
stack with real signature verification:

    body, event_id = app_mention("who knows Kotlin?")
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=sign(body, SECRET)))
    # or: await app.async_dispatch(bolt_request(body, SECRET))

Redelivery: `app_mention(..., event_id=first.event_id)` and `sign(body, SECRET, retry_num=1)`.

The identities (team, app, bot) are the ones `FakeSlack` answers `auth.test` with, so Bolt recognises its
own bot in these payloads. All message timestamps, here and in `FakeSlack`, come from `ts()`, one counter
per process, so a user's message and the bot's reply order as they happened.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from typing import Any, NamedTuple
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0SKILLMT"
TEAM_DOMAIN = "skillmatch"
TEAM_NAME = "SkillMatch"
API_APP_ID = "A0SKILLMT"
BOT_USER_ID = "U0SKILLBOT"
BOT_ID = "B0SKILLBOT"
BOT_NAME = "skillmatch"
BOT_TOKEN = "xoxb-1000000001-2000000002-fakeSkillMatchBotToken"
VERIFICATION_TOKEN = "fakeVerificationToken0001"  # the deprecated `token` Slack still puts in payloads
SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
USER_ID = "U0ALICE001"
USER_NAME = "alice"
CHANNEL_ID = "C0STAFFING"
CHANNEL_NAME = "staffing"
DM_CHANNEL_ID = "D0ALICEDM1"
COMMAND = "/skillmatch"

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


# -- ids and timestamps --

_lock = threading.Lock()
_ts_micros = itertools.count(1_700_000_000_000_100, 100)  # "1700000000.000100", "1700000000.000200", ...
_serials = itertools.count(1)


def ts() -> str:
    """The next Slack message timestamp ("1700000000.000100", then .000200, ...), unique in the process."""
    with _lock:
        micros = next(_ts_micros)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


_next_ts = ts  # for builders whose `ts` parameter shadows the function


def _serial() -> int:
    with _lock:
        return next(_serials)


def _base36(number: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out.rjust(width, "0")


def new_event_id() -> str:
    return "Ev" + _base36(_serial(), 9)  # like "Ev08MFMKH6J"


def new_trigger_id() -> str:
    serial = _serial()
    return f"{serial}.{1000000001}.{serial:032x}"  # like "13345224609.738474920.8088930838d88f008e0"


# -- signing --


def sign(
    body: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """The headers Slack sends with `body`: `X-Slack-Request-Timestamp` (now unless given),
    `X-Slack-Signature` (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`), `Content-Type` (JSON when the body
    looks like JSON, else form) and, for a redelivery, `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip().startswith("{") else FORM_CONTENT_TYPE
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def bolt_request(body: str, secret: str = SIGNING_SECRET, **sign_options: Any) -> Any:
    """An `AsyncBoltRequest` for `body`, signed with `secret` (options as for `sign`)."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    return AsyncBoltRequest(body=body, headers=sign(body, secret, **sign_options))


# -- Events API --


class EventBody(NamedTuple):
    """A JSON body of an `event_callback` and its `event_id` (pass it back in to simulate a redelivery)."""

    body: str
    event_id: str

    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def rich_text_blocks(text: str, block_id: str | None = None) -> list[dict[str, Any]]:
    """The `rich_text` block Slack attaches to a user's message, with `<@U...>` mentions as user elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = block_id or _base36(_serial(), 5).lower()
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def event_callback(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> EventBody:
    """Wrap `event` in the envelope Slack POSTs to the Request URL."""
    event_id = event_id or new_event_id()
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJ{_base36(_serial(), 12)}",
    }
    return EventBody(json.dumps(envelope), event_id)


def _user_message(
    text: str, channel: str, user: str, ts_: str | None, thread_ts: str | None, channel_type: str
) -> dict[str, Any]:
    message_ts = ts_ or _next_ts()
    event: dict[str, Any] = {
        "user": user,
        "type": "message",
        "ts": message_ts,
        "client_msg_id": f"{_serial():08x}-0000-4000-8000-{_serial():012x}",
        "text": text,
        "team": TEAM_ID,
        "blocks": rich_text_blocks(text),
        "channel": channel,
        "event_ts": message_ts,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER_ID if channel_type == "im" else user
    return event


def app_mention(
    text: str,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """`app_mention`; `<@BOT_USER_ID> ` is put in front of `text` unless it already mentions the bot."""
    if f"<@{BOT_USER_ID}" not in text:
        text = f"<@{BOT_USER_ID}> {text}"
    event = _user_message(text, channel, user, ts, thread_ts, "channel")
    event["type"] = "app_mention"
    del event["channel_type"]  # app_mention events carry no channel_type
    event.pop("parent_user_id", None)
    return event_callback(event, event_id=event_id)


def message_im(
    text: str,
    channel: str = DM_CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "im",
    *,
    event_id: str | None = None,
) -> EventBody:
    """`message` in the app's DM (`message.im`); with `thread_ts` it is an assistant-thread message."""
    return event_callback(_user_message(text, channel, user, ts, thread_ts, channel_type), event_id=event_id)


def message_channel(
    text: str,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    *,
    event_id: str | None = None,
) -> EventBody:
    """`message` in a channel (`message.channels`; "group" for private ones), e.g. a thread follow-up
    that does not mention the bot."""
    return event_callback(_user_message(text, channel, user, ts, thread_ts, channel_type), event_id=event_id)


def _channel_type_of(channel: str) -> str:
    return {"D": "im", "G": "group"}.get(channel[:1], "channel")


def message_changed(
    text: str,
    previous_text: str,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """A user edited their message `message_ts` from `previous_text` to `text`."""
    original_ts = message_ts or ts()
    edit_ts = ts()
    message = {
        "type": "message",
        "user": user,
        "text": text,
        "blocks": rich_text_blocks(text),
        "team": TEAM_ID,
        "edited": {"user": user, "ts": edit_ts},
        "ts": original_ts,
        "source_team": TEAM_ID,
        "user_team": TEAM_ID,
    }
    previous = {
        "type": "message",
        "user": user,
        "text": previous_text,
        "blocks": rich_text_blocks(previous_text),
        "team": TEAM_ID,
        "ts": original_ts,
    }
    if thread_ts is not None:
        message["thread_ts"] = previous["thread_ts"] = thread_ts
    event = {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": edit_ts,
        "event_ts": edit_ts,
        "channel_type": _channel_type_of(channel),
    }
    return event_callback(event, event_id=event_id)


def message_deleted(
    deleted_ts: str,
    previous_text: str,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    thread_ts: str | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """The message `deleted_ts` (which said `previous_text`) was deleted."""
    event_ts = ts()
    previous: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": previous_text,
        "team": TEAM_ID,
        "ts": deleted_ts,
    }
    if thread_ts is not None:
        previous["thread_ts"] = thread_ts
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "deleted_ts": deleted_ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": _channel_type_of(channel),
    }
    return event_callback(event, event_id=event_id)


def channel_join(
    channel: str = CHANNEL_ID,
    user: str = BOT_USER_ID,
    inviter: str | None = USER_ID,
    *,
    event_id: str | None = None,
) -> EventBody:
    """`user` joined `channel` (by default: the bot was invited)."""
    message_ts = ts()
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "channel_join",
        "ts": message_ts,
        "user": user,
        "text": f"<@{user}> has joined the channel",
        "channel": channel,
        "event_ts": message_ts,
        "channel_type": _channel_type_of(channel),
    }
    if inviter is not None:
        event["inviter"] = inviter
    return event_callback(event, event_id=event_id)


def bot_message(
    text: str,
    channel: str = CHANNEL_ID,
    bot_id: str = "B0OTHERBOT",
    ts: str | None = None,
    thread_ts: str | None = None,
    *,
    username: str = "Other Bot",
    event_id: str | None = None,
) -> EventBody:
    """A message by another integration (`subtype: bot_message`, `bot_id`, no `user`).
    Pass `bot_id=BOT_ID` for the echo of the app's own message."""
    message_ts = ts or _next_ts()
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": text,
        "ts": message_ts,
        "username": username,
        "bot_id": bot_id,
        "channel": channel,
        "event_ts": message_ts,
        "channel_type": _channel_type_of(channel),
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event_callback(event, event_id=event_id)


def file_object(
    name: str = "cv-alice.pdf",
    *,
    file_id: str | None = None,
    mimetype: str = "application/pdf",
    filetype: str = "pdf",
    size: int = 1024,
    user: str = USER_ID,
    url_private: str | None = None,
) -> dict[str, Any]:
    """A file as it appears in a `file_share` message (`FakeSlack.add_file` makes one it can serve)."""
    file_id = file_id or "F" + _base36(_serial(), 9)
    url = url_private or f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{name}"
    url_download = url_private or f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/download/{name}"
    return {
        "id": file_id,
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": filetype.upper(),
        "user": user,
        "user_team": TEAM_ID,
        "editable": False,
        "size": size,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": url,
        "url_private_download": url_download,
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{user}/{file_id}/{name}",
        "has_rich_preview": False,
        "file_access": "visible",
    }


def message_file_share(
    files: list[dict[str, Any]],
    text: str = "",
    channel: str = DM_CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """A user shared `files` (subtype `file_share`, e.g. a CV dropped into the DM)."""
    event = _user_message(text, channel, user, ts, thread_ts, _channel_type_of(channel))
    event.update({"subtype": "file_share", "files": files, "upload": False, "display_as_bot": False})
    return event_callback(event, event_id=event_id)


def assistant_thread_started(
    channel: str = DM_CHANNEL_ID,
    thread_ts: str | None = None,
    user: str = USER_ID,
    context: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """The user opened a new assistant thread; `context` is where they were (`{"channel_id": ...,
    "team_id": ..., "enterprise_id": ...}`, `{}` when opened from nowhere in particular)."""
    return event_callback(
        _assistant_thread("assistant_thread_started", channel, thread_ts, user, context), event_id=event_id
    )


def assistant_thread_context_changed(
    channel: str = DM_CHANNEL_ID,
    thread_ts: str | None = None,
    user: str = USER_ID,
    context: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """The user switched channels with the assistant pane open."""
    return event_callback(
        _assistant_thread("assistant_thread_context_changed", channel, thread_ts, user, context),
        event_id=event_id,
    )


def _assistant_thread(
    kind: str, channel: str, thread_ts: str | None, user: str, context: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "type": kind,
        "assistant_thread": {
            "user_id": user,
            "context": dict(context) if context is not None else {},
            "channel_id": channel,
            "thread_ts": thread_ts or ts(),
        },
        "event_ts": ts(),
    }


def app_home_opened(
    user: str = USER_ID,
    channel: str = DM_CHANNEL_ID,
    tab: str = "home",
    view: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
) -> EventBody:
    """The user opened the app's Home tab (or `tab="messages"`). `view`: the published one, if any."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": channel, "tab": tab}
    event["event_ts"] = ts()
    if view is not None:
        event["view"] = view
    return event_callback(event, event_id=event_id)


def url_verification(challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> str:
    """The handshake Slack sends when the Request URL is saved; the app must echo `challenge`."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


# -- slash commands and interactivity (form-encoded) --


def slash_command(
    text: str = "",
    *,
    command: str = COMMAND,
    user: str = USER_ID,
    user_name: str = USER_NAME,
    channel: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    response_url: str | None = None,
    trigger_id: str | None = None,
) -> str:
    """A slash command invocation. Pass `response_url=fake.response_url()` so replies land in the fake."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{TEAM_ID}/{_serial()}/fakeResponseUrl",
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields)


def block_actions(
    action_id: str,
    value: str,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    response_url: str | None = None,
    *,
    block_id: str = "actions",
    button_text: str = "Click",
    message_text: str = "",
    message_blocks: list[dict[str, Any]] | None = None,
    user_name: str = USER_NAME,
    channel_name: str = CHANNEL_NAME,
    is_ephemeral: bool = False,
    trigger_id: str | None = None,
) -> str:
    """A button click on the bot's message `message_ts`, form-encoded as `payload=<json>`."""
    message_ts = message_ts or ts()
    action_ts = ts()
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    button = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": action_ts,
    }
    blocks = message_blocks
    if blocks is None:
        blocks = [
            {
                "type": "actions",
                "block_id": block_id,
                "elements": [{k: button[k] for k in ("type", "action_id", "text", "value")}],
            }
        ]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url
        or f"https://hooks.slack.com/actions/{TEAM_ID}/{_serial()}/fakeResponseUrl",
        "actions": [button],
    }
    if not is_ephemeral:
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": message_ts,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "text": message_text,
            "team": TEAM_ID,
            "blocks": blocks,
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})
