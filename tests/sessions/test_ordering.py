"""ThreadSerializer: each message of a thread handled once, in arrival order; threads independent.

In one process on SQLite and PostgreSQL; across real processes on PostgreSQL. No sleeps: handlers wait
on events or on database state, each with a timeout.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text

from assistant.sessions import (
    FAILED,
    OK,
    PENDING,
    RETRY,
    SessionStore,
    ThreadSerializer,
    thread_key_slack,
)
from assistant.sessions.serializer import advisory_key
from skillmatch.db import session_factory, session_scope
from skillmatch.models import Message

KEY = thread_key_slack("T1", "C1", "1.0")
OTHER = thread_key_slack("T1", "C1", "2.0")
WORKER = Path(__file__).with_name("ordering_worker.py")
WAIT = 20.0


@pytest.fixture
def store(engine: Engine) -> SessionStore:
    return SessionStore(session_factory(engine))


@pytest.fixture
def serializer(engine: Engine) -> ThreadSerializer:
    return ThreadSerializer(session_factory(engine))


def statuses(store: SessionStore, conversation_id: int) -> dict[int, str]:
    with session_scope(store.sessions) as session:
        rows = session.execute(
            select(Message.id, Message.status).where(Message.conversation_id == conversation_id)
        )
        return {message_id: status for message_id, status in rows}


async def pending(store: SessionStore, conversation_id: int, text_: str) -> int:
    return await asyncio.to_thread(store.append, conversation_id, "user", text_, status=PENDING)


def recorder(seen: list[int]) -> Callable[[int], Awaitable[None]]:
    async def handler(message_id: int) -> None:
        seen.append(message_id)

    return handler


async def test_messages_of_a_thread_are_handled_once_each_in_arrival_order(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    all_stored = asyncio.Event()
    stored: list[int] = []
    seen: list[int] = []

    async def handler(message_id: int) -> None:
        # The first turn holds the thread until every message has arrived: all other submits must hand
        # their message to this holder instead of running it themselves.
        await asyncio.wait_for(all_stored.wait(), WAIT)
        seen.append(message_id)

    async def arrive(i: int) -> None:
        message_id = await pending(store, conv.id, f"question {i}")
        stored.append(message_id)
        if len(stored) == 20:
            all_stored.set()
        await serializer.submit(KEY, message_id, handler)

    await asyncio.gather(*(arrive(i) for i in range(20)))
    assert seen == sorted(stored)
    assert set(statuses(store, conv.id).values()) == {OK}


async def test_different_threads_run_at_the_same_time(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    started = {KEY: asyncio.Event(), OTHER: asyncio.Event()}

    def handler_for(mine: str, theirs: str) -> Callable[[int], Awaitable[None]]:
        async def handler(message_id: int) -> None:
            started[mine].set()
            await asyncio.wait_for(started[theirs].wait(), WAIT)  # times out if threads were serialised

        return handler

    a = store.open(KEY, platform="slack", user_id="U1")
    b = store.open(OTHER, platform="slack", user_id="U1")
    ma, mb = await pending(store, a.id, "a"), await pending(store, b.id, "b")
    await asyncio.gather(
        serializer.submit(KEY, ma, handler_for(KEY, OTHER)),
        serializer.submit(OTHER, mb, handler_for(OTHER, KEY)),
    )
    assert statuses(store, a.id) == {ma: OK} and statuses(store, b.id) == {mb: OK}


async def test_a_message_arriving_as_the_holder_finishes_is_not_stranded(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    """The lost wake-up: the holder found nothing more to do, then a message came and could not lock."""
    conv = store.open(KEY, platform="slack", user_id="U1")
    loop = asyncio.get_running_loop()
    first = await pending(store, conv.id, "first")
    late: list[int] = []
    claim_next = serializer.store.claim_next

    def claim_then_arrive(conversation_id: int) -> int | None:
        claimed = claim_next(conversation_id)
        if claimed is None and not late:  # the drain is over but the lock is still held
            late.append(store.append(conv.id, "user", "late", status=PENDING))
            asyncio.run_coroutine_threadsafe(serializer.submit(KEY, late[0], handler), loop).result(WAIT)
            assert seen == [first]  # that submit could not lock, so it left the message to the holder
        return claimed

    seen: list[int] = []
    handler = recorder(seen)
    serializer.store.claim_next = claim_then_arrive  # type: ignore[method-assign]
    await serializer.submit(KEY, first, handler)
    assert seen == [first, late[0]]


async def test_a_failing_turn_fails_only_its_message(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    ids = [await pending(store, conv.id, f"q{i}") for i in range(3)]
    seen: list[int] = []

    async def handler(message_id: int) -> None:
        seen.append(message_id)
        await asyncio.to_thread(store.append, conv.id, "assistant", f"answer {message_id}")
        if message_id == ids[1]:
            raise RuntimeError("tool exploded")

    await serializer.submit(KEY, ids[0], handler)
    assert seen == ids
    assert [statuses(store, conv.id)[i] for i in ids] == [OK, FAILED, OK]
    assert [m["content"] for m in store.history(conv.id, budget_tokens=10_000)] == [
        "q0",
        f"answer {ids[0]}",
        "q2",
        f"answer {ids[2]}",
    ]


async def test_a_question_sent_during_a_turn_comes_after_its_answer(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    first = await pending(store, conv.id, "Who knows Rust?")
    seen_history: dict[int, list[str | None]] = {}
    second: list[int] = []

    async def handler(message_id: int) -> None:
        history = await asyncio.to_thread(store.history, conv.id, budget_tokens=10_000)
        seen_history[message_id] = [m["content"] for m in history]
        if message_id == first:  # the follow-up arrives (and is stored) before the answer is written
            second.append(await pending(store, conv.id, "Only in Berlin"))
            await serializer.submit(KEY, second[0], handler)  # returns at once: this turn holds the thread
        await asyncio.to_thread(store.append, conv.id, "assistant", f"answer to {message_id}")

    await serializer.submit(KEY, first, handler)
    assert seen_history == {
        first: ["Who knows Rust?"],
        second[0]: ["Who knows Rust?", f"answer to {first}", "Only in Berlin"],
    }


async def test_a_turn_left_processing_by_a_dead_worker_runs_again(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    orphan = await pending(store, conv.id, "asked before the crash")
    assert store.claim_next(conv.id) == orphan  # a worker started its turn ...
    store.append(conv.id, "assistant", "half an answer")  # ... wrote part of it and died
    later = await pending(store, conv.id, "asked after the crash")
    seen: list[int] = []

    await serializer.submit(KEY, later, recorder(seen))
    assert seen == [orphan, later]
    assert set(statuses(store, conv.id).values()) == {OK, FAILED}  # the dead attempt's reply failed
    history = store.history(conv.id, budget_tokens=10_000)
    assert [m["content"] for m in history] == ["asked before the crash", "asked after the crash"]


async def test_a_turn_that_kills_its_worker_twice_is_given_up(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    poison = await pending(store, conv.id, "poison")
    assert store.claim_next(conv.id) == poison
    assert store.reclaim(conv.id) == [poison]  # first death: queued again ...
    assert statuses(store, conv.id)[poison] == RETRY
    assert store.claim_next(conv.id) == poison  # ... second attempt, which dies too
    later = await pending(store, conv.id, "next")
    seen: list[int] = []

    await serializer.submit(KEY, later, recorder(seen))
    assert seen == [later]
    assert statuses(store, conv.id) == {poison: FAILED, later: OK}


async def test_resume_drains_threads_left_unfinished(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    a = store.open(KEY, platform="slack", user_id="U1")
    b = store.open(OTHER, platform="slack", user_id="U1")
    never_submitted = await pending(store, a.id, "stored, then the process died")
    running = await pending(store, b.id, "running when the process died")
    store.claim_next(b.id)
    seen: list[int] = []

    assert await serializer.resume(recorder(seen)) == 2
    assert sorted(seen) == sorted([never_submitted, running])
    assert await serializer.resume(recorder(seen)) == 0


async def test_submit_checks_the_thread_of_the_message(
    store: SessionStore, serializer: ThreadSerializer
) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    message_id = await pending(store, conv.id, "q")
    with pytest.raises(ValueError, match="belongs to"):
        await serializer.submit(OTHER, message_id, recorder([]))
    with pytest.raises(LookupError):
        await serializer.submit(KEY, message_id + 1000, recorder([]))


# -- PostgreSQL: lock owners in different sessions and processes -----------------------------------------


@pytest.mark.postgres
async def test_a_message_is_handed_over_between_lock_owners(postgres_url: str) -> None:
    """Two serializers = two lock owners, as two replicas would be: the busy one's message is not lost."""
    from skillmatch.db import create_db_engine, upgrade

    engine = create_db_engine(postgres_url)
    upgrade(engine)
    try:
        sessions = session_factory(engine)
        store, one, two = SessionStore(sessions), ThreadSerializer(sessions), ThreadSerializer(sessions)
        conv = store.open(KEY, platform="slack", user_id="U1")
        first = await pending(store, conv.id, "first")
        in_turn, go_on = asyncio.Event(), asyncio.Event()
        seen: list[int] = []

        async def handler(message_id: int) -> None:
            seen.append(message_id)
            if message_id == first:
                in_turn.set()
                await asyncio.wait_for(go_on.wait(), WAIT)

        holder = asyncio.create_task(one.submit(KEY, first, handler))
        await asyncio.wait_for(in_turn.wait(), WAIT)
        second = await pending(store, conv.id, "second")
        await two.submit(KEY, second, handler)  # cannot lock: returns without running it
        assert seen == [first]
        go_on.set()
        await asyncio.wait_for(holder, WAIT)
        assert seen == [first, second]
    finally:
        engine.dispose()


