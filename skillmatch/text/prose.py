"""Prose structure that negation and evidence depend on: wrapped lines and sentences.

CV text arrives wrapped ("I have not\\nused React in production"). A line break inside a sentence is not
a boundary: if it were, "used React in production" would stand alone as a claim. `unwrap` replaces
such soft breaks by spaces (keeping every offset), so clauses and sentences are found on the prose.
A break stays hard where a new line starts something new: a list marker, a heading, a date, a
"Label: value" line, or after a line that ends a sentence.
"""

from __future__ import annotations

import itertools
import re

_ENDS_STATEMENT = re.compile(r"[.!?:;|]\s*$")
_STARTS_ITEM = re.compile(r"^\s*(?:[-*•·▪–—#|>]|\d)")
_LABEL_LINE = re.compile(r"^\s*[^\s:][^:]{0,39}:\s")  # "Kubernetes: none", "Role: Developer"
_COLUMNS = re.compile(r"\S(?: {3,}|\t)\S")
# Words a sentence cannot end on: when a line ends with one, the sentence goes on in the next line.
_DANGLING = frozenset(
    [
        "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "for", "with", "without",
        "from", "by", "as", "not", "no", "never", "have", "has", "had", "been", "be", "is", "are", "was",
        "were", "do", "does", "did", "can", "could", "will", "would", "its", "their", "my", "our", "any",
        "some", "this", "that", "these", "those", "than", "into", "about", "over", "under", "i", "we", "der",
        "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder", "mit",
        "ohne", "für", "von", "vom", "zum", "zur", "im", "bei", "auf", "aus", "nach", "kein", "keine",
        "keinen", "keinem", "keiner", "nicht", "nie", "noch", "habe", "hat", "hatte", "bin", "ist", "war",
        "wurde", "sowie", "als", "über", "unter", "ich", "wir",
    ]
)  # fmt: skip
_LAST_WORD = re.compile(r"([^\W\d_]+)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")


def _soft(previous: str, following: str) -> bool:
    """Whether the break between two lines is a wrap inside one sentence."""
    previous, following = previous.rstrip(), following.lstrip()
    if not previous or not following or _ENDS_STATEMENT.search(previous) or _STARTS_ITEM.match(following):
        return False
    if _LABEL_LINE.match(following) or _COLUMNS.search(previous) or not any(c.islower() for c in previous):
        return False  # a new "Label: value" line, a table row, a heading in capitals or a rule
    if re.search(r"[^\W\d_][-,]$", previous):
        return True  # hyphenated or listing on
    last = _LAST_WORD.search(previous)
    if last is not None and last.group(1).lower() in _DANGLING:
        return True
    return not _LABEL_LINE.match(previous) and following[0].islower() and len(previous) >= 40


def unwrap(text: str) -> str:
    """`text` with soft line breaks turned into spaces; same length, same offsets."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    out = [lines[0]]
    for previous, following in itertools.pairwise(lines):
        out.append(" " if _soft(previous, following) else "\n")
        out.append(following)
    return "".join(out)


def sentences(text: str) -> list[str]:
    """Sentences of the unwrapped text, stripped of list markers; wrapped lines never split one."""
    parts = _SENTENCE_END.split(unwrap(text))
    return [s for s in (p.strip(" \t-•*#") for p in parts) if s]
