"""The bundled sample (60 CVs; Jira and MOCO data for 36) loaded once into a temporary SQLite file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.tools import ToolContext
from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.sample import ingest_sample
from skillmatch.models import Person
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    return OnnxEmbedder()


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory, embedder: OnnxEmbedder) -> ToolContext:
    path: Path = tmp_path_factory.mktemp("tools") / "sample.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    sessions = session_factory(engine)
    reports = ingest_sample(sessions, CvStore(sessions, embedder, Settings(), today=TODAY))
    assert reports[0].counts["added"] == 60 and not reports[0].problems
    return ToolContext(sessions, Searcher(sessions, embedder, today=TODAY), TODAY)


@pytest.fixture
def namesakes(tmp_path: Path, embedder: OnnxEmbedder) -> ToolContext:
    """Two Annas and nobody in the ERP: for ambiguity and "unknown to the ERP"."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'namesakes.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        session.add_all([Person(name="Anna Schmidt"), Person(name="Anna Weber"), Person(name="Jörg Weiß")])
    return ToolContext(sessions, Searcher(sessions, embedder, today=TODAY), TODAY)