def run_workers(*commands: list[str]) -> None:
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), *c], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for c in commands
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output


@pytest.mark.postgres
def test_two_processes_submitting_to_one_thread(postgres_url: str, tmp_path: Path) -> None:
    from skillmatch.db import create_db_engine, upgrade

    count = 25
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text("create table handled (seq bigserial primary key, message_id bigint, tag text, pid int)")
        )
    try:
        run_workers(
            *(["submit", postgres_url, KEY, tag, str(count), str(tmp_path)] for tag in ("A", "B")),
        )
        with engine.connect() as conn:
            handled = conn.execute(text("select message_id, tag, pid from handled order by seq")).all()
            messages = {i: c for i, c in conn.execute(select(Message.id, Message.content))}
            status = set(conn.execute(select(Message.status)).scalars())
        assert len(messages) == 2 * count and status == {OK}
        assert [h.message_id for h in handled] == sorted(messages)  # each once, none lost, in order
        handed_over = [h for h in handled if not messages[h.message_id].startswith(f"{h.tag}:")]
        assert len(handed_over) >= count // 2  # stored by one process, run by the other
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_a_message_of_a_killed_process_runs_again(postgres_url: str) -> None:
    from skillmatch.db import create_db_engine, upgrade

    engine = create_db_engine(postgres_url)
    upgrade(engine)
    try:
        proc = await asyncio.to_thread(
            subprocess.run, [sys.executable, str(WORKER), "crash", postgres_url, KEY], capture_output=True
        )
        assert proc.returncode == 3, proc.stdout + proc.stderr
        sessions = session_factory(engine)
        store, serializer = SessionStore(sessions), ThreadSerializer(sessions)
        conv = store.open(KEY, platform="slack", user_id="U1")
        crashed, half_answer = sorted(statuses(store, conv.id))
        assert statuses(store, conv.id) == {crashed: "processing", half_answer: OK}

        await asyncio.to_thread(wait_for_lock_release, engine, KEY)  # the server notices the dead client
        later = await pending(store, conv.id, "after the crash")
        seen: list[int] = []
        await serializer.submit(KEY, later, recorder(seen))
        assert seen == [crashed, later]
        contents = [m["content"] for m in store.history(conv.id, budget_tokens=10_000)]
        assert contents == ["crash:0", "after the crash"]
        assert statuses(store, conv.id)[half_answer] == FAILED  # the dead attempt's output is dropped
    finally:
        engine.dispose()


def wait_for_lock_release(engine: Engine, thread_key: str) -> None:
    probe = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with probe.connect() as conn:
            namespace = conn.scalar(text("select current_database() || '.' || current_schema()"))
            key = advisory_key(str(namespace), thread_key)
            deadline = time.monotonic() + WAIT
            while not conn.scalar(text("select pg_try_advisory_lock(:k)"), {"k": key}):
                assert time.monotonic() < deadline, "the dead worker's lock was never released"
                time.sleep(0.01)
            conn.execute(text("select pg_advisory_unlock(:k)"), {"k": key})
    finally:
        probe.dispose()
