"""The Slack surface: events, the assistant pane, /skillmatch and feedback buttons -> delivery -> replies.

A translator only. Every user message becomes an `Inbound` handed to `Delivery.accept`, which stores it
with its dedupe key before Bolt acknowledges (`process_before_response=True`: Bolt answers Slack's HTTP
request when the listener returns), so Slack retries and double deliveries collapse into one stored
message. Answering is the delivery layer's job, on whichever replica holds the thread's lease; it rebuilds
a `SlackReplySink` from the stored `reply_to`. Anything slow that is not storing (refusals, notices,
titles, App Home) is spawned after the acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from assistant import messages
from assistant.channels import slack_format as fmt
from assistant.channels.base import Inbound, ReplySink, SaveRef
from assistant.channels.slack_sink import SlackAddress, SlackReplySink
from assistant.config import AssistantSettings
from assistant.delivery import Delivery
from assistant.engine import Engine
from assistant.sessions import SessionStore, thread_key_slack

log = logging.getLogger(__name__)

PLATFORM = "slack"
DM_THREAD = "dm"  # the thread part of the key for a plain DM conversation (no Slack thread)
COMMAND_ROOT_TIMEOUT = 2.0  # seconds: /skillmatch posts its thread root before acknowledging (3 s limit)
_MENTION_RE = re.compile(r"<@[A-Z0-9]+>\s*")
# Message subtypes that are not a person asking something (edits, deletions, joins, bots, ...).
_IGNORED_SUBTYPES = frozenset(
    {
        "message_changed",
        "message_deleted",
        "message_replied",
        "channel_join",
        "channel_leave",
        "group_join",
        "group_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "pinned_item",
        "unpinned_item",
        "ekm_access_denied",
        "thread_broadcast",
        "assistant_app_thread",
        "bot_message",
    }
)


@dataclass(frozen=True)
class SlackThread:
    team: str
    channel: str
    thread_ts: str  # DM_THREAD for a plain DM

    @property
    def key(self) -> str:
        return thread_key_slack(self.team, self.channel, self.thread_ts)

    @property
    def reply_thread_ts(self) -> str | None:
        return None if self.thread_ts == DM_THREAD else self.thread_ts

    @property
    def is_dm(self) -> bool:
        return self.channel.startswith("D")

    @classmethod
    def from_key(cls, key: str) -> SlackThread:
        platform, team, channel, thread_ts = key.split(":", 3)
        if platform != PLATFORM:
            raise ValueError(f"not a Slack thread key: {key}")
        return cls(team, channel, thread_ts)


def order_key(ts: str) -> str:
    """Slack's `ts` ("1700000000.000200") as a string that sorts like the number."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        return ts
    return f"{int(seconds):012d}.{fraction.ljust(6, '0')[:6]}"


def build_client(settings: AssistantSettings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_base_url,
        # 429s wait for Retry-After on this task only: other conversations go on meanwhile.
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncConnectionErrorRetryHandler(),
        ],
    )


def _inbound(thread: SlackThread, address: SlackAddress, event_id: str, ts: str, text: str) -> Inbound:
    """A Slack message as delivery takes it: `ts` is the message's own (its place in the thread)."""
    return Inbound(
        platform=PLATFORM,
        event_id=event_id,
        thread_key=thread.key,
        user_id=address.user,
        text=text,
        order_key=order_key(ts),
        reply_to=address.dump(),
    )


