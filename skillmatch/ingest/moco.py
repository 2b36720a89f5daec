"""MOCO (ERP): users, employments, planning entries, absences and time entries, incrementally.

Each endpoint keeps its own cursor. A pass records the server's clock when it starts (its watermark) and
the link to its next page after every page, so an interrupted pass resumes where it stopped and the next
pass asks for `updated_after=<watermark>`: nothing changed during a pass can slip through, whatever order
MOCO pages in.

Absences are stored as dates and half days only; reason, assignment and comment never leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import session_scope
from skillmatch.ingest.http import (
    HeaderAuth,
    ProgressFn,
    SourceClient,
    SourceConfigError,
    SourceDataError,
    SourceError,
    WaitFn,
    no_progress,
    parse_datetime,
    read_cursor,
    recorded_run,
    server_time,
    write_cursor,
)
from skillmatch.ingest.report import IngestReport
from skillmatch.models import Absence, Activity, Allocation, CvDocument, Employment, Person
from skillmatch.people import find_person, normalise_email

log = logging.getLogger(__name__)

SOURCE = "moco"
# Rows committed just before the server stamped its Date header may carry a slightly earlier updated_at.
WATERMARK_MARGIN = timedelta(minutes=5)
FUTURE_WINDOW = timedelta(days=365)

Rows = list[dict[str, Any]]
ErpModel = type[Allocation] | type[Employment] | type[Absence] | type[Activity]


@dataclass(frozen=True)
class _Window:
    start: date
    end: date


@dataclass(frozen=True)
class _Endpoint:
    name: str
    path: str
    apply: Callable[[Session, Rows, IngestReport], set[int]]
    params: Callable[[_Window], dict[str, str]]
    # Deletes what a complete full pass did not return (MOCO has no tombstones); None keeps everything.
    prune: Callable[[Session, set[int], _Window], int] | None = None


def ingest_moco(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    full: bool = False,
    wait: WaitFn | None = None,
    progress: ProgressFn = no_progress,
    today: date | None = None,
) -> IngestReport:
    """Sync every endpoint in order (users first, so the rest can be linked to people)."""
    api_url, api_key = _require_settings(settings)
    today = today or date.today()
    window = _Window(today - timedelta(days=settings.moco_history_days), today + FUTURE_WINDOW)
    report = IngestReport(SOURCE)
    client = SourceClient(
        SOURCE,
        settings,
        auth=HeaderAuth(lambda: f"Token token={api_key}"),
        auth_hint="check MOCO_API_KEY (the key's user needs staff permissions)",
        wait=wait,
    )
    with client, recorded_run(sessions, report):
        try:
            for endpoint in ENDPOINTS:
                _sync_endpoint(client, sessions, api_url, endpoint, window, report, full, progress)
            with session_scope(sessions) as session:
                _link_people(session)
        except SourceError as exc:
            report.error = str(exc)
    return report


def _require_settings(settings: Settings) -> tuple[str, str]:
    missing = [
        name
        for name, value in (("MOCO_BASE_URL", settings.moco_api_url), ("MOCO_API_KEY", settings.moco_api_key))
        if not value
    ]
    if missing:
        raise SourceConfigError(SOURCE, f"not configured: set {', '.join(missing)}")
    assert settings.moco_api_url and settings.moco_api_key
    return settings.moco_api_url, settings.moco_api_key.get_secret_value()


def _sync_endpoint(
    client: SourceClient,
    sessions: sessionmaker[Session],
    api_url: str,
    endpoint: _Endpoint,
    window: _Window,
    report: IngestReport,
    full: bool,
    progress: ProgressFn,
) -> None:
    key = f"moco:{endpoint.name}"
    with session_scope(sessions) as session:
        cursor = (None if full else read_cursor(session, key)) or {}
    since: str | None = cursor.get("since")
    watermark: str | None = cursor.get("watermark")
    url: str | None = cursor.get("next")
    params: dict[str, str] | None = None
    if not (url and url.startswith(api_url + "/")):  # a fresh pass (a stale link from another site too)
        url, watermark = f"{api_url}/{endpoint.path}", None
        params = endpoint.params(window) | ({"updated_after": since} if since else {})
    # Only a full pass seen start to end in this run knows every id that still exists.
    complete_listing = since is None and params is not None
    seen: set[int] = set()
    done = 0
    while url:
        page = client.get_json(url, params=params)
        if not isinstance(page.data, list):
            raise SourceDataError(SOURCE, f"{endpoint.path} did not return a list")
        if watermark is None:
            watermark = _utc_stamp(server_time(page.response) - WATERMARK_MARGIN)
        next_url = page.next_link()
        with session_scope(sessions) as session:
            seen |= endpoint.apply(session, page.data, report)
            state = (
                {"since": since, "next": next_url, "watermark": watermark}
                if next_url
                else {"since": watermark}
            )
            write_cursor(session, key, state)
        done += len(page.data)
        progress(endpoint.name, done, _int(page.headers.get("x-total")))
        url, params = next_url, None
    if complete_listing and endpoint.prune is not None:
        with session_scope(sessions) as session:
            pruned = endpoint.prune(session, seen, window)
        if pruned:
            report.count(f"{endpoint.name} removed", pruned)


def _utc_stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# --- users -> people ---------------------------------------------------------------------------------


def _apply_users(session: Session, users: Rows, report: IngestReport) -> set[int]:
    seen: set[int] = set()
    for user in users:
        try:
            user_id = int(user["id"])
        except (KeyError, TypeError, ValueError):
            report.problem("users ?", "user without an id")
            continue
        seen.add(user_id)
        _apply_user(session, user_id, user, report)
    return seen


def _apply_user(session: Session, user_id: int, user: dict[str, Any], report: IngestReport) -> None:
    name = " ".join(p for p in (user.get("firstname"), user.get("lastname")) if p).strip()
    email = normalise_email(user.get("email"))
    active = bool(user.get("active", True))
    external = bool(user.get("external", user.get("extern", False)))

    person = find_person(session, moco_user_id=user_id)
    if person is None:
        person = find_person(session, email=email) or (find_person(session, name=name) if name else None)
        if person is not None and person.moco_user_id not in (None, user_id):
            report.problem(f"users {user_id}", f"matches {person.name}, who is linked to another MOCO user")
            return
    if person is None:
        if not active or external or not name:
            report.count("users skipped")  # ERP-only people are created for current staff only
            return
        session.add(Person(name=name, email=email, moco_user_id=user_id, active=True))
        session.flush()
        report.count("people created")
        return

    person.moco_user_id = user_id
    person.active = active  # MOCO knows who still works here; a CV does not
    has_cv = session.scalar(select(exists().where(CvDocument.person_id == person.id)))
    email_free = email is not None and find_person(session, email=email) in (None, person)
    if not has_cv:
        person.name = name or person.name
        if email_free:
            person.email = email
    elif person.email is None and email_free:
        person.email = email  # filling a gap is not overwriting what the CV says
    session.flush()
    report.count("users linked")


# --- ERP rows -------------------------------------------------------------------------------------------


def _user_id(record: dict[str, Any]) -> int:
    return int(record["user"]["id"])


def _allocation(r: dict[str, Any]) -> dict[str, Any] | None:
    project = r.get("project") or {}
    deal = r.get("deal") or {}
    return {
        "moco_user_id": _user_id(r),
        "project_name": project.get("name") or deal.get("name") or r.get("title"),
        "customer_name": project.get("customer_name") or deal.get("customer_name"),
        "starts_on": date.fromisoformat(r["starts_on"]),
        "ends_on": date.fromisoformat(r["ends_on"]),
        "hours_per_day": float(r.get("hours_per_day") or 0),
        "tentative": bool(r.get("tentative", False)),
    }


def _employment(r: dict[str, Any]) -> dict[str, Any] | None:
    return {
        "moco_user_id": _user_id(r),
        "weekly_target_hours": float(r.get("weekly_target_hours") or 0),
        "from_date": date.fromisoformat(r["from"]),
        "to_date": date.fromisoformat(r["to"]) if r.get("to") else None,
    }


def _absence(r: dict[str, Any]) -> dict[str, Any] | None:
    # Dates and half days only. Never copy `assignment`, `comment` or `symbol`: they reveal the reason.
    kind = (r.get("assignment") or {}).get("type")
    if kind not in (None, "Absence"):
        return None  # legacy project schedules are planning, not absence
    return {
        "moco_user_id": _user_id(r),
        "day": date.fromisoformat(r["date"]),
        "am": bool(r.get("am", True)),
        "pm": bool(r.get("pm", True)),
    }


def _activity(r: dict[str, Any]) -> dict[str, Any] | None:
    remote_id = r.get("remote_id")
    return {
        "moco_user_id": _user_id(r),
        "day": date.fromisoformat(r["date"]),
        "hours": float(r.get("hours") or 0),
        "project_name": (r.get("project") or {}).get("name"),
        "task_name": (r.get("task") or {}).get("name"),
        "remote_id": str(remote_id)[:100] if remote_id else None,
    }


def _row_applier(
    model: ErpModel, label: str, build: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> Callable[[Session, Rows, IngestReport], set[int]]:
    def apply(session: Session, records: Rows, report: IngestReport) -> set[int]:
        rows: dict[int, dict[str, Any]] = {}
        for record in records:
            try:
                row_id = int(record["id"])
                values = build(record)
            except (KeyError, TypeError, ValueError) as exc:
                # The item name only: the record itself may hold an absence reason.
                report.problem(
                    f"{label} {record.get('id', '?')}", f"unreadable record ({type(exc).__name__})"
                )
                continue
            if values is None:
                report.count(f"{label} skipped")
                continue
            rows[row_id] = values | {"updated_at": parse_datetime(record.get("updated_at"))}
        people = _people_by_moco_user(session)
        existing = {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(rows)))}
        for row_id, values in rows.items():
            values["person_id"] = people.get(values["moco_user_id"])
            obj = existing.get(row_id)
            if obj is None:
                session.add(model(id=row_id, **values))
            else:
                for name, value in values.items():
                    setattr(obj, name, value)
        if rows:
            report.count(label, len(rows))
        return set(rows)

    return apply


def _people_by_moco_user(session: Session) -> dict[int, int]:
    pairs = session.execute(select(Person.moco_user_id, Person.id).where(Person.moco_user_id.is_not(None)))
    return {moco_id: person_id for moco_id, person_id in pairs}


def _pruner(model: ErpModel, day_column: Any | None = None) -> Callable[[Session, set[int], _Window], int]:
    def prune(session: Session, seen: set[int], window: _Window) -> int:
        stale = select(model.id)
        if day_column is not None:
            stale = stale.where(day_column >= window.start, day_column <= window.end)
        ids = [row_id for row_id in session.scalars(stale) if row_id not in seen]
        for chunk in range(0, len(ids), 500):
            session.execute(delete(model).where(model.id.in_(ids[chunk : chunk + 500])))
        return len(ids)

    return prune


def _link_people(session: Session) -> None:
    """Rows stored before their person existed (or was linked) get the person now."""
    for model in (Allocation, Employment, Absence, Activity):
        person = select(Person.id).where(Person.moco_user_id == model.moco_user_id).scalar_subquery()
        session.execute(
            update(model)
            .where(model.person_id.is_(None), model.moco_user_id.in_(select(Person.moco_user_id)))
            .values(person_id=person)
            .execution_options(synchronize_session=False)
        )


def _no_params(window: _Window) -> dict[str, str]:
    return {}


ENDPOINTS: tuple[_Endpoint, ...] = (
    _Endpoint("users", "users", _apply_users, lambda w: {"include_archived": "true"}),
    _Endpoint(
        "employments",
        "users/employments",
        _row_applier(Employment, "employments", _employment),
        _no_params,
        _pruner(Employment),
    ),
    _Endpoint(
        "planning_entries",
        "planning_entries",
        _row_applier(Allocation, "planning entries", _allocation),
        _no_params,
        _pruner(Allocation),
    ),
    _Endpoint(
        "schedules",
        "schedules",
        _row_applier(Absence, "absences", _absence),
        lambda w: {"from": w.start.isoformat()},
        _pruner(Absence, Absence.day),
    ),
    _Endpoint(
        "activities",
        "activities",
        _row_applier(Activity, "activities", _activity),
        lambda w: {"from": w.start.isoformat(), "to": w.end.isoformat()},
        _pruner(Activity, Activity.day),
    ),
)


def import_records(
    sessions: sessionmaker[Session], records: dict[str, Rows], source: str = "moco:file"
) -> IngestReport:
    """Records as MOCO's API returns them, keyed by endpoint (users, employments, planning_entries,
    schedules, activities): the same mapping as a live sync, without cursors or pruning."""
    report = IngestReport(source)
    with session_scope(sessions) as session:
        for endpoint in ENDPOINTS:
            rows = records.get(endpoint.name)
            if rows:
                endpoint.apply(session, rows, report)
                session.flush()
        _link_people(session)
    return report
