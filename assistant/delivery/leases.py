"""Conversation leases: which replica runs a thread's turns, without holding a database connection.

A lease is two columns on the conversation, `lease_owner` and `lease_expires_at`. Claiming is one
conditional UPDATE (`... WHERE lease_owner IS NULL OR lease_expires_at < now`); on PostgreSQL a second
claimer of the same row waits for the first one's commit and then finds the lease taken, so exactly one
claim wins. The owner renews all its leases with one UPDATE per heartbeat and learns from RETURNING which
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

    def claim(self, conversation_id: int) -> bool:
        """Take the lease if nobody holds it or its holder stopped renewing it."""
        with session_scope(self.sessions) as session:
            claimed = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, self._free(session))
                .values(lease_owner=self.owner, lease_expires_at=self._expiry(session))
                .returning(Conversation.id)
            ).first()
            return claimed is not None

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

    def runnable(self, limit: int, *, platforms: Iterable[str], exclude: Iterable[int] = ()) -> list[int]:
        """Conversations of these platforms that owe an answer and that nobody (alive) runs, longest
        waiting first (a replica serving only Slack never claims a Teams thread)."""
        served = list(platforms)
        if limit <= 0 or not served:
            return []
        excluded = list(exclude)
        with session_scope(self.sessions) as session:
            waiting = (
                select(Message.conversation_id, func.min(Message.created_at).label("since"))
                .where(Message.status.in_(UNFINISHED))
                .group_by(Message.conversation_id)
                .subquery()
            )
            query = (
                select(Conversation.id)
                .join(waiting, waiting.c.conversation_id == Conversation.id)
                .where(Conversation.platform.in_(served), self._free(session))
                .order_by(waiting.c.since, Conversation.id)
                .limit(limit)
            )
            if excluded:
                query = query.where(Conversation.id.not_in(excluded))
            return list(session.scalars(query))

    def held_by_me(self, conversation_id: int) -> Any:
        """A clause for fencing a write: true only while this process holds the conversation's lease."""
        return exists().where(Conversation.id == conversation_id, Conversation.lease_owner == self.owner)
