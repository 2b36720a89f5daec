"""CV tools: ranked candidates for a staffing need, and one person's profile from their CV."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.tools.base import LIST_SEPARATOR, Arguments, Output, Tool, ToolContext, trim
from assistant.tools.people import resolve_person
from skillmatch.cvparse import CEFR
from skillmatch.matches import find_matches
from skillmatch.models import CvDocument, Person
from skillmatch.query import parse_language_requirement
from skillmatch.search import SearchFilters, SearchResult
from skillmatch.text.negation import shorten
from skillmatch.text.places import canonical_place

EVIDENCE_CHARS = 160
RECENT_PROJECTS = 5


def languages_text(languages: dict[str, Any] | None) -> str:
    """{"de": "C2", "en": "C1"} -> "de-C2 en-C1", best level first (no colon: TOON would quote it)."""
    ranked = sorted((languages or {}).items(), key=lambda kv: -CEFR.index(kv[1]) if kv[1] in CEFR else 1)
    return " ".join(f"{code}-{level}" for code, level in ranked)


def as_list(value: Any) -> Any:
    """Models often send one value where a list is expected: "Munich" for ["Munich"]."""
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


# --- search_candidates -----------------------------------------------------------------------------


class SearchArguments(Arguments):
    query: str = Field(
        min_length=2,
        max_length=500,
        description="The staffing need in words: skills, role, domain, seniority "
        '(e.g. "senior Python developer with Azure for an insurer"). German or English.',
    )
    top: int = Field(8, ge=1, le=25, description="How many candidates to return.")
    location: list[str] | None = Field(
        None, description='Only people based in one of these cities, e.g. ["Munich", "Remote"].'
    )
    language: str | None = Field(
        None,
        description="Only people speaking this language: ISO code, optionally with the minimum CEFR "
        'level, e.g. "de" or "de:C1" (default level B2).',
    )
    available_from: date | None = Field(
        None, description="Only people with free capacity from this day on (ISO date, YYYY-MM-DD)."
    )
    available_to: date | None = Field(
        None, description="End of the period they must be free (ISO date); defaults to available_from."
    )
    min_availability: float = Field(
        0.5, ge=0.0, le=1.0, description="Minimum share of working time free in that period (0..1)."
    )
    exclude_people: list[int] | None = Field(
        None, description="person_ids to leave out, e.g. candidates already shown or rejected."
    )

    @field_validator("location", "exclude_people", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return as_list(value)

    @field_validator("location")
    @classmethod
    def _canonical_cities(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        # The same place normalisation as the CV text: München, Muenchen and Munich are one city.
        cities = [canonical_place(v) or v.strip() for v in value if v.strip()]
        return cities or None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        code, level = parse_language_requirement(value)  # its ValueError names the fix
        return f"{code}:{level}"

    @model_validator(mode="after")
    def _period(self) -> SearchArguments:
        if self.available_to is not None and self.available_from is None:
            raise ValueError("available_to needs available_from")
        if self.available_from and self.available_to and self.available_to < self.available_from:
            raise ValueError(
                f"available_to ({self.available_to}) is before available_from ({self.available_from}); "
                "the period must end after it starts"
            )
        return self

    def filters(self) -> SearchFilters:
        code, level = self.language.split(":") if self.language else (None, None)
        return SearchFilters(
            locations=list(self.location or []),
            language=(code, level) if code and level else None,
            available_from=self.available_from,
            available_to=self.available_to,
            min_availability=self.min_availability,
            exclude_people=list(self.exclude_people or []),
        )


def best_sentence(result: SearchResult) -> str | None:
    """The search joins a passage's best sentences with " … "; the model needs only the best one, cut
    where the cut cannot drop a negation ("…: none", "… nicht eingesetzt")."""
    if not result.evidence:
        return None
    return shorten(" ".join(result.evidence[0].text.split(" … ")[0].split()), EVIDENCE_CHARS)


def candidate_records(results: list[SearchResult], *, reasons: bool = False) -> list[dict[str, Any]]:
    """Search results as flat rows, rank order kept: the shape TOON turns into one table. With `reasons`
    (a re-ranking matcher ran), each row also carries the matcher's one-line reason."""
    records = [
        {
            "name": r.name,  # first: a row that starts with a word costs one token less to indent
            "person_id": r.person_id,
            "title": r.title,
            "location": r.location,
            "seniority": r.seniority,
            "years": r.years_experience,
            "languages": languages_text(r.languages),
            "score": round(r.score, 3),
            "skills": LIST_SEPARATOR.join(r.matched_skills),
            "availability": None if r.availability is None else round(r.availability, 2),
            "evidence": best_sentence(r),
            "source": r.source_name,
        }
        for r in results
    ]
    if reasons:
        for record, result in zip(records, results, strict=True):
            record["why"] = result.reason
    return records


