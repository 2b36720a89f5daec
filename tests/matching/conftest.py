"""The LLM matcher against the fake OpenAI server (real openai SDK, real routed client) over a small
corpus in SQLite; tracing off, the ledger on."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.matching import LLMMatcher
from assistant.telemetry import Telemetry
from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.openai_server import FakeOpenAI
from tests.search.conftest import CVS


@pytest.fixture(autouse=True)
def _langfuse_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "false")
    sdk_logger = logging.getLogger("langfuse")
    level = sdk_logger.level
    sdk_logger.setLevel(logging.ERROR)
    yield
    sdk_logger.setLevel(level)


@pytest.fixture
def cv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cvs"
    folder.mkdir()
    for name, text in CVS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def database_file(tmp_path: Path, cv_folder: Path) -> str:
    url = f"sqlite:///{tmp_path / 'matching.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    report = ingest_folder(
        cv_folder, CvStore(session_factory(engine), OnnxEmbedder(), Settings(), today=TODAY)
    )
    assert report.counts["added"] == len(CVS)
    engine.dispose()
    return url


@pytest.fixture
def sessions(database_file: str) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_file)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def searcher(sessions: sessionmaker[Session]) -> Searcher:
    return Searcher(sessions, OnnxEmbedder(), today=TODAY)


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def settings(model: FakeOpenAI, database_file: str) -> AssistantSettings:
    return AssistantSettings(
        DATABASE_URL=database_file,
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=model.base_url,
        SKILLMATCH_LLM_PROVIDERS="openai",
        SKILLMATCH_LLM_RETRIES=0,
        SKILLMATCH_MATCHER_TIMEOUT=5,
    )


@pytest.fixture
def matcher(settings: AssistantSettings, sessions: sessionmaker[Session]) -> Iterator[LLMMatcher]:
    matcher = LLMMatcher(settings, telemetry=Telemetry(settings, sessions), session_id="test")
    yield matcher
    matcher.close()


def ranking(*entries: tuple[int, int, str]) -> str:
    """A model answer: (candidate id, grade, reason), best first."""
    return json.dumps({"ranking": [{"id": i, "grade": g, "reason": r} for i, g, r in entries]})


def candidate_ids(body: dict[str, Any]) -> list[int]:
    """The ids in the TOON table the matcher sent (rows `  <id>,...` under `candidates[n]{...}:`)."""
    table = body["messages"][-1]["content"].split("candidates[", 1)[1]
    return [int(line.strip().split(",", 1)[0]) for line in table.splitlines()[1:] if line.strip()]


def reverse_ranking(body: dict[str, Any]) -> str:
    """A responder: every candidate, in reverse order, grade 3 for the (new) first, then 1."""
    ids = candidate_ids(body)[::-1]
    return ranking(*[(i, 3 if n == 0 else 1, f"reason for {i}") for n, i in enumerate(ids)])


Responder = Callable[[dict[str, Any]], str]
