"""A sample-data database for conversation tests, built once, copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from skillmatch.config import Settings
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.ingest.sample import ingest_sample

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
