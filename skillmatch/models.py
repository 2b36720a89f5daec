"""SQLAlchemy ORM: one metadata for Alembic. Domain tables first, conversation tables after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from skillmatch.text.names import name_key

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


# --- people and documents -------------------------------------------------------------------------


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)  # see skillmatch.text.names
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    location: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    seniority: Mapped[str | None] = mapped_column(String(20))
    years_experience: Mapped[float | None] = mapped_column(Float)
    languages: Mapped[dict[str, Any]] = mapped_column(default=dict)
    jira_account_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    moco_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    documents: Mapped[list[CvDocument]] = relationship(back_populates="person")

    @validates("name")
    def _keep_name_key(self, _attribute: str, value: str) -> str:
        # Every writer (CVs, Jira, MOCO) keeps the key current without having to remember it.
        self.name_key = name_key(value or "")[:200]
        return value


class CvDocument(Base):
    """One CV as ingested. `source` is the file path or `sharepoint:{drive}:{item}` exactly as given."""

    __tablename__ = "cv_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(1000), unique=True)
    source_kind: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(500))
    web_url: Mapped[str | None] = mapped_column(String(2000))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    extracted_text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    modified_at: Mapped[datetime | None] = mapped_column()
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person | None] = relationship(back_populates="documents")
    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class Chunk(Base):
    """A retrievable passage of a CV. `index_text` is what BM25 and the embedder see (normalised)."""

    __tablename__ = "chunks"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("cv_documents.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    index_text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    end_year: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)  # canonical skill -> mentions
    negated_skills: Mapped[list[Any]] = mapped_column(default=list)

    document: Mapped[CvDocument] = relationship(back_populates="chunks")


class Embedding(Base):
    """Vectors cached by (embedder, text hash): the same text is never embedded twice."""

    __tablename__ = "embeddings"

    embedder: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Jira ---------------------------------------------------------------------------------------------


class JiraIssue(Base):
    __tablename__ = "jira_issues"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    jira_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    assignee_account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    project_key: Mapped[str | None] = mapped_column(String(64))
    issue_type: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[list[Any]] = mapped_column(default=list)
    components: Mapped[list[Any]] = mapped_column(default=list)
    created: Mapped[datetime | None] = mapped_column()
    updated: Mapped[datetime | None] = mapped_column(index=True)
    resolved: Mapped[datetime | None] = mapped_column()


class JiraTicket(Base):
    """What the staffing jobs (assistant/jobs) remember per request ticket: the request they read, what
    they understood, the result they posted and where, and the lease that keeps two runs from posting."""

    __tablename__ = "jira_tickets"

    issue_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    constraints: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_hash: Mapped[str | None] = mapped_column(String(64))
    comment_id: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- ERP (MOCO) ---------------------------------------------------------------------------------------


class Allocation(Base):
    """A MOCO planning entry: who is planned on what, and how many hours per day."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    moco_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    project_name: Mapped[str | None] = mapped_column(String(300))
    customer_name: Mapped[str | None] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    hours_per_day: Mapped[float] = mapped_column(Float)
    tentative: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column()


class Employment(Base):
    __tablename__ = "employments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    moco_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    weekly_target_hours: Mapped[float] = mapped_column(Float)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime | None] = mapped_column()


class Absence(Base):
    """A day (or half day) away. Dates only: the reason is never fetched into this table."""

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    moco_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    am: Mapped[bool] = mapped_column(Boolean, default=True)
    pm: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column()


class Activity(Base):
    """A MOCO time entry; `remote_id` often carries a Jira key."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    moco_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float)
    project_name: Mapped[str | None] = mapped_column(String(300))
    task_name: Mapped[str | None] = mapped_column(String(300))
    remote_id: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None] = mapped_column()


class SyncState(Base):
    """Resumable cursors of the remote sources: a Graph deltaLink, an `updated_after` timestamp, ..."""

    __tablename__ = "sync_state"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class CorpusVersion(Base):
    """A single row bumped on every corpus change, so replicas know when to reload their index."""

    __tablename__ = "corpus_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- conversations (used by the assistant) ----------------------------------------------------------


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(400), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The delivery lease: which replica runs this thread's turns, until when (renewed by its heartbeat).
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column()

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.id"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_status_conversation_id", "status", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[list[Any] | None] = mapped_column(JSON)
    tool_call_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    trace_id: Mapped[str | None] = mapped_column(String(64), index=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(200))
    token_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="ok")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Delivery of a user message's answer (see assistant/delivery): the platform's order within the thread,
    # where to answer, what was already posted for the answer, the finished answer, and how often it ran.
    order_key: Mapped[str | None] = mapped_column(String(64))
    reply_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class ProcessedEvent(Base):
    """Platform event ids seen once; the unique key makes redelivery a no-op across processes."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class LlmCall(Base):
    """The local call ledger: one row per LLM call, whether or not Langfuse is configured."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[str | None] = mapped_column(String(64), index=True)
    session_id: Mapped[str | None] = mapped_column(String(400), index=True)
    provider: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_hash: Mapped[str] = mapped_column(String(64), index=True)
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="ok")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    user_id: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
