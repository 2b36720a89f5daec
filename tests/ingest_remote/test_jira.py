"""Jira ingestion through the real client against the fake Jira Cloud on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.db import session_scope
from skillmatch.ingest.http import SourceConfigError
from skillmatch.ingest.jira import adf_to_text, build_jql, ingest_jira, jql_timestamp
from skillmatch.models import IngestRun, JiraIssue, Person, SyncState
from tests.fakes.jira import FakeJira, account, jira_issue
from tests.ingest_remote.conftest import TEST_RETRIES, Waits, jira_env, make_settings

ANNA = account("acc-anna", "Anna Roth")
BEN = account("acc-ben", "Ben Weber", email="Ben.Weber@Example.com")
CARLA = account("acc-carla", "Carla Nowak")
STRANGER = account("acc-x", "Xaver Unbekannt")


def settings_for(fake: FakeJira, **extra: object):  # type: ignore[no-untyped-def]
    return make_settings(**(jira_env(fake) | extra))


def seed_people(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        session.add_all(
            [
                Person(name="Anna Roth", email="anna@example.com", jira_account_id="acc-anna"),
                Person(name="Ben Weber", email="ben.weber@example.com"),
                Person(name="Carla Nowak"),
            ]
        )


def five_issues() -> list[dict]:
    return [
        jira_issue(
            "ABC-1",
            "Set up CI on Azure DevOps",
            assignee=ANNA,
            description="Pipelines for the Python services.",
            labels=["azure", "ci"],
            components=["platform"],
            updated=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
            resolved=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        ),
        jira_issue(
            "ABC-2", "Migrate Postgres", assignee=BEN, updated=datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
        ),
        jira_issue("ABC-3", "Kafka consumer", assignee=CARLA, updated=datetime(2024, 5, 2, 8, 0, tzinfo=UTC)),
        jira_issue(
            "ABC-4", "Load tests", assignee=STRANGER, updated=datetime(2024, 5, 2, 8, 15, 30, tzinfo=UTC)
        ),
        jira_issue(
            "ABC-5", "Unassigned chore", assignee=None, updated=datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
        ),
        jira_issue(
            "ABC-6", "Terraform modules", assignee=ANNA, updated=datetime(2024, 5, 2, 8, 15, 30, tzinfo=UTC)
        ),
    ]


def issues_by_key(sessions: sessionmaker[Session]) -> dict[str, JiraIssue]:
    with sessions() as session:
        return {row.key: row for row in session.scalars(select(JiraIssue))}


def test_full_sync_follows_next_page_tokens_and_maps_people(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    seed_people(sessions)
    jira.max_results = 2
    jira.add_issues(five_issues())

    report = ingest_jira(sessions, settings_for(jira), wait=waits)

    assert report.ok, report.error
    assert report.counts["added"] == 5 and report.counts["pages"] == 3
    assert report.counts["unmapped"] == 1
    searches = jira.searches
    assert [s.method for s in searches] == ["POST"] * 3
    bodies = [s.json() for s in searches]
    assert "nextPageToken" not in bodies[0]
    assert all(b.get("nextPageToken") for b in bodies[1:])
    assert bodies[0]["jql"] == "(assignee is not EMPTY) ORDER BY updated ASC"
    assert bodies[0]["maxResults"] == 100
    assert set(bodies[0]["fields"]) >= {"summary", "description", "assignee", "updated", "resolutiondate"}
    expected_auth = "Basic " + base64.b64encode(f"{jira.email}:{jira.api_token}".encode()).decode()
    assert {r.header("authorization") for r in jira.requests} == {expected_auth}

    rows = issues_by_key(sessions)
    assert set(rows) == {"ABC-1", "ABC-2", "ABC-3", "ABC-4", "ABC-6"}  # the unassigned one is not asked for
    with sessions() as session:
        people = {p.name: p for p in session.scalars(select(Person))}
    assert rows["ABC-1"].person_id == people["Anna Roth"].id  # by accountId
    assert rows["ABC-2"].person_id == people["Ben Weber"].id  # by e-mail, case-insensitive ...
    assert people["Ben Weber"].jira_account_id == "acc-ben"  # ... which remembers the accountId
    assert rows["ABC-3"].person_id == people["Carla Nowak"].id  # by unambiguous display name
    assert people["Carla Nowak"].jira_account_id is None
    assert rows["ABC-4"].person_id is None and rows["ABC-4"].assignee_account_id == "acc-x"

    first = rows["ABC-1"]
    assert first.summary == "Set up CI on Azure DevOps"
    assert first.description == "Pipelines for the Python services."
    assert first.labels == ["azure", "ci"] and first.components == ["platform"]
    assert (first.status, first.issue_type, first.project_key) == ("Done", "Story", "ABC")
    assert first.updated is not None and first.updated.replace(tzinfo=UTC) == datetime(
        2024, 5, 1, 9, tzinfo=UTC
    )
    assert first.resolved is not None and first.jira_id

    with sessions() as session:
        run = session.scalars(select(IngestRun)).one()
    assert (run.source, run.status, run.counts["added"]) == ("jira", "ok", 5)


def test_the_removed_search_endpoint_answers_410_and_is_never_used(
    sessions: sessionmaker[Session], jira: FakeJira
) -> None:
    auth = httpx2.BasicAuth(jira.email, jira.api_token)
    gone = httpx2.post(f"{jira.base_url}/rest/api/3/search", json={"jql": "project = ABC"}, auth=auth)
    assert gone.status_code == 410 and "/rest/api/3/search/jql" in gone.json()["errorMessages"][0]
    jira.clear_requests()

    ingest_jira(sessions, settings_for(jira))

    assert [r.path for r in jira.requests] == ["/rest/api/3/myself", "/rest/api/3/search/jql"]


def test_incremental_run_asks_only_for_changes_in_the_users_time_zone(
    sessions: sessionmaker[Session], jira: FakeJira
) -> None:
    jira.time_zone = "Europe/Berlin"
    jira.add_issues(five_issues())
    assert ingest_jira(sessions, settings_for(jira)).ok
    with sessions() as session:
        cursor = json.loads(session.get(SyncState, "jira").cursor)
    assert cursor["updated"] == "2024-05-02T08:15:30+00:00"

    jira.update_issue("ABC-2", summary="Migrate Postgres to 16")
    jira.clear_requests()
    report = ingest_jira(sessions, settings_for(jira))

    assert report.ok, report.error
    (search,) = jira.searches
    # 08:15:30 UTC is 10:15 in Berlin (CEST); `>=` on whole minutes re-reads the edge, never skips it
    assert (
        search.json()["jql"]
        == '(assignee is not EMPTY) AND updated >= "2024/05/02 10:15" ORDER BY updated ASC'
    )
    assert report.counts["updated"] == 3  # ABC-4 and ABC-6 at the edge, ABC-2 changed
    assert report.counts["added"] == 0
    assert issues_by_key(sessions)["ABC-2"].summary == "Migrate Postgres to 16"


def test_changing_the_jql_starts_over_and_full_ignores_the_cursor(
    sessions: sessionmaker[Session], jira: FakeJira
) -> None:
    jira.add_issues(five_issues())
    ingest_jira(sessions, settings_for(jira))
    jira.clear_requests()

    ingest_jira(sessions, settings_for(jira, JIRA_JQL="project = ABC ORDER BY created DESC"))
    ingest_jira(sessions, settings_for(jira, JIRA_JQL="project = ABC ORDER BY created DESC"), full=True)

    jqls = [s.json()["jql"] for s in jira.searches]
    assert jqls == ["(project = ABC) ORDER BY updated ASC"] * 2
    assert len(issues_by_key(sessions)) == 6  # the new query includes the unassigned issue


def test_unauthorised_is_one_clear_error_without_retries(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    report = ingest_jira(sessions, settings_for(jira, JIRA_API_TOKEN="wrong"), wait=waits)

    assert report.error is not None
    assert report.error.startswith("jira: access denied (HTTP 401)")
    assert "JIRA_API_TOKEN" in report.error and "wrong" not in report.error
    assert len(jira.requests) == 1 and waits == []


def test_rate_limit_is_retried_after_the_servers_retry_after(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    jira.add_issues(five_issues())
    jira.fail_next(429, headers={"Retry-After": "7"}, match="/search/jql")

    report = ingest_jira(sessions, settings_for(jira), wait=waits)

    assert report.ok, report.error
    assert waits == [7.0]
    assert len(jira.searches) == 2 and len(issues_by_key(sessions)) == 5


def test_retry_after_is_capped_by_the_configured_maximum(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    jira.fail_next(429, headers={"Retry-After": "3600"})

    report = ingest_jira(sessions, settings_for(jira, SKILLMATCH_HTTP_MAX_BACKOFF=45), wait=waits)

    assert report.ok and waits == [45.0]


def test_persistent_500_keeps_fetched_pages_and_the_next_run_resumes(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    jira.max_results = 2
    jira.add_issues(five_issues())
    jira.fail_next(500, times=None, match="/search/jql", after=1)

    report = ingest_jira(sessions, settings_for(jira), wait=waits)

    assert report.error is not None and "HTTP 500" in report.error
    assert f"gave up after {TEST_RETRIES + 1} attempts" in report.error
    assert waits == [1.0, 2.0]  # exponential back-off, no Retry-After given
    assert set(issues_by_key(sessions)) == {"ABC-1", "ABC-2"}  # the first page is kept
    with sessions() as session:
        assert session.scalars(select(IngestRun)).one().status == "failed"

    jira.clear_faults()
    jira.clear_requests()
    report = ingest_jira(sessions, settings_for(jira), wait=waits)

    assert report.ok, report.error
    assert (
        jira.searches[0].json()["jql"].startswith('(assignee is not EMPTY) AND updated >= "2024/05/01 10:00"')
    )
    assert len(issues_by_key(sessions)) == 5


def test_malformed_json_is_a_clear_error_naming_the_source(
    sessions: sessionmaker[Session], jira: FakeJira, waits: Waits
) -> None:
    jira.add_issues(five_issues())
    jira.malformed_next(match="/search/jql")

    report = ingest_jira(sessions, settings_for(jira), wait=waits)

    assert report.error is not None
    assert report.error.startswith("jira: malformed JSON from POST ")
    assert f"{jira.base_url}/rest/api/3/search/jql" in report.error
    assert waits == []


def test_a_redirecting_base_url_is_reported_as_such(sessions: sessionmaker[Session], jira: FakeJira) -> None:
    jira.fail_next(301, headers={"Location": "https://jira.example.com/rest/api/3/myself"}, body=b"")

    report = ingest_jira(sessions, settings_for(jira))

    assert report.error == (
        f"jira: GET {jira.base_url}/rest/api/3/myself redirected to "
        "https://jira.example.com/rest/api/3/myself; check the configured base URL"
    )


def test_unreachable_server_is_retried_then_reported(sessions: sessionmaker[Session], waits: Waits) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(JIRA_BASE_URL=f"http://127.0.0.1:{port}", JIRA_EMAIL="a@b.c", JIRA_API_TOKEN="t")

    report = ingest_jira(sessions, settings, wait=waits)

    assert report.error is not None and report.error.startswith("jira: could not reach GET ")
    assert "ConnectError" in report.error and waits == [1.0, 2.0]


def test_issues_of_people_known_later_are_linked_on_the_next_run(
    sessions: sessionmaker[Session], jira: FakeJira
) -> None:
    jira.add_issues(
        [
            jira_issue(
                "OLD-1", "Before Xaver had a CV", assignee=STRANGER, updated=datetime(2023, 1, 1, tzinfo=UTC)
            ),
            jira_issue("NEW-1", "Recent", assignee=ANNA, updated=datetime(2024, 5, 1, tzinfo=UTC)),
        ]
    )
    ingest_jira(sessions, settings_for(jira))
    assert issues_by_key(sessions)["OLD-1"].person_id is None
    with session_scope(sessions) as session:
        session.add(Person(name="Xaver U.", jira_account_id="acc-x"))
    jira.clear_requests()

    ingest_jira(sessions, settings_for(jira))

    assert [s.json()["jql"].count("updated >=") for s in jira.searches] == [1]  # OLD-1 was not fetched again
    assert issues_by_key(sessions)["OLD-1"].person_id is not None


def test_missing_configuration_names_the_variables(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(SourceConfigError, match="set JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN"):
        ingest_jira(sessions, make_settings())


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_ingests_and_prints_the_report(
    database_url: str, engine: object, jira: FakeJira, run_cli
) -> None:  # type: ignore[no-untyped-def]
    jira.add_issues(five_issues())

    result = run_cli(["ingest", "jira", "--database-url", database_url], jira_env(jira))

    assert result.exit_code == 0, result.output
    assert "jira: summary" in result.output and "added" in result.output


def test_cli_exits_non_zero_on_401(database_url: str, jira: FakeJira, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        ["ingest", "jira", "--database-url", database_url], jira_env(jira) | {"JIRA_API_TOKEN": "x"}
    )

    assert result.exit_code == 1
    assert "error: jira: access denied (HTTP 401)" in " ".join(result.stderr.split())


def test_cli_exits_non_zero_when_not_configured(sqlite_url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["ingest", "jira", "--database-url", sqlite_url], {})

    assert result.exit_code == 1
    assert "jira: not configured: set JIRA_BASE_URL" in " ".join(result.stderr.split())


# --- pure functions ---------------------------------------------------------------------------------------


def test_build_jql_replaces_the_order_and_adds_the_window() -> None:
    assert build_jql("project = ABC order by created DESC", None) == "(project = ABC) ORDER BY updated ASC"
    assert build_jql("project = ABC", "2024/05/02 10:15") == (
        '(project = ABC) AND updated >= "2024/05/02 10:15" ORDER BY updated ASC'
    )


def test_jql_timestamp_without_a_known_zone_widens_the_window() -> None:
    when = datetime(2024, 5, 2, 20, 0, tzinfo=UTC)
    assert jql_timestamp(when, "America/New_York") == "2024/05/02 16:00"
    assert jql_timestamp(when, None) == "2024/05/02 06:00"
    assert jql_timestamp(when, "Not/AZone") == "2024/05/02 06:00"


def list_item(text: str) -> dict:
    return {
        "type": "listItem",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def test_adf_to_text_keeps_structure_and_truncates_at_a_word() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Goal"}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Ask "},
                    {"type": "mention", "attrs": {"id": "acc-anna", "text": "@Anna Roth"}},
                    {"type": "hardBreak"},
                    {"type": "inlineCard", "attrs": {"url": "https://example.com/spec"}},
                ],
            },
            {"type": "bulletList", "content": [list_item("one"), list_item("two")]},
            {"type": "codeBlock", "content": [{"type": "text", "text": "pip install x"}]},
        ],
    }  # fmt: skip
    assert (
        adf_to_text(doc)
        == "Goal\n\nAsk @Anna Roth\nhttps://example.com/spec\n\n- one\n- two\n\npip install x"
    )
    long = adf_to_text("lorem ipsum " * 1000, max_chars=100)
    assert len(long) <= 102 and long.endswith(" …") and "lorem ipsu …" not in long
    assert adf_to_text(None) == ""
