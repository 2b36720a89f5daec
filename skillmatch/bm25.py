"""Okapi BM25 over pre-tokenised passages, stored as per-term posting arrays for vectorised scoring."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np


def bm25_idf(n_docs: int, df: int) -> float:
    """Okapi BM25's idf, floored at log(1 + ...) so very common terms still count a little."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class BM25Index:
    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.n_docs = len(documents)
        lengths = np.fromiter((len(d) for d in documents), dtype=np.float32, count=self.n_docs)
        avg = float(lengths.mean()) if self.n_docs else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(avg, 1e-9))

        doc_ids: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for doc_id, tokens in enumerate(documents):
            for term, tf in Counter(tokens).items():
                doc_ids.setdefault(term, []).append(doc_id)
                freqs.setdefault(term, []).append(tf)

        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, ids in doc_ids.items():
            ids_arr = np.asarray(ids, dtype=np.int32)
            tf = np.asarray(freqs[term], dtype=np.float32)
            idf = bm25_idf(self.n_docs, len(ids))
            weights = idf * tf * (k1 + 1.0) / (tf + norm[ids_arr])
            self.postings[term] = (ids_arr, weights.astype(np.float32))

    def scores(self, query_tokens: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(query_tokens):
            posting = self.postings.get(term)
            if posting is not None:
                ids, weights = posting
                out[ids] += weights  # ids are unique within a posting, so fancy-index add is exact
        return out

    def idf(self, term: str) -> float:
        posting = self.postings.get(term)
        return bm25_idf(self.n_docs, 0 if posting is None else len(posting[0]))
