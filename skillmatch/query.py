"""A staffing request in words -> what the ranker needs: normalised text, skills, and soft intents
(seniority, spoken language, location) read from phrasing like "senior", "German-speaking", "in Munich"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skillmatch.cvparse import _CITY_RE, CITIES, LANGUAGE_NAMES
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.tokens import tokenize

_SENIOR_INTENT = re.compile(
    r"\b(senior|lead|leads|leading|led|principal|staff|head of|architect|architektin|architekt|expert|"
    r"experte|"
    r"expertin|experienced|erfahrene[rn]?|erfahren|seasoned|veteran|langjährige[rn]?|many years|"
    r"\d{1,2}\+?\s*(?:years|jahre)|leiten|führen|leitung|führung|lead developer|tech lead|team lead)\b",
    re.IGNORECASE,
)
_LEAD_INTENT = re.compile(
    r"\b(lead|leads|leading|head of|leiten|führen|leitung|führung|tech lead|team lead)\b", re.IGNORECASE
)
_JUNIOR_INTENT = re.compile(
    r"\b(junior|entry[- ]level|graduate|trainee|werkstudent(?:in)?|working student|berufseinsteiger(?:in)?|"
    r"einsteiger(?:in)?|intern|praktikant(?:in)?|young professional)\b",
    re.IGNORECASE,
)
_LANGUAGE_INTENT = re.compile(
    r"\b(?P<lang>[a-zäöü]+)[- ]?(?:speaking|speaker|sprachig(?:e[rn]?)?)\b"
    r"|\b(?:speaks?|spricht|fluent|fließend(?:es)?|verhandlungssicher(?:es)?|native|muttersprache|business)"
    r"\s+(?:in\s+)?(?P<lang2>[a-zäöü]+)\b"
    r"|\b(?P<lang3>[a-zäöü]+)\s+(?:native speaker|muttersprachler(?:in)?|(?:language\s+)?skills|kenntnisse)\b"
    r"|\b(?P<lang4>[a-zäöü]+?)(?:sprachige[rn]?)\b",
    re.IGNORECASE,
)
_FLUENT = re.compile(r"\b(fluent|fließend\w*|verhandlungssicher\w*|business|c1|c2)\b", re.IGNORECASE)
_NATIVE = re.compile(r"\b(native|muttersprach\w*)\b", re.IGNORECASE)
_GERMAN_PREFIX = {
    "deutsch": "de",
    "englisch": "en",
    "französisch": "fr",
    "spanisch": "es",
    "italienisch": "it",
}


@dataclass
class QueryIntent:
    text: str
    index_text: str
    tokens: list[str]
    skills: list[str]
    negated_skills: list[str] = field(default_factory=list)
    seniority: str | None = None  # "junior", "senior" or "lead"
    language: tuple[str, str] | None = None  # (ISO code, minimum CEFR level)
    locations: list[str] = field(default_factory=list)


def analyse_query(text: str) -> QueryIntent:
    analysis = get_lexicon().analyse(text)
    seniority = None
    if _JUNIOR_INTENT.search(text):
        seniority = "junior"
    elif _LEAD_INTENT.search(text):
        seniority = "lead"
    elif _SENIOR_INTENT.search(text):
        seniority = "senior"
    return QueryIntent(
        text=text,
        index_text=analysis.index_text,
        tokens=tokenize(analysis.index_text),
        skills=sorted(analysis.skills),
        negated_skills=sorted(analysis.negated),
        seniority=seniority,
        language=_language_intent(text),
        locations=_locations(text),
    )


def _language_intent(text: str) -> tuple[str, str] | None:
    for match in _LANGUAGE_INTENT.finditer(text):
        word = next(g for g in match.groups() if g).lower()
        code = LANGUAGE_NAMES.get(word) or _GERMAN_PREFIX.get(word)
        if code is None:
            continue
        level = "C2" if _NATIVE.search(text) else "C1" if _FLUENT.search(text) else "B2"
        return code, level
    return None


def _locations(text: str) -> list[str]:
    found: list[str] = []
    for match in _CITY_RE.finditer(text):
        city = CITIES[match.group(1).lower()]
        if city not in found:
            found.append(city)
    return found
