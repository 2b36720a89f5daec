"""The people for one request: the same search as the chat, plus availability in the request's period.

Only good matches are listed (`SKILLMATCH_GOOD_MATCH`, as in the chat), with the reason when that leaves
few or none. With `available_only` (the ERP "hotlist") the search keeps only people with at least
`min_availability` of their time free in the period, as MOCO shows it. Without it, the availability of the
people shown is looked up for the period, so the comment can say who is free. A request without a period
gets no availability at all, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from assistant.jobs.constraints import Constraints
from assistant.masking import mask_text
from assistant.tools.cv import best_sentence, languages_text
from skillmatch.availability import availability_details
from skillmatch.matches import find_matches
from skillmatch.search import Searcher, SearchFilters, SearchResult

MAX_SHOWN = 20


@dataclass(frozen=True)
class Candidate:
    person_id: int
    name: str
    title: str | None
    location: str | None
    seniority: str | None
    languages: str  # "de-C2 en-C1"
    skills: list[str]  # the request's skills this person's CV shows
    evidence: str | None  # the best sentence from the CV
    cv_name: str | None
    cv_url: str | None  # a web link (SharePoint); file paths are not links for Jira readers
    free_share: float | None  # of working time free in the period; None: not known to the ERP / no period


@dataclass(frozen=True)
class Shortlist:
    candidates: list[Candidate]
    period: tuple[date, date] | None
    available_only: bool  # the hotlist filter was applied
    min_availability: float
    note: str | None = None  # why the list is short or empty (nobody good, the fit is booked, ...)


def how_many(constraints: Constraints, top: int) -> int:
    """The configured number, more when several people are wanted (twice the headcount, capped)."""
    wanted = constraints.headcount or 1
    return max(1, min(MAX_SHOWN, max(top, 2 * wanted)))


def shortlist(
    searcher: Searcher,
    sessions: sessionmaker[Session],
    constraints: Constraints,
    *,
    top: int,
    available_only: bool,
    min_availability: float,
) -> Shortlist:
    period = constraints.period()
    hotlist = available_only and period is not None
    filters = SearchFilters()
    if hotlist and period is not None:
        filters = SearchFilters(
            available_from=period[0], available_to=period[1], min_availability=min_availability
        )
    # Only good matches, as in the chat: a comment never pads its list with unrelated people.
    matches = find_matches(searcher, constraints.query, top=how_many(constraints, top), filters=filters)
    results = matches.good
    free: dict[int, float] = {}
    if hotlist:
        free = {r.person_id: r.availability for r in results if r.availability is not None}
    elif period is not None and results:
        with sessions() as session:
            details = availability_details(session, period[0], period[1], [r.person_id for r in results])
        free = {pid: d.share_free for pid, d in details.items()}
    return Shortlist(
        [_candidate(r, free.get(r.person_id)) for r in results],
        period,
        hotlist,
        min_availability,
        matches.note(),
    )


def _candidate(result: SearchResult, free_share: float | None) -> Candidate:
    evidence = best_sentence(result)
    return Candidate(
        person_id=result.person_id,
        name=result.name,
        title=result.title,
        location=result.location,
        seniority=result.seniority,
        languages=languages_text(result.languages),
        skills=list(result.matched_skills),
        evidence=mask_text(evidence) if evidence else None,
        cv_name=result.source_name,
        cv_url=result.web_url
        if result.web_url and result.web_url.startswith(("http://", "https://"))
        else None,
        free_share=free_share,
    )
