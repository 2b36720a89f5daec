"""A board: every open request answered, concurrently up to the configured bound; one ticket's trouble
stays with that ticket; configuration problems stop the run before anything is written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from assistant.audit import audit_calls, ledger_calls
from assistant.jobs.context import JobConfigError
from assistant.jobs.run import run_board
from skillmatch.models import LlmCall
from tests.fakes.openai_server import FakeOpenAI
from tests.jobs.conftest import job_settings, model_reading, openai_env, request_ticket

REQUESTS = [
    ("STAFF-1", "Senior Java developer for an insurance portal", "Spring Boot and Kafka, claims portal."),
    ("STAFF-2", "Scrum Master gesucht", "Erfahrene Scrum Masterin für ein Versicherungsprojekt."),
    ("STAFF-3", "React developer", "React and TypeScript for an online shop."),
]


def seed(jira: Any, count: int = 3) -> None:
    jira.add_issues([request_ticket(*r) for r in REQUESTS[:count]])


async def test_a_board_run_answers_every_open_request_once(sample_db_url, jira, make_job) -> None:
    seed(jira)
    jira.add_issues([request_ticket("STAFF-9", "Python developer", "Django.", status="Done")])
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_board(job, project="staff", options=job.options())
    assert report.scope == 'project = "STAFF" AND (statusCategory != Done) ORDER BY updated DESC'
    assert sorted((o.key, o.action) for o in report.outcomes) == [
        ("STAFF-1", "posted"),
        ("STAFF-2", "posted"),
        ("STAFF-3", "posted"),
    ]
    assert report.exit_code == 0 and report.matched == 3
    assert [len(jira.bot_comments(k)) for k in ("STAFF-1", "STAFF-2", "STAFF-3", "STAFF-9")] == [1, 1, 1, 0]


async def test_limit_takes_the_most_recently_updated_tickets(sample_db_url, jira, make_job) -> None:
    seed(jira)
    for hour, key in enumerate(["STAFF-1", "STAFF-3", "STAFF-2"]):  # STAFF-2 edited last
        jira.update_issue(key, updated=datetime(2026, 11, 20, 9 + hour, tzinfo=UTC))
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_board(job, project="STAFF", limit=1, options=job.options(dry_run=True))
    assert [o.key for o in report.outcomes] == ["STAFF-2"]


async def test_permission_problems_on_one_ticket_leave_the_others_answered(
    sample_db_url, jira, make_job
) -> None:
    seed(jira)
    jira.deny("STAFF-2", "comment")
    jira.deny("STAFF-3", "edit")  # may comment, may not set the issue property
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_board(job, project="STAFF", options=job.options())
    outcomes = {o.key: o for o in report.outcomes}
    assert report.exit_code == 1
    assert outcomes["STAFF-1"].action == "posted"
    assert outcomes["STAFF-2"].action == "failed" and "HTTP 403" in outcomes["STAFF-2"].detail
    assert (
        outcomes["STAFF-3"].action == "posted" and "issue property not written" in outcomes["STAFF-3"].detail
    )
    assert jira.bot_comments("STAFF-2") == [] and len(jira.bot_comments("STAFF-3")) == 1


async def test_a_query_that_matches_nothing_is_a_quiet_success(sample_db_url, jira, make_job) -> None:
    seed(jira)
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_board(
            job, jql='project = STAFF AND labels = "nothing-has-this"', options=job.options()
        )
    assert (report.matched, report.outcomes, report.exit_code) == (0, [], 0)


async def test_a_project_jira_does_not_know_is_a_configuration_error(sample_db_url, jira, make_job) -> None:
    seed(jira)
    async with make_job(job_settings(sample_db_url, jira)) as job:
        with pytest.raises(JobConfigError, match="'NOPE' does not exist for the field 'project'"):
            await run_board(job, project="NOPE", options=job.options())
        with pytest.raises(JobConfigError, match="is not a Jira project key"):
            await run_board(job, project="no such key!", options=job.options())
        with pytest.raises(JobConfigError, match="no board: give --project KEY or --jql JQL"):
            await run_board(job, options=job.options())
    assert jira.writes() == []


async def test_refused_credentials_stop_the_run_at_the_first_call(sample_db_url, jira, make_job) -> None:
    seed(jira)
    settings = job_settings(sample_db_url, jira, JIRA_API_TOKEN="revoked")
    async with make_job(settings) as job:
        with pytest.raises(JobConfigError, match=r"HTTP 401.*check JIRA_EMAIL and JIRA_API_TOKEN"):
            await run_board(job, project="STAFF", options=job.options())
    assert [r.path for r in jira.requests] == ["/rest/api/3/myself"]


async def test_credentials_revoked_mid_run_stop_the_run(sample_db_url, jira, make_job) -> None:
    seed(jira)
    jira.fail_next(401, times=None, match=lambda r: r.method == "POST" and r.path.endswith("/comment"))
    async with make_job(job_settings(sample_db_url, jira)) as job:
        with pytest.raises(JobConfigError, match="HTTP 401"):
            await run_board(job, project="STAFF", options=job.options())


async def test_rate_limited_and_failing_jira_calls_are_retried(sample_db_url, jira, make_job) -> None:
    seed(jira, 1)
    jira.fail_next(429, headers={"Retry-After": "3"}, match="/search/jql")
    jira.fail_next(503, match=lambda r: r.method == "PUT" and "/properties/" in r.path)
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_board(job, project="STAFF", options=job.options())
    assert report.outcomes[0].action == "posted" and report.outcomes[0].detail == "comment 10001"
    assert len(jira.searches) == 2 and len(jira.property_writes()) == 2


async def test_a_comment_post_that_may_have_worked_is_not_repeated(sample_db_url, jira, make_job) -> None:
    seed(jira, 1)
    jira.fail_next(502, match=lambda r: r.method == "POST" and r.path.endswith("/comment"))
    settings = job_settings(sample_db_url, jira)
    async with make_job(settings) as job:
        first = await run_board(job, project="STAFF", options=job.options())
        second = await run_board(job, project="STAFF", options=job.options())
    assert first.outcomes[0].action == "failed" and "not repeated" in first.outcomes[0].detail
    assert second.outcomes[0].action == "posted"
    assert len([r for r in jira.comment_writes() if r.method == "POST"]) == 2


async def test_tickets_are_processed_concurrently_up_to_the_configured_bound(
    sample_db_url, jira, fake_openai: FakeOpenAI, make_job
) -> None:
    keys = [f"STAFF-{n}" for n in range(1, 7)]
    jira.add_issues([request_ticket(key, f"Java developer {key}", "Spring Boot.") for key in keys])
    bound, lock = 3, threading.Condition()
    state = {"in_flight": 0, "peak": 0}

    def answer(body: dict[str, Any]) -> str:
        with lock:
            state["in_flight"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
            lock.notify_all()
            # Hold each call until the bound is reached: a run that stays below it times out here.
            lock.wait_for(lambda: state["in_flight"] >= bound, timeout=10)
            state["in_flight"] -= 1
        return model_reading(role="Java developer", skills=["java"])

    fake_openai.responder = answer
    settings = job_settings(sample_db_url, jira, SKILLMATCH_JIRA_CONCURRENCY=bound, **openai_env(fake_openai))
    async with make_job(settings) as job:
        report = await run_board(job, project="STAFF", options=job.options())
        with job.sessions() as session:
            rows = session.scalars(select(LlmCall)).all()
        since = min(r.created_at for r in rows)
        audit = audit_calls(ledger_calls(job.sessions, since=since))
    assert state["peak"] == bound and report.counts()["posted"] == 6
    assert {r.session_id for r in rows} == {f"jira:{k}" for k in keys}
    assert {r.trace_id for r in rows} == {report.trace_id} and len({r.prompt_hash for r in rows}) == 6
    assert audit.duplicates == 0
