"""The chat's view of a request ticket: `get_jira_ticket` (TOON, like the other tools) and the channel-
neutral `ticket_request` a conversation naming a ticket key is seeded with."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import toon_format

from assistant.jobs.requests import ticket_keys, ticket_request
from assistant.jobs.run import run_ticket
from assistant.tools import ToolContext, run_tool
from skillmatch.db import create_db_engine, session_factory
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.jira import FakeJira
from tests.jobs.conftest import FIELDS, jira_env, job_settings, model_reading, openai_env, request_ticket

DESCRIPTION = "Spring Boot and Kafka for the claims portal. Questions to max.muster@example.com."


@pytest.fixture
def jira_from_environment(jira: FakeJira, monkeypatch: pytest.MonkeyPatch, tmp_path) -> FakeJira:
    """The tool reads Jira settings from the environment, as a deployment provides them."""
    monkeypatch.chdir(tmp_path)
    for name, value in (jira_env(jira) | {"SKILLMATCH_JIRA_FIELDS": json.dumps(FIELDS)}).items():
        monkeypatch.setenv(name, value)
    return jira


@pytest.fixture
def context(sample_db_url: str, embedder) -> Iterator[ToolContext]:
    engine = create_db_engine(sample_db_url)
    sessions = session_factory(engine)
    yield ToolContext(sessions, Searcher(sessions, embedder, today=TODAY), TODAY)
    engine.dispose()


def test_the_tool_gives_the_model_the_request_as_toon(
    jira_from_environment: FakeJira, context: ToolContext
) -> None:
    jira_from_environment.add_issues(
        [request_ticket("STAFF-1", "Senior Java developer", DESCRIPTION, headcount=2)]
    )
    result = run_tool("get_jira_ticket", {"key": " staff-1 "}, context)
    assert result.error is None, result.content
    data = toon_format.loads(result.content)
    [ticket] = data["ticket"]
    assert (ticket["key"], ticket["summary"], ticket["status"]) == (
        "STAFF-1",
        "Senior Java developer",
        "Open",
    )
    assert ticket["description"].startswith("Spring Boot and Kafka for the claims portal.")
    assert "max.muster@example.com" not in result.content  # contact data never reaches the model
    assert (ticket["start"], ticket["end"], ticket["headcount"]) == ("2027-01-04", "2027-03-26", 2)
    assert ticket["understood_by"] == "parser" and "java" in ticket["skills"]
    assert data["understood"].startswith("Senior Java developer; skills ")
    assert ticket["url"] == f"{jira_from_environment.base_url}/browse/STAFF-1"


async def test_the_tool_reuses_what_the_jobs_model_understood_while_the_ticket_is_unchanged(
    sample_db_url, jira_from_environment: FakeJira, fake_openai, make_job, context: ToolContext
) -> None:
    jira = jira_from_environment
    jira.add_issues([request_ticket("STAFF-1", "Senior Java developer", DESCRIPTION)])
    fake_openai.enqueue_reply(
        model_reading(role="Backend developer", skills=["java", "kafka"], domain="insurance")
    )
    async with make_job(job_settings(sample_db_url, jira, **openai_env(fake_openai))) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
    [ticket] = toon_format.loads(run_tool("get_jira_ticket", {"key": "STAFF-1"}, context).content)["ticket"]
    assert (ticket["understood_by"], ticket["role"], ticket["domain"]) == (
        "model",
        "Backend developer",
        "insurance",
    )
    jira.update_issue("STAFF-1", summary="Senior Kotlin developer")
    [ticket] = toon_format.loads(run_tool("get_jira_ticket", {"key": "STAFF-1"}, context).content)["ticket"]
    assert ticket["understood_by"] == "parser"  # changed since: read afresh, never a stale reading


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"key": "STAFF-404"}, "Ticket STAFF-404 does not exist, or the Jira user may not see it."),
        ({"key": "not a key"}, "Invalid arguments for get_jira_ticket: key: String should match pattern"),
        ({"ticket": "STAFF-1"}, "Invalid arguments for get_jira_ticket"),
    ],
)
def test_the_tool_answers_problems_in_words_the_model_can_act_on(
    jira_from_environment: FakeJira, context: ToolContext, arguments: dict, message: str
) -> None:
    result = run_tool("get_jira_ticket", arguments, context)
    assert result.error is not None and result.error.startswith(message), result.error


def test_without_jira_configured_the_tool_says_so(context: ToolContext, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_tool("get_jira_ticket", {"key": "STAFF-1"}, context)
    assert result.error is not None and result.error.startswith("Jira is not configured here")


def test_a_conversation_naming_a_ticket_can_be_seeded_with_it(jira: FakeJira, sample_db_url: str) -> None:
    jira.add_issues([request_ticket("STAFF-3", "Scrum Master gesucht", "Für ein Versicherungsprojekt.")])
    [key] = ticket_keys("Kannst du STAFF-3 besetzen?")
    request = ticket_request(key, settings=job_settings(sample_db_url, jira), today=TODAY)
    context = request.as_context()
    assert context.splitlines()[0] == "Jira ticket STAFF-3 (Open): Scrum Master gesucht"
    assert "Start: 2027-01-04" in context and "Understood: Scrum Master; skills " in context
    assert request.constraints is not None and request.constraints.period() is not None
