"""Embedders (the bundled offline model or an OpenAI-compatible API) behind a content-hash cache."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from skillmatch.config import Settings, package_path
from skillmatch.db import insert_ignoring_conflicts
from skillmatch.models import Embedding

BUNDLED_MODEL_DIR = package_path("embedder_model")


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """Stable identifier including the model version; part of the cache key."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class StaticEmbedder:
    """A model2vec static model shipped inside the package: numpy only, no GPU, nothing downloaded."""

    def __init__(self, model_dir: os.PathLike[str] | str = BUNDLED_MODEL_DIR):
        self.model_dir = os.fspath(model_dir)

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never ask the hub
        from model2vec import StaticModel

        return StaticModel.from_pretrained(self.model_dir)

    @cached_property
    def name(self) -> str:
        digest = hashlib.sha256()
        with open(os.path.join(self.model_dir, "model.safetensors"), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"static:{os.path.basename(os.path.normpath(self.model_dir))}@{digest.hexdigest()[:12]}"

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise_rows(self._model.encode(list(texts), show_progress_bar=False))


class OpenAIEmbedder:
    """OpenAI, Azure OpenAI or any OpenAI-compatible endpoint (e.g. a self-hosted model behind vLLM)."""

    MAX_INPUT_TOKENS = 8191

    def __init__(self, client, model: str, *, dimensions: int | None, batch_size: int, max_tokens: int):  # type: ignore[no-untyped-def]
        self.client = client
        self.model = model
        self.dimensions = dimensions
        self.batch_size = max(1, batch_size)
        self.max_tokens = min(max_tokens, self.MAX_INPUT_TOKENS)
        self._dim: int | None = dimensions

    @property
    def name(self) -> str:
        return f"openai:{self.model}:{self.dimensions or 'native'}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from skillmatch.tokencount import truncate_tokens

        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [
                truncate_tokens(t, self.max_tokens, "cl100k_base") or " "
                for t in texts[start : start + self.batch_size]
            ]
            kwargs = {"dimensions": self.dimensions} if self.dimensions else {}
            response = self.client.embeddings.create(model=self.model, input=batch, **kwargs)
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        if not vectors:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        matrix = normalise_rows(np.array(vectors, dtype=np.float32))
        self._dim = matrix.shape[1]
        return matrix


def build_embedder(settings: Settings) -> Embedder:
    kind = settings.embedder.lower()
    if kind == "offline":
        return StaticEmbedder()
    if kind in ("openai", "azure"):
        import openai

        if kind == "azure":
            if not (settings.azure_openai_endpoint and settings.azure_openai_api_key):
                raise ValueError(
                    "SKILLMATCH_EMBEDDER=azure needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY"
                )
            client = openai.AzureOpenAI(
                azure_endpoint=settings.azure_openai_endpoint,
                api_key=settings.azure_openai_api_key.get_secret_value(),
                api_version=settings.openai_api_version,
                max_retries=3,
            )
        else:
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            base_url = settings.embedding_base_url or settings.openai_base_url
            if not key and not base_url:
                raise ValueError(
                    "SKILLMATCH_EMBEDDER=openai needs OPENAI_API_KEY (or a self-hosted base URL)"
                )
            client = openai.OpenAI(api_key=key or "not-needed", base_url=base_url, max_retries=3)
        return OpenAIEmbedder(
            client,
            settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            batch_size=settings.embedding_batch_size,
            max_tokens=settings.embedding_max_tokens,
        )
    raise ValueError(f"unknown SKILLMATCH_EMBEDDER={settings.embedder!r}; use offline, openai or azure")


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def bytes_to_vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)


class EmbeddingCache:
    """Vectors by (embedder name, text hash) in the database: a text is embedded once, ever."""

    LOOKUP_BATCH = 500

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def vectors(self, session: Session, texts_by_hash: dict[str, str]) -> tuple[dict[str, np.ndarray], int]:
        """Vectors for every hash; returns them and how many had to be embedded now."""
        found: dict[str, np.ndarray] = {}
        hashes = list(texts_by_hash)
        for start in range(0, len(hashes), self.LOOKUP_BATCH):
            batch = hashes[start : start + self.LOOKUP_BATCH]
            rows = session.execute(
                select(Embedding.text_hash, Embedding.vector).where(
                    Embedding.embedder == self.embedder.name, Embedding.text_hash.in_(batch)
                )
            )
            found.update((h, bytes_to_vector(v)) for h, v in rows)
        missing = [h for h in hashes if h not in found]
        if missing:
            matrix = self.embedder.embed([texts_by_hash[h] for h in missing])
            rows_to_insert = [
                {
                    "embedder": self.embedder.name,
                    "text_hash": h,
                    "dim": int(matrix.shape[1]),
                    "vector": vector_to_bytes(v),
                }
                for h, v in zip(missing, matrix, strict=True)
            ]
            insert_ignoring_conflicts(session, Embedding, rows_to_insert)
            found.update(zip(missing, matrix, strict=True))
        return found, len(missing)
