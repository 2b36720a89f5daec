"""A staffing request in words -> what the ranker needs: normalised text, skills, and soft intents
(seniority, spoken language, location) read from phrasing like "senior", "German-speaking", "in Munich"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skillmatch.cvparse import _LEVEL_WORDS, CEFR, LANGUAGE_NAMES
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.negation import negated_spans
from skillmatch.text.places import find_places, fold
from skillmatch.text.tokens import tokenize

_SENIOR_INTENT = re.compile(
    r"\b(senior|lead|leads|leading|led|principal|staff|head of|architect|architektin|architekt|expert|"
    r"experte|"
    r"expertin|experienced|erfahrene[rn]?|erfahren|seasoned|veteran|langjährige[rn]?|many years|"
    r"\d{1,2}\+?\s*(?:years|jahre)|leiten|führen|leitung|führung|lead developer|tech lead|team lead)\b",
    re.IGNORECASE,
)
_LEAD_INTENT = re.compile(
    r"\b(lead|leads|leading|leadership|head of|leiten|führen|leitung|führung|führungserfahrung|"
    r"führungskraft|personalverantwortung|tech lead|team lead|engineering manager|manage (?:a|the) team|"
    r"managing (?:a |the )?teams?)\b",
    re.IGNORECASE,
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
    seniority = _seniority(text, analysis.language)
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


def _seniority(text: str, language: str) -> str | None:
    """The level asked for, from words outside negations: "not a junior" asks for experience, and "no
    team lead needed" asks for no lead."""
    negated = negated_spans(text, language)

    def said(pattern: re.Pattern[str], *, negated_too: bool = False) -> bool:
        return any(negated_too == any(s <= m.start() < e for s, e in negated) for m in pattern.finditer(text))

    if said(_JUNIOR_INTENT):
        return "junior"
    if said(_LEAD_INTENT):
        return "lead"
    if said(_SENIOR_INTENT) or said(_JUNIOR_INTENT, negated_too=True):
        return "senior"
    return None


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
    return find_places(text)


# Language names in every spelling a filter may use: Französisch, Franzoesisch, franzosisch, French, fr.
_LANGUAGE_CODES = frozenset(LANGUAGE_NAMES.values())
_LANGUAGE_SPELLINGS = {
    spelling: code
    for name, code in LANGUAGE_NAMES.items()
    for spelling in (name, fold(name), fold(name).replace("ae", "a").replace("oe", "o").replace("ue", "u"))
}
_LEVELS = {fold(word): level for word, level in _LEVEL_WORDS}
_REQUIREMENT = re.compile(r"^\s*([^\W\d_]+)\s*(?:[:\-\s(]+\s*([^\d\W][\w ]*?|[abcABC][12])\s*\)?)?\s*$")
DEFAULT_LANGUAGE_LEVEL = "B2"


class LanguageRequirementError(ValueError):
    """A language filter that names no known language or level; the message says how to write one."""


def parse_language_requirement(value: str) -> tuple[str, str]:
    """A spoken-language filter as people write it -> (ISO code, minimum CEFR level).

    `de`, `de:C1`, `DE-c1`, `Deutsch:C1`, `german`, `German C1`, `Englisch (verhandlungssicher)` and
    `english:fluent` all work; the level defaults to B2."""
    match = _REQUIREMENT.match(value)
    example = "use a language and optionally a minimum level, e.g. de, de:C1, German:B2 or Deutsch C1"
    if not match:
        raise LanguageRequirementError(f"{value!r}: {example}")
    word, level_text = match.group(1), (match.group(2) or "").strip()
    folded = fold(word)
    code = folded if folded in _LANGUAGE_CODES else _LANGUAGE_SPELLINGS.get(folded)
    if code is None:
        raise LanguageRequirementError(f"{value!r}: unknown language {word!r}; {example}")
    if not level_text:
        return code, DEFAULT_LANGUAGE_LEVEL
    level = level_text.upper() if level_text.upper() in CEFR else _LEVELS.get(fold(level_text))
    if level is None:
        raise LanguageRequirementError(
            f"{value!r}: unknown level {level_text!r}; use A1-C2 or a word such as fluent or native"
        )
    return code, level
