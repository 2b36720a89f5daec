"""Bad input never raises: the model gets a short message that says what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.tools import ToolContext, run_tool
from tests.tools.checks import assert_error

WEEK = {"start": "2027-01-04", "end": "2027-01-08"}


@pytest.mark.parametrize(
    ("name", "arguments", "fragments"),
    [
        ("find_unicorns", {}, ["Unknown tool", "search_candidates", "check_availability"]),
        ("search_candidates", '{"query": "Java", ', ["not valid JSON"]),
        ("search_candidates", "[1, 2]", ["must be a JSON object"]),
        ("search_candidates", "", ["query", "Field required"]),
        ("search_candidates", {"query": "Java", "top": 500}, ["top", "less than or equal to 25", "500"]),
        ("search_candidates", {"query": "Java", "top": 0}, ["top", "greater than or equal to 1"]),
        ("search_candidates", {"query": "Java", "min_availability": 3}, ["min_availability"]),
        ("search_candidates", {"query": "Java", "language": "Klingon:Z9"}, ["language", "unknown language"]),
        ("search_candidates", {"query": "Java", "available_to": "2027-01-31"}, ["needs available_from"]),
        (
            "search_candidates",
            {"query": "Java", "available_from": "2027-02-01", "available_to": "2027-01-01"},
            ["before available_from"],
        ),
        ("search_candidates", {"query": "Java", "available_from": "next Monday"}, ["available_from", "date"]),
        (
            "search_candidates",
            {"query": "Java", "sort": "name"},
            ["sort", "Extra inputs", "Arguments: query"],
        ),
        ("get_person_profile", {}, ["person", "Field required"]),
        ("get_person_profile", {"person": 9999}, ["No person with id 9999"]),
        (
            "get_person_profile",
            {"person": "Anna Schmit"},
            ["Nobody named", "Did you mean Anna Schmidt (id 4)"],
        ),
        (
            "get_person_profile",
            {"person": "Mar"},
            ["ambiguous", "Marco Rossi (id 39)", "Markus Klein (id 12)"],
        ),
        ("get_person_profile", {"person": "   "}, ["empty person name"]),
        ("get_jira_history", {"person": "Anna Schmidt", "limit": 1000}, ["limit"]),
        ("get_jira_history", {"person": "Nobody Here"}, ["Nobody named"]),
        ("check_availability", {"people": [], **WEEK}, ["people", "at least 1"]),
        ("check_availability", {"people": [2], "start": "2027-03-01", "end": "2027-01-01"}, ["before start"]),
        ("check_availability", {"people": [2], "start": "2027-01-01", "end": "2030-01-01"}, ["two years"]),
        ("check_availability", {"people": ["Nobody Here", 9999], **WEEK}, ["Nobody named", "9999"]),
        ("check_availability", {"people": [2]}, ["start", "end", "Field required"]),
    ],
)
def test_bad_input_becomes_an_error_result(
    sample: ToolContext, name: str, arguments: str | dict[str, Any], fragments: list[str]
) -> None:
    result = run_tool(name, arguments, sample)
    assert_error(result, *fragments)
    assert result.name == name


def test_ambiguous_names_list_the_candidates(namesakes: ToolContext) -> None:
    result = run_tool("get_jira_history", {"person": "Anna"}, namesakes)
    assert_error(result, "ambiguous", "Anna Schmidt (id 1)", "Anna Weber (id 2)", "person_id")


def test_string_and_dict_arguments_run_the_same(sample: ToolContext) -> None:
    as_text = run_tool("get_jira_history", '{"person": "Anna Schmidt", "limit": 3}', sample)
    as_dict = run_tool("get_jira_history", {"person": "Anna Schmidt", "limit": 3}, sample)
    assert as_text.error is None and as_text.content == as_dict.content
    assert as_text.arguments == as_dict.arguments == {"person": "Anna Schmidt", "since": None, "limit": 3}


def test_a_failing_data_source_is_an_error_result_not_an_exception(sample: ToolContext) -> None:
    class Broken:
        def search(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("index unavailable")

    broken = ToolContext(sample.sessions, Broken(), sample.today)  # type: ignore[arg-type]
    result = run_tool("search_candidates", {"query": "Java"}, broken)
    assert_error(result, "search_candidates failed", "RuntimeError")
    assert result.arguments["query"] == "Java"
