"""The CV index: add, update or remove one document (from a folder or from SharePoint).

Idempotent by content hash: unchanged bytes cost one hash and one lookup; changed bytes are re-parsed and
re-chunked, and only chunk texts never seen before are embedded (see embeddings.EmbeddingCache).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Outcome = Literal["added", "updated", "unchanged", "failed"]


@dataclass(frozen=True)
class UpsertResult:
    source: str
    outcome: Outcome
    reason: str | None = None  # why it failed, in words a user understands
    person_name: str | None = None
    chunks: int = 0
    embedded: int = 0  # chunk texts that needed a new embedding


class CvStore:
    """Implementation lands with the CV pipeline; the signatures below are the contract."""

    def upsert(
        self,
        *,
        source: str,
        source_kind: str,
        display_name: str,
        data: bytes,
        modified_at: datetime | None = None,
        web_url: str | None = None,
    ) -> UpsertResult:
        raise NotImplementedError

    def remove(self, source: str) -> bool:
        raise NotImplementedError

    def known_sources(self, prefix: str) -> set[str]:
        raise NotImplementedError
