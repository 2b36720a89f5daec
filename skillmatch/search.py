"""Hybrid candidate search: BM25 and dense passages plus per-person skill evidence, fused by reciprocal
rank, adjusted by the request's intents (seniority, spoken language, place), filtered, and explained."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.bm25 import BM25Index, bm25_idf
from skillmatch.config import Settings
from skillmatch.corpus import corpus_version
from skillmatch.cvparse import CEFR
from skillmatch.embeddings import Embedder, normalise_rows
from skillmatch.index import ChunkRecord, SearchIndex, load_index
from skillmatch.query import QueryIntent, analyse_query
from skillmatch.text.lexicon import detect_language, get_lexicon
from skillmatch.text.negation import negated_spans, shorten
from skillmatch.text.places import place_key
from skillmatch.text.prose import sentences as prose_sentences
from skillmatch.text.tokens import tokenize

# How well a person's seniority fits what the request asks for.
SENIORITY_FIT = {
    "junior": {"junior": 1.0, "mid": 0.85, "senior": 0.7, "lead": 0.6},
    "senior": {"junior": 0.35, "mid": 0.75, "senior": 1.0, "lead": 1.0},
    "lead": {"junior": 0.3, "mid": 0.65, "senior": 1.0, "lead": 1.0},
}
SENIORITY_LEVELS = ("junior", "mid", "senior", "lead")
CEFR_RANK = {level: rank for rank, level in enumerate(CEFR)}

Mode = Literal["hybrid", "bm25", "bm25-raw", "dense", "skills"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "bm25-raw", "dense", "skills")

# A good match (see `match_quality`): how well a person covers the request on an absolute 0..1 scale, so
# that "nobody fits" can be told from "someone ranks first". The one knob is the threshold,
# SKILLMATCH_GOOD_MATCH (Settings.good_match); the constants below shape the scale (set on the gold files).
SKILL_EVIDENCE_FULL = 1.5  # weighted mentions of a skill that count as fully shown (about two recent uses)
DENSE_FULL = 0.55  # a passage this similar to the request (centred cosine) is a full textual match
SKILL_SHARE = 0.6  # the requested skills' share of the match when the request names any
# A place named in the request is a preference, not a filter (the --location filter is one): someone based
# elsewhere keeps most of their score, so a strong fit elsewhere still outranks a weak one in the city.
# Rank fusion keeps only the order of each ranker; the absolute match quality (how much of the request a
# person's CVs show) is blended back in: score *= (1 - MATCH_BLEND) + MATCH_BLEND * match. Without it, a
# person who ranks well on a generic word ("Backend-Entwickler in Köln") outranks one who has the skills.
MATCH_BLEND = 0.5
PLACE_ELSEWHERE = 0.9
PLACE_REMOTE = 0.95


@dataclass(frozen=True)
class FusionWeights:
    """Reciprocal-rank fusion: score = sum_i w_i / (k + rank_i)."""

    k: float = 20.0
    bm25: float = 1.0
    dense: float = 1.0
    skills: float = 1.0
    candidates: int = 200  # per ranker, taken by argpartition before fusing


@dataclass
class SearchFilters:
    locations: list[str] = field(default_factory=list)
    language: tuple[str, str] | None = None  # (ISO code, minimum CEFR level)
    available_from: date | None = None
    available_to: date | None = None
    min_availability: float = 0.5  # share of capacity free in the range
    only_people: list[int] | None = None
    exclude_people: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.available_to is not None and self.available_from is None:
            raise InvalidFilters("an end of the availability period needs a start")
        if self.available_from and self.available_to and self.available_to < self.available_from:
            raise InvalidFilters(
                f"the availability period ends ({self.available_to}) before it starts ({self.available_from})"
            )
        if not 0.0 <= self.min_availability <= 1.0:
            raise InvalidFilters(f"the minimum free share is between 0 and 1, not {self.min_availability}")

    @property
    def wants_availability(self) -> bool:
        return self.available_from is not None

    @property
    def is_hard(self) -> bool:
        """Whether any filter can remove a person from the result (location, language, availability)."""
        return bool(self.locations or self.language or self.available_from)


class InvalidFilters(ValueError):
    """Filters that contradict themselves (a period that ends before it starts); the message says which."""


@dataclass
class Evidence:
    text: str
    section: str
    source: str
    source_name: str
    year: int | None


@dataclass
class SearchResult:
    person_id: int
    name: str
    title: str | None
    location: str | None
    seniority: str | None
    years_experience: float | None
    languages: dict[str, str]
    score: float
    source: str | None
    source_name: str | None
    web_url: str | None
    evidence: list[Evidence]
    matched_skills: list[str]
    availability: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)
    match: float | None = None  # 0..1, see match_quality; None in the single-ranker debugging modes
    good_match: bool | None = None  # match >= the searcher's good-match threshold (or a matcher's grade)
    reason: str | None = None  # a re-ranking matcher's one-line reason (skillmatch.matching)


def person_scores(values: np.ndarray, index: SearchIndex) -> np.ndarray:
    """Per person: the best passage counts most; further supporting passages add a little (capped)."""
    best = np.zeros(index.size, dtype=np.float32)
    total = np.zeros(index.size, dtype=np.float32)
    if values.size:
        best[index.segment_owners] = np.maximum.reduceat(values, index.segment_starts)
        total[index.segment_owners] = np.add.reduceat(values, index.segment_starts)
    return best + 0.15 * np.minimum(total - best, 2.0 * best)


def match_quality(index: SearchIndex, intent: QueryIntent, chunk_similarity: np.ndarray) -> np.ndarray:
    """Per person, 0..1: how much of the request their CVs show. With skills named, SKILL_SHARE of it is
    the share of those skills (weighted by rarity) with real evidence, a skill nobody has counting as
    missing; the rest, or all of it, is how close their best passage comes to the request's wording."""
    best = np.zeros(index.size, dtype=np.float32)
    if chunk_similarity.size:
        best[index.segment_owners] = np.maximum.reduceat(chunk_similarity, index.segment_starts)
    textual = np.minimum(1.0, best / DENSE_FULL)
    if not intent.skills:
        return textual
    columns = [index.skill_ids[s] for s in intent.skills if s in index.skill_ids]
    unknown = len(intent.skills) - len(columns)
    weights = index.skill_idf[columns].astype(np.float32)
    total = float(weights.sum()) + unknown * bm25_idf(max(1, index.size), 0)
    shown = np.minimum(1.0, index.evidence[:, columns] / SKILL_EVIDENCE_FULL) @ weights if columns else 0.0
    coverage = shown / total if total > 0 else np.zeros(index.size, dtype=np.float32)
    return (SKILL_SHARE * coverage + (1.0 - SKILL_SHARE) * textual).astype(np.float32)


