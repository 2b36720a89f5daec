"""Every acknowledged message answered once, in the platform's order, by whichever replica is alive.

Protocol (the same for every channel):

1. Accept. The channel's HTTP handler calls `accept(inbound)` before it acknowledges: the dedupe key and
   the message go into the database in one transaction (`Inbox.accept_many`: a burst of arrivals shares
   one transaction). A redelivery finds the key and is dropped. Only then does the platform get its 200,
   so an acknowledged message is a stored message; one the database refuses gets no 200.
2. Claim. Each replica runs one loop: whenever it has a free turn slot (`SKILLMATCH_MAX_CONCURRENT_TURNS`)
   it claims conversations that owe an answer, whose lease is free or expired and whose oldest owed
   message is past the order window (`Leases.claim_runnable`: one conditional UPDATE, no connection held
   afterwards). The loop wakes once a new message's order window has passed, when a slot frees up, and
   every `SKILLMATCH_DELIVERY_POLL_SECONDS` to pick up other replicas' work.
3. Serve. The lease holder answers the conversation's owed messages one by one, lowest platform order
   first (Slack `ts`, Teams timestamp). A message younger than `SKILLMATCH_ORDER_WINDOW_MS` waits that
   long, so that an earlier message still on its way overtakes it. Per message: start (attempt + 1),
   run the engine's turn with the channel's sink (status, stream), store the answer ("answered"), put it
   on the platform (`sink.finish`), mark it "ok". Then the lease is released and re-checked.
4. Heartbeat. One UPDATE per `lease/3` seconds renews all leases of the process; a lease it did not get
   back (or could not renew in time) cancels the turns under it: someone else owns them now.

Crash cases (process killed at any point) and what happens:
- before the acknowledgement: the platform retries (Slack) or the user sees an error; nothing is owed.
- after the acknowledgement, before or during the turn: the message is pending/processing; its lease
  expires; another replica claims it, drops what the dead attempt wrote to the history and runs the turn.
- while streaming: the sink recorded the streamed message (`save_ref`); the next attempt replaces it
  with the complete answer instead of posting a second one.
- after the answer was stored or posted, before "ok": the stored answer is delivered again into the same
  platform message(s), so the user sees one answer.
- a message that kills its worker twice (`SKILLMATCH_MAX_TURN_ATTEMPTS`) is failed with an apology, so a
  poisonous message cannot block its thread forever.

What it cannot cover: a process killed in the milliseconds between the platform creating a message and
the sink recording it. The next attempt cannot know that message and posts the answer again (Slack: the
answers carry the trace id as message metadata, so a second attempt looks for it first; a stream started
by the dead attempt has no metadata yet). And a replica that stalls longer than its lease (a frozen VM)
may finish a turn that another replica is already running; fenced writes make it stop at its next write.

Slots bound the work per process: a turn waiting for a slot waits durably (in the database), and the
user is told it is queued. Database calls of this module run on their own small thread pool, so an
acknowledgement never queues behind search or tool work.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, ParamSpec, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from assistant import messages
from assistant.channels.base import Channel, Inbound, ReplySink
from assistant.config import AssistantSettings
from assistant.delivery.inbox import Accepted, Inbox, Owed
from assistant.delivery.leases import Leases
from assistant.engine import Engine, TurnReply
from assistant.sessions import ANSWERED, PENDING, SessionStore
from assistant.telemetry import trace_id_for
from skillmatch.models import utcnow

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
Outcome = Literal["ok", "failed", "retry", "lost"]
ACK_THREADS = 2  # storing messages before the acknowledgement: never waits behind any other work
DB_THREADS = 3  # claims, leases and message states: not behind searches in the default executor
DELIVERY_RETRIES = 5  # extra attempts to post a stored answer while the platform fails (backing off)
MAX_BACKOFF = 30.0  # seconds between attempts to post a stored answer
CLAIM_BATCH = 0.005  # seconds a wake-up waits for more arrivals before claiming
MAX_BATCH = 64  # messages stored in one transaction


def replica_id() -> str:
    """Unique per process start: host, pid and a random part (a restarted pod may reuse its pid)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class AcceptResult:
    accepted: Accepted | None  # None: seen before, nothing to do

    @property
    def duplicate(self) -> bool:
        return self.accepted is None


