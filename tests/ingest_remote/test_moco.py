"""MOCO ingestion through the real client against the fake MOCO API on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import session_scope
from skillmatch.ingest.http import parse_retry_after
from skillmatch.ingest.moco import ingest_moco
from skillmatch.ingest.report import IngestReport
from skillmatch.models import Absence, Activity, Allocation, Base, CvDocument, Employment, Person, SyncState
from tests.fakes.moco import FakeMoco, absence, activity, employment, moco_user, planning_entry
from tests.ingest_remote.conftest import Waits, make_settings, moco_env

TODAY = date(2024, 6, 3)
SECRET_WORDS = ("Krankheit", "Arzttermin Dr. Müller", "Kur")


def settings_for(fake: FakeMoco, **extra: object) -> Settings:
    return make_settings(**(moco_env(fake) | extra))


def run(
    sessions: sessionmaker[Session], fake: FakeMoco, waits: Waits | None = None, **kw: object
) -> IngestReport:
    settings = kw.pop("settings", None) or settings_for(fake)
    return ingest_moco(sessions, settings, wait=waits, today=TODAY, **kw)  # type: ignore[arg-type]


def seed(fake: FakeMoco) -> None:
    fake.seed(
        users=[
            moco_user(1, "Anna", "Roth-Meyer", email="Anna.Roth@Example.com"),  # CV person, by e-mail
            moco_user(2, "Ben", "Weber"),  # unknown, current staff: created
            moco_user(3, "Carla", "Frei", external=True),  # freelancer: not created
            moco_user(4, "Dirk", "Alt", active=False),  # left: not created
            moco_user(5, "Eva", "Klein", email="eva.klein@example.com"),  # ERP-only person, by name
        ],
        employments=[employment(21, 1, weekly_target_hours=32), employment(22, 2)],
        planning_entries=[
            planning_entry(11, 1, "2024-06-03", "2024-08-30", hours_per_day=6, project="Azure Landing Zone"),
            planning_entry(12, 2, "2024-07-01", "2024-07-31", tentative=True),
            planning_entry(13, 3, "2024-06-10", "2024-06-14", customer="Acme GmbH"),
        ],
        schedules=[
            absence(31, 1, "2024-06-20", reason="Krankheit", comment="Arzttermin Dr. Müller", pm=False),
            absence(32, 2, "2024-07-15", reason="Kur"),
        ],
        activities=[
            activity(41, 1, "2024-05-28", 3.5, remote_id="ABC-123"),
            activity(42, 5, "2024-05-29", 8.0, task="Workshop"),
        ],
    )


def seed_people(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        anna = Person(name="Anna Roth", email="anna.roth@example.com")
        session.add_all([anna, Person(name="Eva Klein")])
        session.add(CvDocument(
            source="cvs/anna.md", source_kind="file", display_name="anna.md", media_type="text/markdown",
            size_bytes=10, content_hash="0" * 64, extracted_text="Anna Roth", person=anna,
        ))  # fmt: skip


def people(sessions: sessionmaker[Session]) -> dict[int | None, Person]:
    with sessions() as session:
        return {p.moco_user_id: p for p in session.scalars(select(Person))}


def rows(sessions: sessionmaker[Session], model: type) -> dict[int, object]:
    with sessions() as session:
        return {row.id: row for row in session.scalars(select(model))}


def test_full_sync_pages_maps_people_and_stores_every_endpoint(
    sessions: sessionmaker[Session], moco: FakeMoco
) -> None:
    moco.per_page = 2
    seed(moco)
    seed_people(sessions)

    report = run(sessions, moco)

    assert report.ok, report.error
    # the wire: token auth, 100-per-page paging by Link header, archived users included, a date window
    assert {r.header("authorization") for r in moco.requests} == {f"Token token={moco.api_key}"}
    assert [r.param("page") for r in moco.requests_for("users")] == [None, "2", "3"]
    assert all(r.param("include_archived") == "true" for r in moco.requests_for("users"))
    (acts,) = moco.requests_for("activities")
    assert (acts.param("from"), acts.param("to")) == ("2022-06-04", "2025-06-03")
    assert moco.requests_for("schedules")[0].param("from") == "2022-06-04"
    assert not any(r.param("updated_after") for r in moco.requests)

    by_moco = people(sessions)
    anna, ben, eva = by_moco[1], by_moco[2], by_moco[5]
    assert (anna.name, anna.email) == ("Anna Roth", "anna.roth@example.com")  # the CV's name stays
    assert (ben.name, ben.email, ben.active) == ("Ben Weber", "ben.weber@example.com", True)
    assert (eva.name, eva.email) == (
        "Eva Klein",
        "eva.klein@example.com",
    )  # matched by name, e-mail filled in
    assert 3 not in by_moco and 4 not in by_moco  # no person for freelancers or leavers
    assert report.counts["people created"] == 1 and report.counts["users linked"] == 2
    assert report.counts["users skipped"] == 2

    allocations = rows(sessions, Allocation)
    assert set(allocations) == {11, 12, 13}
    a11 = allocations[11]
    assert (a11.person_id, a11.project_name, a11.customer_name) == (
        anna.id,
        "Azure Landing Zone",
        "Beispiel AG",
    )
    assert (a11.starts_on, a11.ends_on, a11.hours_per_day) == (date(2024, 6, 3), date(2024, 8, 30), 6.0)
    assert allocations[12].tentative and allocations[12].person_id == ben.id
    assert allocations[13].person_id is None and allocations[13].moco_user_id == 3

    employments = rows(sessions, Employment)
    assert employments[21].weekly_target_hours == 32 and employments[21].from_date == date(2020, 1, 1)
    absences = rows(sessions, Absence)
    assert (absences[31].day, absences[31].am, absences[31].pm) == (date(2024, 6, 20), True, False)
    activities = rows(sessions, Activity)
    assert activities[41].remote_id == "ABC-123" and activities[41].hours == 3.5
    assert activities[42].person_id == eva.id and activities[42].task_name == "Workshop"


def test_absence_reasons_and_comments_never_reach_the_database(
    engine: Engine, sessions: sessionmaker[Session], moco: FakeMoco
) -> None:
    seed(moco)
    assert run(sessions, moco).ok

    with engine.connect() as conn:
        dump = [
            json.dumps([list(map(str, row)) for row in conn.execute(text(f'SELECT * FROM "{table.name}"'))])
            for table in Base.metadata.sorted_tables
        ]
    leaked = [word for word in SECRET_WORDS if any(word in table for table in dump)]
    assert leaked == []
    assert len(rows(sessions, Absence)) == 2  # the dates themselves are there


def test_incremental_run_asks_only_for_changes_and_applies_them(
    sessions: sessionmaker[Session], moco: FakeMoco
) -> None:
    seed(moco)
    assert run(sessions, moco).ok
    with sessions() as session:
        cursors = {s.source: json.loads(s.cursor) for s in session.scalars(select(SyncState))}
    assert set(cursors) == {
        f"moco:{n}" for n in ("users", "employments", "planning_entries", "schedules", "activities")
    }
    watermark = cursors["moco:planning_entries"]["since"]
    # the server's clock (Date header) minus a safety margin, in MOCO's UTC ISO 8601 form
    stamp = datetime.fromisoformat(watermark.replace("Z", "+00:00"))
    assert timedelta(minutes=4) < datetime.now(UTC) - stamp < timedelta(minutes=7)

    moco.update("planning_entries", 11, hours_per_day=4.0)
    moco.add(
        "activities", [activity(43, 2, "2024-06-01", 2.0, remote_id="ABC-124", updated=datetime.now(UTC))]
    )
    moco.clear_requests()
    report = run(sessions, moco)

    assert report.ok, report.error
    first_requests = {r.path.rsplit("/v1/", 1)[1]: r for r in reversed(moco.requests)}
    for resource, cursor in (("planning_entries", "planning_entries"), ("users/employments", "employments")):
        assert first_requests[resource].param("updated_after") == cursors[f"moco:{cursor}"]["since"]
    assert report.counts["planning entries"] == 1 and report.counts["activities"] == 1
    assert "users linked" not in report.counts  # no user changed
    assert rows(sessions, Allocation)[11].hours_per_day == 4.0
    assert rows(sessions, Activity)[43].remote_id == "ABC-124"


def test_unauthorised_is_one_clear_error(
    sessions: sessionmaker[Session], moco: FakeMoco, waits: Waits
) -> None:
    report = run(sessions, moco, waits, settings=settings_for(moco, MOCO_API_KEY="nope"))

    assert report.error is not None
    assert report.error.startswith("moco: access denied (HTTP 401) at GET ")
    assert "MOCO_API_KEY" in report.error and "nope" not in report.error
    assert len(moco.requests) == 1 and waits == []


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_waits_as_long_as_retry_after_says(
    sessions: sessionmaker[Session], moco: FakeMoco, waits: Waits, form: str
) -> None:
    seed(moco)
    header = (
        "30" if form == "seconds" else format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    )
    moco.fail_next(429, headers={"Retry-After": header}, match="/planning_entries")

    report = run(sessions, moco, waits)

    assert report.ok, report.error
    assert len(waits) == 1 and 25 <= waits[0] <= 30
    assert len(moco.requests_for("planning_entries")) == 2
    assert len(rows(sessions, Allocation)) == 3


def test_persistent_500_keeps_pages_and_the_next_run_resumes_at_the_failed_page(
    sessions: sessionmaker[Session], moco: FakeMoco, waits: Waits
) -> None:
    moco.per_page = 2
    seed(moco)
    moco.fail_next(
        500, times=None, match=lambda r: r.path.endswith("/planning_entries") and r.param("page") == "2"
    )

    report = run(sessions, moco, waits)

    assert report.error is not None and "HTTP 500 from GET" in report.error and "gave up" in report.error
    assert waits == [1.0, 2.0]
    assert set(rows(sessions, Allocation)) == {11, 12}  # page 1 kept
    assert len(rows(sessions, Employment)) == 2  # endpoints before it finished
    assert rows(sessions, Absence) == {}  # endpoints after it did not start
    with sessions() as session:
        cursor = json.loads(session.get(SyncState, "moco:planning_entries").cursor)
    assert cursor["since"] is None and "page=2" in cursor["next"]

    moco.clear_faults()
    moco.clear_requests()
    report = run(sessions, moco, waits)

    assert report.ok, report.error
    assert [r.param("page") for r in moco.requests_for("planning_entries")] == ["2"]
    assert set(rows(sessions, Allocation)) == {11, 12, 13}
    with sessions() as session:
        cursor = json.loads(session.get(SyncState, "moco:planning_entries").cursor)
    assert cursor == {"since": cursor["since"]} and cursor["since"]


def test_malformed_json_is_a_clear_error_naming_the_source(
    sessions: sessionmaker[Session], moco: FakeMoco, waits: Waits
) -> None:
    seed(moco)
    moco.malformed_next(match="/users")

    report = run(sessions, moco, waits)

    assert report.error is not None
    assert report.error.startswith(f"moco: malformed JSON from GET {moco.base_url}/users (")
    assert waits == []


def test_full_run_removes_what_moco_deleted_incremental_runs_cannot_see_it(
    sessions: sessionmaker[Session], moco: FakeMoco
) -> None:
    seed(moco)
    assert run(sessions, moco).ok
    moco.delete("planning_entries", 12)
    moco.delete("schedules", 32)

    assert run(sessions, moco).ok
    assert 12 in rows(sessions, Allocation)

    report = run(sessions, moco, full=True)

    assert report.ok and set(rows(sessions, Allocation)) == {11, 13} and set(rows(sessions, Absence)) == {31}
    assert report.counts["planning_entries removed"] == 1 and report.counts["schedules removed"] == 1


def test_a_user_leaving_is_marked_inactive_but_keeps_the_cv_name(
    sessions: sessionmaker[Session], moco: FakeMoco
) -> None:
    seed(moco)
    seed_people(sessions)
    assert run(sessions, moco).ok
    moco.update("users", 1, active=False, email="anna.new@example.com", lastname="Other")

    assert run(sessions, moco).ok

    anna = people(sessions)[1]
    assert (anna.name, anna.email, anna.active) == ("Anna Roth", "anna.roth@example.com", False)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after("Mon, 03 Jun 2024 12:00:42 GMT", now=now) == 42.0
    assert parse_retry_after("Mon, 03 Jun 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None) is None


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_ingests_erp_data(database_url: str, moco: FakeMoco, run_cli) -> None:  # type: ignore[no-untyped-def]
    seed(moco)

    result = run_cli(["ingest", "erp", "--database-url", database_url], moco_env(moco))

    assert result.exit_code == 0, result.output
    assert "moco: summary" in result.output and "planning entries" in result.output


def test_cli_exits_non_zero_on_401(database_url: str, moco: FakeMoco, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        ["ingest", "erp", "--database-url", database_url], moco_env(moco) | {"MOCO_API_KEY": "x"}
    )

    assert result.exit_code == 1
    assert "error: moco: access denied (HTTP 401)" in " ".join(result.stderr.split())
