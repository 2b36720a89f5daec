"""Parsed CV -> retrievable passages, each with the weight its evidence deserves.

Weights encode two judgements: a bare skills list is weaker evidence than a project that used the skill,
and experience that ended 10+ years ago counts less than recent work.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from skillmatch.cvparse import EMAIL_RE, PHONE_RE, ParsedCv, Section
from skillmatch.text.dates import latest_year
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.prose import unwrap

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")

SECTION_WEIGHTS = {
    "profile": 1.0,
    "experience": 1.0,
    "projects": 1.0,
    "skills": 0.7,
    "certifications": 0.8,
    "languages": 0.5,
    "education": 0.5,
    "other": 0.6,
    "header": 0.6,
}
# Passages worth a dense vector: what someone did and can do. Languages and education are matched by the
# structured filters and BM25; embedding them would cost a third more transformer time for no ranking gain.
EMBEDDED_SECTIONS = frozenset({"profile", "experience", "projects", "certifications"})
MAX_WORDS = 160
OVERLAP_WORDS = 30


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    section: str
    text: str
    index_text: str
    text_hash: str
    weight: float
    end_year: int | None
    skills: dict[str, int]
    negated: list[str]

    @property
    def embedded(self) -> bool:
        return self.section in EMBEDDED_SECTIONS


def recency_weight(end_year: int | None, current_year: int) -> float:
    """1.0 up to 3 years ago, falling linearly to 0.4 at 10 years and beyond."""
    if end_year is None:
        return 1.0
    age = current_year - end_year
    if age <= 3:
        return 1.0
    if age >= 10:
        return 0.4
    return round(1.0 - 0.6 * (age - 3) / 7, 3)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_cv(cv: ParsedCv, current_year: int) -> list[ChunkDraft]:
    lexicon = get_lexicon()
    pieces: list[tuple[str, str, int | None]] = []  # (section, text, end_year)
    profile_parts = [cv.title or ""]
    for section in cv.sections:
        if section.kind == "header":
            profile_parts.extend(_non_contact_lines(section, cv))
        elif section.kind == "profile":
            profile_parts.append(section.text)
    profile = "\n".join(p for p in profile_parts if p).strip()
    if profile:
        pieces.append(("profile", profile, None))

    project_texts = {p.text for p in cv.projects}
    for entry in cv.projects:
        for window in _windows(entry.text):
            pieces.append(("projects", window, entry.end))
    for section in cv.sections:
        if section.kind in ("header", "profile"):
            continue
        if section.kind in ("experience", "projects"):
            rest = section.text
            for text in project_texts:
                rest = rest.replace(text, "")
            if len(rest.split()) < 8:
                continue
            body, end_year = rest, latest_year(rest, current_year)
        else:
            body = section.text
            end_year = latest_year(body, current_year) if section.kind == "certifications" else None
        for window in _windows(body):
            pieces.append((section.kind, window, end_year))

    drafts: list[ChunkDraft] = []
    for section_kind, text, end_year in pieces:
        text = text.strip()
        if not text:
            continue
        analysis = lexicon.analyse(text)
        weight = SECTION_WEIGHTS.get(section_kind, 0.6) * recency_weight(end_year, current_year)
        drafts.append(
            ChunkDraft(
                ordinal=len(drafts),
                section=section_kind,
                text=text,
                index_text=analysis.index_text,
                text_hash=text_hash(analysis.index_text),
                weight=round(weight, 3),
                end_year=end_year,
                skills=analysis.skills,
                negated=sorted(analysis.negated),
            )
        )
    return drafts


def _non_contact_lines(section: Section, cv: ParsedCv) -> list[str]:
    """Header lines minus the name and contact details (personal data stays out of the index)."""
    kept = []
    for line in section.lines:
        stripped = line.strip().lstrip("#").strip()
        if not stripped or stripped == cv.name or stripped == cv.title:
            continue
        if EMAIL_RE.search(stripped) or PHONE_RE.search(stripped):
            continue
        kept.append(stripped)
    return kept


def _windows(text: str) -> list[str]:
    """Split long passages into windows of about MAX_WORDS words that overlap a little. Windows start and
    end between sentences (wrapped lines kept together), so a window never begins in the middle of "I
    have not | used React in production" with the claim and without its negation."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if sum(len(ln.split()) for ln in lines) <= MAX_WORDS:
        return ["\n".join(lines)] if lines else []
    units: list[str] = []
    for line in (ln.strip() for ln in unwrap("\n".join(lines)).split("\n")):
        if len(line.split()) <= MAX_WORDS:
            units.append(line)
            continue
        for sentence in _SENTENCE_END.split(line):
            words = sentence.split()
            # Last resort for a sentence longer than a window: plain word windows.
            units.extend(" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words), MAX_WORDS))
    windows: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        n = len(unit.split())
        if current and size + n > MAX_WORDS:
            windows.append("\n".join(current))
            overlap: list[str] = []
            kept = 0
            for previous in reversed(current):
                kept += len(previous.split())
                if kept > OVERLAP_WORDS:
                    break
                overlap.insert(0, previous)
            current, size = overlap, sum(len(u.split()) for u in overlap)
        current.append(unit)
        size += n
    if current:
        windows.append("\n".join(current))
    return windows
