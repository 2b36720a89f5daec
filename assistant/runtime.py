"""Wiring: settings -> database, search, sessions, telemetry, routed LLM, prompts -> one Engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from langfuse import Langfuse
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.engine import Engine
from assistant.llm import RoutedLLM, build_providers
from assistant.matching import LLMMatcher
from assistant.matching.llm import NAME as LLM_MATCHER
from assistant.prompts import PromptProvider
from assistant.sessions import SessionStore
from assistant.telemetry import Telemetry
from skillmatch.db import create_db_engine_from_settings, ensure_schema, session_factory
from skillmatch.embeddings import build_embedder
from skillmatch.matching import HYBRID, Matcher, MatcherUnavailable
from skillmatch.search import Searcher


@dataclass
class Runtime:
    settings: AssistantSettings
    db: SqlEngine
    sessions: sessionmaker[Session]
    searcher: Searcher
    store: SessionStore
    telemetry: Telemetry
    llm: RoutedLLM
    engine: Engine
    matcher: Matcher | None = None

    def close(self) -> None:
        if self.matcher is not None:
            self.matcher.close()
        self.telemetry.shutdown()
        self.db.dispose()


def build_runtime(
    settings: AssistantSettings,
    *,
    langfuse: Langfuse | None = None,
    searcher: Searcher | None = None,
    today: Callable[[], date] = date.today,
) -> Runtime:
    """Everything from configuration; tests and benchmarks may hand in a Langfuse client or a searcher."""
    db = create_db_engine_from_settings(settings)
    ensure_schema(db)
    sessions = session_factory(db)
    searcher = searcher or Searcher(sessions, build_embedder(settings))
    store = SessionStore(sessions)
    telemetry = Telemetry(settings, sessions, client=langfuse)
    llm = RoutedLLM(
        build_providers(settings),
        retries=settings.llm_retries,
        cooldown_seconds=settings.llm_cooldown_seconds,
    )
    matcher = build_matcher(settings, telemetry)
    prompts = PromptProvider(
        telemetry.client, name=settings.langfuse_prompt_name, label=settings.langfuse_prompt_label
    )
    engine = Engine(
        settings=settings,
        sessions=sessions,
        searcher=searcher,
        store=store,
        telemetry=telemetry,
        llm=llm,
        prompts=prompts,
        today=today,
        matcher=matcher,
    )
    return Runtime(settings, db, sessions, searcher, store, telemetry, llm, engine, matcher)


def build_matcher(settings: AssistantSettings, telemetry: Telemetry) -> Matcher | None:
    """SKILLMATCH_MATCHER: None for the hybrid order; the LLM matcher shares the ledger and tracing but has
    a routed client of its own (it runs on its own event loop). Any other name is refused at start."""
    if settings.matcher == HYBRID:
        return None
    if settings.matcher != LLM_MATCHER:
        raise MatcherUnavailable(f"SKILLMATCH_MATCHER={settings.matcher!r}; use {HYBRID} or {LLM_MATCHER}")
    return LLMMatcher(settings, telemetry=telemetry, session_id="assistant")
