"""The fake Jira's comments, issue properties, ADF checks, permissions and JQL additions behave like Jira
Cloud's REST API v3 on the wire (raw HTTP here, so the fake is checked independently of our client)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import pytest

from tests.fakes.jira import BOT_ACCOUNT_ID, FakeJira, adf, jira_issue


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        fake.add_issues(
            [
                jira_issue(
                    "STAFF-1", "Java developer", status="Open", extra_fields={"customfield_1": "2027-01-04"}
                ),
                jira_issue("STAFF-2", "Done already", status="Done"),
            ]
        )
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def http(jira: FakeJira) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=f"{jira.base_url}/rest/api/3", auth=(jira.email, jira.api_token)) as client:
        yield client


def test_comments_are_created_listed_in_pages_and_updated_by_their_author(
    jira: FakeJira, http: httpx2.Client
) -> None:
    jira.comment_page_size = 2
    created = [http.post("/issue/STAFF-1/comment", json={"body": adf(f"note {n}")}) for n in range(3)]
    assert [r.status_code for r in created] == [201, 201, 201]
    first = created[0].json()
    assert first["author"]["accountId"] == BOT_ACCOUNT_ID and first["id"] == "10001"
    page = http.get("/issue/STAFF-1/comment", params={"startAt": 0, "maxResults": 50}).json()
    assert (page["total"], page["maxResults"], len(page["comments"])) == (3, 2, 2)
    rest = http.get("/issue/STAFF-1/comment", params={"startAt": 2}).json()
    assert [c["id"] for c in rest["comments"]] == ["10003"]
    updated = http.put("/issue/STAFF-1/comment/10001", json={"body": adf("changed")})
    assert updated.status_code == 200 and updated.json()["body"] == adf("changed")
    person = jira.add_comment("STAFF-1", "written by a person")
    assert http.put(f"/issue/STAFF-1/comment/{person}", json={"body": adf("x")}).status_code == 403
    assert http.put("/issue/STAFF-1/comment/999", json={"body": adf("x")}).status_code == 404


def doc(*blocks: dict) -> dict:
    return {"type": "doc", "version": 1, "content": list(blocks)}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("plain text", "must be an ADF document"),
        (doc({"type": "paragraph", "content": [{"type": "text", "text": ""}]}), "non-empty text"),
        (doc({"type": "blink", "content": []}), "not allowed in doc"),
        (doc({"type": "paragraph", "content": [
            {"type": "text", "text": "x", "marks": [{"type": "link", "attrs": {"href": "javascript:x"}}]}]}),
         "link marks need attrs.href with a URL"),
        (doc({"type": "bulletList", "content": []}), "needs content"),
        (adf("x" * 40_000), "exceeds the allowed limit of 32,767 characters"),
    ],
)  # fmt: skip
def test_comment_bodies_that_jira_would_refuse_are_refused(
    http: httpx2.Client, body: object, problem: str
) -> None:
    response = http.post("/issue/STAFF-1/comment", json={"body": body})
    assert response.status_code == 400 and problem in response.json()["errors"]["comment"]


def test_issue_properties_are_stored_returned_with_the_issue_and_created_once(http: httpx2.Client) -> None:
    assert http.get("/issue/STAFF-1/properties/skillmatch.staffing").status_code == 404
    assert (
        http.put("/issue/STAFF-1/properties/skillmatch.staffing", json={"commentId": "1"}).status_code == 201
    )
    assert (
        http.put("/issue/STAFF-1/properties/skillmatch.staffing", json={"commentId": "2"}).status_code == 200
    )
    stored = http.get("/issue/STAFF-1/properties/skillmatch.staffing").json()
    assert stored == {"key": "skillmatch.staffing", "value": {"commentId": "2"}}
    issue = http.get(
        "/issue/STAFF-1", params={"fields": "summary,customfield_1", "properties": "skillmatch.staffing"}
    )
    assert issue.json()["fields"] == {"summary": "Java developer", "customfield_1": "2027-01-04"}
    assert issue.json()["properties"] == {"skillmatch.staffing": {"commentId": "2"}}
    search = http.post(
        "/search/jql", json={"jql": "key = STAFF-1", "fields": ["summary"], "properties": ["x"]}
    )
    assert search.json()["issues"][0]["properties"] == {}


def test_permissions_can_be_taken_away_per_issue(jira: FakeJira, http: httpx2.Client) -> None:
    jira.deny("STAFF-1", "comment", "edit")
    assert http.post("/issue/STAFF-1/comment", json={"body": adf("x")}).status_code == 403
    assert http.put("/issue/STAFF-1/properties/p", json=1).status_code == 403
    jira.deny("STAFF-2", "browse")
    assert http.get("/issue/STAFF-2").status_code == 404
    found = http.post("/search/jql", json={"jql": "project = STAFF", "fields": ["summary"]}).json()["issues"]
    assert [i["key"] for i in found] == ["STAFF-1"]


def test_jql_knows_projects_and_status_categories(http: httpx2.Client) -> None:
    def keys(jql: str) -> list[str] | int:
        response = http.post("/search/jql", json={"jql": jql, "fields": ["summary"]})
        return (
            [i["key"] for i in response.json()["issues"]]
            if response.status_code == 200
            else response.status_code
        )

    assert keys('project = "STAFF" AND (statusCategory != Done)') == ["STAFF-1"]
    assert keys("project = STAFF AND statusCategory = Done") == ["STAFF-2"]
    assert keys("project = NOPE") == 400
    assert keys("project in (STAFF, NOPE)") == 400


def test_held_comment_writes_wait_until_released(jira: FakeJira, http: httpx2.Client) -> None:
    gate = jira.hold_comment_writes()
    answers: list[int] = []
    writer = threading.Thread(
        target=lambda: answers.append(
            http.post("/issue/STAFF-1/comment", json={"body": adf("x")}).status_code
        )
    )
    writer.start()
    assert jira.write_waiting.wait(timeout=10)
    assert answers == [] and jira.comments_on("STAFF-1") == []
    gate.set()
    writer.join(timeout=10)
    assert answers == [201]
