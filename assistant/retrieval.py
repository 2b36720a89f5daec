"""The answer when no LLM is configured (or all providers are down): search results, stated plainly.

Follow-ups refine the previous search: a message that names no skill ("only Munich", "nur Senior",
"available from January") is read as a refinement of the last query and its filters. A reset phrase
("new search", "neue Suche", "start over", "von vorne") forgets the previous search: what follows it is the
new request ("neue Suche: Java-Entwickler"), and with nothing after it the answer asks what to look for.
Only good matches are listed; when there are none, the answer says why instead of padding the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from skillmatch.matches import find_matches
from skillmatch.query import analyse_query
from skillmatch.search import InvalidFilters, Searcher, SearchFilters, SearchResult

_MONTHS = {
    "january": 1, "januar": 1, "jan": 1, "february": 2, "februar": 2, "feb": 2, "march": 3, "märz": 3,
    "maerz": 3, "april": 4, "apr": 4, "may": 5, "mai": 5, "june": 6, "juni": 6, "july": 7, "juli": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oktober": 10, "oct": 10,
    "okt": 10, "november": 11, "nov": 11, "december": 12, "dezember": 12, "dec": 12, "dez": 12,
}  # fmt: skip
_FROM_MONTH = re.compile(
    r"\b(?:from|starting|ab|in|im|ab\s+anfang)\s+("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"\b(20\d{2}-\d{2}-\d{2})\b")
_RESET = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|so|also|dann|jetzt|now|please|bitte|let'?s|lass uns|and|und)\b[\s,]*)*"
    r"(?:new search|neue suche|start over|start again|from scratch|von vorne?(?: anfangen)?|neu anfangen)\b"
    # "new search engine developer" is a request, not a reset
    r"(?!\s+(?:engines?|functions?|features?|funktion\w*|maschinen?|masken?)\b)"
    r"[\s:,.!;\-–—]*(?:(?:please|bitte)\b[\s:,.!;\-–—]*)?(?:(?:for|nach|für)\s+)?",
    re.IGNORECASE,
)
_FILLER = re.compile(r"^[\W_]*(?:(?:please|bitte|thanks|danke|ok(?:ay)?)\b[\W_]*)*$", re.IGNORECASE)
ASK_WHAT = "Starting a new search. Who are you looking for? Name skills, a role, a place or a period."
LIMIT = 5


def split_reset(message: str) -> tuple[bool, str]:
    """(whether the message starts over, the request that follows the reset phrase, if any)."""
    match = _RESET.match(message)
    if match is None:
        return False, message
    rest = message[match.end() :].strip()
    return True, "" if _FILLER.match(rest) else rest


@dataclass
class SearchState:
    """What a conversation searched last: the base for refinements. Stored in Conversation.state."""

    query: str = ""
    locations: list[str] = field(default_factory=list)
    available_from: str | None = None
    available_to: str | None = None
    problem: str | None = None  # why this message could not be searched (not stored)

    @classmethod
    def load(cls, state: dict[str, Any]) -> SearchState:
        raw = state.get("search") or {}
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})

    def dump(self) -> dict[str, Any]:
        return {"query": self.query, "locations": self.locations, "available_from": self.available_from,
                "available_to": self.available_to}  # fmt: skip

    def filters(self) -> SearchFilters:
        start = date.fromisoformat(self.available_from) if self.available_from else None
        end = date.fromisoformat(self.available_to) if self.available_to else None
        return SearchFilters(locations=list(self.locations), available_from=start, available_to=end)


def next_state(previous: SearchState, message: str, today: date) -> SearchState:
    """A message naming skills starts a new search; one that does not refines the previous one; a reset
    phrase starts over with what follows it (an empty query: ask what to look for)."""
    reset, message = split_reset(message)
    if reset and not message:
        return SearchState()
    intent = analyse_query(message)
    refine = bool(previous.query) and not intent.skills and not reset
    state = SearchState(
        query=f"{previous.query} {message}".strip() if refine else message.strip(),
        locations=list(previous.locations) if refine else [],
        available_from=previous.available_from if refine else None,
        available_to=previous.available_to if refine else None,
    )
    if intent.locations:
        state.locations = intent.locations
    try:
        start, end = _date_range(message, today)
    except ValueError as exc:  # a date that does not exist, or a period that ends before it starts
        return SearchState(**{**previous.dump(), "problem": str(exc)})
    if start:
        state.available_from, state.available_to = start.isoformat(), end.isoformat()
    return state


def _date_range(message: str, today: date) -> tuple[date | None, date]:
    iso = _ISO_DATE.findall(message)
    if iso:
        try:
            start = date.fromisoformat(iso[0])
            end = date.fromisoformat(iso[1]) if len(iso) > 1 else start + timedelta(days=27)
        except ValueError:
            raise ValueError(
                f"{' or '.join(iso[:2])} is not a date I can read; write it as YYYY-MM-DD"
            ) from None
        if end < start:
            raise ValueError(
                f"The period you gave ends ({end}) before it starts ({start}). "
                "Which period do you mean? For example: from 2027-01-04 to 2027-01-29."
            )
        return start, end
    month = _FROM_MONTH.search(message)
    if month:
        number = _MONTHS[month.group(1).lower()]
        year = today.year if number > today.month else today.year + 1
        start = date(year, number, 1)
        return start, start + timedelta(days=27)
    return None, today


def answer(searcher: Searcher, state: SearchState, *, reason: str) -> tuple[str, list[SearchResult]]:
    """Markdown reply and the results shown. `reason` says why no LLM wrote this answer."""
    lines = [f"_{reason}_", ""]
    if state.problem:
        return "\n".join([*lines, state.problem]), []
    if not state.query.strip():
        return "\n".join([*lines, ASK_WHAT]), []
    try:
        filters = state.filters()
    except InvalidFilters as exc:  # a period stored before periods were checked
        return "\n".join([*lines, f"{exc}. Which period do you mean?"]), []
    matches = find_matches(searcher, state.query, top=LIMIT, filters=filters)
    constraints = []
    if state.locations:
        constraints.append("in " + ", ".join(state.locations))
    if state.available_from:
        constraints.append(f"free from {state.available_from} to {state.available_to}")
    heading = f"Good matches for “{state.query}”" + (f" ({'; '.join(constraints)})" if constraints else "")
    lines.append(f"**{heading}**")
    for rank, r in enumerate(matches.good, 1):
        facts = ", ".join(x for x in (r.title, r.location) if x)
        if r.availability is not None:
            facts += f", {r.availability:.0%} free"
        evidence = r.evidence[0].text if r.evidence else ""
        skills = f" · {', '.join(r.matched_skills)}" if r.matched_skills else ""
        lines.append(f"{rank}. **{r.name}** ({facts}){skills}\n   {evidence} _[{r.source_name}]_")
    note = matches.note()
    if note:
        lines.extend(["", note])
    lines.append("")
    lines.append(
        "Refine with a follow-up such as “only Munich” or “available from January”, or say “new search”."
    )
    return "\n".join(lines), matches.good
