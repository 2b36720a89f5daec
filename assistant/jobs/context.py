"""What a job run works with, built from configuration: the same search, routed LLM client, telemetry and
ledger as the chat, plus the Jira client and the per-ticket store."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from langfuse import Langfuse
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.jobs.tickets import TicketStore
from assistant.llm import RoutedLLM, build_providers
from assistant.telemetry import Telemetry
from skillmatch.db import create_db_engine_from_settings, ensure_schema, session_factory
from skillmatch.embeddings import Embedder, build_embedder
from skillmatch.ingest.http import SourceConfigError, WaitFn
from skillmatch.ingest.jira import JiraClient
from skillmatch.search import Searcher


class JobConfigError(Exception):
    """The job cannot run as configured (settings, credentials, JQL): exit code 2, nothing was written."""


@dataclass(frozen=True)
class JobOptions:
    dry_run: bool = False  # print the comments, write nothing
    available_only: bool = False  # only people the ERP shows with free capacity in the period
    ask_for_details: bool = False  # a request without role/skills gets a comment asking for them


@dataclass
class JobContext:
    settings: AssistantSettings
    db: SqlEngine
    sessions: sessionmaker[Session]
    searcher: Searcher
    telemetry: Telemetry
    llm: RoutedLLM | None
    jira: JiraClient
    store: TicketStore
    today: Callable[[], date] = date.today
    # The lease owner: unique per run, readable by an operator looking at the table.
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    bot_account_id: str | None = None  # the Jira user we post as (from /myself, at the start of a run)

    def options(self, *, dry_run: bool = False, available_only: bool | None = None) -> JobOptions:
        return JobOptions(
            dry_run=dry_run,
            available_only=self.settings.jira_available_only if available_only is None else available_only,
            ask_for_details=self.settings.jira_ask_for_details,
        )

    async def aclose(self) -> None:
        """Flush traces (short-lived processes lose spans otherwise) and release connections."""
        try:
            if self.llm is not None:
                await self.llm.aclose()
        finally:
            self.jira.close()
            self.telemetry.shutdown()
            self.db.dispose()


def build_job_context(
    settings: AssistantSettings,
    *,
    langfuse: Langfuse | None = None,
    embedder: Embedder | None = None,
    today: Callable[[], date] = date.today,
    search_today: date | None = None,
    jira_wait: WaitFn | None = None,
) -> JobContext:
    """Everything from configuration. Tests and benchmarks may hand in a Langfuse client, a loaded embedder,
    a fixed day for the search's recency weights, and a recorder instead of Jira's back-off sleeps."""
    try:
        jira = JiraClient(settings, wait=jira_wait)
    except SourceConfigError as exc:
        raise JobConfigError(str(exc)) from exc
    try:
        providers = build_providers(settings)
    except ValueError as exc:
        jira.close()
        raise JobConfigError(str(exc)) from exc
    try:
        db = create_db_engine_from_settings(settings)
        ensure_schema(db)
    except BaseException:
        jira.close()
        raise
    sessions = session_factory(db)
    llm = (
        RoutedLLM(providers, retries=settings.llm_retries, cooldown_seconds=settings.llm_cooldown_seconds)
        if providers
        else None
    )
    return JobContext(
        settings=settings,
        db=db,
        sessions=sessions,
        searcher=Searcher(sessions, embedder or build_embedder(settings), today=search_today),
        telemetry=Telemetry(settings, sessions, client=langfuse),
        llm=llm,
        jira=jira,
        store=TicketStore(sessions),
        today=today,
    )
