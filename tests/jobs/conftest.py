"""Fixtures for the Jira staffing jobs: the fake Jira, OpenAI and Langfuse servers, settings pointing at
them, a job context over the bundled sample (SQLite) or a small corpus (any database), and request tickets."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.jobs.context import JobContext, build_job_context
from assistant.masking import langfuse_mask
from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore
from tests.conftest import TODAY
from tests.fakes.jira import FakeJira, jira_issue
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI

PERIOD = ("2027-01-04", "2027-03-26")  # the sample's MOCO data has bookings in this quarter
START_FIELD, END_FIELD, HEADCOUNT_FIELD = "customfield_10015", "customfield_10016", "customfield_10020"
FIELDS = {"start": START_FIELD, "end": END_FIELD, "headcount": HEADCOUNT_FIELD}


class Waits(list[float]):
    """Stands in for time.sleep in Jira's back-off: records each wait instead."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def request_ticket(
    key: str,
    summary: str,
    description: str | dict[str, Any] | None = None,
    *,
    start: str | None = PERIOD[0],
    end: str | None = PERIOD[1],
    headcount: int | None = None,
    status: str = "Open",
) -> dict[str, Any]:
    """A staffing request as Jira stores it: summary, ADF description and the custom date fields."""
    extra = {START_FIELD: start, END_FIELD: end, HEADCOUNT_FIELD: float(headcount) if headcount else None}
    return jira_issue(key, summary, description=description, status=status, extra_fields=extra)


def model_reading(**values: Any) -> str:
    """What a well-behaved model answers to the extraction prompt."""
    answer = {
        "usable": True,
        "role": None,
        "skills": [],
        "domain": None,
        "seniority": None,
        "locations": [],
        "language": None,
        "start": None,
        "end": None,
        "headcount": None,
        "missing": [],
    }
    return json.dumps(answer | values)


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_project("STAFF")
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def fake_langfuse() -> Iterator[FakeLangfuse]:
    with FakeLangfuse() as fake:
        yield fake


def jira_env(fake: FakeJira) -> dict[str, str]:
    return {"JIRA_BASE_URL": fake.base_url, "JIRA_EMAIL": fake.email, "JIRA_API_TOKEN": fake.api_token}


def openai_env(fake: FakeOpenAI) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": fake.api_key,
        "OPENAI_BASE_URL": fake.base_url,
        "SKILLMATCH_LLM_PROVIDERS": "openai",
        "SKILLMATCH_LLM_RETRIES": "0",
    }


def job_settings(database_url: str, jira: FakeJira, **values: Any) -> AssistantSettings:
    """Settings from explicit values only (no .env, no stray environment), retries kept short."""
    base = {
        "DATABASE_URL": database_url,
        "SKILLMATCH_HTTP_MAX_RETRIES": 2,
        "SKILLMATCH_LLM_PROVIDERS": "",
        "SKILLMATCH_JIRA_FIELDS": FIELDS,
        **jira_env(jira),
    }
    return AssistantSettings(_env_file=None, **(base | values))  # type: ignore[call-arg]


JobFactory = Callable[..., Any]


@pytest.fixture
def make_job(embedder: OnnxEmbedder, fake_langfuse: FakeLangfuse) -> Iterator[JobFactory]:
    """`async with make_job(settings, tracing=True) as job:` — a job context (closed, and its traces
    flushed, on exit), searching with the session's embedder as of the sample's day."""
    waits = Waits()

    @asynccontextmanager
    async def make(settings: AssistantSettings, *, tracing: bool = False) -> AsyncIterator[JobContext]:
        if not tracing:
            job = build_job_context(
                settings, embedder=embedder, today=lambda: TODAY, search_today=TODAY, jira_wait=waits
            )
            try:
                yield job
            finally:
                await job.aclose()
            return
        public_key = f"pk-lf-jobs-{uuid.uuid4().hex[:10]}"
        traced = settings.model_copy(
            update={
                "langfuse_public_key": public_key,
                "langfuse_secret_key": "sk-lf-test",
                "langfuse_base_url": fake_langfuse.origin,
            }
        )
        with isolated_langfuse(fake_langfuse, public_key=public_key, mask=langfuse_mask) as client:
            job = build_job_context(
                traced,
                langfuse=client,
                embedder=embedder,
                today=lambda: TODAY,
                search_today=TODAY,
                jira_wait=waits,
            )
            try:
                yield job
            finally:
                await job.aclose()

    yield make


# --- a small corpus for any database (the bundled sample takes long to embed on PostgreSQL) ------------

SMALL_CVS = {
    "anna-java.md": "# Anna Berger\nSenior Java Developer, Munich\n\n## Skills\nJava, Spring Boot, Kafka, "
    "PostgreSQL\n\n## Projects\n2021 – 2024: Java developer for an insurance claims portal (Spring Boot).",
    "ben-react.md": "# Ben Vogt\nFrontend Developer, Hamburg\n\n## Skills\nReact, TypeScript, CSS\n\n"
    "## Projects\n2022 – 2024: React frontend for an online shop.",
    "carla-scrum.md": "# Carla Dietz\nScrum Master, Berlin\n\n## Skills\nScrum, Kanban, Jira\n\n## Projects\n"
    "2020 – 2024: Scrum Master for two teams at a bank.",
}


def seed_small_corpus(sessions: sessionmaker[Session], embedder: OnnxEmbedder) -> None:
    store = CvStore(sessions, embedder, Settings(_env_file=None), today=TODAY)  # type: ignore[call-arg]
    for name, text in SMALL_CVS.items():
        result = store.upsert(
            source=f"/cvs/{name}", source_kind="file", display_name=name, data=text.encode()
        )
        assert result.outcome == "added", result


@pytest.fixture
def small_db_url(database_url: str, embedder: OnnxEmbedder) -> str:
    engine = create_db_engine(database_url)
    upgrade(engine)
    seed_small_corpus(session_factory(engine), embedder)
    engine.dispose()
    return database_url


def day(text: str) -> date:
    return date.fromisoformat(text)
