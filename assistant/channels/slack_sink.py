"""One answer written to Slack: status in the assistant pane, a streamed reply, the final Block Kit answer.

Streams where Slack allows it (chat.startStream in a thread), else posts once and updates the message
about once a second; ends with the Block Kit answer (candidates, feedback buttons). Every message it
creates is recorded through `save_ref` at once, so that an attempt after a crash (`recovering`) finishes
or replaces those messages instead of adding a second answer. A recovering sink also looks in the thread
for answer parts a dead attempt posted but could not record (each part carries the trace id as message
metadata), and it does not stream: the user sees one complete answer appear in place.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant import messages
from assistant.channels import slack_format as fmt
from assistant.channels.base import SaveRef
from assistant.engine import TurnReply

log = logging.getLogger(__name__)

UPDATE_INTERVAL = 1.2  # seconds between chat.update calls when streaming is not possible (~1/s per channel)
ANSWER_EVENT = "skillmatch_answer"  # message metadata type marking the parts of an answer


@dataclass(frozen=True)
class SlackAddress:
    """Where an answer goes (stored as the message's `reply_to`)."""

    team: str
    channel: str
    thread_ts: str | None  # None: top level of a DM
    user: str | None
    assistant: bool = False  # an assistant-pane thread: status line and titles exist there

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> SlackAddress:
        return cls(
            str(data.get("team") or ""),
            str(data["channel"]),
            data.get("thread_ts"),
            data.get("user"),
            bool(data.get("assistant")),
        )

    @property
    def is_dm(self) -> bool:
        return self.channel.startswith("D")


class SlackReplySink:
    STREAM_FLUSH_CHARS = 200  # fewer, larger appends: chat.appendStream is rate limited like posting
    STREAM_FLUSH_SECONDS = 0.5

    def __init__(
        self,
        client: AsyncWebClient,
        address: SlackAddress,
        ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> None:
        self.client = client
        self.address = address
        self.save_ref = save_ref
        self.recovering = recovering
        self.posted: list[str] = list((ref or {}).get("messages") or [])  # ts of this answer's messages
        self.text = ""
        self.pending = ""  # streamed text not yet sent
        self.stream_ts: str | None = None  # this attempt's open stream
        self.can_stream = address.thread_ts is not None and not recovering and not self.posted
        self.last_send = 0.0

    # -- progress -----------------------------------------------------------------------------------

    async def queued(self, ahead: int) -> None:
        a = self.address
        try:
            if a.assistant and a.thread_ts:
                await self._set_status(messages.queued_status(ahead))
            elif a.is_dm:
                await self.client.chat_postMessage(
                    channel=a.channel, thread_ts=a.thread_ts, text=messages.queued_text(ahead)
                )
            elif a.user:
                await self.client.chat_postEphemeral(
                    channel=a.channel, user=a.user, thread_ts=a.thread_ts, text=messages.queued_text(ahead)
                )
        except SlackApiError as exc:
            log.info("slack: queued notice failed: %s", exc.response.get("error"))

    async def status(self, text: str) -> None:
        """The assistant pane shows what is happening; channels have no status line."""
        if self.address.assistant and self.address.thread_ts:
            await self._set_status(text)

    async def _set_status(self, text: str) -> None:
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=self.address.channel,
                thread_ts=self.address.thread_ts,
                status=text,
                loading_messages=messages.loading_messages(),
            )
        except SlackApiError as exc:  # a plain DM thread is not an assistant thread: no status there
            log.debug("slack: setStatus failed: %s", exc.response.get("error"))

    # -- streaming ------------------------------------------------------------------------------------

    async def delta(self, text: str) -> None:
        self.text += text
        self.pending += text
        if self.recovering:
            return  # a second attempt shows the answer once it is complete
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
        if self.posted:
            await self.client.chat_update(channel=self.address.channel, ts=self.posted[0], text=partial)
        else:
            await self._post(text=partial)

    async def retract(self) -> None:
        """What was streamed is void: stop the stream and let `finish` replace the message."""
        await self._stop_open_stream()
        self.text = self.pending = ""
        self.can_stream = False

    async def _start_stream(self) -> None:
        a = self.address
        try:
            response = await self.client.chat_startStream(
                channel=a.channel,
                thread_ts=a.thread_ts,
                markdown_text=self.pending,
                recipient_team_id=a.team or None,
                recipient_user_id=a.user,
            )
        except SlackApiError as exc:
            log.info(
                "slack: streaming not available here (%s); posting and updating", exc.response.get("error")
            )
            self.can_stream = False
            return
        self.stream_ts, self.pending, self.last_send = response["ts"], "", time.monotonic()
        await self._remember(response["ts"])

    async def _append(self) -> None:
        try:
            await self.client.chat_appendStream(
                channel=self.address.channel, ts=self.stream_ts, markdown_text=self.pending
            )
            self.pending, self.last_send = "", time.monotonic()
        except SlackApiError as exc:  # e.g. the stream expired: the rest goes into the same message
            log.info(
                "slack: stream append failed (%s); updating the message instead", exc.response.get("error")
            )
            self.can_stream, self.stream_ts = False, None

    async def _stop_open_stream(self) -> None:
        if self.stream_ts is None:
            return
        ts, self.stream_ts = self.stream_ts, None
        try:
            await self.client.chat_stopStream(channel=self.address.channel, ts=ts)
        except SlackApiError as exc:
            log.info("slack: stopping a stream failed: %s", exc.response.get("error"))

    # -- the answer -----------------------------------------------------------------------------------

    async def finish(self, reply: TurnReply) -> None:
        # A search-only answer lists the people in its text already: no second list as cards.
        candidates = reply.candidates if reply.status == "ok" else []
        metadata = {"event_type": ANSWER_EVENT, "event_payload": {"trace_id": reply.trace_id}}
        if self.stream_ts is not None and self.text == reply.text:
            try:
                await self.client.chat_stopStream(
                    channel=self.address.channel,
                    ts=self.stream_ts,
                    markdown_text=self.pending or None,
                    blocks=fmt.answer_blocks(
                        "", candidates, trace_id=reply.trace_id, status=reply.status, notice=reply.notice
                    ),
                    metadata=metadata,
                )
                self.stream_ts = None
                return
            except SlackApiError as exc:
                log.warning(
                    "slack: stopping the stream failed (%s); updating instead", exc.response.get("error")
                )
        await self._stop_open_stream()
        if self.recovering:
            await self._adopt_unrecorded(reply.trace_id)
            await self._stop_earlier_streams()
        chunks = fmt.message_chunks(
            reply.text, candidates, trace_id=reply.trace_id, status=reply.status, notice=reply.notice
        )
        await self._replace([{**chunk, "metadata": metadata} for chunk in chunks])

    async def fail(self, text: str) -> None:
        await self._stop_open_stream()
        if self.recovering:
            await self._stop_earlier_streams()
        await self._replace([{"text": fmt.mrkdwn_text(text)}])

    async def _stop_earlier_streams(self) -> None:
        """A dead attempt's stream stays open on Slack's side until it expires: close it first."""
        for ts in self.posted:
            with contextlib.suppress(SlackApiError):  # not a stream, or already stopped: nothing to close
                await self.client.chat_stopStream(channel=self.address.channel, ts=ts)

    async def _replace(self, payloads: list[dict[str, Any]]) -> None:
        """These payloads in place of this answer's messages so far: update, then post, then delete."""
        channel = self.address.channel
        for i, payload in enumerate(payloads):
            if i < len(self.posted):
                if "blocks" not in payload:
                    payload = {**payload, "blocks": []}  # an update keeps old blocks unless told otherwise
                await self.client.chat_update(channel=channel, ts=self.posted[i], **payload)
            else:
                await self._post(**payload)
        for ts in self.posted[len(payloads) :]:
            try:
                await self.client.chat_delete(channel=channel, ts=ts)
            except SlackApiError as exc:
                log.info("slack: deleting a superseded part failed: %s", exc.response.get("error"))

    async def _post(self, **payload: Any) -> None:
        response = await self.client.chat_postMessage(
            channel=self.address.channel, thread_ts=self.address.thread_ts, **payload
        )
        await self._remember(response["ts"])

    async def _remember(self, ts: str) -> None:
        if ts not in self.posted:
            self.posted.append(ts)
            await self.save_ref({"messages": list(self.posted)})

    async def _adopt_unrecorded(self, trace_id: str) -> None:
        """Answer parts a dead attempt posted but did not live to record (found by their metadata)."""
        a = self.address
        try:
            if a.thread_ts:
                found = await self.client.conversations_replies(
                    channel=a.channel, ts=a.thread_ts, include_all_metadata=True, limit=200
                )
            else:
                found = await self.client.conversations_history(
                    channel=a.channel, include_all_metadata=True, limit=50
                )
        except SlackApiError as exc:  # e.g. missing history scope: answer anyway
            log.info("slack: looking for an earlier attempt's answer failed: %s", exc.response.get("error"))
            return
        for message in sorted(found.get("messages") or [], key=lambda m: m.get("ts", "")):
            meta = message.get("metadata") or {}
            ours = meta.get("event_type") == ANSWER_EVENT
            if (
                ours
                and meta.get("event_payload", {}).get("trace_id") == trace_id
                and message["ts"] not in self.posted
            ):
                self.posted.append(message["ts"])
