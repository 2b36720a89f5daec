"""Where a text says a skill is absent: "no experience with Kubernetes", "keine Erfahrung mit Java".

Clauses end at sentence punctuation, line breaks and contrast words ("but", "aber"), so "no AWS, but
five years of Azure" negates only AWS. English negates what follows the cue; German word order also puts
the cue after the object ("Java habe ich nicht eingesetzt"), so a German cue negates its whole clause.
A label form ("Kubernetes: none", "Java – keine") negates the label.
"""

from __future__ import annotations

import re

_CLAUSE_BREAK = re.compile(
    r"[.;!?\n•|]|\s[-–—]\s(?=\S)|\b(?:but|however|whereas|although|yet strong|aber|jedoch|dafür|sondern|"
    r"allerdings|stattdessen|instead)\b"
)
_EN_CUE = re.compile(
    r"\b(?:no|not|never|without|lack(?:s|ing)?|none|neither|nor|little|limited|"
    r"haven't|hasn't|didn't|don't|doesn't|cannot|can't|have yet to|yet to)\b"
)
_DE_CUE = re.compile(r"\b(?:kein(?:e|en|er|em|es)?|nicht|nie|niemals|noch nie|ohne|weder|bisher keine)\b")
_LABEL_NONE = re.compile(
    r"^\s*[^:]{1,60}?\s*[:–—-]\s*(?:none|no|n/a|nein|keine|keine kenntnisse|no experience|keine erfahrung)\b"
)


def negated_spans(text: str, language: str) -> list[tuple[int, int]]:
    """Character ranges of `text` (lowercased) whose skill mentions are negated."""
    spans: list[tuple[int, int]] = []
    start = 0
    for brk in [*_CLAUSE_BREAK.finditer(text), None]:
        end = brk.start() if brk is not None else len(text)
        if end > start:
            spans.extend(_clause_spans(text, start, end, language))
        if brk is not None:
            start = brk.end()
    return spans


def _clause_spans(text: str, start: int, end: int, language: str) -> list[tuple[int, int]]:
    clause = text[start:end]
    if _LABEL_NONE.match(clause):
        return [(start, end)]
    de = _DE_CUE.search(clause)
    if de is not None:
        if language == "de":
            return [(start, end)]
        return [(start + de.start(), end)]
    en = _EN_CUE.search(clause)
    if en is not None:
        return [(start + en.start(), end)]
    return []
