"""What every chat channel hands the delivery layer, and what the delivery layer hands back.

A channel translates: a platform event becomes an `Inbound` (who asked what, where to answer, the
platform's order), and a stored `reply_to` becomes a `ReplySink` that writes one answer back. Dedupe,
storing before the acknowledgement, leases, ordering, the concurrency limit and crash recovery live in
`assistant.delivery`, the same for every platform.

A sink may be rebuilt on another replica after a crash, from the stored `reply_to` and whatever the
dead attempt recorded through `save_ref` (the platform ids of the messages it had posted). Its
`finish` must therefore complete or replace those messages, never post the answer a second time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.engine import TurnReply

SaveRef = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Inbound:
    """One user message as the platform delivered it, translated to our words."""

    platform: str
    event_id: str  # the dedupe key: the same message delivered twice has the same id
    thread_key: str
    user_id: str | None
    text: str
    order_key: str  # the platform's order within the thread (sortable as a string)
    reply_to: dict[str, Any] = field(default_factory=dict)  # JSON: where and how to answer


class ReplySink(Protocol):
    """Writes one answer to the platform: progress, streamed text, then the final answer or a failure."""

    async def queued(self, ahead: int) -> None:
        """The turn waits for a free slot: tell the user they are in line (`ahead` turns before it)."""

    async def status(self, text: str) -> None:
        """Progress while tools run ("Searching CVs...")."""

    async def delta(self, text: str) -> None:
        """The next piece of a streamed answer."""

    async def retract(self) -> None:
        """Everything streamed so far is void (the stream broke; a complete answer follows)."""

    async def finish(self, reply: TurnReply) -> None:
        """The final answer, replacing whatever this turn showed so far (also after a crash)."""

    async def fail(self, text: str) -> None:
        """The turn could not be answered: say so, in place of anything shown so far."""


class Channel(Protocol):
    """A chat platform, as the delivery layer sees it."""

    platform: str

    def sink(
        self,
        reply_to: dict[str, Any],
        reply_ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> ReplySink:
        """A writer for one answer at `reply_to`. `reply_ref` is what an earlier attempt posted and
        recorded; `recovering` says an earlier attempt ran at all (it may have posted without recording)."""
        ...