def _language_levels(index: SearchIndex, code: str) -> np.ndarray:
    """Per person: the CEFR rank (0..5) in this language, -1 when they do not speak it."""
    return index.person_array(f"language:{code}", lambda p: CEFR_RANK.get(p.languages.get(code, ""), -1), int)


def _place_keys(index: SearchIndex) -> np.ndarray:
    return index.person_array("location:key", lambda p: place_key(p.location))


def top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best positive scores, best first (argpartition, then a sort of k items)."""
    positive = np.flatnonzero(scores > 0)
    if positive.size > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    return positive[np.argsort(-scores[positive], kind="stable")]


class Searcher:
    """Owns one replica's index; reloads it when another process changed the corpus."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        *,
        today: date | None = None,
        weights: FusionWeights | None = None,
        good_match: float | None = None,
    ):
        self.sessions = sessions
        self.embedder = embedder
        self.today = today
        self.weights = weights or FusionWeights()
        # The threshold comes from SKILLMATCH_GOOD_MATCH unless a caller (a test, a benchmark) sets it.
        self.good_match = Settings().good_match if good_match is None else good_match
        self._index: SearchIndex | None = None
        self._raw_bm25: BM25Index | None = None
        self._lock = threading.Lock()

    @property
    def current_year(self) -> int:
        return (self.today or date.today()).year

    def index(self) -> SearchIndex:
        with self.sessions() as session:
            version = corpus_version(session)
            with self._lock:
                if self._index is None or self._index.version != version:
                    self._index = load_index(session, self.embedder, self.current_year)
                    self._raw_bm25 = None
                return self._index

    def use_index(self, index: SearchIndex) -> None:
        """Serve a prebuilt index (benchmarks, tests) instead of loading from the database."""
        self._index, self._raw_bm25 = index, None

    # -- ranking ------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        top: int = 10,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        index: SearchIndex | None = None,
    ) -> list[SearchResult]:
        index = index or self.index()
        filters = filters or SearchFilters()
        intent = analyse_query(query)
        n = index.size
        if n == 0 or not query.strip():
            return []
        w = self.weights
        rankers: dict[str, np.ndarray] = {}
        chunk_bm25 = chunk_dense = None
        if mode in ("hybrid", "bm25"):
            chunk_bm25 = index.bm25.scores(intent.tokens) * index.chunk_weight
            rankers["bm25"] = person_scores(chunk_bm25, index)
        if mode == "bm25-raw":
            chunk_bm25 = self._raw(index).scores(tokenize(query)) * index.chunk_weight
            rankers["bm25"] = person_scores(chunk_bm25, index)
        match: np.ndarray | None = None
        if mode in ("hybrid", "dense"):
            # Asymmetric models (E5: "query: " vs "passage: ") embed a request differently from a passage.
            embed_query = getattr(self.embedder, "embed_query", self.embedder.embed)
            q = normalise_rows((embed_query([intent.index_text])[0] - index.dense_mean)[None, :])[0]
            similarity = np.clip(index.dense @ q, 0.0, None)
            chunk_dense = similarity * index.chunk_weight
            rankers["dense"] = person_scores(chunk_dense, index)
            match = match_quality(index, intent, similarity)
        if mode in ("hybrid", "skills"):
            rankers["skills"] = self._skill_scores(index, intent)

        mask = self._filter_mask(index, filters)
        fused = np.zeros(n, dtype=np.float32)
        ranks: dict[str, dict[int, int]] = {}
        for name, scores in rankers.items():
            scores = np.where(mask, scores, 0.0)
            order = top_positive(scores, w.candidates)
            ranks[name] = {int(p): r + 1 for r, p in enumerate(order)}
            if len(rankers) == 1:
                fused = scores.astype(np.float32)
            else:
                weight = getattr(w, name)
                fused[order] += weight / (w.k + np.arange(1, order.size + 1, dtype=np.float32))
        if mode == "hybrid":
            fused *= self._intent_factors(index, intent)
            if match is not None and MATCH_BLEND:
                fused *= (1.0 - MATCH_BLEND) + MATCH_BLEND * match
        availability: dict[int, float] = {}
        if filters.wants_availability:
            availability = self._availability(index, filters)
            keep = np.zeros(n, dtype=bool)
            for pos, share in availability.items():
                keep[pos] = share >= filters.min_availability
            fused = np.where(keep, fused, 0.0)
        explain = _Explainer(index, intent, chunk_bm25, chunk_dense, ranks, availability)
        results = [explain.result(int(pos), float(fused[pos])) for pos in top_positive(fused, top)]
        if match is not None:
            for result in results:
                result.match = round(float(match[index.person_pos[result.person_id]]), 3)
                result.good_match = result.match >= self.good_match
        return results

    def _raw(self, index: SearchIndex) -> BM25Index:
        """Keyword search on the CV text as written: the baseline the hybrid is measured against."""
        if self._raw_bm25 is None:
            self._raw_bm25 = BM25Index([tokenize(c.text) for c in index.chunks])
        return self._raw_bm25

    @staticmethod
    def _skill_scores(index: SearchIndex, intent: QueryIntent) -> np.ndarray:
        columns = [index.skill_ids[s] for s in intent.skills if s in index.skill_ids]
        if not columns:
            return np.zeros(index.size, dtype=np.float32)
        evidence = index.evidence[:, columns]
        saturated = evidence / (evidence + 0.8)
        return (saturated @ index.skill_idf[columns]).astype(np.float32)

    @staticmethod
    def _intent_factors(index: SearchIndex, intent: QueryIntent) -> np.ndarray:
        factors = np.ones(index.size, dtype=np.float32)
        if intent.seniority:
            fit = np.array(
                [SENIORITY_FIT[intent.seniority][level] for level in SENIORITY_LEVELS], dtype=np.float32
            )
            levels = index.person_array(
                "seniority", lambda p: SENIORITY_LEVELS.index(p.seniority or "mid"), dtype=np.int8
            )
            factors *= fit[levels]
        if intent.language:
            code, minimum = intent.language
            levels = _language_levels(index, code)
            factors *= np.where(levels >= CEFR_RANK[minimum], 1.0, np.where(levels >= 0, 0.6, 0.35))
        if intent.locations:
            keys = _place_keys(index)
            wanted = np.isin(keys, [place_key(loc) for loc in intent.locations])
            factors *= np.where(
                wanted, 1.0, np.where(keys == place_key("Remote"), PLACE_REMOTE, PLACE_ELSEWHERE)
            )
        return factors.astype(np.float32)

    @staticmethod
    def _filter_mask(index: SearchIndex, filters: SearchFilters) -> np.ndarray:
        mask = np.ones(index.size, dtype=bool)
        if filters.locations:
            # München, Muenchen and Munich are one place, in the filter as in the CV.
            mask &= np.isin(_place_keys(index), [place_key(loc) for loc in filters.locations])
        if filters.language:
            code, minimum = filters.language
            mask &= _language_levels(index, code) >= CEFR_RANK[minimum]
        if filters.only_people is not None:
            allowed = set(filters.only_people)
            mask &= np.array([p.id in allowed for p in index.people], dtype=bool)
        if filters.exclude_people:
            excluded = set(filters.exclude_people)
            mask &= np.array([p.id not in excluded for p in index.people], dtype=bool)
        return mask

    def _availability(self, index: SearchIndex, filters: SearchFilters) -> dict[int, float]:
        from skillmatch.availability import availability_by_person

        assert filters.available_from is not None
        end = filters.available_to or filters.available_from
        with self.sessions() as session:
            shares = availability_by_person(session, filters.available_from, end)
        return {index.person_pos[pid]: share for pid, share in shares.items() if pid in index.person_pos}


