"""The company's own vocabulary (SKILLMATCH_LEXICON_FILE), checked and merged into the built-in lexicon.

A JSON file with up to two parts, both optional:

    {
      "skills": {
        "acme portal": {"aliases": ["acmeportal", "ap3"], "phrases": ["our customer portal"]},
        "kubernetes": {"aliases": ["kubi"]}
      },
      "glossary": {"kundenportal": "customer portal"}
    }

A skill the built-in lexicon knows gains the aliases and phrases (and takes `weight` / `emit` when given);
an unknown one is added. Glossary words (one German word each) translate before matching, as the built-in
glossary does. Everything is checked before anything is used: a mistake stops the program with one line
that names the file, the line and the entry, and says what is wrong (`LexiconFileError`). Nothing of a
broken file is half-applied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKILL_KEYS = frozenset({"aliases", "phrases", "weight", "emit"})
TOP_KEYS = frozenset({"skills", "glossary", "_comment"})
MAX_WEIGHT = 2.0
_WORD = re.compile(r"^[0-9a-zäöüß][0-9a-zäöüß+#]*$")


class LexiconFileError(ValueError):
    """The company vocabulary file is unreadable or malformed; the message is one line that says where."""


@dataclass
class CompanyVocabulary:
    skills: dict[str, dict[str, Any]] = field(default_factory=dict)
    glossary: dict[str, str] = field(default_factory=dict)


def load_vocabulary(path: Path) -> CompanyVocabulary:
    """Read and check the file; raises LexiconFileError on the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LexiconFileError(f"{path}: no such file (SKILLMATCH_LEXICON_FILE)") from None
    except UnicodeDecodeError as exc:
        raise LexiconFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise LexiconFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg}, column {exc.colno})"
        raise LexiconFileError(f"{path}:{exc.lineno}: {problem}") from None
    return _Checker(path, text).vocabulary(raw)


def merge(
    skills: dict[str, dict[str, Any]], glossary: dict[str, str], company: CompanyVocabulary
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The built-in lexicon with the company's additions (new dicts; the inputs stay as they are)."""
    merged = {name: {**spec} for name, spec in skills.items()}
    for name, extra in company.skills.items():
        spec = merged.setdefault(name, {"aliases": [], "phrases": []})
        for key in ("aliases", "phrases"):
            known = list(spec.get(key, []))
            spec[key] = known + [term for term in extra.get(key, []) if term not in known]
        for key in ("weight", "emit"):
            if key in extra:
                spec[key] = extra[key]
    return merged, {**glossary, **company.glossary}


class _Checker:
    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()

    def fail(self, where: str, key: str | None, problem: str) -> LexiconFileError:
        line = self._line_of(key) if key else None
        place = f"{self.path}:{line}" if line else str(self.path)
        return LexiconFileError(f"{place}: {where}: {problem}")

    def _line_of(self, key: str) -> int | None:
        """The first line that holds this key or value in quotes (good enough to find the entry)."""
        quoted = json.dumps(key, ensure_ascii=False)
        for number, line in enumerate(self.lines, 1):
            if quoted in line:
                return number
        return None

    def vocabulary(self, raw: object) -> CompanyVocabulary:
        if not isinstance(raw, dict):
            raise self.fail("top level", None, 'expected an object with "skills" and/or "glossary"')
        for key in raw:
            if key not in TOP_KEYS:
                raise self.fail(key, key, 'unknown part; use "skills" and/or "glossary"')
        return CompanyVocabulary(
            skills=self._skills(raw.get("skills", {})), glossary=self._glossary(raw.get("glossary", {}))
        )

    def _skills(self, raw: object) -> dict[str, dict[str, Any]]:
        if not isinstance(raw, dict):
            raise self.fail("skills", "skills", "expected an object: skill name -> {aliases, phrases}")
        skills: dict[str, dict[str, Any]] = {}
        for name, spec in raw.items():
            where = f"skills → {name!r}"
            canonical = name.strip().lower()
            if not canonical:
                raise self.fail("skills", name, "a skill name is empty")
            if not isinstance(spec, dict):
                raise self.fail(where, name, 'expected an object such as {"aliases": ["..."]}')
            unknown = sorted(set(spec) - SKILL_KEYS)
            if unknown:
                problem = f"unknown key {unknown[0]!r}; use aliases, phrases, weight or emit"
                raise self.fail(where, name, problem)
            checked: dict[str, Any] = {}
            for key in ("aliases", "phrases"):
                if key in spec:
                    listed = f"{where} → {key}"
                    checked[key] = self._terms(listed, name, spec[key], keep_case=key == "aliases")
            if "weight" in spec:
                weight = spec["weight"]
                if isinstance(weight, bool) or not isinstance(weight, int | float):
                    raise self.fail(where, name, f"weight must be a number, got {weight!r}")
                if not 0 < weight <= MAX_WEIGHT:
                    problem = f"weight must be above 0 and at most {MAX_WEIGHT:g}, not {weight}"
                    raise self.fail(where, name, problem)
                checked["weight"] = float(weight)
            if "emit" in spec:
                if not isinstance(spec["emit"], str) or not spec["emit"].strip():
                    raise self.fail(where, name, "emit must be non-empty text")
                checked["emit"] = spec["emit"].strip().lower()
            terms = checked.get("aliases", []) + checked.get("phrases", [])
            if len(canonical) <= 2 and not terms:
                raise self.fail(
                    where, name, 'a name of two letters matches only through aliases; add one (e.g. "=AP")'
                )
            skills[canonical] = checked
        return skills

    def _terms(self, where: str, key: str, raw: object, *, keep_case: bool) -> list[str]:
        if not isinstance(raw, list):
            raise self.fail(where, key, "expected a list of text")
        terms: list[str] = []
        for i, term in enumerate(raw):
            if not isinstance(term, str) or not term.strip():
                raise self.fail(f"{where}[{i}]", key, f"expected non-empty text, got {term!r}")
            term = " ".join(term.split())
            # "=AP": a case-sensitive alias (an abbreviation that is also a common word); the rest lowercase.
            terms.append(term if keep_case and term.startswith("=") else term.lower())
            if term.startswith("=") and len(term) < 2:
                raise self.fail(f"{where}[{i}]", key, "'=' must be followed by the alias")
        return terms

    def _glossary(self, raw: object) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail("glossary", "glossary", "expected an object: German word -> English text")
        glossary: dict[str, str] = {}
        for word, meaning in raw.items():
            folded = word.strip().lower()
            if not _WORD.match(folded):
                raise self.fail(
                    f"glossary → {word!r}", word, "keys are single words (letters and digits, no spaces)"
                )
            if not isinstance(meaning, str) or not meaning.strip():
                raise self.fail(f"glossary → {word!r}", word, "expected the English text as a string")
            glossary[folded] = " ".join(meaning.lower().split())
        return glossary
