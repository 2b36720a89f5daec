"""A separate process for the cross-process ordering tests (run as `python ordering_worker.py ...`).

submit URL THREAD_KEY TAG COUNT BARRIER_DIR
    Waits for the other worker at a file barrier, then stores COUNT pending messages ("TAG:i") and
    submits each concurrently. The handler records (message id, TAG, pid) in the test's `handled` table.
    The first handler run in this process holds the thread until the other worker has stored half of its
    messages, so some of them must be handed over across processes.
crash URL THREAD_KEY
    Stores one message and dies (os._exit(3)) inside its handler, after writing a partial reply.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, text

from assistant.sessions import PENDING, SessionStore, ThreadSerializer
from skillmatch.db import create_db_engine, session_factory, session_scope
from skillmatch.models import Message

TIMEOUT = 60.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


async def submit_many(url: str, thread_key: str, tag: str, count: int, barrier: Path) -> None:
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    store, serializer = SessionStore(sessions), ThreadSerializer(sessions)
    conv = store.open(thread_key, platform="slack", user_id="U1")

    def stored_by_others() -> int:
        with session_scope(sessions) as session:
            query = select(func.count()).where(
                Message.conversation_id == conv.id, ~Message.content.startswith(f"{tag}:")
            )
            return session.scalar(query) or 0

    first = True

    async def handler(message_id: int) -> None:
        nonlocal first
        if first:
            first = False
            await asyncio.to_thread(wait_for, lambda: stored_by_others() >= count // 2, "other worker")
        with session_scope(sessions) as session:
            session.execute(
                text("insert into handled (message_id, tag, pid) values (:m, :t, :p)"),
                {"m": message_id, "t": tag, "p": os.getpid()},
            )

    (barrier / f"ready-{tag}").touch()
    await asyncio.to_thread(wait_for, lambda: len(list(barrier.glob("ready-*"))) >= 2, "barrier")
    tasks = []
    for i in range(count):
        message_id = await asyncio.to_thread(store.append, conv.id, "user", f"{tag}:{i}", status=PENDING)
        tasks.append(asyncio.create_task(serializer.submit(thread_key, message_id, handler)))
    await asyncio.gather(*tasks)
    engine.dispose()


async def crash(url: str, thread_key: str) -> None:
    sessions = session_factory(create_db_engine(url))
    store, serializer = SessionStore(sessions), ThreadSerializer(sessions)
    conv = store.open(thread_key, platform="slack", user_id="U1")

    async def handler(message_id: int) -> None:
        store.append(conv.id, "assistant", "half an answer", trace_id="dead")
        os._exit(3)

    message_id = store.append(conv.id, "user", "crash:0", status=PENDING)
    await serializer.submit(thread_key, message_id, handler)


if __name__ == "__main__":
    mode, url, key, *rest = sys.argv[1:]
    if mode == "submit":
        asyncio.run(submit_many(url, key, rest[0], int(rest[1]), Path(rest[2])))
    else:
        asyncio.run(crash(url, key))
