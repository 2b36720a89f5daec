"""The durable queue of user messages that are owed an answer, with their delivery state.

`accept` stores a message and its dedupe key in one transaction, before the platform gets its
acknowledgement: an acknowledged message is a stored message, and a redelivered one is a no-op. Every
other write here runs under the conversation's lease (see `leases`) and is fenced by it: a worker that
lost its lease cannot mark a message it no longer owns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.channels.base import Inbound
from assistant.delivery.leases import Leases
from assistant.sessions import (
    ANSWERED,
    OK,
    PENDING,
    PROCESSING,
    TITLE_CHARS,
    UNFINISHED,
    NewMessage,
    SessionStore,
    message_tokens,
)
from skillmatch.db import session_scope
from skillmatch.models import Conversation, Message, utcnow


@dataclass(frozen=True)
class Accepted:
    message_id: int
    conversation_id: int


@dataclass(frozen=True)
class Owed:
    """A message the conversation's lease holder must answer next."""

    id: int
    conversation_id: int
    platform: str
    status: str
    attempts: int
    arrived_at: datetime
    trace_id: str | None
    content: str | None
    reply_to: dict[str, Any]
    reply_ref: dict[str, Any] | None
    reply: dict[str, Any] | None


class Inbox:
    def __init__(self, sessions: sessionmaker[Session], store: SessionStore, leases: Leases) -> None:
        self.sessions = sessions
        self.store = store
        self.leases = leases

    def accept(self, inbound: Inbound, *, trace_id: str) -> Accepted | None:
        """Store a user message as pending; None when this message was stored before (a redelivery)."""
        return self.accept_many([(inbound, trace_id)])[0]

    def accept_many(self, items: list[tuple[Inbound, str]]) -> list[Accepted | None]:
        """`accept` for a burst, in one transaction: one commit (one disk flush) for all of them. A
        message delivered twice within the burst is stored once (the second finds the first's key)."""
        with session_scope(self.sessions) as session:
            return [self._accept_in(session, inbound, trace_id) for inbound, trace_id in items]

    def _accept_in(self, session: Session, inbound: Inbound, trace_id: str) -> Accepted | None:
        if session.get_bind().dialect.name == "postgresql":
            return self._accept_in_one_statement(session, inbound, trace_id)
        if not self.store.record_event_in(session, inbound.platform, inbound.event_id):
            return None
        conversation = self.store.open_in(
            session, inbound.thread_key, platform=inbound.platform, user_id=inbound.user_id
        )
        (message_id,) = self.store.insert(
            session,
            conversation.id,
            [
                NewMessage(
                    "user",
                    inbound.text,
                    trace_id=trace_id,
                    platform_message_id=inbound.event_id[:200],
                    status=PENDING,
                    order_key=inbound.order_key,
                    reply_to=inbound.reply_to,
                )
            ],
        )
        return Accepted(message_id, conversation.id)

    def _accept_in_one_statement(self, session: Session, inbound: Inbound, trace_id: str) -> Accepted | None:
        """The same as the portable path, in one round trip: the acknowledgement waits for this."""
        chat = {"role": "user", "content": inbound.text}
        row = session.execute(
            _ACCEPT,
            {
                "platform": inbound.platform,
                "event_id": inbound.event_id,
                "now": utcnow(),
                "thread_key": inbound.thread_key,
                "user_id": inbound.user_id,
                "title": " ".join(inbound.text.split())[:TITLE_CHARS],
                "content": inbound.text,
                "trace_id": trace_id,
                "platform_message_id": inbound.event_id[:200],
                "tokens": message_tokens(chat),
                "order_key": inbound.order_key,
                "reply_to": json.dumps(inbound.reply_to),
            },
        ).first()
        return Accepted(row[0], row[1]) if row is not None else None

    def next(self, conversation_id: int) -> Owed | None:
        """The conversation's first message still owed an answer, in the platform's order."""
        query = (
            select(Message, Conversation.platform)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.conversation_id == conversation_id, Message.status.in_(UNFINISHED))
            .order_by(Message.order_key.nulls_last(), Message.id)
            .limit(1)
        )
        with session_scope(self.sessions) as session:
            found = session.execute(query).first()
            if found is None:
                return None
            row, platform = found
            return Owed(
                row.id,
                row.conversation_id,
                platform,
                row.status,
                row.attempts or 0,
                row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC),
                row.trace_id,
                row.content,
                dict(row.reply_to or {}),
                dict(row.reply_ref) if row.reply_ref else None,
                dict(row.reply) if row.reply else None,
            )

    def waiting_ahead(self, message_id: int) -> int:
        """How many owed messages (in any conversation) arrived before this one."""
        with session_scope(self.sessions) as session:
            arrived = session.scalar(select(Message.created_at).where(Message.id == message_id))
            if arrived is None:
                return 0
            query = select(Message.id).where(
                Message.status == PENDING, Message.created_at < arrived, Message.id != message_id
            )
            return len(session.scalars(query.limit(1000)).all())

    def trace_of_posted(self, thread_key: str, posted_id: str, *, scan: int = 500) -> str | None:
        """The trace of the answer that posted platform message `posted_id` in this thread or its later
        conversations (`{thread_key}#n`): how a platform's feedback on a message finds its turn."""
        query = (
            select(Message.trace_id, Message.reply_ref)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                or_(
                    Conversation.thread_key == thread_key,
                    Conversation.thread_key.startswith(f"{thread_key}#", autoescape=True),
                ),
                Message.reply_ref.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(scan)
        )
        with session_scope(self.sessions) as session:
            for trace_id, ref in session.execute(query):
                if isinstance(ref, dict) and (
                    posted_id in (ref.get("messages") or []) or ref.get("stream") == posted_id
                ):
                    return trace_id
        return None

    # -- under the lease ------------------------------------------------------------------------------

    def start(self, owed: Owed) -> int | None:
        """Begin (or begin again) a message's turn: the attempt number, or None if the lease is gone.

        A message found "processing" was left by a worker that died: its half-written replies leave the
        history before the turn runs again. One found "answered" keeps its answer, to be delivered again.
        """
        with session_scope(self.sessions) as session:
            if not session.scalar(select(self.leases.held_by_me(owed.conversation_id))):
                return None
            row = session.get_one(Message, owed.id, with_for_update=_lock(session))
            if row.status not in UNFINISHED:
                return None
            if row.status != ANSWERED:  # an answered message only needs delivering again
                self.store.restart_turn(session, row)
                row.status = PROCESSING
            row.attempts = (row.attempts or 0) + 1
            return row.attempts

    def save_ref(self, owed: Owed, ref: dict[str, Any]) -> None:
        """What the platform calls the messages posted for this answer so far (for a later attempt)."""
        self._fenced(owed, reply_ref=ref)

    def answered(self, owed: Owed, reply: dict[str, Any]) -> bool:
        """The answer is stored; False if the lease was lost meanwhile (another replica owns it now)."""
        return self._fenced(owed, status=ANSWERED, reply=reply, statuses=(PROCESSING,))

    def done(self, owed: Owed) -> bool:
        return self._fenced(owed, status=OK, statuses=(PROCESSING, ANSWERED))

    def failed(self, owed: Owed) -> bool:
        """The message leaves the history together with whatever its turn wrote."""
        with session_scope(self.sessions) as session:
            if not session.scalar(select(self.leases.held_by_me(owed.conversation_id))):
                return False
            self.store.fail_turn(session, session.get_one(Message, owed.id))
            return True

    def requeue(self, owed: Owed) -> None:
        """Hand an interrupted turn back (shutdown): it was not this message's fault, so no attempt counts."""
        with session_scope(self.sessions) as session:
            row = session.get_one(Message, owed.id)
            if row.status == PROCESSING:
                self.store.fail_turn(session, row)  # its half-written replies go
                row.status = PENDING
                row.attempts = max(0, (row.attempts or 0) - 1)
                row.created_at = utcnow()

    def _fenced(self, owed: Owed, *, statuses: tuple[str, ...] | None = None, **values: Any) -> bool:
        with session_scope(self.sessions) as session:
            query = update(Message).where(Message.id == owed.id, self.leases.held_by_me(owed.conversation_id))
            if statuses is not None:
                query = query.where(Message.status.in_(statuses))
            result = session.execute(query.values(**values).returning(Message.id)).first()
            return result is not None


# Dedupe key, conversation (created or touched) and message in one statement; nothing when the key exists.
_ACCEPT = text(
    """
    WITH ev AS (
        INSERT INTO processed_events (platform, event_id, received_at)
        VALUES (:platform, :event_id, :now)
        ON CONFLICT DO NOTHING
        RETURNING id
    ), conv AS (
        INSERT INTO conversations (thread_key, platform, user_id, title, state, created_at, updated_at)
        SELECT :thread_key, :platform, :user_id, NULLIF(:title, ''), CAST('{}' AS json), :now, :now FROM ev
        ON CONFLICT (thread_key) DO UPDATE
            SET updated_at = EXCLUDED.updated_at, title = COALESCE(conversations.title, EXCLUDED.title)
        RETURNING id
    )
    INSERT INTO messages (conversation_id, role, content, trace_id, platform_message_id, token_count,
                          status, created_at, order_key, reply_to, attempts)
    SELECT conv.id, 'user', :content, :trace_id, :platform_message_id, :tokens,
           'pending', :now, :order_key, CAST(:reply_to AS json), 0
    FROM conv
    RETURNING id, conversation_id
    """
)


def _lock(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
