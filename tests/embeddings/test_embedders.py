"""The API embedder through the real openai client against a fake server; the offline default as shipped."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import openai
import pytest
from sqlalchemy import Engine, func, select

from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.embeddings import (
    EmbedderUnavailable,
    EmbeddingCache,
    OnnxEmbedder,
    OpenAIEmbedder,
    build_embedder,
)
from skillmatch.models import Embedding
from skillmatch.tokencount import count_tokens
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(dim=16) as fake:
        yield fake


def api_embedder(fake: FakeOpenAI, *, batch_size: int = 2, max_tokens: int = 8000) -> OpenAIEmbedder:
    settings = Settings(
        SKILLMATCH_EMBEDDER="openai",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake.base_url,
        SKILLMATCH_EMBEDDING_BATCH_SIZE=batch_size,
        SKILLMATCH_EMBEDDING_MAX_TOKENS=max_tokens,
        SKILLMATCH_EMBEDDING_MODEL="text-embedding-3-small",
    )
    embedder = build_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    return embedder


def test_api_embedder_batches_and_normalises(fake_openai: FakeOpenAI) -> None:
    embedder = api_embedder(fake_openai, batch_size=2)
    vectors = embedder.embed(["alpha", "beta", "gamma", "delta", "epsilon"])
    assert vectors.shape == (5, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    requests = fake_openai.embedding_requests()
    assert [len(r.json()["input"]) for r in requests] == [2, 2, 1]
    assert requests[0].json()["model"] == "text-embedding-3-small"
    assert embedder.name == "openai:text-embedding-3-small:native"


def test_api_embedder_truncates_by_real_token_count(fake_openai: FakeOpenAI) -> None:
    embedder = api_embedder(fake_openai, max_tokens=50)
    long_text = "Kubernetes platform engineering for regulated banks. " * 100
    embedder.embed([long_text])
    sent = fake_openai.embedding_requests()[0].json()["input"][0]
    assert count_tokens(sent, "cl100k_base") <= 50
    assert long_text.startswith(sent)


def test_api_errors_surface_as_openai_errors(fake_openai: FakeOpenAI) -> None:
    settings = Settings(
        SKILLMATCH_EMBEDDER="openai", OPENAI_API_KEY="sk-wrong", OPENAI_BASE_URL=fake_openai.base_url
    )
    with pytest.raises(openai.AuthenticationError):
        build_embedder(settings).embed(["x"])


def test_cache_never_embeds_the_same_text_twice(fake_openai: FakeOpenAI, sqlite_engine: Engine) -> None:
    cache = EmbeddingCache(api_embedder(fake_openai))
    sessions = session_factory(sqlite_engine)
    with sessions() as session:
        first, new = cache.vectors(session, {"h1": "one", "h2": "two"})
        session.commit()
        again, new_again = cache.vectors(session, {"h1": "one", "h2": "two", "h3": "three"})
        session.commit()
        assert (len(new), len(new_again)) == (2, 1)
        assert np.allclose(first["h1"], again["h1"])
        assert session.scalar(select(func.count()).select_from(Embedding)) == 3
    sent = [text for r in fake_openai.embedding_requests() for text in r.json()["input"]]
    assert sorted(sent) == ["one", "three", "two"]


def test_offline_default_is_a_local_transformer() -> None:
    embedder = build_embedder(Settings())
    assert isinstance(embedder, OnnxEmbedder)
    vectors = embedder.embed(
        ["Kubernetes platform engineer", "runs container orchestration clusters in production", "pastry chef"]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2  # a paraphrase, not a shared word
    assert embedder.name.startswith("onnx:all-MiniLM-L6-v2-int8@8199be6f699a")


def test_offline_embedder_is_deterministic_across_batches() -> None:
    embedder = OnnxEmbedder(batch_size=2)
    texts = ["short", "a considerably longer sentence about Java and Spring Boot", "medium length text"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)  # padding does not change a text's vector


def test_a_tampered_model_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedder = OnnxEmbedder()
    tampered = tmp_path / "model.onnx"
    tampered.write_bytes(embedder.model_path.read_bytes()[:-10] + b"0123456789")
    embedder.model_path = tampered
    with pytest.raises(EmbedderUnavailable, match="not the pinned"):
        embedder.embed(["x"])
    with pytest.raises(EmbedderUnavailable, match="cannot load"):
        OnnxEmbedder(model_path=tmp_path / "missing.onnx").embed(["x"])


def test_unknown_embedder_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown SKILLMATCH_EMBEDDER"):
        build_embedder(Settings(SKILLMATCH_EMBEDDER="word2vec"))
    with pytest.raises(ValueError, match="needs AZURE_OPENAI_ENDPOINT"):
        build_embedder(Settings(SKILLMATCH_EMBEDDER="azure"))
    with pytest.raises(ValueError, match="needs SKILLMATCH_EMBEDDER_MODEL_PATH"):
        build_embedder(Settings(SKILLMATCH_EMBEDDER="static"))
