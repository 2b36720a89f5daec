from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pytest
from sqlalchemy import Engine

from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_store import CvStore


class CountingEmbedder:
    """The real offline embedder, counting how many texts reach it."""

    def __init__(self) -> None:
        self.inner = OnnxEmbedder()
        self.texts: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def store(engine: Engine, counting_embedder: CountingEmbedder) -> CvStore:
    settings = Settings(DATABASE_URL=str(engine.url), SKILLMATCH_CV_MAX_BYTES=200_000)
    return CvStore(session_factory(engine), counting_embedder, settings, today=date(2026, 11, 27))
