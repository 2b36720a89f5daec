"""The delivery protocol in one process, on SQLite and PostgreSQL: store-before-ack dedupe, leases and
takeover, fenced writes, re-delivery of a stored answer, the attempt limit, backpressure, shutdown.

The channel is a recorder of what a platform would be asked to show; the engine is the real one, with
the real openai SDK against the fake model server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, update

from assistant.channels.base import Inbound, SaveRef
from assistant.config import AssistantSettings
from assistant.delivery import Delivery, Leases
from assistant.engine import TurnReply
from assistant.runtime import Runtime, build_runtime
from skillmatch.models import Conversation, Message
from tests.conftest import TODAY
from tests.fakes.openai_server import FakeOpenAI
from tests.replicas import wait_until


@dataclass
class Recorded:
    reply_to: dict[str, Any]
    ref: dict[str, Any] | None
    recovering: bool
    events: list[tuple[str, Any]] = field(default_factory=list)


class RecordingChannel:
    """A platform that shows what it is asked to: one record per answer attempt."""

    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.sinks: list[Recorded] = []

    def sink(
        self,
        reply_to: dict[str, Any],
        reply_ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> Any:
        record = Recorded(reply_to, reply_ref, recovering)
        self.sinks.append(record)
        return _Sink(record, save_ref)

    def finished(self) -> list[TurnReply]:
        return [value for s in self.sinks for kind, value in s.events if kind == "finish"]

    def events(self, kind: str) -> list[Any]:
        return [value for s in self.sinks for k, value in s.events if k == kind]


@dataclass
class _Sink:
    record: Recorded
    save_ref: SaveRef

    async def queued(self, ahead: int) -> None:
        self.record.events.append(("queued", ahead))

    async def status(self, text: str) -> None:
        self.record.events.append(("status", text))

    async def delta(self, text: str) -> None:
        if not any(k == "delta" for k, _ in self.record.events):
            await self.save_ref({"messages": ["m1"]})
        self.record.events.append(("delta", text))

    async def retract(self) -> None:
        self.record.events.append(("retract", None))

    async def finish(self, reply: TurnReply) -> None:
        self.record.events.append(("finish", reply))

    async def fail(self, text: str) -> None:
        self.record.events.append(("fail", text))


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.responder = lambda body: (
            "Answer to: " + next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        )
        yield fake


@pytest.fixture
def runtime(database_url: str, model: FakeOpenAI) -> Iterator[Runtime]:
    settings = AssistantSettings(
        DATABASE_URL=database_url,
        OPENAI_API_KEY=model.api_key,
        OPENAI_BASE_URL=model.base_url,
        SKILLMATCH_LLM_PROVIDERS="openai",
        SKILLMATCH_ORDER_WINDOW_MS=0,
        SKILLMATCH_LEASE_SECONDS=3,
        SKILLMATCH_DELIVERY_POLL_SECONDS=0.1,
    )
    rt = build_runtime(settings, today=lambda: TODAY)
    yield rt
    rt.close()


def make_delivery(runtime: Runtime, channel: RecordingChannel, **settings: Any) -> Delivery:
    config = runtime.settings.model_copy(update=settings)
    delivery = Delivery(
        settings=config, sessions=runtime.sessions, store=runtime.store, engine=runtime.engine
    )
    delivery.register(channel)
    return delivery


@pytest.fixture
async def delivery(runtime: Runtime) -> AsyncIterator[tuple[Delivery, RecordingChannel]]:
    channel = RecordingChannel()
    d = make_delivery(runtime, channel)
    yield d, channel
    await d.stop(grace=1)


def inbound(text: str, *, thread: str = "t1", event: str | None = None, order: str = "0001") -> Inbound:
    return Inbound(
        platform="test",
        event_id=event or f"ev-{thread}-{order}",
        thread_key=f"test:{thread}",
        user_id="U1",
        text=text,
        order_key=order,
        reply_to={"where": thread},
    )


def statuses(runtime: Runtime) -> list[tuple[str | None, str]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(Message.content, Message.status).where(Message.role == "user").order_by(Message.id)
        )
        return [(content, status) for content, status in rows]


async def test_a_message_is_stored_with_its_dedupe_key_and_a_redelivery_is_a_no_op(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, _ = delivery
    first = await d.accept(inbound("Java architect", event="Ev1"))
    again = await d.accept(inbound("Java architect", event="Ev1"))
    assert not first.duplicate and again.duplicate
    with runtime.sessions() as session:
        row = session.get_one(Message, first.accepted.message_id)  # type: ignore[union-attr]
        assert (row.status, row.order_key, row.reply_to) == ("pending", "0001", {"where": "t1"})


async def test_messages_of_a_thread_are_answered_once_each_in_the_platforms_order(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, channel = delivery
    for order in ("0003", "0001", "0002"):  # arrival order differs from the platform's order
        await d.accept(inbound(f"question {order}", order=order))
    d.start()
    await d.drain(timeout=20)
    assert [r.text for r in channel.finished()] == [
        f"Answer to: question {o}" for o in ("0001", "0002", "0003")
    ]
    assert [s for _, s in statuses(runtime)] == ["ok", "ok", "ok"]


async def test_only_one_replica_wins_a_lease_and_an_expired_lease_is_taken_over(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, _ = delivery
    accepted = (await d.accept(inbound("who wins?", thread="lease"))).accepted
    assert accepted is not None
    conversation = accepted.conversation_id
    replicas = [Leases(runtime.sessions, owner=f"r{i}", ttl_seconds=30) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        won = list(pool.map(lambda lease: lease.claim_runnable(5, platforms=["test"]), replicas))
    assert sorted(won) == [[]] * 5 + [[conversation]]
    winner = replicas[won.index([conversation])]
    other = replicas[(won.index([conversation]) + 1) % 6]
    assert other.claim_runnable(5, platforms=["test"]) == []
    expire(runtime, conversation)  # the winner died: nobody renews
    assert other.claim_runnable(5, platforms=["test"]) == [conversation]
    assert winner.renew([conversation]) == set()  # it learns it lost the lease
    assert other.renew([conversation]) == {conversation}


async def test_a_worker_that_lost_its_lease_cannot_mark_the_message(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, _ = delivery
    accepted = (await d.accept(inbound("lost lease"))).accepted
    assert accepted is not None
    assert d.leases.claim_runnable(1, platforms=["test"]) == [accepted.conversation_id]
    owed = d.inbox.next(accepted.conversation_id)
    assert owed is not None and d.inbox.start(owed) == 1
    expire(runtime, accepted.conversation_id)
    thief = Leases(runtime.sessions, owner="other", ttl_seconds=30)
    assert thief.claim_runnable(1, platforms=["test"]) == [accepted.conversation_id]
    assert d.inbox.answered(owed, {"text": "late"}) is False
    assert d.inbox.done(owed) is False
    assert statuses(runtime) == [("lost lease", "processing")]


async def test_a_stored_answer_is_delivered_again_without_another_model_call(
    runtime: Runtime, model: FakeOpenAI, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, channel = delivery
    accepted = (await d.accept(inbound("answered before the crash"))).accepted
    assert accepted is not None
    stored = TurnReply("The stored answer", "a" * 32, "ok").__dict__
    with runtime.sessions.begin() as session:
        session.execute(
            update(Message)
            .where(Message.id == accepted.message_id)
            .values(status="answered", attempts=1, reply=stored, reply_ref={"messages": ["ts1"]})
        )
    d.start()
    await d.drain(timeout=20)
    assert model.chat_requests() == []
    assert [r.text for r in channel.finished()] == ["The stored answer"]
    assert channel.sinks[-1].ref == {"messages": ["ts1"]} and channel.sinks[-1].recovering
    assert statuses(runtime) == [("answered before the crash", "ok")]


async def test_a_message_that_keeps_killing_its_worker_is_given_up_and_the_thread_goes_on(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, channel = delivery
    poison = (await d.accept(inbound("poison", order="0001"))).accepted
    await d.accept(inbound("next question", order="0002"))
    assert poison is not None
    with runtime.sessions.begin() as session:  # two workers died on it already
        session.execute(
            update(Message).where(Message.id == poison.message_id).values(status="processing", attempts=2)
        )
    d.start()
    await d.drain(timeout=20)
    assert channel.events("fail") and "failed twice" in channel.events("fail")[0]
    assert [r.text for r in channel.finished()] == ["Answer to: next question"]
    assert statuses(runtime) == [("poison", "failed"), ("next question", "ok")]


async def test_empty_and_oversized_messages_get_a_refusal_and_stay_out_of_the_history(
    runtime: Runtime, model: FakeOpenAI, delivery: tuple[Delivery, RecordingChannel]
) -> None:
    d, channel = delivery
    await d.accept(inbound("   ", order="0001"))
    await d.accept(inbound("x" * 10_000, order="0002"))
    d.start()
    await d.drain(timeout=20)
    replies = channel.finished()
    assert [r.status for r in replies] == ["rejected", "rejected"]
    assert "10,000 characters" in replies[1].text
    assert model.chat_requests() == []
    assert [s for _, s in statuses(runtime)] == ["failed", "failed"]


async def test_when_every_slot_is_busy_the_user_is_told_the_request_is_queued(
    runtime: Runtime, model: FakeOpenAI
) -> None:
    channel = RecordingChannel()
    d = make_delivery(runtime, channel, max_concurrent_turns=1)
    release = threading.Event()
    model.responder = lambda body: (release.wait(20), "done")[1]
    try:
        d.start()
        await d.accept(inbound("first", thread="a"))
        await wait_until(lambda: bool(model.chat_requests()), 20, "the first turn to reach the model")
        await d.accept(inbound("second", thread="b"))
        await wait_until(lambda: len(channel.events("queued")) == 1, 20, "a queued notice")
        await d.accept(inbound("third", thread="c"))
        await wait_until(lambda: len(channel.events("queued")) == 2, 20, "another queued notice")
        assert channel.events("queued") == [0, 1]  # waiting ahead of each: none, then the second
        release.set()
        await d.drain(timeout=20)
        assert len(channel.finished()) == 3
    finally:
        release.set()
        await d.stop(grace=1)


async def test_stopping_hands_an_interrupted_turn_back_at_once(runtime: Runtime, model: FakeOpenAI) -> None:
    channel = RecordingChannel()
    d = make_delivery(runtime, channel)
    release = threading.Event()
    model.responder = lambda body: (release.wait(20), "late")[1]
    try:
        accepted = (await d.accept(inbound("interrupted"))).accepted
        assert accepted is not None
        d.start()
        await wait_until(lambda: bool(model.chat_requests()), 20, "the model call")
        await d.stop(grace=0)
    finally:
        release.set()
    assert statuses(runtime) == [("interrupted", "pending")]
    with runtime.sessions() as session:
        row = session.get_one(Conversation, accepted.conversation_id)
        message = session.get_one(Message, accepted.message_id)
        assert row.lease_owner is None and message.attempts == 0
    assert channel.finished() == []


async def test_a_replica_only_claims_threads_of_the_platforms_it_serves(runtime: Runtime) -> None:
    slack_only = make_delivery(runtime, RecordingChannel("slack"))
    other = make_delivery(runtime, RecordingChannel("test"))
    await other.accept(inbound("a Teams-like thread"))
    assert await asyncio.to_thread(slack_only.leases.claim_runnable, 10, platforms=["slack"]) == []
    assert len(await asyncio.to_thread(other.leases.claim_runnable, 10, platforms=["test"])) == 1


async def test_a_turn_whose_lease_was_taken_stops_without_answering(
    runtime: Runtime, model: FakeOpenAI
) -> None:
    channel = RecordingChannel()
    d = make_delivery(runtime, channel, lease_seconds=0.6)
    release = threading.Event()
    model.responder = lambda body: (release.wait(20), "too late")[1]
    try:
        accepted = (await d.accept(inbound("stolen"))).accepted
        assert accepted is not None
        d.start()
        await wait_until(lambda: bool(model.chat_requests()), 20, "the model call")
        with runtime.sessions.begin() as session:  # another replica took the thread over
            session.execute(
                update(Conversation)
                .where(Conversation.id == accepted.conversation_id)
                .values(lease_owner="thief")
            )
        await wait_until(lambda: d.running == 0, 20, "the turn to stop")
        assert channel.finished() == [] and channel.events("fail") == []
    finally:
        release.set()
        await d.stop(grace=1)


def expire(runtime: Runtime, conversation_id: int) -> None:
    from datetime import timedelta

    from skillmatch.models import utcnow

    with runtime.sessions.begin() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(lease_expires_at=utcnow() - timedelta(minutes=5))
        )


async def test_a_message_that_cannot_be_stored_fails_alone_and_a_nul_byte_is_no_reason_to_fail(
    runtime: Runtime, delivery: tuple[Delivery, RecordingChannel], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, _ = delivery
    from assistant.delivery.dispatcher import MessageNotStored
    from assistant.delivery.inbox import Inbox

    real = Inbox._accept_in

    def failing(self: Inbox, session: Any, inbound: Inbound, trace_id: str) -> Any:
        if inbound.text == "the database refuses this one":
            raise RuntimeError("injected database failure")
        return real(self, session, inbound, trace_id)

    monkeypatch.setattr(Inbox, "_accept_in", failing)
    burst = [
        inbound("first", thread="a"),
        inbound("the database refuses this one", thread="b"),
        inbound("with a NUL\x00 byte", thread="c"),
    ]
    results = await asyncio.gather(*(d.accept(m) for m in burst), return_exceptions=True)
    assert isinstance(results[1], MessageNotStored)  # no acknowledgement: the platform delivers it again
    assert not isinstance(results[0], BaseException) and not isinstance(results[2], BaseException)
    assert sorted(c for c, _ in statuses(runtime)) == ["first", "with a NUL byte"]