class _NoBodies(logging.Filter):
    """Bolt logs a request that fails signature verification with its body: personal data from a forged
    or misrouted request must not reach the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "signature" in str(record.msg) and "body:" in str(record.msg):
            record.msg, record.args = "Invalid request signature detected (body not logged)", ()
        return True


class _NoTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client (with retry handlers) wins: noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in str(record.msg)


_NO_BODIES, _NO_TOKEN_NOTICE = _NoBodies(), _NoTokenNotice()  # one each: addFilter ignores a repeat


class SlackChannel:
    platform = PLATFORM

    def __init__(
        self,
        settings: AssistantSettings,
        delivery: Delivery,
        *,
        engine: Engine,
        store: SessionStore,
        client: AsyncWebClient | None = None,
    ):
        if not settings.slack_signing_secret and not settings.slack_app_token:
            raise ValueError("Slack needs SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
        self.settings = settings
        self.delivery = delivery
        self.engine = engine
        self.store = store
        self.client = client or build_client(settings)
        bolt_log = logging.getLogger("skillmatch.slack.bolt")
        bolt_log.addFilter(_NO_TOKEN_NOTICE)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None,
            process_before_response=True,
            logger=bolt_log,
        )
        logging.getLogger("slack_bolt.RequestVerification").addFilter(_NO_BODIES)
        self._bot_user_id: str | None = None
        self._register()
        delivery.register(self)

    def sink(
        self,
        reply_to: dict[str, Any],
        reply_ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> ReplySink:
        return SlackReplySink(
            self.client, SlackAddress.load(reply_to), reply_ref, save_ref, recovering=recovering
        )

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/slack/events", self._http)

    async def _http(self, request: web.Request) -> web.Response:
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    def _register(self) -> None:
        assistant = AsyncAssistant()
        assistant.thread_started(self._on_assistant_thread_started)
        assistant.user_message(self._on_assistant_message)
        assistant.thread_context_changed(self._on_assistant_context_changed)
        self.app.use(assistant)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.command("/skillmatch")(self._on_command)
        self.app.action("feedback_up")(self._on_feedback)
        self.app.action("feedback_down")(self._on_feedback)

    # -- events: translate, store, return (Bolt acknowledges when the listener returns) ------------------

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if self._from_bot(event):
            return
        thread = SlackThread(
            body.get("team_id") or event.get("team", ""),
            event["channel"],
            event.get("thread_ts") or event["ts"],
        )
        await self._incoming(thread, event)

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") in _IGNORED_SUBTYPES or self._from_bot(event):
            return
        team = body.get("team_id") or event.get("team", "")
        if event.get("channel_type") == "im":
            thread = SlackThread(team, event["channel"], event.get("thread_ts") or DM_THREAD)
            await self._incoming(thread, event)
            return
        # A reply in a channel thread without a mention: only when configured, and only in threads the
        # assistant is already part of (a mention in such a thread also arrives as app_mention: one turn,
        # thanks to the dedupe on the message itself).
        thread_ts = event.get("thread_ts")
        if not (self.settings.slack_follow_threads and thread_ts) or await self._mentions_me(event):
            return
        thread = SlackThread(team, event["channel"], thread_ts)
        if await asyncio.to_thread(self.store.find, thread.key) is not None:
            await self._incoming(thread, event)

    async def _on_assistant_thread_started(self, event: dict[str, Any]) -> None:
        info = event.get("assistant_thread", {})
        self.delivery.spawn(self._suggest_prompts(info["channel_id"], info["thread_ts"]))

    async def _on_assistant_context_changed(self, event: dict[str, Any]) -> None:
        """The user moved to another channel with the pane open; nothing to keep for a staffing search."""

    async def _on_assistant_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") in _IGNORED_SUBTYPES or self._from_bot(event):
            return
        team = body.get("team_id") or event.get("team", "")
        thread = SlackThread(team, event["channel"], event.get("thread_ts") or event["ts"])
        await self._incoming(thread, event, assistant=True)

    async def _incoming(self, thread: SlackThread, event: dict[str, Any], *, assistant: bool = False) -> None:
        user = event.get("user")
        refusal = self._refusal(thread, user)
        address = SlackAddress(thread.team, thread.channel, thread.reply_thread_ts, user, assistant)
        if refusal is not None:
            self.delivery.spawn(self._notice(address, refusal))
            return
        text = _MENTION_RE.sub("", event.get("text") or "").strip()
        if event.get("files") or event.get("subtype") == "file_share":
            self.delivery.spawn(self._notice(address, messages.file_share_text()))
            if not text:
                return
        result = await self.delivery.accept(
            _inbound(thread, address, f"msg:{thread.channel}:{event['ts']}", event["ts"], text)
        )
        if not result.duplicate and assistant and thread.reply_thread_ts and text:
            self.delivery.spawn(self._set_title(thread, text))

    # -- /skillmatch ------------------------------------------------------------------------------------

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        if not text or text.lower() in ("help", "hilfe", "?"):
            await ack(response_type="ephemeral", text=fmt.help_text())
            return
        user = command.get("user_id")
        team, channel = command.get("team_id", ""), command["channel_id"]
        refusal = self._refusal(SlackThread(team, channel, DM_THREAD), user)
        if refusal is not None:
            await ack(response_type="ephemeral", text=fmt.mrkdwn_text(refusal))
            return
        # The thread root is posted first so the question is stored under its real thread before Slack
        # gets the acknowledgement; if Slack is too slow for that, the user sees Slack's timeout and retries.
        try:
            root = await asyncio.wait_for(
                self.client.chat_postMessage(
                    channel=channel, text=f"<@{user}> asked: {fmt.markdown_to_mrkdwn(text)}"
                ),
                timeout=COMMAND_ROOT_TIMEOUT,
            )
        except (SlackApiError, TimeoutError) as exc:
            reason = exc.response.get("error") if isinstance(exc, SlackApiError) else "timeout"
            log.warning("slack: /skillmatch in %s could not start a thread: %s", channel, reason)
            await ack(response_type="ephemeral", text=fmt.command_failed_text(str(reason)))
            return
        thread = SlackThread(team, channel, root["ts"])
        address = SlackAddress(team, channel, root["ts"], user, False)
        event_id = f"cmd:{command.get('trigger_id') or root['ts']}"
        await self.delivery.accept(_inbound(thread, address, event_id, root["ts"], text))
        await ack()

    # -- feedback ---------------------------------------------------------------------------------------

    async def _on_feedback(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        trace_id = action.get("value", "")
        positive = action.get("action_id") == "feedback_up"
        user = body.get("user", {}).get("id")
        if not await self.engine.record_feedback(PLATFORM, trace_id, user, positive=positive):
            return
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id")
        if channel and user:
            thread_ts = body.get("message", {}).get("thread_ts") or body.get("container", {}).get(
                "message_ts"
            )
            self.delivery.spawn(self._feedback_ack(channel, user, thread_ts, positive))

    async def _feedback_ack(self, channel: str, user: str, thread_ts: str | None, positive: bool) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread_ts, text=fmt.feedback_ack_text(positive)
            )
        except SlackApiError as exc:
            log.warning("slack: feedback acknowledgement failed: %s", exc.response.get("error"))

    # -- App Home ----------------------------------------------------------------------------------------

    async def _on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return
        self.delivery.spawn(self._publish_home(event["user"]))

    async def _publish_home(self, user: str) -> None:
        recent = await asyncio.to_thread(self.store.recent, user_id=user, platform=PLATFORM, limit=10)
        items = [
            {
                "title": c.title or "(untitled)",
                "thread_key": c.thread_key,
                "when": getattr(c, "updated_at", None),
            }
            for c in recent
        ]
        await self.client.views_publish(user_id=user, view=fmt.home_view(items))

    # -- helpers ------------------------------------------------------------------------------------------

    def _from_bot(self, event: dict[str, Any]) -> bool:
        """Another app's message (or our own): never a request when SLACK_IGNORE_BOTS is on."""
        from_bot = "bot_id" in event or event.get("subtype") == "bot_message" or "bot_profile" in event
        return from_bot and self.settings.slack_ignore_bots

    def _refusal(self, thread: SlackThread, user: str | None) -> str | None:
        s = self.settings
        if s.allowed_teams and thread.team not in s.allowed_teams:
            return messages.refusal_text("workspace")
        if s.allowed_channels and not thread.is_dm and thread.channel not in s.allowed_channels:
            return messages.refusal_text("channel")
        if s.allowed_users and (user or "") not in s.allowed_users:
            return messages.refusal_text("user")
        return None

    async def _mentions_me(self, event: dict[str, Any]) -> bool:
        if self._bot_user_id is None:
            self._bot_user_id = (await self.client.auth_test()).get("user_id")
        return f"<@{self._bot_user_id}>" in (event.get("text") or "")

    async def _notice(self, address: SlackAddress, text: str) -> None:
        try:
            await self.client.chat_postMessage(
                channel=address.channel, thread_ts=address.thread_ts, text=fmt.mrkdwn_text(text)
            )
        except SlackApiError as exc:
            log.warning("slack: notice failed: %s", exc.response.get("error"))

    async def _suggest_prompts(self, channel: str, thread_ts: str) -> None:
        try:
            await self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel,
                thread_ts=thread_ts,
                title="Who are you looking for?",
                prompts=fmt.suggested_prompts(),
            )
        except SlackApiError as exc:
            log.warning("slack: suggested prompts failed: %s", exc.response.get("error"))

    async def _set_title(self, thread: SlackThread, text: str) -> None:
        try:
            await self.client.assistant_threads_setTitle(
                channel_id=thread.channel, thread_ts=thread.thread_ts, title=text[:60]
            )
        except SlackApiError as exc:
            log.debug("slack: setTitle failed: %s", exc.response.get("error"))
