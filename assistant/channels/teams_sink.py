"""One answer written to Teams, proactively, from the stored conversation reference.

Personal chats stream, with Teams' protocol: typing activities carrying a `streaminfo` entity
(informative updates while tools run, then the growing text, at most one part a second, as Teams
throttles), ended by the final message that carries the same stream id, the "AI generated" label and the
feedback loop. Group chats and channels cannot stream: they get a typing indicator while the turn runs
and one final message. The candidates follow as an Adaptive Card; long answers are split within Teams'
size limit (`teams_format`).

Every message created for the answer is recorded through `save_ref` at once (the stream id as soon as
Teams names it), so an attempt after a crash completes the dead attempt's stream or replaces its
messages (update, then send, then delete extras) instead of adding a second answer. Each send is its own
proactive turn (`TeamsChannel.continue_conversation`); a 429 or 5xx from the connector is retried after
`Retry-After` (bounded), a hung connector times out after `TEAMS_SEND_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext

from assistant import messages
from assistant.channels import teams_format as fmt
from assistant.channels.base import SaveRef
from assistant.engine import TurnReply

if TYPE_CHECKING:
    from assistant.channels.teams import TeamsChannel

log = logging.getLogger(__name__)
T = TypeVar("T")

STREAM_INTERVAL = 1.0  # seconds between stream parts: Teams throttles streaming at about one a second
TYPING_INTERVAL = 3.0  # seconds between typing indicators outside personal chats
SEND_ATTEMPTS = 3
MAX_RETRY_AFTER = 10.0  # seconds; a connector asking for longer fails this attempt (delivery retries later)
RETRYABLE = frozenset({429, 500, 502, 503, 504})


class TeamsReplySink:
    def __init__(
        self,
        channel: TeamsChannel,
        reply_to: dict[str, Any],
        ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> None:
        self.channel = channel
        self.reference = reply_to["reference"]
        self.personal = reply_to.get("kind") == "personal"
        self.save_ref = save_ref
        self.recovering = recovering
        self.posted: list[str] = list((ref or {}).get("messages") or [])
        self.dead_stream: str | None = (ref or {}).get("stream")  # a stream an earlier attempt began
        self.stream_id: str | None = None  # this attempt's stream
        self.sequence = 0
        self.streamable = self.personal and not recovering and not ref
        self.text = ""
        self.last_part = 0.0
        self.last_typing = 0.0

    # -- progress -----------------------------------------------------------------------------------

    async def queued(self, ahead: int) -> None:
        await self._send(
            fmt.text_activity(fmt.markdown_to_teams(messages.queued_text(ahead)), ai_generated=False)
        )

    async def status(self, text: str) -> None:
        if self.streamable:
            await self._stream_part("informative", text)
        else:
            await self._typing()

    async def delta(self, text: str) -> None:
        self.text += text
        if self.streamable and fmt.utf16_size(self.text) > fmt.TEXT_BUDGET_BYTES:
            self.streamable = False  # Teams cancels an oversized stream part; the rest comes as messages
        if not self.streamable:
            await self._typing()
        elif self.text.strip() and time.monotonic() - self.last_part >= STREAM_INTERVAL:
            await self._stream_part("streaming", self.text)

    async def retract(self) -> None:
        """Teams refuses stream text that does not extend what it showed: the stream stays as it is
        until `finish` ends it with the complete answer."""
        self.text = ""
        self.streamable = False

    async def _stream_part(self, stream_type: str, text: str) -> None:
        if time.monotonic() - self.last_part < STREAM_INTERVAL:
            return
        self.sequence += 1
        info: dict[str, Any] = {
            "type": "streaminfo",
            "streamType": stream_type,
            "streamSequence": self.sequence,
        }
        if self.stream_id:
            info["streamId"] = self.stream_id
        self.last_part = time.monotonic()
        try:
            new_id = await self._send({"type": "typing", "text": text, "entities": [info]})
        except aiohttp.ClientResponseError as exc:  # e.g. the user pressed stop (403): one message instead
            log.info("teams: streaming stopped (%s); the answer comes as one message", exc.status)
            self.streamable = False
            return
        if self.stream_id is None and new_id:
            self.stream_id = new_id
            await self.save_ref({"messages": self.posted, "stream": new_id})

    async def _typing(self) -> None:
        if time.monotonic() - self.last_typing < TYPING_INTERVAL:
            return
        self.last_typing = time.monotonic()
        try:
            await self._send({"type": "typing"})
        except Exception as exc:  # a typing indicator is worth no failure
            log.debug("teams: typing failed: %s", exc)

    # -- the answer -----------------------------------------------------------------------------------

    async def finish(self, reply: TurnReply) -> None:
        candidates = reply.candidates if reply.status == "ok" else []
        feedback = reply.status not in ("rejected",)
        activities = fmt.answer_activities(reply.text, candidates, feedback=feedback, note=_note(reply))
        await self._deliver(activities)

    async def fail(self, text: str) -> None:
        await self._deliver([fmt.text_activity(fmt.markdown_to_teams(text), ai_generated=False)])

    async def _deliver(self, activities: list[dict[str, Any]]) -> None:
        stream = self.stream_id or self.dead_stream
        if stream and activities and await self._end_stream(stream, activities[0]):
            activities = activities[1:]
        await self._replace(activities)

    async def _end_stream(self, stream_id: str, first: dict[str, Any]) -> bool:
        """The first part of the answer as the stream's final message; False when Teams no longer takes
        it (a dead attempt's stream that expired or was ended)."""
        if "text" not in first:
            first = {"type": "message", "text": "…", "entities": [dict(fmt.AI_ENTITY)]}
            ended_with_card = True
        else:
            ended_with_card = False
        final = {**first, "entities": [*first.get("entities", []), _final_info(stream_id)]}
        try:
            await self._send(final)
        except aiohttp.ClientResponseError as exc:
            log.info(
                "teams: could not end stream %s (%s); sending the answer as messages", stream_id, exc.status
            )
            return False
        if stream_id not in self.posted:
            self.posted.insert(0, stream_id)
            await self.save_ref({"messages": self.posted, "stream": stream_id})
        return not ended_with_card

    async def _replace(self, activities: list[dict[str, Any]]) -> None:
        """These activities in place of this answer's messages so far: update, then send, then delete."""
        stream = self.stream_id or self.dead_stream
        earlier = [m for m in self.posted if m != stream]
        for i, activity in enumerate(activities):
            if i < len(earlier):
                await self._update(earlier[i], activity)
            else:
                new_id = await self._send(activity)
                if new_id:
                    self.posted.append(new_id)
                    await self.save_ref({"messages": self.posted, "stream": stream})
        for message_id in earlier[len(activities) :]:
            try:
                await self._run(lambda context, m=message_id: context.delete_activity(m))
            except Exception as exc:
                log.info("teams: deleting a superseded part failed: %s", exc)

    # -- the connector --------------------------------------------------------------------------------

    async def _send(self, activity: dict[str, Any]) -> str | None:
        async def send(context: TurnContext) -> str | None:
            response = await context.send_activity(Activity.model_validate(activity))
            return response.id if response is not None else None

        return await self._run(send)

    async def _update(self, message_id: str, activity: dict[str, Any]) -> None:
        async def update(context: TurnContext) -> None:
            await context.update_activity(Activity.model_validate({**activity, "id": message_id}))

        await self._run(update)

    async def _run(self, operation: Callable[[TurnContext], Awaitable[T]]) -> T:
        """One proactive turn doing `operation`; 429/5xx retried after Retry-After (bounded)."""
        result: list[T] = []

        async def callback(context: TurnContext) -> None:
            result.append(await operation(context))

        for attempt in range(1, SEND_ATTEMPTS + 1):
            result.clear()
            try:
                await asyncio.wait_for(
                    self.channel.continue_conversation(self.reference, callback),
                    timeout=self.channel.settings.teams_send_timeout,
                )
                return result[0]
            except aiohttp.ClientResponseError as exc:
                wait = _retry_after(exc)
                if exc.status not in RETRYABLE or attempt == SEND_ATTEMPTS or wait > MAX_RETRY_AFTER:
                    raise
                log.info("teams: connector answered %s; retrying in %.1f s", exc.status, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _final_info(stream_id: str) -> dict[str, Any]:
    return {"type": "streaminfo", "streamId": stream_id, "streamType": "final"}


def _note(reply: TurnReply) -> str | None:
    return reply.notice or None


def _retry_after(exc: aiohttp.ClientResponseError) -> float:
    try:
        return float((exc.headers or {}).get("Retry-After", 1))
    except (TypeError, ValueError):
        return 1.0
