"""A tokenizer that keeps technical terms whole: C#, C++, .NET, Node.js, k8s, CI/CD, S/4HANA."""

from __future__ import annotations

import re
from functools import lru_cache

# Words joined by . / - stay together first; splitting happens below unless the whole is a known term.
_TOKEN_RE = re.compile(r"\.?[0-9a-zäöüß][0-9a-zäöüß+#]*(?:[./\-][0-9a-zäöüß+#]+)*", re.UNICODE)
_SPLIT_RE = re.compile(r"[./\-]")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "was",
        "we",
        "were",
        "with",
        "who",
        "which",
        "that",
        "will",
        "can",
        "could",
        "would",
        "should",
        "you",
        "your",
        "they",
        "their",
        "he",
        "she",
        "his",
        "her",
        "my",
        "me",
        "us",
        "also",
        "than",
        "into",
        "über",
        "und",
        "oder",
        "der",
        "die",
        "das",
        "ein",
        "eine",
        "einer",
        "einen",
        "mit",
        "für",
        "von",
        "im",
        "in",
        "auf",
        "als",
        "bei",
        "zu",
        "zum",
        "zur",
        "ist",
        "sind",
        "wir",
        "ich",
        "sie",
        "er",
        "es",
        "den",
        "dem",
        "des",
        "wie",
        "auch",
        "sowie",
        "an",
        "aus",
        "nach",
    ]
)


@lru_cache(maxsize=1)
def _protected_terms() -> frozenset[str]:
    from skillmatch.text.lexicon import get_lexicon

    return get_lexicon().protected_terms


def _stem(token: str) -> str:
    """A light English plural folding; tech terms (in the lexicon) are never stemmed."""
    if len(token) <= 4 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 5:
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith(("ss", "us", "is", "os", "as")):
        return token[:-1]
    return token


def tokenize(text: str, *, keep_stopwords: bool = False) -> list[str]:
    protected = _protected_terms()
    out: list[str] = []
    for match in _TOKEN_RE.finditer(text.lower()):
        token = match.group()
        parts = [token] if token in protected or not _SPLIT_RE.search(token.lstrip(".")) else None
        if parts is None:
            parts = [p for p in _SPLIT_RE.split(token) if p]
        for part in parts:
            if not keep_stopwords and part in STOPWORDS:
                continue
            out.append(part if part in protected else _stem(part))
    return out