def search_candidates(args: SearchArguments, context: ToolContext) -> Output:
    """Only good matches are listed; when there are none (or fewer than asked) the note says why."""
    matches = find_matches(
        context.searcher, args.query, top=args.top, filters=args.filters(), matcher=context.matcher
    )
    notes = [matches.note() or ""]
    if matches.good and args.available_from:
        end = args.available_to or args.available_from
        notes.append(f"availability = share of working time free {args.available_from} to {end}")
    if args.available_from and (args.available_to or args.available_from) < context.today:
        notes.append(f"The period lies in the past (today is {context.today}).")
    note = " ".join(n for n in notes if n)
    reasons = context.matcher is not None and matches.fallback is None
    return Output(
        "candidates", candidate_records(matches.good, reasons=reasons), {"note": note} if note else {}
    )


SEARCH = Tool(
    name="search_candidates",
    description="Find consultants for a staffing need: only people whose CVs match it well (skills, "
    "projects, seniority, languages), best first, with the best evidence sentence; when few or none "
    "do, the note says why. Optional filters: location, spoken language, free capacity in a period, "
    "people to exclude.",
    arguments=SearchArguments,
    status="Searching CVs…",
    run=search_candidates,
)


# --- get_person_profile ----------------------------------------------------------------------------


class ProfileArguments(Arguments):
    person: str | int = Field(description="The person's person_id or full name.")


def _latest_cv(session: Session, person: Person) -> CvDocument | None:
    return session.scalars(
        select(CvDocument)
        .where(CvDocument.person_id == person.id)
        .order_by(CvDocument.modified_at.desc().nulls_last(), CvDocument.ingested_at.desc())
        .limit(1)
    ).first()


def _projects_text(projects: list[dict[str, Any]]) -> str:
    """Most recent first, with their years unless the title already says when."""

    def line(p: dict[str, Any]) -> str:
        title = trim(p.get("title") or "", 100) or ""
        start, end = p.get("start"), p.get("end")
        if start is None or str(start) in title:
            return title
        return f"{start}–{end} {title}" if end and end != start else f"{start} {title}"

    ranked = sorted(projects, key=lambda p: p.get("end") or p.get("start") or 0, reverse=True)
    return "; ".join(line(p) for p in ranked[:RECENT_PROJECTS])


def get_person_profile(args: ProfileArguments, context: ToolContext) -> Output:
    with context.sessions() as session:
        person = resolve_person(session, args.person)
        document = _latest_cv(session, person)
        parsed: dict[str, Any] = document.parsed if document else {}
        record = {
            "person_id": person.id,
            "name": person.name,
            "title": person.title or parsed.get("title"),
            "location": person.location or parsed.get("location"),
            "seniority": person.seniority or parsed.get("seniority"),
            "years": person.years_experience or parsed.get("years_experience"),
            "languages": languages_text(person.languages or parsed.get("languages")),
            "skills": LIST_SEPARATOR.join(parsed.get("skills") or []),
            "no_experience": LIST_SEPARATOR.join(parsed.get("negated_skills") or []),
            "roles": LIST_SEPARATOR.join(parsed.get("roles") or []),
            "projects": _projects_text(parsed.get("projects") or []),
            "source": document.display_name if document else None,
            "cv_url": document.web_url if document else None,
        }
    extras = {} if document else {"note": f"No CV on file for {person.name}; only ERP/Jira data exists."}
    return Output("profile", [record], extras)


PROFILE = Tool(
    name="get_person_profile",
    description="One person's profile from their CV: title, location, seniority, years of experience, "
    "languages, skills (and skills the CV says they lack), roles and most recent projects.",
    arguments=ProfileArguments,
    status="Reading the profile…",
    run=get_person_profile,
)
