"""Free capacity from the ERP (MOCO) in a period, per person, with the bookings that fill it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.tools.base import LIST_SEPARATOR, Arguments, Output, Tool, ToolContext, ToolError
from assistant.tools.cv import as_list
from assistant.tools.people import resolve_person
from skillmatch.availability import availability_details, workdays
from skillmatch.models import Allocation, Person

MAX_DAYS = 731


class AvailabilityArguments(Arguments):
    people: list[str | int] = Field(
        min_length=1, max_length=20, description="person_ids or full names of the people to check."
    )
    start: date = Field(description="First day of the period (ISO date, YYYY-MM-DD).")
    end: date = Field(description="Last day of the period (ISO date, YYYY-MM-DD), inclusive.")

    @field_validator("people", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return as_list(value)

    @model_validator(mode="after")
    def _period(self) -> AvailabilityArguments:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValueError("the period is longer than two years; check a shorter one")
        return self


def _bookings(session: Session, ids: list[int], start: date, end: date) -> dict[int, list[str]]:
    """Allocations overlapping the period: "Project 8h/day to 2027-06-30 (tentative)"."""
    rows = session.scalars(
        select(Allocation)
        .where(Allocation.person_id.in_(ids), Allocation.starts_on <= end, Allocation.ends_on >= start)
        .order_by(Allocation.starts_on, Allocation.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for a in rows:
        assert a.person_id is not None
        name = a.project_name or (f"unnamed booking for {a.customer_name}" if a.customer_name else "booking")
        span = f"from {a.starts_on} " if a.starts_on > start else ""
        tentative = " (tentative)" if a.tentative else ""
        found[a.person_id].append(f"{name} {a.hours_per_day:g}h/day {span}to {a.ends_on}{tentative}")
    return found


def _blank(person_id: int | None, name: str) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "name": name,
        "share_free": None,
        "free_hours": None,
        "capacity_hours": None,
        "allocated_hours": None,
        "absent_days": None,
        "projects": "",
    }


def check_availability(args: AvailabilityArguments, context: ToolContext) -> Output:
    if not workdays(args.start, args.end):
        raise ToolError(f"{args.start} to {args.end} has no working days (Mon-Fri); check a longer period.")
    problems: list[str] = []
    resolved: list[tuple[Person | None, str]] = []
    with context.sessions() as session:
        for ref in dict.fromkeys(args.people):  # duplicates once, order kept
            try:
                person = resolve_person(session, ref)
            except ToolError as exc:
                problems.append(str(exc))
                resolved.append((None, str(ref)))
                continue
            if all(p is None or p.id != person.id for p, _ in resolved):
                resolved.append((person, person.name))
        ids = [p.id for p, _ in resolved if p is not None]
        if not ids:
            raise ToolError(" ".join(problems))
        details = availability_details(session, args.start, args.end, ids)
        bookings = _bookings(session, ids, args.start, args.end)
    records = []
    unknown_to_erp = []
    for person, name in resolved:
        if person is None:
            records.append(_blank(None, name))
            continue
        detail = details.get(person.id)
        if detail is None:
            unknown_to_erp.append(person.name)
            records.append(_blank(person.id, person.name))
            continue
        records.append(
            {
                "person_id": person.id,
                "name": person.name,
                "share_free": detail.share_free,
                "free_hours": detail.free_hours,
                "capacity_hours": detail.capacity_hours,
                "allocated_hours": detail.allocated_hours,
                "absent_days": detail.absent_days,
                "projects": LIST_SEPARATOR.join(bookings.get(person.id, [])),
            }
        )
    if unknown_to_erp:
        problems.append(f"Not in the ERP, so availability is unknown: {', '.join(unknown_to_erp)}.")
    if args.end < context.today:
        problems.append(f"The period lies in the past (today is {context.today}): these were bookings.")
    extras: dict[str, Any] = {"period": f"{args.start} to {args.end}"}
    if problems:
        extras["note"] = " ".join(problems)
    return Output("availability", records, extras)


AVAILABILITY = Tool(
    name="check_availability",
    description="Free capacity of specific people in a period, from the ERP: share of working time "
    "free, free/capacity/allocated hours, days absent, and the project bookings in that period.",
    arguments=AvailabilityArguments,
    status="Checking availability…",
    run=check_availability,
)
