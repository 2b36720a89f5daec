"""In-order, exactly-once processing of the messages of one thread, across processes on PostgreSQL.

Protocol: an incoming user message is stored as "pending" (`SessionStore.append(..., status="pending")`;
its id is the arrival order), then `submit(thread_key, message_id, handler)` is called. Whoever holds the
thread's lock drains the thread: it claims the oldest queued message, awaits `handler(message_id)`, marks
it "ok" (or "failed" if the handler raised) and repeats until nothing is queued. A `submit` that cannot
take the lock returns at once: the holder will get to its message. After releasing the lock the holder
looks for queued messages again and, if it finds any, tries to take the lock once more; so a message
stored just before the release is never stranded (its own `submit` failed to lock, the re-check sees it).

Locks: PostgreSQL session-level advisory locks (a stable 64-bit hash of schema and thread key) held on a
dedicated autocommit connection while draining; if the process dies, the server drops the connection and
with it the lock. SQLite is single-process: an in-process lock per thread key is enough. Both also use the
in-process lock first, so concurrent submits in one replica cost no database round trip.

Crashes: holding the lock proves no live worker is inside the thread, so a message still "processing" then
is a dead worker's; the new holder runs it once more (see `SessionStore.reclaim`). Such a message waits
for the thread's next submit, or for `resume()`, which every replica should run at start-up. The one
remaining double run: a worker whose lock connection is cut while it is still alive keeps running its
turn while another replica reclaims it, so handlers must tolerate a rare repeat (idempotent replies).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from assistant.sessions.store import SessionStore

log = logging.getLogger(__name__)

Handler = Callable[[int], Awaitable[None]]


def advisory_key(namespace: str, thread_key: str) -> int:
    """Stable signed 64-bit key (Python's hash() is salted per process, so it would not do)."""
    digest = hashlib.blake2b(f"skillmatch.thread:{namespace}:{thread_key}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class ThreadSerializer:
    """In-order, exactly-once processing of the messages of one thread, across processes on PostgreSQL."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.store = SessionStore(sessions)
        bind = sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise TypeError("ThreadSerializer needs a sessionmaker bound to an Engine")
        self.engine = bind
        self.postgres = bind.dialect.name == "postgresql"
        self._held: set[str] = set()
        self._mutex = threading.Lock()
        self._namespace: str | None = None

    async def submit(self, thread_key: str, item_id: int, handler: Handler) -> None:
        """Process `item_id` (stored "pending") and any other queued message of the thread, in id order.

        Returns once the queue of the thread is empty, or at once if another task or process holds the
        thread: that holder processes `item_id`. Handler errors are logged and fail that message only.
        """
        conversation_id, key = await asyncio.to_thread(self.store.thread_of, item_id)
        if key != thread_key:
            raise ValueError(f"message {item_id} belongs to {key!r}, not {thread_key!r}")
        while True:
            lock = await self._acquire(thread_key)
            if lock is None:
                return
            try:
                await self._drain(conversation_id, handler)
            finally:
                await asyncio.shield(asyncio.to_thread(self._release, thread_key, lock))
            if not await asyncio.to_thread(self.store.has_queued, conversation_id):
                return

    async def resume(self, handler: Handler) -> int:
        """Drain every thread with queued or orphaned messages (run at start-up); returns how many."""
        threads = await asyncio.to_thread(self.store.unfinished_threads)
        results = await asyncio.gather(
            *(self.submit(key, message_id, handler) for key, message_id in threads), return_exceptions=True
        )
        for (key, _), result in zip(threads, results, strict=True):
            if isinstance(result, Exception):
                log.error("resuming %s failed: %r", key, result)
        return len(threads)

    async def _drain(self, conversation_id: int, handler: Handler) -> None:
        requeued = await asyncio.to_thread(self.store.reclaim, conversation_id)
        if requeued:
            log.warning("conversation %s: retrying %s, left by a dead worker", conversation_id, requeued)
        while (message_id := await asyncio.to_thread(self.store.claim_next, conversation_id)) is not None:
            try:
                await handler(message_id)
            except Exception:
                log.exception("conversation %s: message %s failed", conversation_id, message_id)
                await asyncio.to_thread(self.store.mark_failed, message_id)
            else:
                await asyncio.to_thread(self.store.mark_done, message_id)

    # -- locks ----------------------------------------------------------------------------------------

    async def _acquire(self, thread_key: str) -> Connection | bool | None:
        """None when the thread is busy; else the lock connection (PostgreSQL) or True."""
        with self._mutex:
            if thread_key in self._held:
                return None
            self._held.add(thread_key)
        if not self.postgres:
            return True
        try:
            conn = await asyncio.to_thread(self._try_advisory_lock, thread_key)
        except BaseException:
            self._release_local(thread_key)
            raise
        if conn is None:
            self._release_local(thread_key)
        return conn

    def _try_advisory_lock(self, thread_key: str) -> Connection | None:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if self._namespace is None:
                namespace = conn.scalar(text("select current_database() || '.' || current_schema()"))
                self._namespace = str(namespace)
            key = advisory_key(self._namespace, thread_key)
            if conn.scalar(text("select pg_try_advisory_lock(:k)"), {"k": key}):
                conn.info["skillmatch_advisory_key"] = key
                return conn
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        conn.close()
        return None

    def _release(self, thread_key: str, lock: Connection | bool) -> None:
        try:
            if isinstance(lock, Connection):
                try:
                    key = lock.info.pop("skillmatch_advisory_key")
                    lock.execute(text("select pg_advisory_unlock(:k)"), {"k": key})
                except Exception:
                    log.exception("advisory unlock failed; closing the connection releases the lock")
                    lock.invalidate()
                finally:
                    lock.close()
        finally:
            self._release_local(thread_key)

    def _release_local(self, thread_key: str) -> None:
        with self._mutex:
            self._held.discard(thread_key)