@dataclass
class _Explainer:
    """Turns a ranked position into a result: the passages that matched best, as evidence sentences."""

    index: SearchIndex
    intent: QueryIntent
    chunk_bm25: np.ndarray | None
    chunk_dense: np.ndarray | None
    ranks: dict[str, dict[int, int]]
    availability: dict[int, float]

    def __post_init__(self) -> None:
        self.highlighter = _Highlighter.for_query(self.intent)
        self.bm25_max = (
            float(self.chunk_bm25.max()) if self.chunk_bm25 is not None and self.chunk_bm25.size else 0.0
        )

    def result(self, pos: int, score: float) -> SearchResult:
        index, person = self.index, self.index.people[pos]
        wanted = set(self.intent.skills)
        matched: set[str] = set()
        scored: list[tuple[float, int]] = []
        first, end = index.person_chunks[pos]
        for cid in range(int(first), int(end)):
            chunk = index.chunks[cid]
            overlap = wanted & set(chunk.skills)
            matched |= overlap
            relevance = 0.5 * len(overlap) * float(index.chunk_weight[cid])
            if self.chunk_bm25 is not None and self.bm25_max > 0:
                relevance += float(self.chunk_bm25[cid]) / self.bm25_max
            if self.chunk_dense is not None:
                relevance += float(self.chunk_dense[cid])
            if relevance > 0:
                scored.append((relevance, int(cid)))
        scored.sort(reverse=True)
        return SearchResult(
            person_id=person.id,
            name=person.name,
            title=person.title,
            location=person.location,
            seniority=person.seniority,
            years_experience=person.years_experience,
            languages=person.languages,
            score=round(score, 6),
            source=person.source,
            source_name=person.source_name,
            web_url=person.web_url,
            evidence=self._distinct_evidence(cid for _, cid in scored),
            matched_skills=sorted(matched),
            availability=self.availability.get(pos),
            ranks={name: r[pos] for name, r in self.ranks.items() if pos in r},
        )

    def _distinct_evidence(self, chunk_ids: Iterator[int], limit: int = 3) -> list[Evidence]:
        """The best passages' sentences, each text once (a German and an English CV repeat lines)."""
        found: list[Evidence] = []
        for cid in chunk_ids:
            evidence = _evidence(self.index.chunks[cid], self.highlighter)
            if all(e.text != evidence.text for e in found):
                found.append(evidence)
                if len(found) == limit:
                    break
        return found