class Delivery:
    def __init__(
        self,
        *,
        settings: AssistantSettings,
        sessions: sessionmaker[Session],
        store: SessionStore,
        engine: Engine,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        prepare: Callable[[int], None] | None = None,
    ) -> None:
        """`prepare(message_id)`: blocking work on a stored message before its turn (seeding a message
        that names a Jira ticket with the ticket's request); its failure never fails the turn."""
        self.settings = settings
        self.engine = engine
        self.prepare = prepare
        self.owner = owner or replica_id()
        self.leases = Leases(sessions, owner=self.owner, ttl_seconds=settings.lease_seconds, clock=clock)
        self.inbox = Inbox(sessions, store, self.leases)
        self.channels: dict[str, Channel] = {}
        self.slots = settings.max_concurrent_turns
        self._db = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="delivery-db")
        self._ack_db = ThreadPoolExecutor(max_workers=ACK_THREADS, thread_name_prefix="delivery-ack")
        self._serving: dict[int, asyncio.Task[None]] = {}  # conversation id -> its task
        self._current: dict[int, Owed] = {}  # conversation id -> the message being answered
        self._tasks: set[asyncio.Task[Any]] = set()  # everything else spawned (notices, loops)
        self._wake = asyncio.Event()
        self._arrivals: list[tuple[Inbound, str, asyncio.Future[Accepted | None]]] = []
        self._storing = 0  # tasks storing arrivals (at most ACK_THREADS)
        self._stopping = False
        self._loops: list[asyncio.Task[None]] = []
        self._renewed_at = time.monotonic()

    def register(self, channel: Channel) -> None:
        self.channels[channel.platform] = channel

    # -- the acknowledgement path -----------------------------------------------------------------------

    async def accept(self, inbound: Inbound) -> AcceptResult:
        """Store the message (or recognise a redelivery); call before acknowledging the platform."""
        if "\x00" in inbound.text:  # PostgreSQL refuses NUL in text; it is never meaningful in a request
            inbound = dataclasses.replace(inbound, text=inbound.text.replace("\x00", ""))
        stored: asyncio.Future[Accepted | None] = asyncio.get_running_loop().create_future()
        self._arrivals.append((inbound, trace_id_for(inbound.platform, inbound.event_id), stored))
        if self._storing < ACK_THREADS:
            self._storing += 1
            self.spawn(self._store_arrivals())
        accepted = await stored
        if accepted is not None:
            # Claimed once the order window has passed: an earlier message still on its way comes
            # first, and a burst of arrivals costs no claiming work while it is being acknowledged.
            asyncio.get_running_loop().call_later(self._order_window() + CLAIM_BATCH, self._wake.set)
            # A follow-up in a thread this replica is answering waits for its turn, not for a slot.
            if len(self._serving) >= self.slots and accepted.conversation_id not in self._serving:
                self.spawn(self._tell_queued(inbound, accepted))
        return AcceptResult(accepted)

    async def _store_arrivals(self) -> None:
        """Store what has arrived, a burst per transaction: while one batch commits, the next gathers,
        so a burst costs a few commits, not one each, and a lone message waits for nothing."""
        loop = asyncio.get_running_loop()
        try:
            while self._arrivals:
                batch, self._arrivals = self._arrivals[:MAX_BATCH], self._arrivals[MAX_BATCH:]
                batch.sort(key=lambda item: item[0].thread_key)  # one lock order: no deadlocks
                items = [(inbound, trace_id) for inbound, trace_id, _ in batch]
                try:
                    results = await loop.run_in_executor(self._ack_db, self.inbox.accept_many, items)
                except Exception as exc:
                    if len(batch) == 1:
                        log.error("delivery: storing a message failed: %s", type(exc).__name__)
                        batch[0][2].set_exception(_stored_error())
                        continue
                    results = await self._store_one_by_one(items)  # one bad message fails alone
                for (_, _, stored), result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        stored.set_exception(result)
                    else:
                        stored.set_result(result)
        finally:
            self._storing -= 1

    async def _store_one_by_one(
        self, items: list[tuple[Inbound, str]]
    ) -> list[Accepted | BaseException | None]:
        loop = asyncio.get_running_loop()
        results: list[Accepted | BaseException | None] = []
        for inbound, trace_id in items:
            try:
                one = functools.partial(self.inbox.accept, inbound, trace_id=trace_id)
                results.append(await loop.run_in_executor(self._ack_db, one))
            except Exception as exc:
                log.error("delivery: storing a message failed: %s", type(exc).__name__)
                results.append(_stored_error())
        return results

    async def _tell_queued(self, inbound: Inbound, accepted: Accepted) -> None:
        ahead = await self._call(self.inbox.waiting_ahead, accepted.message_id)
        sink = self._sink(inbound.platform, inbound.reply_to, None, _no_ref)
        await sink.queued(ahead)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start claiming and heartbeating (after the HTTP server is up: readiness never waits for this)."""
        if not self._loops:
            self._stopping = False
            self._loops = [
                asyncio.ensure_future(self._claim_loop()),
                asyncio.ensure_future(self._heartbeat()),
            ]

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let running turns finish for `grace` seconds, hand the rest back at once."""
        self._stopping = True
        self._wake.set()
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        serving = set(self._serving.values())
        if serving:
            await asyncio.wait(serving, timeout=grace)
        for conversation_id, task in list(self._serving.items()):
            task.cancel()
            owed = self._current.get(conversation_id)
            with contextlib.suppress(Exception):
                if owed is not None:
                    await self._call(self.inbox.requeue, owed)
                await self._call(self.leases.release, conversation_id)
        await asyncio.gather(*self._serving.values(), return_exceptions=True)
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await self.drain(timeout=5.0)
        self._db.shutdown(wait=False, cancel_futures=True)
        self._ack_db.shutdown(wait=False, cancel_futures=True)

    @property
    def in_flight(self) -> int:
        return len(self._serving) + len(self._tasks)

    @property
    def running(self) -> int:
        return len(self._serving)

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        """A background task the process keeps a reference to (and waits for on shutdown)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - bounds a wait over many tasks
        """Until this process has nothing left to do: no task running and nothing it could claim (tests;
        shutdown)."""
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0)
        while (left := deadline - time.monotonic()) > 0:
            busy = {t for t in (*self._tasks, *self._serving.values()) if t is not asyncio.current_task()}
            if not busy:
                if self._stopping or not self.channels:
                    return
                await self._claim_some(settled_only=False)
                if not self._serving:
                    return
                continue
            await asyncio.wait(busy, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(0)

    # -- claiming ----------------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(CLAIM_BATCH)  # a burst of arrivals is claimed in one statement
            self._wake.clear()
            try:
                await self._claim_some()
            except Exception:
                log.exception("delivery: claiming failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.delivery_poll_seconds)

    async def _claim_some(self, *, settled_only: bool = True) -> None:
        """Claim what this process has slots for; with `settled_only`, only threads whose oldest owed
        message is past the order window (`_serve` waits out the rest of the window either way)."""
        free = self.slots - len(self._serving)
        if free <= 0 or self._stopping:
            return
        claimed = await self._call(
            self.leases.claim_runnable,
            free,
            platforms=list(self.channels),
            exclude=list(self._serving),
            arrived_before=utcnow() - timedelta(seconds=self._order_window()) if settled_only else None,
        )
        for conversation_id in claimed:
            task = asyncio.ensure_future(self._serve(conversation_id))
            self._serving[conversation_id] = task
            task.add_done_callback(functools.partial(self._served, conversation_id))

    def _served(self, conversation_id: int, task: asyncio.Task[None]) -> None:
        if self._serving.get(conversation_id) is task:
            del self._serving[conversation_id]
        self._current.pop(conversation_id, None)
        self._wake.set()  # a slot is free, and this thread may have new messages since the release
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery: conversation %s failed: %r", conversation_id, task.exception())

    # -- serving a conversation ----------------------------------------------------------------------------

    async def _serve(self, conversation_id: int) -> None:
        try:
            while not self._stopping:
                owed = await self._call(self.inbox.next, conversation_id)
                if owed is None:
                    return
                if owed.status == PENDING and (wait := self._order_wait(owed)) > 0:
                    await asyncio.sleep(wait)  # an earlier message may still be on its way
                    continue
                self._current[conversation_id] = owed
                outcome = await self._deliver(owed)
                if outcome == "lost":
                    log.warning("delivery: lost the lease of conversation %s", conversation_id)
                    return
                if outcome == "retry":  # the platform refused the answer: hold the lease, try again later
                    await asyncio.sleep(min(MAX_BACKOFF, 2.0 ** (owed.attempts + 1)))
        finally:
            self._current.pop(conversation_id, None)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._call(self.leases.release, conversation_id))

    def _order_window(self) -> float:
        return self.settings.order_window_ms / 1000

    def _order_wait(self, owed: Owed) -> float:
        return self._order_window() - (utcnow() - owed.arrived_at).total_seconds()

    async def _deliver(self, owed: Owed) -> Outcome:
        async def save_ref(ref: dict[str, Any]) -> None:
            await self._call(self.inbox.save_ref, owed, ref)

        sink = self._sink(
            owed.platform, owed.reply_to, owed.reply_ref, save_ref, recovering=owed.attempts > 0
        )
        attempt = await self._call(self.inbox.start, owed)
        if attempt is None:
            return "lost"
        limit = self.settings.max_turn_attempts + (DELIVERY_RETRIES if owed.status == ANSWERED else 0)
        if attempt > limit:
            log.error("delivery: message %s failed %s times; giving up", owed.id, attempt - 1)
            return await self._give_up(owed, sink, messages.gave_up_text())
        if attempt > 1:
            log.warning("delivery: message %s, attempt %s (an earlier one was interrupted)", owed.id, attempt)
        if owed.status == ANSWERED and owed.reply:
            reply = TurnReply(**owed.reply)
        else:
            produced = await self._answer(owed, sink)
            if produced is None:
                return await self._give_up(owed, sink, messages.error_text())
            reply = produced
            if not await self._call(self.inbox.answered, owed, dataclasses.asdict(reply)):
                return "lost"
        try:
            await sink.finish(reply)
        except Exception:
            # Stays "answered": the next attempt delivers the stored answer again, into the same message.
            log.exception("delivery: posting the answer to message %s failed", owed.id)
            return "retry"
        closed = self.inbox.failed if reply.status == "rejected" else self.inbox.done
        return "ok" if await self._call(closed, owed) else "lost"

    async def _answer(self, owed: Owed, sink: ReplySink) -> TurnReply | None:
        refusal = messages.refuse_request(owed.content or "", max_chars=self.settings.max_message_chars)
        trace_id = owed.trace_id or ""
        if refusal is not None:
            return TurnReply(refusal, trace_id, "rejected", error="refused")
        if self.prepare is not None:
            try:
                await asyncio.to_thread(self.prepare, owed.id)
            except Exception:
                log.exception("delivery: preparing message %s failed; answering it as it is", owed.id)
        try:
            return await self.engine.run_message(
                owed.id, on_status=sink.status, on_delta=sink.delta, on_retract=sink.retract
            )
        except Exception:
            log.exception("delivery: the turn for message %s failed", owed.id)
            return None

    async def _give_up(self, owed: Owed, sink: ReplySink, text: str) -> Outcome:
        if not await self._call(self.inbox.failed, owed):
            return "lost"
        try:
            await sink.fail(text)
        except Exception:
            log.exception("delivery: could not even tell the user that message %s failed", owed.id)
        return "failed"

    def _sink(
        self,
        platform: str,
        reply_to: dict[str, Any],
        reply_ref: dict[str, Any] | None,
        save_ref: Callable[[dict[str, Any]], Awaitable[None]],
        *,
        recovering: bool = False,
    ) -> ReplySink:
        channel = self.channels.get(platform)
        if channel is None:
            raise LookupError(f"no channel for platform {platform!r} in this process")
        return channel.sink(reply_to, reply_ref, save_ref, recovering=recovering)

    # -- heartbeat --------------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            held = set(self._serving)
            try:
                kept = await asyncio.wait_for(self._call(self.leases.renew, held), timeout=interval)
            except Exception as exc:
                log.error("delivery: renewing leases failed: %s", exc)
                if time.monotonic() - self._renewed_at > self.settings.lease_seconds * 0.8:
                    kept = set()  # cannot prove ownership any longer: stop before someone takes over
                else:
                    continue
            else:
                self._renewed_at = time.monotonic()
            for conversation_id in held - kept:
                task = self._serving.get(conversation_id)
                if task is not None:
                    log.warning("delivery: lease of conversation %s lost; stopping its turn", conversation_id)
                    task.cancel()

    # -- helpers ----------------------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, functools.partial(fn, *args, **kwargs))


async def _no_ref(_: dict[str, Any]) -> None:
    """A queued notice is its own message: nothing to remember for the answer."""


class MessageNotStored(RuntimeError):
    """The database did not take the message: the platform must not get an acknowledgement."""


def _stored_error() -> MessageNotStored:
    return MessageNotStored("the message could not be stored; the platform will deliver it again")


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("delivery: background task failed: %r", task.exception())
