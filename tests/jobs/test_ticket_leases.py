"""The per-ticket lease on SQLite and PostgreSQL: one holder at a time, taken over once expired, never
renewed by a holder who lost it; remembered readings and results survive the lease."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from assistant.jobs.tickets import TicketStore
from skillmatch.db import session_factory

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_one_holder_at_a_time_and_the_holder_may_take_it_again(engine: Engine) -> None:
    store = TicketStore(session_factory(engine), clock=Clock())
    assert store.acquire("STAFF-1", "run-a", 600)
    assert not store.acquire("STAFF-1", "run-b", 600)
    assert store.acquire("STAFF-1", "run-a", 600)  # re-entrant for its owner
    assert store.acquire("STAFF-2", "run-b", 600)  # other tickets are independent
    store.release("STAFF-1", "run-b")  # not b's to release
    assert not store.acquire("STAFF-1", "run-b", 600)
    store.release("STAFF-1", "run-a")
    assert store.acquire("STAFF-1", "run-b", 600)


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew_it(engine: Engine) -> None:
    clock = Clock()
    store = TicketStore(session_factory(engine), clock=clock)
    assert store.acquire("STAFF-1", "crashed-run", 600)
    clock.now = T0 + timedelta(seconds=599)
    assert not store.acquire("STAFF-1", "next-run", 600)
    assert store.renew("STAFF-1", "crashed-run", 600)  # still alive: renewal extends to T0+1199 s
    clock.now = T0 + timedelta(seconds=1200)
    assert store.acquire("STAFF-1", "next-run", 600)
    assert not store.renew("STAFF-1", "crashed-run", 600)
    assert store.renew("STAFF-1", "next-run", 600)


def test_state_is_kept_across_leases_and_a_reading_can_be_stored_without_touching_the_result(
    engine: Engine,
) -> None:
    store = TicketStore(session_factory(engine), clock=Clock())
    assert store.read("STAFF-1") is None
    store.save(
        "STAFF-1", input_hash="in-1", constraints={"usable": True}, result_hash="out-1", comment_id="10001"
    )
    store.save("STAFF-1", input_hash="in-2", constraints={"usable": False}, keep_result=True)
    assert store.acquire("STAFF-1", "run-a", 600)
    store.release("STAFF-1", "run-a")
    state = store.read("STAFF-1")
    assert state is not None
    assert (state.input_hash, state.constraints, state.result_hash, state.comment_id) == (
        "in-2",
        {"usable": False},
        "out-1",
        "10001",
    )


def test_racing_runs_get_exactly_one_lease(engine: Engine) -> None:
    """Eight threads, each with its own connection, ask at the same moment (a barrier, not a sleep)."""
    store = TicketStore(session_factory(engine))
    runners = 8
    start = threading.Barrier(runners)
    won: list[str] = []
    errors: list[BaseException] = []

    def contend(owner: str) -> None:
        try:
            start.wait(timeout=10)
            if store.acquire("STAFF-1", owner, 600):
                won.append(owner)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(f"run-{i}",)) for i in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(won) == 1