@dataclass(frozen=True)
class _Highlighter:
    """Per-query matchers for picking evidence sentences: the request's skills and its plain words."""

    skills: re.Pattern[str] | None
    words: re.Pattern[str] | None

    @classmethod
    def for_query(cls, intent: QueryIntent) -> _Highlighter:
        skills = get_lexicon().surface_pattern(frozenset(intent.skills)) if intent.skills else None
        words = sorted(
            {t for t in tokenize(intent.text) if len(t) >= 3 and t.isalnum()}, key=len, reverse=True
        )
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")(?:e?s)?\b") if words else None
        return cls(skills, pattern)

    def score(self, sentence: str) -> int:
        lowered = sentence.lower()
        skill_hits = 0
        if self.skills is not None:
            spans = [m.span(1) for m in self.skills.finditer(lowered)]
            if spans:
                negated = negated_spans(sentence, detect_language(sentence))
                if any(s <= start < e for start, _ in spans for s, e in negated):
                    return 0  # "no experience with Kubernetes" is not evidence for Kubernetes
                skill_hits = len(spans)
        word_hits = len(self.words.findall(lowered)) if self.words is not None else 0
        return 2 * skill_hits + word_hits


def _evidence(chunk: ChunkRecord, highlighter: _Highlighter, max_chars: int = 280) -> Evidence:
    """The sentences of a passage that speak to the request: skill mentions first, then shared words.
    Sentences are whole (a wrapped line never splits one) and a cut never drops a negation."""
    sentences = prose_sentences(chunk.text)
    ranked = sorted(
        (
            (hits, -i, sentence)
            for i, sentence in enumerate(sentences)
            if (hits := highlighter.score(sentence))
        ),
        reverse=True,
    )
    picked = [s for _, _, s in ranked[:2]] or sentences[:1]
    text = " … ".join(picked)
    if len(text) > max_chars and len(picked) > 1:
        text = picked[0]
    text = shorten(text, max_chars)
    return Evidence(
        text=text,
        section=chunk.section,
        source=chunk.source,
        source_name=chunk.source_name,
        year=chunk.end_year,
    )


def results_to_json(results: Sequence[SearchResult]) -> list[dict[str, object]]:
    return [
        {
            "name": r.name,
            "score": r.score,
            "source": r.source,
            "source_name": r.source_name,
            "web_url": r.web_url,
            "title": r.title,
            "location": r.location,
            "seniority": r.seniority,
            "years_experience": r.years_experience,
            "languages": r.languages,
            "matched_skills": r.matched_skills,
            "availability": r.availability,
            "evidence": [
                {"text": e.text, "section": e.section, "source": e.source, "year": e.year} for e in r.evidence
            ],
            "ranks": r.ranks,
            "match": r.match,
            "good_match": r.good_match,
            "reason": r.reason,
            "person_id": r.person_id,
        }
        for r in results
    ]
