"""The Slack surface: events, the assistant pane, /skillmatch and feedback buttons -> engine turns -> replies.

A translator only: every user message becomes a stored, queued turn (`Engine.accept`), deduplicated by the
message's identity (Slack retries and double deliveries to several replicas collapse into one), and is run
by `ThreadSerializer` in order per thread, on whichever replica holds the thread. The turn handler works from
the thread key alone (`slack:{team}:{channel}:{thread_ts}`), so any replica can answer any thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from assistant.channels import slack_format as fmt
from assistant.engine import TurnReply, TurnRequest
from assistant.runtime import Runtime
from assistant.sessions import ThreadSerializer, thread_key_slack

log = logging.getLogger(__name__)

PLATFORM = "slack"
DM_THREAD = "dm"  # the thread part of the key for a plain DM conversation (no Slack thread)
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
    }
)
UPDATE_INTERVAL = 1.2  # seconds between chat.update calls when streaming is not possible (~1/s per channel)


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


def build_client(runtime: Runtime) -> AsyncWebClient:
    settings = runtime.settings
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


class SlackChannel:
    def __init__(self, runtime: Runtime, *, client: AsyncWebClient | None = None):
        settings = runtime.settings
        if not settings.slack_signing_secret and not settings.slack_app_token:
            raise ValueError("Slack needs SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
        self.runtime = runtime
        self.settings = settings
        self.client = client or build_client(runtime)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None,
            process_before_response=False,
            logger=logging.getLogger("skillmatch.slack.bolt"),
        )
        self.serializer = ThreadSerializer(runtime.sessions)
        self._turns = asyncio.Semaphore(settings.max_concurrent_turns)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bot_user_id: str | None = None
        self._register()

    # -- wiring ---------------------------------------------------------------------------------------

    def _register(self) -> None:
        track = self._tracked
        assistant = AsyncAssistant()
        assistant.thread_started(track(self._on_assistant_thread_started))
        assistant.user_message(track(self._on_assistant_message))
        assistant.thread_context_changed(track(self._on_assistant_context_changed))
        self.app.use(assistant)
        self.app.event("app_mention")(track(self._on_mention))
        self.app.event("message")(track(self._on_message))
        self.app.event("app_home_opened")(track(self._on_home_opened))
        self.app.command("/skillmatch")(track(self._on_command))
        self.app.action("feedback_up")(track(self._on_feedback))
        self.app.action("feedback_down")(track(self._on_feedback))

    def _tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Bolt runs listeners after acknowledging; counting them as in-flight lets shutdown (and tests)
        wait for work that has been acknowledged but not finished."""

        @functools.wraps(listener)
        async def run(*args: Any, **kwargs: Any) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                await listener(*args, **kwargs)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return run

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        """A background task the channel keeps a reference to (and waits for on shutdown)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - bounds a wait over many tasks
        """Until nothing acknowledged is still running (turns spawn follow-up tasks: loop until quiet)."""
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0)  # let listeners Bolt has just scheduled start and register
        while self._tasks and (left := deadline - time.monotonic()) > 0:
            current = asyncio.current_task()
            await asyncio.wait({t for t in self._tasks if t is not current}, timeout=left)
            await asyncio.sleep(0)

    async def resume(self) -> None:
        """Turns left queued by a replica that stopped: run them (call once at start-up)."""
        await self.serializer.resume(self._run_turn)

    # -- events ---------------------------------------------------------------------------------------

    async def _on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        thread = SlackThread(
            body.get("team_id") or event.get("team", ""),
            event["channel"],
            event.get("thread_ts") or event["ts"],
        )
        await self._incoming(thread, event)

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") in _IGNORED_SUBTYPES or (
            "bot_id" in event and self.settings.slack_ignore_bots
        ):
            return
        team = body.get("team_id") or event.get("team", "")
        channel_type = event.get("channel_type")
        if channel_type == "im":
            await self._incoming(
                SlackThread(team, event["channel"], event.get("thread_ts") or DM_THREAD), event
            )
            return
        # A reply in a channel thread without a mention: only when configured, and only in threads the
        # assistant is already part of (a mention in such a thread also arrives as app_mention: one turn,
        # thanks to the dedupe on the message itself).
        thread_ts = event.get("thread_ts")
        if not (self.settings.slack_follow_threads and thread_ts) or await self._mentions_me(event):
            return
        thread = SlackThread(team, event["channel"], thread_ts)
        known = await asyncio.to_thread(self.runtime.store.find, thread.key)
        if known is not None:
            await self._incoming(thread, event)

    async def _on_assistant_thread_started(self, event: dict[str, Any]) -> None:
        info = event.get("assistant_thread", {})
        try:
            await self.client.assistant_threads_setSuggestedPrompts(
                channel_id=info["channel_id"],
                thread_ts=info["thread_ts"],
                title="Who are you looking for?",
                prompts=fmt.suggested_prompts(),
            )
        except SlackApiError as exc:
            log.warning("slack: suggested prompts failed: %s", exc.response.get("error"))

    async def _on_assistant_context_changed(self, event: dict[str, Any]) -> None:
        """The user moved to another channel with the pane open; nothing to keep for a staffing search."""

    async def _on_assistant_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") in _IGNORED_SUBTYPES:
            return
        team = body.get("team_id") or event.get("team", "")
        await self._incoming(
            SlackThread(team, event["channel"], event.get("thread_ts") or event["ts"]), event
        )

    async def _incoming(self, thread: SlackThread, event: dict[str, Any]) -> None:
        user = event.get("user")
        refusal = self._refusal(thread, user)
        if refusal is not None:
            await self._post(thread, text=refusal)
            return
        # One turn per message, whatever Slack or the load balancer does: retries, duplicate deliveries,
        # the same message arriving as app_mention and as message.
        if not await asyncio.to_thread(
            self.runtime.store.record_event_once, PLATFORM, f"msg:{thread.channel}:{event['ts']}"
        ):
            return
        if event.get("files") or event.get("subtype") == "file_share":
            await self._post(thread, text=fmt.file_share_text())
            if not (event.get("text") or "").strip():
                return
        text = _MENTION_RE.sub("", event.get("text") or "").strip()
        await self._queue_turn(thread, text, user, message_ts=event["ts"])

    async def _queue_turn(self, thread: SlackThread, text: str, user: str | None, *, message_ts: str) -> None:
        request = TurnRequest(
            thread_key=thread.key,
            platform=PLATFORM,
            message_id=f"{thread.team}:{thread.channel}:{message_ts}",
            text=text,
            user_id=user,
        )
        accepted = await self.runtime.engine.accept(request, queued=True)
        if isinstance(accepted, TurnReply):  # refused outright (empty, too long): answered, not queued
            await self._post_reply(thread, accepted)
            return
        if thread.is_dm and thread.reply_thread_ts and text:
            self.spawn(self._set_title(thread, text))
        self.spawn(self.serializer.submit(thread.key, accepted, self._run_turn))

    # -- one turn --------------------------------------------------------------------------------------

    async def _run_turn(self, message_id: int) -> None:
        _, key = await asyncio.to_thread(self.runtime.store.thread_of, message_id)
        thread = SlackThread.from_key(key)
        async with self._turns:
            writer = ReplyWriter(self, thread)
            try:
                reply = await self.runtime.engine.run_message(
                    message_id, on_status=lambda status: self._status(thread, status), on_delta=writer.delta
                )
            except Exception:
                log.exception("slack: turn for message %s failed", message_id)
                await writer.fail()
                raise
            await writer.finish(reply)

    async def _status(self, thread: SlackThread, status: str) -> None:
        """The assistant pane shows what is happening; channels have no status line."""
        if not (thread.is_dm and thread.reply_thread_ts):
            return
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=thread.channel,
                thread_ts=thread.thread_ts,
                status=status,
                loading_messages=fmt.loading_messages(),
            )
        except SlackApiError as exc:  # a plain DM thread is not an assistant thread: no status there
            log.debug("slack: setStatus failed: %s", exc.response.get("error"))

    async def _set_title(self, thread: SlackThread, text: str) -> None:
        try:
            await self.client.assistant_threads_setTitle(
                channel_id=thread.channel, thread_ts=thread.thread_ts, title=text[:60]
            )
        except SlackApiError as exc:
            log.debug("slack: setTitle failed: %s", exc.response.get("error"))

    # -- /skillmatch ------------------------------------------------------------------------------------

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        text = (command.get("text") or "").strip()
        if not text or text.lower() in ("help", "hilfe", "?"):
            await ack(response_type="ephemeral", text=fmt.help_text())
            return
        thread = SlackThread(command.get("team_id", ""), command["channel_id"], DM_THREAD)
        refusal = self._refusal(thread, command.get("user_id"))
        if refusal is not None:
            await ack(response_type="ephemeral", text=refusal)
            return
        await ack()  # within Slack's 3 seconds, before any real work
        self.spawn(self._start_command_thread(command, text))

    async def _start_command_thread(self, command: dict[str, Any], text: str) -> None:
        if not await asyncio.to_thread(
            self.runtime.store.record_event_once, PLATFORM, f"cmd:{command.get('trigger_id')}"
        ):
            return
        channel = command["channel_id"]
        try:
            root = await self.client.chat_postMessage(
                channel=channel, text=f"<@{command.get('user_id')}> asked: {fmt.markdown_to_mrkdwn(text)}"
            )
        except SlackApiError as exc:  # e.g. not_in_channel: tell the user privately how to fix it
            log.warning("slack: /skillmatch in %s failed: %s", channel, exc.response.get("error"))
            await self.client.chat_postEphemeral(
                channel=channel,
                user=command.get("user_id", ""),
                text="I can't post in this channel yet: invite me with `/invite @SkillMatch`, or DM me.",
            )
            return
        thread = SlackThread(command.get("team_id", ""), channel, root["ts"])
        await self._queue_turn(thread, text, command.get("user_id"), message_ts=root["ts"])

    # -- feedback ---------------------------------------------------------------------------------------

    async def _on_feedback(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        trace_id = action.get("value", "")
        positive = action.get("action_id") == "feedback_up"
        user = body.get("user", {}).get("id")
        if not await self.runtime.engine.record_feedback(PLATFORM, trace_id, user, positive=positive):
            return
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id")
        if channel and user:
            thread_ts = body.get("message", {}).get("thread_ts") or body.get("container", {}).get(
                "message_ts"
            )
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
        user = event["user"]
        recent = await asyncio.to_thread(self.runtime.store.recent, user_id=user, platform=PLATFORM, limit=10)
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

    def _refusal(self, thread: SlackThread, user: str | None) -> str | None:
        s = self.settings
        if s.allowed_teams and thread.team not in s.allowed_teams:
            return fmt.refusal_text("workspace")
        if s.allowed_channels and not thread.is_dm and thread.channel not in s.allowed_channels:
            return fmt.refusal_text("channel")
        if s.allowed_users and (user or "") not in s.allowed_users:
            return fmt.refusal_text("user")
        return None

    async def _mentions_me(self, event: dict[str, Any]) -> bool:
        if self._bot_user_id is None:
            self._bot_user_id = (await self.client.auth_test()).get("user_id")
        return f"<@{self._bot_user_id}>" in (event.get("text") or "")

    async def _post(self, thread: SlackThread, **message: Any) -> dict[str, Any]:
        response = await self.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.reply_thread_ts, **message
        )
        return response.data  # type: ignore[return-value]

    async def _post_reply(self, thread: SlackThread, reply: TurnReply) -> None:
        for chunk in fmt.message_chunks(
            reply.text, reply.candidates, trace_id=reply.trace_id, status=reply.status
        ):
            await self._post(thread, **chunk)


class ReplyWriter:
    """Streams where Slack allows it (chat.startStream in a thread), else posts once and updates the
    message about once a second; ends with the Block Kit answer (candidates, feedback buttons)."""

    STREAM_FLUSH_CHARS = 200  # fewer, larger appends: chat.appendStream is rate limited like posting
    STREAM_FLUSH_SECONDS = 0.5

    def __init__(self, channel: SlackChannel, thread: SlackThread):
        self.channel = channel
        self.client = channel.client
        self.thread = thread
        self.text = ""
        self.pending = ""  # streamed text not yet sent
        self.stream_ts: str | None = None
        self.can_stream = thread.reply_thread_ts is not None
        self.message_ts: str | None = None  # the post-and-update message
        self.last_send = 0.0

    async def delta(self, text: str) -> None:
        self.text += text
        self.pending += text
        now = time.monotonic()
        if self.can_stream:
            if self.stream_ts is None:
                await self._start_stream()
            elif (
                len(self.pending) >= self.STREAM_FLUSH_CHARS
                or now - self.last_send >= self.STREAM_FLUSH_SECONDS
            ):
                await self._append()
            if self.can_stream:
                return
        if now - self.last_send < UPDATE_INTERVAL:
            return
        self.last_send = now
        partial = fmt.preview_text(self.text)
        if self.message_ts is None:
            self.message_ts = (await self.channel._post(self.thread, text=partial)).get("ts")
        else:
            await self.client.chat_update(channel=self.thread.channel, ts=self.message_ts, text=partial)

    async def _start_stream(self) -> None:
        try:
            response = await self.client.chat_startStream(
                channel=self.thread.channel,
                thread_ts=self.thread.thread_ts,
                markdown_text=self.pending,
                recipient_team_id=self.thread.team or None,
                recipient_user_id=await self._recipient(),
            )
        except SlackApiError as exc:
            log.info(
                "slack: streaming not available here (%s); posting and updating", exc.response.get("error")
            )
            self.can_stream = False
            return
        self.stream_ts, self.pending, self.last_send = response["ts"], "", time.monotonic()

    async def _append(self) -> None:
        try:
            await self.client.chat_appendStream(
                channel=self.thread.channel, ts=self.stream_ts, markdown_text=self.pending
            )
            self.pending, self.last_send = "", time.monotonic()
        except SlackApiError as exc:  # e.g. the stream expired: the rest goes into the same message
            log.info(
                "slack: stream append failed (%s); updating the message instead", exc.response.get("error")
            )
            self.can_stream, self.message_ts = False, self.stream_ts

    async def finish(self, reply: TurnReply) -> None:
        # A search-only answer lists the people in its text already: no second list as cards.
        candidates = reply.candidates if reply.status == "ok" else []
        if self.stream_ts is not None and self.can_stream:
            try:
                await self.client.chat_stopStream(
                    channel=self.thread.channel,
                    ts=self.stream_ts,
                    markdown_text=self.pending or None,
                    blocks=fmt.answer_blocks("", candidates, trace_id=reply.trace_id, status=reply.status),
                )
                return
            except SlackApiError as exc:
                log.warning(
                    "slack: stopping the stream failed (%s); updating instead", exc.response.get("error")
                )
                self.message_ts = self.stream_ts  # replace the streamed message, never post the answer twice
        chunks = fmt.message_chunks(reply.text, candidates, trace_id=reply.trace_id, status=reply.status)
        rest = chunks
        if self.message_ts is not None:
            first, *rest = chunks
            await self.client.chat_update(channel=self.thread.channel, ts=self.message_ts, **first)
        for chunk in rest:
            await self.channel._post(self.thread, **chunk)

    async def fail(self) -> None:
        text = fmt.error_text()
        try:
            if self.stream_ts is not None and self.can_stream:
                await self.client.chat_stopStream(
                    channel=self.thread.channel, ts=self.stream_ts, markdown_text=f"{self.pending}\n\n{text}"
                )
            elif self.message_ts is not None:
                await self.client.chat_update(channel=self.thread.channel, ts=self.message_ts, text=text)
            else:
                await self.channel._post(self.thread, text=text)
        except SlackApiError:
            log.exception("slack: could not even post the error message")

    async def _recipient(self) -> str | None:
        """The user being answered: streams into threads need a recipient."""
        conversation = await asyncio.to_thread(self.channel.runtime.store.find, self.thread.key)
        return conversation.user_id if conversation else None


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("slack: background task failed: %r", task.exception())
