"""A Slack message naming a Jira ticket starts from the ticket's request, and the thread refines it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fakes import slack_events as ev
from tests.fakes.jira import FakeJira
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import jira_env, request_ticket
from tests.slack.conftest import start_app


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        yield fake


def user_contents(openai: FakeOpenAI) -> list[list[str]]:
    return [
        [m["content"] for m in r.json()["messages"] if m["role"] == "user"] for r in openai.chat_requests()
    ]


async def test_a_message_naming_a_ticket_is_seeded_with_its_request_and_can_be_refined(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI, jira: FakeJira
) -> None:
    jira.add_issues(
        [request_ticket("STAFF-7", "Scrum Master gesucht", "Für ein Versicherungsprojekt in Köln.")]
    )
    settings = {**jira_env(jira), "SKILLMATCH_JIRA_PROJECT": "STAFF"}
    app = await start_app(sample_db_url, fake_slack, fake_openai, **settings)
    try:
        body, _ = ev.app_mention("Who could take STAFF-7? Not ISO-9001 related.")
        root = json.loads(body)["event"]["ts"]
        await app.send(body)
        await app.settle()
        await app.send(ev.app_mention("only people in Cologne", thread_ts=root)[0])
        await app.settle()
        first, second = user_contents(fake_openai)
        assert first[0].startswith("Who could take STAFF-7?")
        assert "Jira ticket STAFF-7 (Open): Scrum Master gesucht" in first[0]
        assert "Versicherungsprojekt" in first[0] and "ISO-9001 (" not in first[0]
        assert second[0] == first[0] and second[1] == "only people in Cologne"  # the thread keeps the ticket
        assert len(jira.requests_to("/issue/STAFF-7")) == 1
    finally:
        await app.settle()
        await app.http.close()
        app.runtime.close()


async def test_an_unknown_ticket_key_changes_nothing(
    sample_db_url: str, fake_slack: FakeSlack, fake_openai: FakeOpenAI, jira: FakeJira
) -> None:
    app = await start_app(sample_db_url, fake_slack, fake_openai, **jira_env(jira))
    try:
        await app.send(ev.app_mention("Who could take STAFF-404?")[0])
        await app.settle()
        assert user_contents(fake_openai) == [["Who could take STAFF-404?"]]
    finally:
        await app.settle()
        await app.http.close()
        app.runtime.close()
