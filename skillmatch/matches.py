"""Good matches for a request, and in plain words why there are none, or fewer than asked for.

`Searcher.search` ranks everyone it finds and marks each result whose match quality clears the good-match
threshold. `find_matches` keeps only those, so a list is never padded with people who merely rank next.
When that leaves fewer than wanted it finds out why, so the user can act on it: a requested skill no CV
shows, good matches that the filters leave out (based elsewhere, booked in the period, a lower language
level), or good matches that are all outside the place the request names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skillmatch.availability import availability_details
from skillmatch.cvparse import CEFR
from skillmatch.matching import HYBRID, Judged, Matcher, apply
from skillmatch.query import analyse_query
from skillmatch.search import Mode, Searcher, SearchFilters, SearchResult
from skillmatch.text.places import place_key

SCAN_AT_LEAST = 30  # ranked candidates looked at for good matches (they need not be the first `top`)


@dataclass(frozen=True)
class HeldBack:
    """A good match that a filter left out, and which filter."""

    result: SearchResult
    reason: str  # "based in Cologne", "20% free from 2027-01-04 to 2027-01-29 (50% needed)", ...
    filters: tuple[str, ...] = ()  # which filters: "location", "language", "availability"

    def __str__(self) -> str:
        return f"{self.result.name} ({self.reason})"


@dataclass
class Matches:
    query: str
    good: list[SearchResult]
    weaker: int  # ranked below the threshold: not shown
    threshold: float
    held_back: list[HeldBack] = field(default_factory=list)
    missing_skills: list[str] = field(default_factory=list)  # requested, and in no CV of the index
    wanted_places: list[str] = field(default_factory=list)  # places the request's words name
    best_match: float | None = None  # the best match quality among the ranked, good or not
    indexed: int = 0  # people in the index
    matcher: str = HYBRID
    judged: Judged | None = None  # what a re-ranking matcher said (tokens, cost, a fallback)

    @property
    def elsewhere(self) -> bool:
        """The request names a place and none of the good matches is based there."""
        keys = {place_key(p) for p in self.wanted_places}
        return bool(self.good and keys) and all(place_key(r.location) not in keys for r in self.good)

    @property
    def fallback(self) -> str | None:
        """Why a re-ranking matcher's order is not the one shown (the hybrid order stands instead)."""
        return self.judged.fallback if self.judged is not None else None

    def note(self) -> str | None:
        """One or two plain sentences for the user when the list is empty, short or not where asked."""
        parts: list[str] = []
        if self.fallback:
            parts.append(f"The {self.matcher} matcher could not rank this ({self.fallback}); search order.")
        if not self.good:
            if self.held_back:
                shown = "; ".join(str(h) for h in self.held_back[:5])
                names = sorted({f for h in self.held_back for f in h.filters})
                parts.append(f"Nobody matches well within the filters. Good matches they leave out: {shown}.")
                parts.append(f"Relax the {_listing(names, 'or')} filter to include them.")
            elif not self.indexed:
                parts.append("Nobody matches: the index has no CVs yet (run `skillmatch ingest cvs PATH`).")
            elif self.missing_skills:
                absent = _listing(self.missing_skills)
                parts.append(f"Nobody matches well: no CV in the index shows {absent}.")
            elif self.best_match is None:
                parts.append("Nobody matches: no CV shares anything with this request. Try other words.")
            else:
                parts.append(
                    "Nobody matches well: no CV comes close enough to this request (the closest reaches "
                    f"{self.best_match:.0%}, {self.threshold:.0%} is needed). Try other words, or fewer "
                    "requirements at once."
                )
            return " ".join(parts)
        if self.elsewhere:
            parts.append(
                f"Nobody in {_listing(self.wanted_places, 'or')} matches well; these good matches are based "
                "elsewhere."
            )
        if self.missing_skills:
            parts.append(f"No CV in the index shows {_listing(self.missing_skills)}.")
        if self.held_back:
            left_out = "; ".join(str(h) for h in self.held_back[:3])
            parts.append(f"Also good, but left out by the filters: {left_out}.")
        return " ".join(parts) or None


