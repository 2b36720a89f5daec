"""Conversations per thread key, their messages, the token-budgeted history and event dedupe.

Message status: a user message waiting for its turn is "pending"; the delivery layer (see
`assistant.delivery`) moves it to "processing" when its turn starts, to "answered" once the answer is
stored, and to "ok" once the answer is on the platform, or to "failed". Pending and failed messages are
never shown to the model; a failed turn's replies are failed with it.

Timeline: `created_at` of a settled message is its place in the conversation, stamped when it is written
and, for a queued user message, again when its turn starts, so a question that arrived while the previous
answer was being written still comes after that answer. Stamps are strictly increasing per conversation
(writes of a thread are serialised by its lease), so clock skew between replicas cannot reorder a
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.sessions.window import fit, message_tokens
from skillmatch.db import insert_ignoring_conflicts, session_scope
from skillmatch.models import Conversation, Message, ProcessedEvent, utcnow

MessageStatus = Literal["pending", "processing", "answered", "ok", "failed"]
PENDING: MessageStatus = "pending"
PROCESSING: MessageStatus = "processing"
ANSWERED: MessageStatus = "answered"  # the answer is stored; delivering it to the platform is not confirmed
OK: MessageStatus = "ok"
FAILED: MessageStatus = "failed"
QUEUED = (PENDING,)  # waiting for their turn: not part of the conversation yet
RUNNING = (PROCESSING,)
UNFINISHED = (PENDING, PROCESSING, ANSWERED)  # the delivery layer still owes the user an answer
HIDDEN = (*QUEUED, FAILED)  # never shown to the model
TITLE_CHARS = 100
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class ConversationRef:
    id: int
    thread_key: str
    platform: str
    user_id: str | None
    state: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


@dataclass(frozen=True)
class NewMessage:
    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    trace_id: str | None = None
    platform_message_id: str | None = None
    status: str = OK
    order_key: str | None = None
    reply_to: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str | None
    status: str
    trace_id: str | None
    platform_message_id: str | None


def _ref(row: Conversation) -> ConversationRef:
    state = dict(row.state or {})
    return ConversationRef(row.id, row.thread_key, row.platform, row.user_id, state, row.title)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _chat(
    role: str,
    content: str | None,
    tool_calls: list[Any] | None = None,
    tool_call_id: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """A stored message as the chat API takes it (and as its tokens are counted)."""
    message: dict[str, Any] = {"role": role, "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if tool_call_id:
        message["tool_call_id"] = tool_call_id
        message["content"] = content or ""
    if name and role != "tool":  # the chat API has no `name` on tool messages
        message["name"] = name
    return message


def _row_chat(row: Message) -> dict[str, Any]:
    return _chat(row.role, row.content, row.tool_calls, row.tool_call_id, row.name)


class SessionStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # -- conversations --------------------------------------------------------------------------------

    def open(self, thread_key: str, *, platform: str, user_id: str | None) -> ConversationRef:
        """Get or create; two processes creating the same key at once end up with the same row."""
        with session_scope(self.sessions) as session:
            return _ref(self.open_in(session, thread_key, platform=platform, user_id=user_id))

    def open_in(
        self, session: Session, thread_key: str, *, platform: str, user_id: str | None
    ) -> Conversation:
        """`open` inside the caller's transaction: INSERT ... ON CONFLICT DO NOTHING, then read the row
        (on PostgreSQL a concurrent creator's row is visible once its transaction commits)."""
        row = session.scalar(select(Conversation).where(Conversation.thread_key == thread_key))
        if row is not None:
            return row
        now = utcnow()
        insert_ignoring_conflicts(
            session,
            Conversation,
            [
                {
                    "thread_key": thread_key,
                    "platform": platform,
                    "user_id": user_id,
                    "state": {},
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        return session.scalars(select(Conversation).where(Conversation.thread_key == thread_key)).one()

    def find(self, thread_key: str) -> ConversationRef | None:
        """The conversation of a thread, if there is one (never creates it)."""
        with session_scope(self.sessions) as session:
            row = session.scalar(select(Conversation).where(Conversation.thread_key == thread_key))
            return _ref(row) if row is not None else None

    def get(self, conversation_id: int) -> ConversationRef:
        with session_scope(self.sessions) as session:
            return _ref(session.get_one(Conversation, conversation_id))

    def set_state(self, conversation_id: int, state: dict[str, Any]) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(state=dict(state), updated_at=utcnow())
            )

    def recent(
        self, *, user_id: str | None = None, platform: str | None = None, limit: int = 10
    ) -> list[ConversationRef]:
        query = select(Conversation).order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        if user_id is not None:
            query = query.where(Conversation.user_id == user_id)
        if platform is not None:
            query = query.where(Conversation.platform == platform)
        with session_scope(self.sessions) as session:
            return [_ref(row) for row in session.scalars(query.limit(limit))]

    # -- messages -------------------------------------------------------------------------------------

    def append(
        self,
        conversation_id: int,
        role: str,
        content: str | None,
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        tool_call_id: str | None = None,
        name: str | None = None,
        trace_id: str | None = None,
        platform_message_id: str | None = None,
        status: str = OK,
    ) -> int:
        entry = NewMessage(
            role, content, tool_calls, tool_call_id, name, trace_id, platform_message_id, status
        )
        return self.append_many(conversation_id, [entry])[0]

    def append_many(self, conversation_id: int, entries: list[NewMessage]) -> list[int]:
        """Several messages in one transaction and in this order (a tool call with its results)."""
        with session_scope(self.sessions) as session:
            return self.insert(session, conversation_id, entries)

    def insert(self, session: Session, conversation_id: int, entries: list[NewMessage]) -> list[int]:
        """`append_many` inside the caller's transaction (the delivery layer stores a message and its
        dedupe key together)."""
        stamp: datetime | None = None
        rows = []
        for entry in entries:
            if entry.status in QUEUED:
                now = utcnow()
            else:
                stamp = self._next_stamp(session, conversation_id) if stamp is None else stamp + TICK
                now = stamp
            chat = _chat(entry.role, entry.content, entry.tool_calls, entry.tool_call_id, entry.name)
            rows.append(
                Message(
                    conversation_id=conversation_id,
                    role=entry.role,
                    content=entry.content,
                    tool_calls=entry.tool_calls,
                    tool_call_id=entry.tool_call_id,
                    name=entry.name,
                    trace_id=entry.trace_id,
                    platform_message_id=entry.platform_message_id,
                    token_count=message_tokens(chat),
                    status=entry.status,
                    created_at=now,
                    order_key=entry.order_key,
                    reply_to=entry.reply_to,
                )
            )
        session.add_all(rows)
        values: dict[str, Any] = {"updated_at": utcnow()}
        first_user = next((e for e in entries if e.role == "user" and e.content and e.status != FAILED), None)
        if first_user is not None:
            title = " ".join((first_user.content or "").split())[:TITLE_CHARS]
            values["title"] = func.coalesce(Conversation.title, title)
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))
        session.flush()
        return [row.id for row in rows]

    def message(self, message_id: int) -> StoredMessage:
        """One message, e.g. the queued question a turn handler was given the id of."""
        with session_scope(self.sessions) as session:
            row = session.get(Message, message_id)
            if row is None:
                raise LookupError(f"no message {message_id}")
            return StoredMessage(
                row.id,
                row.conversation_id,
                row.role,
                row.content,
                row.status,
                row.trace_id,
                row.platform_message_id,
            )

    def replace_content(self, message_id: int, content: str) -> None:
        """A queued message's words, completed before its turn (e.g. with a Jira ticket it names)."""
        chat = {"role": "user", "content": content}
        with session_scope(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(content=content, token_count=message_tokens(chat))
            )

    def history(self, conversation_id: int, *, budget_tokens: int) -> list[dict[str, Any]]:
        """The conversation as chat messages, oldest first, fitted to the budget (see `window`)."""
        query = (
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.status.not_in(HIDDEN))
            .order_by(Message.created_at, Message.id)
        )
        with session_scope(self.sessions) as session:
            rows = list(session.scalars(query))
        messages = [_row_chat(row) for row in rows]
        tokens = [
            row.token_count if row.token_count is not None else message_tokens(m)
            for row, m in zip(rows, messages, strict=True)
        ]
        return fit(messages, budget_tokens, tokens)

    def trim(self, messages: list[dict[str, Any]], *, budget_tokens: int) -> list[dict[str, Any]]:
        return fit(messages, budget_tokens)

    def _next_stamp(self, session: Session, conversation_id: int) -> datetime:
        last = session.scalar(
            select(func.max(Message.created_at)).where(
                Message.conversation_id == conversation_id, Message.status.not_in(QUEUED)
            )
        )
        now = utcnow()
        return now if last is None else max(now, _aware(last) + TICK)

    # -- turn status of a message run without the delivery layer (terminal chat) -------------------

    def mark_done(self, message_id: int) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status.in_((*RUNNING, ANSWERED)))
                .values(status=OK)
            )

    def mark_failed(self, message_id: int) -> None:
        """The message and whatever its turn wrote so far leave the history."""
        with session_scope(self.sessions) as session:
            self.fail_turn(session, session.get_one(Message, message_id))

    def fail_turn(self, session: Session, row: Message) -> None:
        """Fail a user message and, if its turn had started, every reply stamped after it."""
        if row.status not in QUEUED:
            session.execute(
                update(Message)
                .where(
                    Message.conversation_id == row.conversation_id,
                    Message.created_at > row.created_at,
                    Message.role != "user",
                    Message.status.not_in(HIDDEN),
                )
                .values(status=FAILED)
            )
        row.status = FAILED

    def restart_turn(self, session: Session, row: Message) -> None:
        """A turn left half-done by a dead worker starts again: its replies so far leave the history."""
        fail = row.status in RUNNING
        if fail:
            self.fail_turn(session, row)
        row.created_at = self._next_stamp(session, row.conversation_id)

    # -- platform events ------------------------------------------------------------------------------

    def record_event_once(self, platform: str, event_id: str) -> bool:
        """True the first time (platform, event_id) is seen, False for every repeat, across processes."""
        with session_scope(self.sessions) as session:
            return self.record_event_in(session, platform, event_id)

    @staticmethod
    def record_event_in(session: Session, platform: str, event_id: str) -> bool:
        """`record_event_once` inside the caller's transaction."""
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        inserted = session.execute(
            insert(ProcessedEvent)
            .values(platform=platform, event_id=event_id, received_at=utcnow())
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.id)
        ).first()
        return inserted is not None

    def prune_events(self, older_than: timedelta) -> int:
        with session_scope(self.sessions) as session:
            result = session.execute(
                delete(ProcessedEvent).where(ProcessedEvent.received_at < utcnow() - older_than)
            )
            return result.rowcount  # type: ignore[attr-defined]
