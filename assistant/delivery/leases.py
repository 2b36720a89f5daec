"""Conversation leases: which replica runs a thread's turns, without holding a database connection.

A lease is two columns on the conversation, `lease_owner` and `lease_expires_at`. Claiming is one
conditional UPDATE (`... WHERE lease_owner IS NULL OR lease_expires_at < now`) over the conversations
that owe an answer, chosen with `FOR UPDATE SKIP LOCKED` on PostgreSQL: two replicas claiming at once take
different threads, and a row's lease can only be set by the claimer that still finds it free, so exactly
one claim wins. The owner renews all its leases with one UPDATE per heartbeat and learns from RETURNING which
ones it still holds; a lease it did not get back was taken over (it ran out while this process stalled),
and the turn running under it must stop. Releasing clears both columns.

Time: on PostgreSQL the database clock decides (`now()`), so replicas with skewed clocks agree; SQLite is
one machine and uses the process clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.sessions import UNFINISHED
from skillmatch.db import session_scope
from skillmatch.models import Conversation, Message, utcnow


class Leases:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        owner: str,
        ttl_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.owner = owner
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock

    def _now(self, session: Session) -> ColumnElement[Any]:
        if session.get_bind().dialect.name == "postgresql":
            return func.now()
        return literal(self.clock(), Conversation.lease_expires_at.type)

    def _expiry(self, session: Session) -> Any:
        if session.get_bind().dialect.name == "postgresql":
            return func.now() + self.ttl
        return self.clock() + self.ttl

    def _free(self, session: Session) -> ColumnElement[bool]:
        return or_(Conversation.lease_owner.is_(None), Conversation.lease_expires_at < self._now(session))

    def renew(self, conversation_ids: Iterable[int]) -> set[int]:
        """Extend every lease this process holds; returns the ones it still holds."""
        ids = list(conversation_ids)
        if not ids:
            return set()
        with session_scope(self.sessions) as session:
            rows = session.execute(
                update(Conversation)
                .where(Conversation.id.in_(ids), Conversation.lease_owner == self.owner)
                .values(lease_expires_at=self._expiry(session))
                .returning(Conversation.id)
            )
            return {row[0] for row in rows}

    def release(self, conversation_id: int) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def claim_runnable(
        self,
        limit: int,
        *,
        platforms: Iterable[str],
        exclude: Iterable[int] = (),
        arrived_before: datetime | None = None,
    ) -> list[int]:
        """Up to `limit` conversations that owe an answer (one that arrived before `arrived_before`, when
        given), that nobody alive runs and this process serves, longest waiting first, now leased to this
        process: one statement. On PostgreSQL, rows another replica is claiming at the same moment are
        skipped, not waited for."""
        served, excluded = list(platforms), list(exclude)
        if limit <= 0 or not served:
            return []
        with session_scope(self.sessions) as session:
            owes = exists().where(Message.conversation_id == Conversation.id, Message.status.in_(UNFINISHED))
            since = (
                select(func.min(Message.created_at))
                .where(Message.conversation_id == Conversation.id, Message.status.in_(UNFINISHED))
                .scalar_subquery()
            )
            candidates = (
                select(Conversation.id)
                .where(Conversation.platform.in_(served), self._free(session), owes)
                .order_by(since, Conversation.id)
                .limit(limit)
            )
            if arrived_before is not None:
                candidates = candidates.where(since < arrived_before)
            if excluded:
                candidates = candidates.where(Conversation.id.not_in(excluded))
            if session.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True, of=Conversation)
            claimed = session.execute(
                update(Conversation)
                .where(Conversation.id.in_(candidates), self._free(session))
                .values(lease_owner=self.owner, lease_expires_at=self._expiry(session))
                .returning(Conversation.id)
            )
            return [row[0] for row in claimed]

    def held_by_me(self, conversation_id: int) -> Any:
        """A clause for fencing a write: true only while this process holds the conversation's lease."""
        return exists().where(Conversation.id == conversation_id, Conversation.lease_owner == self.owner)
