"""SessionStore on SQLite and PostgreSQL: conversations, history within a budget, event dedupe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select, update

from assistant.sessions import (
    SessionStore,
    message_tokens,
    thread_key_console,
    thread_key_slack,
    thread_key_teams,
)
from skillmatch.db import session_factory, session_scope
from skillmatch.models import Conversation, Message, ProcessedEvent, utcnow
from skillmatch.tokencount import count_tokens

T = TypeVar("T")
KEY = thread_key_slack("T1", "C1", "1700000000.000100")


@pytest.fixture
def store(engine: Engine) -> SessionStore:
    return SessionStore(session_factory(engine))


def all_at_once(workers: int, call: Callable[[], T]) -> list[T]:
    """`call` from `workers` threads released together by a barrier."""
    barrier = threading.Barrier(workers)

    def run() -> T:
        barrier.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(workers) as pool:
        return [f.result(timeout=60) for f in [pool.submit(run) for _ in range(workers)]]


def call(call_id: str, name: str = "search_candidates") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def test_thread_keys() -> None:
    assert KEY == "slack:T1:C1:1700000000.000100"
    assert thread_key_teams("tenant", "19:abc@thread.v2") == "teams:tenant:19:abc@thread.v2"
    assert thread_key_console("u-1") == "console:u-1"
    first, second = thread_key_console(), thread_key_console()
    assert first.startswith("console:") and first != second


def test_open_is_idempotent(store: SessionStore) -> None:
    first = store.open(KEY, platform="slack", user_id="U1")
    again = store.open(KEY, platform="slack", user_id="U2")
    assert again == first
    assert (first.thread_key, first.platform, first.user_id, first.state) == (KEY, "slack", "U1", {})


def test_open_from_many_threads_at_once_creates_one_row(store: SessionStore) -> None:
    refs = all_at_once(8, lambda: store.open(KEY, platform="slack", user_id="U1"))
    assert len({ref.id for ref in refs}) == 1
    with session_scope(store.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_append_and_history_round_trip(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    store.append(conv.id, "user", "Who knows Kotlin?", trace_id="t1", platform_message_id="1.2")
    store.append(conv.id, "assistant", None, tool_calls=[call("c1")], trace_id="t1")
    store.append(conv.id, "tool", "people[1]: Anna", tool_call_id="c1", name="search_candidates")
    store.append(conv.id, "assistant", "Anna knows Kotlin.", trace_id="t1")

    assert store.history(conv.id, budget_tokens=10_000) == [
        {"role": "user", "content": "Who knows Kotlin?"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
        {"role": "tool", "content": "people[1]: Anna", "tool_call_id": "c1"},
        {"role": "assistant", "content": "Anna knows Kotlin."},
    ]
    with session_scope(store.sessions) as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
        assert [r.token_count for r in rows] == [
            message_tokens(m) for m in store.history(conv.id, budget_tokens=10**6)
        ]
        assert rows[0].token_count == 4 + count_tokens("Who knows Kotlin?")  # with the per-message overhead
        assert (rows[0].trace_id, rows[0].platform_message_id) == ("t1", "1.2")
        assert session.get_one(Conversation, conv.id).title == "Who knows Kotlin?"


def test_message_by_id(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    message_id = store.append(conv.id, "user", "Who is free?", platform_message_id="9.9", status="pending")
    stored = store.message(message_id)
    assert (stored.conversation_id, stored.role, stored.content) == (conv.id, "user", "Who is free?")
    assert (stored.status, stored.platform_message_id, stored.trace_id) == ("pending", "9.9", None)
    with pytest.raises(LookupError):
        store.message(message_id + 1)


def test_history_drops_oldest_messages_first(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    for i in range(10):
        store.append(conv.id, "user" if i % 2 == 0 else "assistant", f"message number {i}")
    each = message_tokens({"role": "user", "content": "message number 0"})

    kept = store.history(conv.id, budget_tokens=3 * each)
    assert [m["content"] for m in kept] == ["message number 7", "message number 8", "message number 9"]
    assert [m["content"] for m in store.history(conv.id, budget_tokens=3 * each - 1)] == [
        "message number 8",
        "message number 9",
    ]
    assert len(store.history(conv.id, budget_tokens=10 * each)) == 10


def tool_turn(store: SessionStore, conversation_id: int) -> dict[str, int]:
    """user, assistant calling two tools, both results, answer, next question; returns token costs."""
    messages = [
        ("user", "Python people in Munich?", {}),
        ("assistant", None, {"tool_calls": [call("a"), call("b", "availability")]}),
        ("tool", "people[2]: Anna, Ben " + "x " * 40, {"tool_call_id": "a", "name": "search_candidates"}),
        ("tool", "Anna free from May", {"tool_call_id": "b", "name": "availability"}),
        ("assistant", "Anna, free from May.", {}),
        ("user", "And Ben?", {}),
    ]
    for role, content, extra in messages:
        store.append(conversation_id, role, content, **extra)
    full = store.history(conversation_id, budget_tokens=100_000)
    group, tail = full[1:4], full[4:]
    return {"group": sum(map(message_tokens, group)), "tail": sum(map(message_tokens, tail))}


def test_tool_calls_and_their_results_are_kept_or_dropped_together(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    cost = tool_turn(store, conv.id)
    last_tool = message_tokens({"role": "tool", "content": "Anna free from May"})

    # Dropping single messages would keep the last tool result without its call: the unit goes whole.
    cut = store.history(conv.id, budget_tokens=cost["tail"] + last_tool)
    assert [m["role"] for m in cut] == ["assistant", "user"]
    assert cut[0]["content"] == "Anna, free from May."

    whole = store.history(conv.id, budget_tokens=cost["tail"] + cost["group"])
    assert [m["role"] for m in whole] == ["assistant", "tool", "tool", "assistant", "user"]
    assert [m.get("tool_call_id") for m in whole[1:3]] == ["a", "b"]


def test_history_never_starts_with_a_tool_message_nor_keeps_unanswered_calls(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    store.append(conv.id, "tool", "orphan result", tool_call_id="zz")
    store.append(conv.id, "user", "Find a tester")
    store.append(conv.id, "assistant", None, tool_calls=[call("a"), call("b")])
    store.append(conv.id, "tool", "only one answer", tool_call_id="a")
    store.append(conv.id, "user", "Hello?")
    assert store.history(conv.id, budget_tokens=10_000) == [
        {"role": "user", "content": "Find a tester"},
        {"role": "user", "content": "Hello?"},
    ]


def test_failed_and_queued_messages_are_not_history(store: SessionStore) -> None:
    conv = store.open(KEY, platform="slack", user_id="U1")
    store.append(conv.id, "user", "x" * 50, status="failed")
    store.append(conv.id, "user", "Who knows SAP?")
    store.append(conv.id, "user", "a later question", status="pending")
    assert store.history(conv.id, budget_tokens=10_000) == [{"role": "user", "content": "Who knows SAP?"}]


def test_trim_keeps_the_system_message_and_the_same_rules() -> None:
    store = SessionStore.__new__(SessionStore)  # trim needs no database
    system = {"role": "system", "content": "You are a staffing assistant. " * 20}
    messages = [
        system,
        {"role": "user", "content": "first question " * 10},
        {"role": "assistant", "content": None, "tool_calls": [call("a")]},
        {"role": "tool", "tool_call_id": "a", "content": "result " * 30},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "second question"},
    ]
    tail = sum(message_tokens(m) for m in messages[4:])
    trimmed = store.trim(messages, budget_tokens=message_tokens(system) + tail + 5)
    assert trimmed == [system, *messages[4:]]
    assert store.trim(messages, budget_tokens=10**6) == messages
    assert store.trim(messages, budget_tokens=1) == [system, messages[-1]]  # the newest unit always stays
    no_system = messages[1:]
    assert store.trim(no_system, budget_tokens=tail)[0] == messages[4]


def test_state_and_recent_conversations(store: SessionStore) -> None:
    a = store.open(thread_key_slack("T1", "C1", "1"), platform="slack", user_id="U1")
    b = store.open(thread_key_slack("T1", "C1", "2"), platform="slack", user_id="U1")
    c = store.open(thread_key_teams("ten", "conv"), platform="teams", user_id="U1")
    store.open(thread_key_slack("T1", "C1", "3"), platform="slack", user_id="U2")
    store.set_state(a.id, {"last_search": {"query": "python", "filters": {"location": "Munich"}}})
    store.append(a.id, "user", "python\n  in Munich")

    assert store.get(a.id).state == {"last_search": {"query": "python", "filters": {"location": "Munich"}}}
    recent = store.recent(user_id="U1")
    assert [r.id for r in recent] == [a.id, c.id, b.id]
    assert recent[0].title == "python in Munich"
    assert [r.id for r in store.recent(user_id="U1", platform="slack", limit=1)] == [a.id]
    assert len(store.recent()) == 4


def test_record_event_once(store: SessionStore) -> None:
    assert store.record_event_once("slack", "Ev1") is True
    assert store.record_event_once("slack", "Ev1") is False
    assert store.record_event_once("slack", "Ev1") is False
    assert store.record_event_once("teams", "Ev1") is True


def test_record_event_once_from_many_threads_at_once(store: SessionStore) -> None:
    for round_ in range(3):
        results = all_at_once(8, lambda r=round_: store.record_event_once("slack", f"Ev{r}"))
        assert sorted(results) == [False] * 7 + [True]


def test_prune_events(store: SessionStore) -> None:
    store.record_event_once("slack", "old")
    store.record_event_once("slack", "new")
    with session_scope(store.sessions) as session:
        session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == "old")
            .values(received_at=utcnow() - timedelta(days=2))
        )
    assert store.prune_events(timedelta(days=1)) == 1
    assert store.record_event_once("slack", "old") is True  # forgotten, so new again
    assert store.record_event_once("slack", "new") is False
