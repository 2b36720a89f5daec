"""The skill lexicon and the German glossary, compiled once into matchers.

`analyse(text)` is the single normalisation used for CV chunks and for queries alike: skills are found by
alias (k8s -> kubernetes) or descriptive phrase (container orchestration -> kubernetes), German words are
mapped to English, and skills mentioned only as absent are dropped from the text and reported as negated.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from skillmatch.config import Settings, package_path
from skillmatch.text.negation import negated_spans
from skillmatch.text.vocabulary import load_vocabulary, merge

_WORD_RE = re.compile(r"[0-9a-zäöüß][0-9a-zäöüß+#]*", re.UNICODE)
# Boundaries that keep c# / c++ / .net intact: a term may not touch another word character or # + .
_BOUNDARY_LEFT = r"(?<![\w#+.])"
_BOUNDARY_RIGHT = r"(?![\w#+]|\.\w)"


@dataclass(frozen=True)
class SkillMention:
    skill: str
    start: int
    end: int
    via_phrase: bool


@dataclass
class Analysis:
    """What `analyse` found in one text."""

    index_text: str
    skills: dict[str, int] = field(default_factory=dict)  # skill -> mentions (negated ones excluded)
    negated: set[str] = field(default_factory=set)  # mentioned only as absent in this text
    language: str = "en"


class Lexicon:
    def __init__(
        self,
        skills: dict[str, dict[str, list[str]]],
        glossary: dict[str, str],
        cities: dict[str, str],
        *,
        fingerprint: str = "",
    ):
        # Identifies this vocabulary: CVs indexed under another one are read again (see cv_store).
        self.fingerprint = fingerprint
        self.skills = skills
        self.glossary = glossary
        self.cities = cities
        # term -> (skills it names, whether it is a descriptive phrase rather than a name)
        terms: dict[str, tuple[tuple[str, ...], bool]] = {}
        case_sensitive: dict[str, tuple[str, ...]] = {}

        def add(table: dict[str, tuple[tuple[str, ...], bool]], term: str, skill: str, phrase: bool) -> None:
            named, was_phrase = table.get(term, ((), phrase))
            if skill not in named:
                table[term] = ((*named, skill), was_phrase and phrase)

        for skill, spec in skills.items():
            aliases = spec.get("aliases", [])
            if len(skill) > 2 and not any(a.startswith("=") for a in aliases):
                add(terms, skill, skill, False)
            for alias in aliases:
                if alias.startswith("="):
                    case_sensitive[alias[1:]] = (*case_sensitive.get(alias[1:], ()), skill)
                else:
                    for form in _with_plural(alias.lower()):
                        add(terms, form, skill, False)
            for phrase in spec.get("phrases", []):
                for form in _with_plural(phrase.lower()):
                    add(terms, form, skill, True)
        self.terms = terms
        self.emit = {skill: spec.get("emit", skill) for skill, spec in skills.items()}
        # A skill's share of a match relative to others (industries and leadership count half).
        self.weights = {skill: float(spec.get("weight", 1.0)) for skill, spec in skills.items()}
        self.case_sensitive = case_sensitive
        self._term_re = _alternation(terms)
        self._case_re = (
            re.compile(_BOUNDARY_LEFT + "(" + "|".join(map(re.escape, case_sensitive)) + r")(?![\w#+\-/])")
            if case_sensitive
            else None
        )
        self.protected_terms = frozenset(term for term in [*terms, *glossary] if re.search(r"[./\-#+]", term))
        self._known_words = frozenset(w for w in [*terms, *glossary] if " " not in w)
        self._surface_cache: dict[frozenset[str], re.Pattern[str] | None] = {}

    # -- matching ---------------------------------------------------------------------------------------

    def find_skills(self, text: str) -> list[SkillMention]:
        """Skill mentions in `text`, non-overlapping, the longest term winning at each position."""
        lowered = _lower_same_length(text)
        mentions: list[SkillMention] = []
        taken: list[tuple[int, int]] = []
        if self._case_re is not None:
            for m in self._case_re.finditer(text):
                taken.append((m.start(), m.end()))
                mentions.extend(
                    SkillMention(s, m.start(), m.end(), False) for s in self.case_sensitive[m.group(1)]
                )
        if self._term_re is not None:
            for m in self._term_re.finditer(lowered):
                start, end = m.start(1), m.end(1)
                if any(start < e and s < end for s, e in taken):
                    continue
                skills, via_phrase = self.terms[m.group(1)]
                mentions.extend(SkillMention(s, start, end, via_phrase) for s in skills)
        mentions.sort(key=lambda mention: mention.start)
        return mentions

    def surface_pattern(self, skills: frozenset[str]) -> re.Pattern[str] | None:
        """A small matcher (on lowercased text) for just these skills' names and phrases."""
        if skills not in self._surface_cache:
            self._surface_cache[skills] = _alternation(
                {term: v for term, v in self.terms.items() if skills.intersection(v[0])}
            )
        return self._surface_cache[skills]

    def translate_word(self, word: str) -> str:
        if word in self.glossary:
            return self.glossary[word]
        if word in self.cities:
            return self.cities[word]
        if len(word) >= 9 and word not in self._known_words:
            return self._decompound(word) or word
        return word

    def _decompound(self, word: str) -> str | None:
        """German compounds of two known parts: Cloudarchitektur -> cloud architecture."""
        for cut in range(len(word) - 4, 3, -1):
            head, tail = word[:cut], word[cut:]
            if tail not in self._known_words:
                continue
            for candidate in (head, head[:-1] if head.endswith(("s", "n")) else None):
                if candidate and candidate in self._known_words:
                    return f"{self._meaning(candidate)} {self._meaning(tail)}"
        return None

    def _meaning(self, word: str) -> str:
        if word in self.glossary:
            return self.glossary[word]
        if word in self.terms:
            return " ".join(self.emit[skill] for skill in self.terms[word][0])
        return word

    # -- the one normalisation ----------------------------------------------------------------------------

    def analyse(self, text: str) -> Analysis:
        language = detect_language(text)
        lowered = _lower_same_length(text)
        negated_ranges = negated_spans(text, language)
        skills: dict[str, int] = {}
        negated: set[str] = set()
        pieces: list[str] = []
        translated: list[str] = []  # segments the glossary changed: they may now name a skill

        def translate(segment: str) -> str:
            out = self._translate_segment(segment)
            if out != segment:
                translated.append(out)
            return out

        cursor = 0
        # Mentions of one term that names several skills (GKE -> kubernetes, gcp) share a span.
        for (start, end), group in itertools.groupby(self.find_skills(text), key=lambda m: (m.start, m.end)):
            names = [m.skill for m in group]
            if start < cursor:
                continue
            pieces.append(translate(lowered[cursor:start]))
            if any(s <= start < e for s, e in negated_ranges):
                negated.update(names)
                pieces.append(" ")
            else:
                for name in names:
                    skills[name] = skills.get(name, 0) + 1
                if self.terms.get(lowered[start:end], ((), False))[1]:
                    # A description stays (real evidence for the dense side); the skill names are added.
                    named = " ".join(self.emit[n] for n in names)
                    pieces.append(f"{self._translate_segment(lowered[start:end])} ({named})")
                else:
                    pieces.append(" ".join(self.emit[n] for n in names))
            cursor = end
        pieces.append(translate(lowered[cursor:]))
        index_text = re.sub(r"[ \t]+", " ", "".join(pieces)).strip()
        # Translated German words can name skills the original did not (Javaentwickler -> java developer).
        if translated:
            for mention in self.find_skills("\n".join(translated)):
                skills[mention.skill] = skills.get(mention.skill, 0) + 1
        negated -= skills.keys()  # absent in one sentence, present in another: it counts as present
        return Analysis(index_text=index_text, skills=skills, negated=negated, language=language)

    def _translate_segment(self, segment: str) -> str:
        if not segment:
            return segment
        return _WORD_RE.sub(lambda m: self.translate_word(m.group()), segment)


