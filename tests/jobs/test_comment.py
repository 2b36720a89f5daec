"""The comment in ADF: valid for Jira whatever the CVs and tickets contain, saying what was understood,
who fits with evidence, availability and CV links, that it was generated and how to give feedback; its
hash moves exactly when its content does."""

from __future__ import annotations

from datetime import date

from assistant.jobs.comment import MARKER, is_ours, render_missing, render_suggestions
from assistant.jobs.constraints import Constraints
from assistant.jobs.requests import TicketRequest
from assistant.jobs.shortlist import Candidate, Shortlist, how_many
from tests.fakes.jira import BOT_ACCOUNT_ID, adf_problem

REQUEST = TicketRequest("STAFF-1", "Java developer", "", {}, "Open", "https://jira.example/browse/STAFF-1")
PERIOD = (date(2027, 1, 4), date(2027, 3, 26))
HINT = "reply here or tell #staffing"


def understood(**values: object) -> Constraints:
    base: dict[str, object] = {"usable": True, "role": "Java developer", "skills": ["java", "kafka"]}
    return Constraints.model_validate(base | values | {"start": PERIOD[0], "end": PERIOD[1]})


def candidate(name: str, **values: object) -> Candidate:
    base: dict[str, object] = {
        "person_id": 1,
        "name": name,
        "title": "Backend Engineer",
        "location": "Munich",
        "seniority": "senior",
        "languages": "de-C2 en-C1",
        "skills": ["java"],
        "evidence": "Built the claims portal in Java.",
        "cv_name": f"{name.lower().replace(' ', '-')}.md",
        "cv_url": None,
        "free_share": 0.8,
    }
    return Candidate(**(base | values))  # type: ignore[arg-type]


def shortlist(*people: Candidate, available_only: bool = False) -> Shortlist:
    return Shortlist(list(people), PERIOD, available_only, 0.5)


def test_the_comment_says_what_was_understood_who_fits_and_how_to_give_feedback() -> None:
    rendered = render_suggestions(
        REQUEST,
        understood(seniority="senior", locations=["Munich"], language="de:C1", headcount=2),
        shortlist(
            candidate("Anna Berger", cv_url="https://contoso.sharepoint.com/cvs/anna.docx"),
            candidate("Jörg Weiß", free_share=None, evidence=None, skills=[]),
        ),
        feedback_hint=HINT,
    )
    assert adf_problem(rendered.body) is None
    text = rendered.text
    assert "Understood: Java developer; skills java, kafka; senior; in Munich; German (C1); " in text
    assert "2027-01-04 to 2027-03-26; 2 people" in text
    assert "Anna Berger — Backend Engineer · Munich · senior · de-C2 en-C1 · 80 % free" in text
    assert "“Built the claims portal in Java.”  Matching: java  CV: anna-berger.md" in text
    assert (
        "Jörg Weiß — Backend Engineer · Munich · senior · de-C2 en-C1 · availability unknown (not in MOCO)"
        in text
    )
    assert "Generated automatically by SkillMatch" in text and f"Feedback: {HINT}." in text and MARKER in text
    links = [
        mark["attrs"]["href"]
        for node in _walk(rendered.body)
        for mark in node.get("marks", [])
        if mark["type"] == "link"
    ]
    assert links == ["https://contoso.sharepoint.com/cvs/anna.docx"]  # file paths are no links


def test_whatever_cvs_contain_the_comment_stays_valid_adf() -> None:
    hostile = candidate(
        "Zoë \x07O'Brien-Müller",
        title="",
        evidence="C# & .NET <script>alert(1)</script> \u0000 “quotes” 😄 " + "x" * 300,
        cv_name="cv\x1b[31m.pdf",
        cv_url="javascript:alert(1)",
        skills=["c#", ".net"],
    )
    rendered = render_suggestions(REQUEST, understood(), shortlist(*[hostile] * 20), feedback_hint=HINT)
    assert adf_problem(rendered.body) is None
    assert "\x07" not in rendered.text and "\x1b" not in rendered.text
    assert "javascript:" not in str(rendered.body)


def test_nobody_matching_and_no_period_are_said_plainly() -> None:
    nobody = render_suggestions(REQUEST, understood(), shortlist(available_only=True), feedback_hint=HINT)
    assert "Nobody matched this request: nobody is free enough in the period" in nobody.text
    assert "only people with at least 50 % free are listed" in nobody.text
    no_period = Shortlist([candidate("Anna Berger")], None, False, 0.5)
    rendered = render_suggestions(
        REQUEST, understood().model_copy(update={"start": None, "end": None}), no_period, feedback_hint=HINT
    )
    assert "The ticket names no period, so availability was not checked" in rendered.text
    assert "% free" not in rendered.text
    assert adf_problem(nobody.body) is None and adf_problem(rendered.body) is None


def test_the_hash_moves_exactly_when_the_content_does() -> None:
    def render(share: float) -> str:
        return render_suggestions(
            REQUEST, understood(), shortlist(candidate("Anna Berger", free_share=share)), feedback_hint=HINT
        ).hash

    assert render(0.8) == render(0.8)
    assert render(0.8) != render(0.6)
    assert render(0.801) == render(0.8)  # shown as the same whole percent: nothing new to say


def test_a_request_without_details_gets_a_comment_asking_for_them() -> None:
    c = Constraints(usable=False, missing=["role or skills", "period"], locations=["Munich"])
    rendered = render_missing(REQUEST, c, feedback_hint=HINT)
    assert adf_problem(rendered.body) is None and rendered.kind == "missing_details"
    assert (
        "the role or the skills needed" in rendered.text and "the period: start and end date" in rendered.text
    )
    assert "Understood so far: in Munich" in rendered.text


def test_our_comment_is_recognised_by_author_and_marker() -> None:
    body = render_missing(REQUEST, Constraints(usable=False), feedback_hint=HINT).body
    assert is_ours({"author": {"accountId": BOT_ACCOUNT_ID}, "body": body}, BOT_ACCOUNT_ID)
    assert not is_ours({"author": {"accountId": "someone"}, "body": body}, BOT_ACCOUNT_ID)
    assert not is_ours({"author": {"accountId": BOT_ACCOUNT_ID}, "body": {"type": "doc"}}, BOT_ACCOUNT_ID)


def test_several_people_wanted_show_more_candidates() -> None:
    assert how_many(understood(), 5) == 5
    assert how_many(understood(headcount=4), 5) == 8
    assert how_many(understood(headcount=50), 5) == 20


def _walk(node: object) -> list[dict]:
    found: list[dict] = []
    if isinstance(node, dict):
        found.append(node)
        for child in node.get("content", []):
            found += _walk(child)
    return found
