"""Reading a ticket: keys in free text, the request from the issue (ADF, custom fields), the rule-based
reading (English and German), the ticket's fields winning, and the model's answer validated or refused."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.jobs.constraints import InvalidAnswer, from_answer, parse_answer, parse_constraints
from assistant.jobs.requests import TicketRequest, field_text, request_from_issue, ticket_keys
from tests.fakes.jira import jira_issue
from tests.jobs.conftest import model_reading

TODAY = date(2026, 11, 27)


def request(summary: str, description: str = "", **fields: str) -> TicketRequest:
    return TicketRequest(
        "STAFF-1", summary, description, fields, "Open", "https://jira.example/browse/STAFF-1"
    )


def test_ticket_keys_are_found_in_free_text_once_each_in_order() -> None:
    text = "Can you staff STAFF-12 (see also OPS-7, STAFF-12)? Not ISO 9001, not staff-3, not X-1, not AB-0."
    assert ticket_keys(text) == ["STAFF-12", "OPS-7"]
    assert ticket_keys(text, projects=["staff"]) == ["STAFF-12"]
    assert ticket_keys("") == []


def test_the_request_is_summary_description_and_the_configured_fields() -> None:
    def cell(text: str, kind: str = "tableCell") -> dict:
        return {"type": kind, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}

    inline = [
        {"type": "text", "text": "Fragen an "},
        {"type": "mention", "attrs": {"id": "a1", "text": "@Jörg Weiß"}},
        {"type": "text", "text": " "},
        {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
        {"type": "text", "text": " Status: "},
        {"type": "status", "attrs": {"text": "OFFEN", "color": "blue"}},
    ]
    description = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Java für die Schadenplattform 🚀"}]},
            {
                "type": "table",
                "content": [
                    {
                        "type": "tableRow",
                        "content": [cell("Rolle", "tableHeader"), cell("Anzahl", "tableHeader")],
                    },
                    {"type": "tableRow", "content": [cell("Entwickler (Kotlin)"), cell("2")]},
                ],
            },
            {"type": "paragraph", "content": inline},
        ],
    }
    issue = jira_issue(
        "STAFF-1",
        "  Kotlin-Entwickler   gesucht ",
        description=description,
        status="Open",
        extra_fields={
            "customfield_1": "2027-02-01",
            "customfield_2": {"value": "München", "id": "100"},
            "customfield_3": [{"value": "Deutsch"}, {"value": "Englisch"}],
            "customfield_4": 2.0,
            "customfield_5": None,
        },
    )
    fields = {"start": "customfield_1", "location": "customfield_2", "language": "customfield_3"}
    fields |= {"headcount": "customfield_4", "end": "customfield_5"}
    result = request_from_issue(issue, fields, "https://jira.example/browse/STAFF-1")
    assert result.summary == "Kotlin-Entwickler gesucht"
    assert result.description.splitlines() == [
        "Java für die Schadenplattform 🚀",
        "",
        "Rolle | Anzahl",
        "Entwickler (Kotlin) | 2",
        "",
        "Fragen an @Jörg Weiß 😄 Status: [OFFEN]",
    ]
    assert result.fields == {
        "start": "2027-02-01",
        "location": "München",
        "language": "Deutsch, Englisch",
        "headcount": "2",
    }
    assert result.status == "Open"
    assert "Start: 2027-02-01" in result.text() and "Headcount: 2" in result.text()


def test_field_values_of_every_common_shape_become_text() -> None:
    assert field_text({"value": "Cloud", "child": {"value": "Azure"}}) == "Cloud / Azure"
    assert field_text({"displayName": "Petra Planer"}) == "Petra Planer"
    assert field_text([{"name": "v1"}, {"name": "v2"}]) == "v1, v2"
    assert field_text(3.5) == "3.5" and field_text(True) == "yes" and field_text({}) == ""


def test_the_input_hash_changes_with_the_request_and_the_reader_only() -> None:
    a = request("Java developer", "Kafka")
    assert a.input_hash("model") == request("Java developer", "Kafka").input_hash("model")
    assert a.input_hash("model") != a.input_hash("parser")
    assert a.input_hash("model") != request("Java developer", "Kafka", start="2027-01-04").input_hash("model")


def test_the_parser_reads_english_requests_with_dates_duration_and_headcount() -> None:
    c = parse_constraints(
        request(
            "We need 2 senior Java developers",
            "Spring Boot and Kafka, in Munich, from 2027-01-04 for 3 months.",
        ),
        TODAY,
    )
    assert c.usable and c.extractor == "parser"
    assert c.role == "senior Java developers" and {"java", "kafka", "spring"} <= set(c.skills)
    assert (c.seniority, c.locations, c.headcount) == ("senior", ["Munich"], 2)
    assert (c.start, c.end) == (date(2027, 1, 4), date(2027, 4, 3))
    assert c.missing == []


def test_the_parser_reads_german_requests_and_relative_months() -> None:
    c = parse_constraints(
        request(
            "Scrum Masterin gesucht",
            "Erfahrene Scrum Masterin ab März für 6 Monate, verhandlungssicheres Deutsch.",
        ),
        TODAY,
    )
    assert c.role == "Scrum Masterin" and "scrum" in c.skills and c.seniority == "senior"
    assert (c.start, c.end, c.language) == (date(2027, 3, 1), date(2027, 8, 31), "de:C1")
    dotted = parse_constraints(request("Tester", "Vom 01.02.2027 bis 30.04.2027 in Köln."), TODAY)
    assert (dotted.start, dotted.end, dotted.locations) == (date(2027, 2, 1), date(2027, 4, 30), ["Cologne"])


def test_the_tickets_fields_win_over_its_words_and_contradictions_are_dropped() -> None:
    c = parse_constraints(
        request(
            "Java developer in Berlin from 2027-01-04",
            "",
            start="2027-02-01",
            end="2027-01-15",
            location="München",
            language="Englisch (C1)",
            headcount="3",
        ),
        TODAY,
    )
    assert (c.start, c.end) == (date(2027, 2, 1), None)  # an end before the start is no period
    assert c.period() == (date(2027, 2, 1), date(2027, 2, 28))  # four weeks are checked instead
    assert (c.locations, c.language, c.headcount) == (["Munich"], "en:C1", 3)
    assert "fluent English-speaking" in c.query


@pytest.mark.parametrize(
    ("summary", "description", "missing"),
    [
        ("", "", ["summary", "description"]),
        ("Budget meeting notes", "Please review the budget before Friday.", ["role or skills", "period"]),
        ("   ", "🙂", ["role or skills", "period"]),
    ],
)
def test_a_ticket_without_role_or_skills_is_not_usable(
    summary: str, description: str, missing: list[str]
) -> None:
    c = parse_constraints(request(summary, description), TODAY)
    assert not c.usable and c.missing == missing


def test_a_valid_model_answer_becomes_the_constraints() -> None:
    answer = parse_answer(
        "```json\n"
        + model_reading(
            role="Data engineer", skills=["spark", " airflow "], domain="retail", seniority="Senior",
            locations=["münchen"], language="German:C1", start="2027-01-04", end="2027-03-26", headcount=2,
            unexpected="ignored",
        )
        + "\n```"
    )  # fmt: skip
    c = from_answer(answer, request("Data engineer wanted"), TODAY)
    assert c.extractor == "model" and c.usable
    assert (c.role, c.skills, c.seniority, c.locations, c.language) == (
        "Data engineer",
        ["spark", "airflow"],
        "senior",
        ["Munich"],
        "de:C1",
    )
    assert c.query == "senior Data engineer spark, airflow (retail) in Munich fluent German-speaking"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Sure, here you go: role is Java developer", "not JSON"),
        ('["java"]', "a JSON list, not an object"),
        (model_reading(skills="java"), "skills: Input should be a valid list"),
        (model_reading(seniority="rockstar"), "seniority: Input should be"),
        (model_reading(start="2027-03-01", end="2027-01-01"), "end 2027-01-01 is before start 2027-03-01"),
        (model_reading(language="Klingon"), "not a language"),
        (model_reading(headcount=500), "headcount"),
        (model_reading(start="next spring"), "start"),
        ("", "not JSON"),
        (None, "not JSON"),
    ],
)
def test_a_model_answer_that_is_not_what_was_asked_for_is_refused(content: str | None, problem: str) -> None:
    with pytest.raises(InvalidAnswer, match=problem):
        parse_answer(content)


def test_a_model_that_says_usable_but_names_neither_role_nor_skills_gets_no_guess() -> None:
    c = from_answer(parse_answer(model_reading(usable=True)), request("Please help"), TODAY)
    assert not c.usable and c.missing[0] == "role or skills"
