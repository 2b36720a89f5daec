"""Where a text says a skill is absent: "no experience with Kubernetes", "keine Erfahrung mit Java".

Clauses end at sentence punctuation, hard line breaks and contrast words ("but", "aber"), so "no AWS, but
five years of Azure" negates only AWS. A line break inside a sentence (wrapped text, "I have not\\nused
React") is not a clause end: see `prose.unwrap`. English negates what follows the cue; German word order
also puts the cue after the object ("Java habe ich nicht eingesetzt"), so a German cue negates its whole
clause. A label form ("Kubernetes: none", "Java – keine") negates the label.

`shorten` cuts text for display without ever dropping the words that negate what stays.
"""

from __future__ import annotations

import re

from skillmatch.text.prose import unwrap

CLAUSE_BREAK = re.compile(
    r"[.;!?\n•|]|\s[-–—]\s(?=\S)|\b(?:but|however|whereas|although|yet strong|aber|jedoch|dafür|sondern|"
    r"allerdings|stattdessen|instead)\b"
)
_EN_CUE = re.compile(
    r"\b(?:no|not|never|without|lack(?:s|ing)?|none|neither|nor|little|limited|"
    r"haven't|hasn't|didn't|don't|doesn't|cannot|can't|have yet to|yet to)\b"
)
_DE_CUE = re.compile(r"\b(?:kein(?:e|en|er|em|es)?|nicht|nie|niemals|noch nie|ohne|weder|bisher keine)\b")
_NONE = r"(?:none|no|n/a|nein|keine|keine kenntnisse|no experience|keine erfahrung)\b"
_LABEL_NONE = re.compile(r"^\s*[^:]{1,60}?\s*[:–—-]\s*" + _NONE)
# The same on a whole line, before " – " splits it into clauses: "Java – keine", "Kubernetes - none".
_LINE_LABEL_NONE = re.compile(r"^[ \t]*[^:\n]{1,60}?[ \t]*[:–—-][ \t]*" + _NONE, re.MULTILINE)


def negated_spans(text: str, language: str) -> list[tuple[int, int]]:
    """Character ranges of `text` whose skill mentions are negated. Pass the text as written: line wraps
    are told from line breaks by case ("not\nused" goes on, "Skills\nJava" does not)."""
    text = _lower_same_length(unwrap(text))
    spans: list[tuple[int, int]] = [m.span() for m in _LINE_LABEL_NONE.finditer(text)]
    start = 0
    for brk in [*CLAUSE_BREAK.finditer(text), None]:
        end = brk.start() if brk is not None else len(text)
        if end > start:
            spans.extend(_clause_spans(text, start, end, language))
        if brk is not None:
            start = brk.end()
    return spans


def _lower_same_length(text: str) -> str:
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else "".join(ch.lower()[:1] or ch for ch in text)


def has_negation(text: str) -> bool:
    """Whether `text` (lowercased) carries a negation cue of either language or a "label: none" form."""
    return bool(_EN_CUE.search(text) or _DE_CUE.search(text) or _LABEL_NONE.match(text))


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


def shorten(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters with "…", at a clause boundary where possible. Inside a
    clause it only cuts when the part that falls away negates nothing: cutting "Java habe ich nicht
    eingesetzt" to "Java habe ich", or "Kubernetes: none" to "Kubernetes", would reverse it."""
    if len(text) <= limit:
        return text
    boundaries = [b.start() for b in CLAUSE_BREAK.finditer(text) if b.start() > 0]
    fitting = [b for b in boundaries if b <= limit - 2]
    if fitting and fitting[-1] > limit // 3:
        return text[: fitting[-1]].rstrip(" ,;:-–—") + " …"
    clause_end = next((b for b in boundaries if b > limit - 2), len(text))
    head = text[: limit - 1].rsplit(" ", 1)[0]
    if has_negation(text[len(head) : clause_end].lower()) or _LABEL_NONE.match(text[:clause_end].lower()):
        return text[:clause_end].rstrip(" ,;:-–—") + (" …" if clause_end < len(text) else "")
    return head + "…"
