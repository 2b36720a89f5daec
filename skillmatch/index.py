"""The in-memory search index of one replica: passages, vectors, BM25 postings and per-person skill
evidence, built from the database and rebuilt when the corpus version moves."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from skillmatch.bm25 import BM25Index, bm25_idf
from skillmatch.chunking import EMBEDDED_SECTIONS, recency_weight
from skillmatch.corpus import corpus_version
from skillmatch.embeddings import Embedder, EmbeddingCache, bytes_to_vector, normalise_rows
from skillmatch.models import Chunk, CvDocument, Embedding, Person
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.tokens import tokenize

SKILLS_PER_PASSAGE = 8  # a passage naming up to this many skills is full evidence for each


@dataclass
class PersonRecord:
    id: int
    name: str
    title: str | None
    location: str | None
    seniority: str | None
    years_experience: float | None
    languages: dict[str, str]
    source: str | None = None
    source_name: str | None = None
    web_url: str | None = None


@dataclass
class ChunkRecord:
    id: int
    person: int  # position in SearchIndex.people
    section: str
    text: str
    source: str
    source_name: str
    end_year: int | None
    skills: dict[str, int]


@dataclass
class SearchIndex:
    version: int
    embedder_name: str
    people: list[PersonRecord]
    chunks: list[ChunkRecord]
    chunk_person: np.ndarray  # int32, position of each chunk's person (chunks are grouped by person)
    segment_starts: np.ndarray  # first chunk of each run of one person's chunks (for reduceat)
    segment_owners: np.ndarray  # the person of each run
    person_chunks: np.ndarray  # (n_people, 2): [first, end) chunk positions of each person
    chunk_weight: np.ndarray  # float32, evidence weight (section x recency)
    dense: np.ndarray  # float32 (n_chunks, dim): centred on dense_mean, rows L2-normalised
    dense_mean: np.ndarray  # float32 (dim,): subtract from a query vector before scoring
    bm25: BM25Index
    skill_ids: dict[str, int]
    evidence: np.ndarray  # float32 (n_people, n_skills): weighted, recency-adjusted mentions
    skill_idf: np.ndarray  # float32 (n_skills,)
    person_pos: dict[int, int] = field(default_factory=dict)
    _derived: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        return len(self.people)

    def person_array(
        self, key: str, value: Callable[[PersonRecord], object], dtype: object = object
    ) -> np.ndarray:
        """A per-person array derived once per index (seniority, location, a language level, ...)."""
        array = self._derived.get(key)
        if array is None:
            array = np.array([value(p) for p in self.people], dtype=dtype)  # type: ignore[call-overload]
            self._derived[key] = array
        return array


def build_index(
    people: list[PersonRecord],
    chunks: list[ChunkRecord],
    index_texts: list[str],
    weights: list[float],
    vectors: np.ndarray,
    *,
    version: int,
    embedder_name: str,
    current_year: int,
) -> SearchIndex:
    """Pure construction from records, shared by the database loader and the benchmarks."""
    person_pos = {p.id: i for i, p in enumerate(people)}
    chunk_person = np.fromiter((c.person for c in chunks), dtype=np.int32, count=len(chunks))
    if np.any(np.diff(chunk_person) < 0):
        raise ValueError("chunks must be grouped by person, in person order")
    boundaries = np.flatnonzero(np.diff(chunk_person)) + 1
    segment_starts = np.r_[0, boundaries].astype(np.int64) if chunk_person.size else np.zeros(0, np.int64)
    segment_owners = chunk_person[segment_starts]
    person_chunks = np.zeros((len(people), 2), dtype=np.int64)
    person_chunks[segment_owners, 0] = segment_starts
    person_chunks[segment_owners, 1] = np.r_[segment_starts[1:], chunk_person.size]
    chunk_weight = np.asarray(weights, dtype=np.float32)
    bm25 = BM25Index([tokenize(t) for t in index_texts])

    skill_ids: dict[str, int] = {}
    for chunk in chunks:
        for skill in chunk.skills:
            skill_ids.setdefault(skill, len(skill_ids))
    evidence = np.zeros((len(people), max(1, len(skill_ids))), dtype=np.float32)
    latest: dict[tuple[int, str], int] = {}
    for chunk in chunks:
        if chunk.end_year is not None:
            for skill in chunk.skills:
                key = (chunk.person, skill)
                latest[key] = max(latest.get(key, chunk.end_year), chunk.end_year)
    for chunk, weight in zip(chunks, chunk_weight, strict=True):
        # A list of eighty buzzwords is weak evidence for each of them (keyword stuffing): a passage's
        # support for one skill shrinks with the number of distinct skills it names.
        dilution = min(1.0, math.sqrt(SKILLS_PER_PASSAGE / max(1, len(chunk.skills))))
        for skill in chunk.skills:
            w = float(weight) * dilution
            if chunk.end_year is None and (chunk.person, skill) in latest:
                # An undated mention (skills list, profile) is as current as the latest dated use.
                w *= recency_weight(latest[(chunk.person, skill)], current_year)
            evidence[chunk.person, skill_ids[skill]] += w
    # Static embeddings share a common direction that makes long, generic passages similar to everything
    # ("hubs"); centring on the corpus mean removes it.
    vectors = np.asarray(vectors, dtype=np.float32)
    has_vector = np.any(vectors != 0, axis=1)  # passages deliberately not embedded are zero rows
    mean = vectors[has_vector].mean(axis=0) if has_vector.any() else np.zeros(vectors.shape[1:], np.float32)
    dense = np.where(has_vector[:, None], normalise_rows(vectors - mean), 0.0).astype(np.float32)
    has_skill = (evidence > 0).sum(axis=0)
    n = max(1, len(people))
    # Industries and leadership count less than the craft a request asks for (the lexicon's `weight`).
    weight = get_lexicon().weights
    names = [*skill_ids, ""][: len(has_skill)]  # no skills at all: one empty column
    skill_idf = np.asarray(
        [bm25_idf(n, int(df)) * weight.get(name, 1.0) for name, df in zip(names, has_skill, strict=True)],
        dtype=np.float32,
    )
    return SearchIndex(
        version=version,
        embedder_name=embedder_name,
        people=people,
        chunks=chunks,
        chunk_person=chunk_person,
        segment_starts=segment_starts,
        segment_owners=segment_owners,
        person_chunks=person_chunks,
        chunk_weight=chunk_weight,
        dense=dense,
        dense_mean=mean,
        bm25=bm25,
        skill_ids=skill_ids,
        evidence=evidence,
        skill_idf=skill_idf,
        person_pos=person_pos,
    )


def load_index(session: Session, embedder: Embedder, current_year: int) -> SearchIndex:
    version = corpus_version(session)
    person_rows = session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id)).all()
    people = [
        PersonRecord(
            id=p.id,
            name=p.name,
            title=p.title,
            location=p.location,
            seniority=p.seniority,
            years_experience=p.years_experience,
            languages=dict(p.languages or {}),
        )
        for p in person_rows
    ]
    pos = {p.id: i for i, p in enumerate(people)}
    rows = session.execute(
        select(
            Chunk.id,
            Chunk.person_id,
            Chunk.section,
            Chunk.text,
            Chunk.index_text,
            Chunk.text_hash,
            Chunk.weight,
            Chunk.end_year,
            Chunk.skills,
            CvDocument.source,
            CvDocument.display_name,
            CvDocument.web_url,
            CvDocument.ingested_at,
            Embedding.vector,
        )
        .join(CvDocument, CvDocument.id == Chunk.document_id)
        .outerjoin(
            Embedding, (Embedding.text_hash == Chunk.text_hash) & (Embedding.embedder == embedder.name)
        )
        .order_by(Chunk.person_id, Chunk.id)
    ).all()
    chunks: list[ChunkRecord] = []
    index_texts: list[str] = []
    weights: list[float] = []
    vectors: list[np.ndarray | None] = []  # None: not embedded (by design, or not yet for this embedder)
    missing: dict[str, str] = {}
    newest_doc: dict[int, tuple[object, str, str, str | None]] = {}
    kept_rows = []
    passages: set[tuple[int, str]] = set()
    for row in rows:
        person = pos.get(row.person_id)
        if person is None:
            continue
        seen = newest_doc.get(person)
        if seen is None or row.ingested_at > seen[0]:
            newest_doc[person] = (row.ingested_at, row.source, row.display_name, row.web_url)
        if (person, row.text_hash) in passages:
            continue  # the same passage in a second copy of the CV is not more evidence
        passages.add((person, row.text_hash))
        kept_rows.append(row)
    for row in kept_rows:
        person = pos[row.person_id]
        chunks.append(
            ChunkRecord(
                row.id, person, row.section, row.text, row.source, row.display_name, row.end_year, row.skills
            )
        )
        index_texts.append(row.index_text)
        weights.append(row.weight)
        if row.vector is not None:
            vectors.append(bytes_to_vector(row.vector))
        else:
            vectors.append(None)
            if row.section in EMBEDDED_SECTIONS:
                missing[row.text_hash] = row.index_text
    if missing:
        # Another embedder indexed these texts (the configuration changed): embed them once, now.
        fresh, _ = EmbeddingCache(embedder).vectors(session, missing)
        session.commit()
        hashes = [r.text_hash for r in kept_rows]
        vectors = [v if v is not None else fresh.get(h) for v, h in zip(vectors, hashes, strict=True)]
    for person, (_, source, name, url) in newest_doc.items():
        people[person].source, people[person].source_name, people[person].web_url = source, name, url
    dim = next((v.shape[0] for v in vectors if v is not None), None) or embedder.dim
    matrix = np.zeros((len(vectors), dim), dtype=np.float32)  # rows left at zero have no vector
    for i, vector in enumerate(vectors):
        if vector is not None:
            matrix[i] = vector
    return build_index(
        people,
        chunks,
        index_texts,
        weights,
        matrix,
        version=version,
        embedder_name=embedder.name,
        current_year=current_year,
    )