def find_matches(
    searcher: Searcher,
    query: str,
    *,
    top: int = 10,
    filters: SearchFilters | None = None,
    mode: Mode = "hybrid",
    matcher: Matcher | None = None,
) -> Matches:
    """The good matches (best first, at most `top`) and what explains a short or empty list. With a
    re-ranking matcher, its order and grades decide among the hybrid's best `matcher.candidates`."""
    filters = filters or SearchFilters()
    scan = max(top, SCAN_AT_LEAST, matcher.candidates if matcher else 0)
    ranked = searcher.search(query, top=scan, filters=filters, mode=mode)
    if ranked and ranked[0].good_match is None:  # a single-ranker debugging mode: no match quality
        return Matches(query, ranked[:top], 0, searcher.good_match)
    judged = None
    if matcher is not None and ranked:
        judged = matcher.judge(query, ranked[: matcher.candidates])
        ranked = apply(judged, ranked[matcher.candidates :])
    good = [r for r in ranked if r.good_match][:top]
    intent = analyse_query(query)
    index = searcher.index()
    matches = Matches(
        query,
        good,
        weaker=sum(1 for r in ranked if not r.good_match),
        threshold=searcher.good_match,
        missing_skills=[s for s in intent.skills if s not in index.skill_ids],
        wanted_places=list(intent.locations),
        best_match=max((r.match for r in ranked if r.match is not None), default=None),
        indexed=index.size,
        matcher=matcher.name if matcher is not None else HYBRID,
        judged=judged,
    )
    if len(good) < top and filters.is_hard:
        matches.held_back = _held_back(searcher, query, filters, {r.person_id for r in good}, mode)
    return matches


def _held_back(
    searcher: Searcher, query: str, filters: SearchFilters, shown: set[int], mode: Mode
) -> list[HeldBack]:
    """Good matches of the same request without the hard filters, each with the filter that drops it."""
    open_filters = SearchFilters(exclude_people=list(filters.exclude_people))
    unfiltered = [
        r
        for r in searcher.search(query, top=SCAN_AT_LEAST, filters=open_filters, mode=mode)
        if r.good_match and r.person_id not in shown
    ]
    if not unfiltered:
        return []
    free: dict[int, float] = {}
    if filters.available_from is not None:
        end = filters.available_to or filters.available_from
        with searcher.sessions() as session:
            details = availability_details(
                session, filters.available_from, end, [r.person_id for r in unfiltered]
            )
        free = {pid: d.share_free for pid, d in details.items()}
    held: list[HeldBack] = []
    for result in unfiltered:
        reasons = _why_left_out(result, filters, free)
        if reasons:
            held.append(HeldBack(result, "; ".join(reasons.values()), tuple(reasons)))
    return held


def _why_left_out(result: SearchResult, filters: SearchFilters, free: dict[int, float]) -> dict[str, str]:
    """filter name -> why it drops this person."""
    reasons: dict[str, str] = {}
    if filters.locations and place_key(result.location) not in {place_key(p) for p in filters.locations}:
        reasons["location"] = f"based in {result.location}" if result.location else "no location on the CV"
    if filters.language:
        code, minimum = filters.language
        level = (result.languages or {}).get(code)
        if level not in CEFR or CEFR.index(level) < CEFR.index(minimum):
            reasons["language"] = f"{code} {level or 'not on the CV'}, {minimum} asked"
    if filters.available_from is not None:
        end = filters.available_to or filters.available_from
        share = free.get(result.person_id)
        if share is None:
            reasons["availability"] = "no availability data (not in the ERP)"
        elif share < filters.min_availability:
            reasons["availability"] = (
                f"{share:.0%} free from {filters.available_from} to {end}, "
                f"{filters.min_availability:.0%} needed"
            )
    return reasons


def _listing(items: list[str], last: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"