def _with_plural(term: str) -> tuple[str, ...]:
    """`bank` also matches `banks`, `data pipeline` also `data pipelines`."""
    last = term.rsplit(" ", 1)[-1]
    if len(last) >= 4 and last.isalpha() and not last.endswith(("s", "x", "y", "z")):
        return (term, term + "s")
    return (term,)


def _lower_same_length(text: str) -> str:
    """Lowercase without shifting offsets (a few characters change length when lowercased)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else "".join(ch.lower()[:1] or ch for ch in text)


def _alternation(terms: dict[str, tuple[tuple[str, ...], bool]]) -> re.Pattern[str] | None:
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile(_BOUNDARY_LEFT + "(" + "|".join(re.escape(t) for t in ordered) + ")" + _BOUNDARY_RIGHT)


_GERMAN_MARKERS = frozenset(
    [
        "und",
        "der",
        "die",
        "das",
        "mit",
        "für",
        "von",
        "nicht",
        "ist",
        "sind",
        "bei",
        "auf",
        "als",
        "eine",
        "einer",
        "einem",
        "erfahrung",
        "kenntnisse",
        "entwicklung",
        "projekt",
        "projekte",
        "seit",
        "heute",
        "jahre",
        "sowie",
        "im",
        "zum",
        "zur",
        "wir",
        "ich",
    ]
)
_ENGLISH_MARKERS = frozenset(
    [
        "and",
        "the",
        "with",
        "for",
        "from",
        "not",
        "is",
        "are",
        "at",
        "on",
        "as",
        "an",
        "experience",
        "skills",
        "development",
        "project",
        "projects",
        "since",
        "present",
        "years",
        "of",
        "to",
        "in",
        "we",
        "i",
        "who",
    ]
)


def detect_language(text: str) -> str:
    words = _WORD_RE.findall(text.lower())
    german = sum(1 for w in words if w in _GERMAN_MARKERS) + 2 * sum(
        1 for w in words if any(c in w for c in "äöüß")
    )
    english = sum(1 for w in words if w in _ENGLISH_MARKERS)
    return "de" if german > english else "en"


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    """The built-in lexicon, plus the company vocabulary of SKILLMATCH_LEXICON_FILE when one is set (a
    malformed file raises LexiconFileError, naming the file, line and entry)."""
    skills = json.loads(package_path("lexicon", "skills.json").read_text(encoding="utf-8"))["skills"]
    glossary_file = json.loads(package_path("lexicon", "glossary_de.json").read_text(encoding="utf-8"))
    words, cities = glossary_file["words"], glossary_file["cities"]
    company_file = Settings().lexicon_file
    if company_file:
        skills, words = merge(skills, words, load_vocabulary(Path(company_file)))
    fingerprint = hashlib.sha256(
        json.dumps([skills, words, cities], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return Lexicon(skills, words, cities, fingerprint=fingerprint[:16])


def forget_lexicon() -> None:
    """The next `get_lexicon()` reads the vocabulary again (SKILLMATCH_LEXICON_FILE or the file changed)."""
    from skillmatch.text.tokens import _protected_terms

    get_lexicon.cache_clear()
    _protected_terms.cache_clear()
