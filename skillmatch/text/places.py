"""Place names as people write them -> one canonical city, the same for CVs, queries and filters.

`München`, `Muenchen`, `Munchen`, `MÜNCHEN` and `Munich` are one place; so are `Köln`/`Koeln`/`Koln`/
`Cologne`, `Wien`/`Vienna` and `Zürich`/`Zuerich`/`Zurich`. Umlauts are folded both ways a keyboard
without them writes them (ü -> ue, ü -> u), accents are dropped, and case and spacing do not matter.
A place the table does not know is compared by its folded spelling.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

from skillmatch.config import package_path

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Spellings people use that neither table carries, or that only the glossary knew.
_EXTRA = {
    "frankfurt am main": "Frankfurt",
    "frankfurt/main": "Frankfurt",
    "frankfurt a.m.": "Frankfurt",
    "frankfurt (main)": "Frankfurt",
    "krakau": "Krakow",
    "kraków": "Krakow",
    "kopenhagen": "Copenhagen",
    "homeoffice": "Remote",
    "home office": "Remote",
    "remote work": "Remote",
}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Case, spacing and accents away; umlauts as their two-letter spelling (München -> muenchen)."""
    return " ".join(_strip_accents(text.casefold().translate(_TRANSLIT)).split())


def spellings(name: str) -> set[str]:
    """The forms a name is written in: as given, umlauts spelled out, umlauts dropped."""
    lowered = " ".join(name.casefold().split())
    return {lowered, fold(name), " ".join(_strip_accents(lowered).split())}


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    terms = json.loads(package_path("lexicon", "cv_terms.json").read_text(encoding="utf-8"))
    cities: dict[str, str] = dict(terms["cities"])
    cities.update(_EXTRA)
    table: dict[str, str] = {}
    for name, canonical in [*cities.items(), *((c, c) for c in set(cities.values()))]:
        for spelling in spellings(name):
            table.setdefault(spelling, canonical)
    return table


@lru_cache(maxsize=1)
def place_pattern() -> re.Pattern[str]:
    """Every known spelling as a word, longest first (for finding places in running text)."""
    forms = sorted(_table(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, forms)) + r")(?![\w-])", re.IGNORECASE)


def canonical_place(text: str | None) -> str | None:
    """The canonical city for a place as written, or None when the table does not know it."""
    if not text or not text.strip():
        return None
    table = _table()
    for candidate in (text, re.split(r"[,(/]", text)[0]):
        for spelling in spellings(candidate.strip()):
            if spelling in table:
                return table[spelling]
    return None


def find_places(text: str) -> list[str]:
    """Canonical cities named in running text, in order, each once."""
    found: list[str] = []
    for match in place_pattern().finditer(text):
        city = canonical_place(match.group(1))
        if city and city not in found:
            found.append(city)
    return found


def place_key(text: str | None) -> str:
    """What two locations are compared by: the canonical city, else the folded spelling."""
    if not text:
        return ""
    canonical = canonical_place(text)
    return fold(canonical) if canonical else fold(text)
