"""Free capacity from ERP data: employment hours minus planned allocations and absences, per workday."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from skillmatch.models import Absence, Allocation, Employment, Person

DEFAULT_WEEKLY_HOURS = 40.0


@dataclass(frozen=True)
class AvailabilityDetail:
    share_free: float  # 0..1 of the person's capacity in the range
    free_hours: float
    capacity_hours: float
    allocated_hours: float
    absent_days: float


def workdays(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def availability_details(
    session: Session, start: date, end: date, person_ids: list[int] | None = None
) -> dict[int, AvailabilityDetail]:
    """For every person known to the ERP (a MOCO user), their free capacity in [start, end]."""
    if end < start:
        start, end = end, start
    days = workdays(start, end)
    if not days:
        return {}
    index = {d: i for i, d in enumerate(days)}
    query = select(Person.id).where(Person.moco_user_id.is_not(None))
    if person_ids is not None:
        query = query.where(Person.id.in_(person_ids))
    people = list(session.scalars(query))
    if not people:
        return {}
    row_of = {pid: i for i, pid in enumerate(people)}
    capacity = np.full((len(people), len(days)), DEFAULT_WEEKLY_HOURS / 5, dtype=np.float32)
    allocated = np.zeros_like(capacity)
    presence = np.ones_like(capacity)

    def span(first: date, last: date | None) -> slice:
        lo = bisect.bisect_left(days, first)
        hi = len(days) if last is None else bisect.bisect_right(days, last)
        return slice(lo, max(lo, hi))

    employments = session.scalars(
        select(Employment)
        .where(Employment.person_id.in_(people), Employment.from_date <= end)
        .where((Employment.to_date.is_(None)) | (Employment.to_date >= start))
        .order_by(Employment.from_date)
    )
    for employment in employments:
        capacity[row_of[employment.person_id], span(employment.from_date, employment.to_date)] = (
            employment.weekly_target_hours / 5
        )
    allocations = session.scalars(
        select(Allocation).where(
            Allocation.person_id.in_(people), Allocation.starts_on <= end, Allocation.ends_on >= start
        )
    )
    for allocation in allocations:
        allocated[row_of[allocation.person_id], span(allocation.starts_on, allocation.ends_on)] += (
            allocation.hours_per_day
        )
    absences = session.scalars(
        select(Absence).where(Absence.person_id.in_(people), Absence.day >= start, Absence.day <= end)
    )
    for absence in absences:
        i = index.get(absence.day)
        if i is not None:
            presence[row_of[absence.person_id], i] -= 0.5 * absence.am + 0.5 * absence.pm
    presence = np.clip(presence, 0.0, 1.0)
    effective = capacity * presence
    free = np.clip(effective - allocated, 0.0, None)
    result: dict[int, AvailabilityDetail] = {}
    for pid, row in row_of.items():
        total = float(capacity[row].sum())
        result[pid] = AvailabilityDetail(
            share_free=round(float(free[row].sum()) / total, 3) if total > 0 else 0.0,
            free_hours=round(float(free[row].sum()), 1),
            capacity_hours=round(total, 1),
            allocated_hours=round(float(np.minimum(allocated[row], effective[row]).sum()), 1),
            absent_days=round(float((1.0 - presence[row]).sum()), 1),
        )
    return result


def availability_by_person(session: Session, start: date, end: date) -> dict[int, float]:
    return {pid: d.share_free for pid, d in availability_details(session, start, end).items()}
