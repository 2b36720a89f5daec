"""Shared fixtures: databases on SQLite and PostgreSQL, each migrated by Alembic."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.sample import ingest_sample

POSTGRES_URL = os.environ.get(
    "SKILLMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("SKILLMATCH_REQUIRE_POSTGRES") == "1"


# Credentials from the developer's shell must never reach a test (no network beyond 127.0.0.1).
_EXTERNAL_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "VLLM_BASE_URL", "VLLM_MODEL", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL",
    "LANGFUSE_HOST", "SKILLMATCH_LLM_PROVIDERS", "SKILLMATCH_EMBEDDER", "DATABASE_URL",
    "SKILLMATCH_LEXICON_FILE", "SKILLMATCH_MATCHER",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in _EXTERNAL_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):  # chat platform credentials: Slack, the Teams service connection
        if name.startswith(("SLACK_", "TEAMS_", "CONNECTIONS__", "CONNECTIONSMAP__")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("LANGFUSE_TRACING_ENABLED", raising=False)
    # `chat` logs to a file; a test must never write into the developer's home.
    monkeypatch.setenv("SKILLMATCH_LOG_FILE", str(tmp_path_factory.mktemp("logs") / "chat.log"))


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({problem})"
    if REQUIRE_POSTGRES:
        pytest.fail(message + "; SKILLMATCH_REQUIRE_POSTGRES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def postgres_schema_url(schema: str) -> str:
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A private schema per test on the shared server, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'skillmatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_db_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = create_db_engine(sqlite_url)
    upgrade(eng)
    yield eng
    eng.dispose()


# --- the bundled sample data in a database, built once per session, copied per test ---------------

TODAY = date(2026, 11, 27)


@pytest.fixture(scope="session")
def sample_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample-db") / "sample.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = session_factory(engine)
    ingest_sample(sessions, CvStore(sessions, OnnxEmbedder(), Settings(), today=TODAY))
    engine.dispose()
    return path


@pytest.fixture
def sample_db_url(sample_db_template: Path, tmp_path: Path) -> Iterator[str]:
    copy = tmp_path / "sample.db"
    shutil.copy(sample_db_template, copy)
    yield f"sqlite:///{copy}"
