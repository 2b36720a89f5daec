"""A person's name folded to a comparison key: case, umlaut spellings, accents, hyphens and academic titles
do not make two names different (`Dr. Jürgen Müller-Lang` = `juergen mueller lang`)."""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"})
# Titles and degrees written before or after a name; they say nothing about who it is.
_TITLES = frozenset(
    ["dr", "prof", "dipl", "ing", "inf", "kfm", "mag", "mba", "msc", "bsc", "ma", "ba", "phd", "med", "rer",
     "nat", "mr", "mrs", "ms", "herr", "frau"]
)  # fmt: skip


def name_key(name: str) -> str:
    """`Jürgen Müller`, `Juergen Mueller` and `jurgen  muller` compare equal enough to match."""
    folded = name.casefold().translate(_UMLAUTS)
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = re.findall(r"[^\W_]+", folded)
    kept = [w for w in words if w not in _TITLES]
    return " ".join(kept or words)
