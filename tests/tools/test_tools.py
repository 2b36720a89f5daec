"""Each tool on the bundled sample data: the right records, in the right order, flat and uniform."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.tools import ToolContext, run_tool, status_text
from skillmatch.search import SearchFilters
from tests.tools.checks import assert_error, assert_ok

CANDIDATE_KEYS = [
    "name",
    "person_id",
    "title",
    "location",
    "seniority",
    "years",
    "languages",
    "score",
    "skills",
    "availability",
    "evidence",
    "source",
]


# --- search_candidates -----------------------------------------------------------------------------


def test_search_keeps_the_searchers_rank_order(sample: ToolContext) -> None:
    query = "Who could lead a Kubernetes migration for a bank?"
    result = run_tool("search_candidates", {"query": query, "top": 6}, sample)
    assert_ok(result, "candidates")
    expected = [r for r in sample.searcher.search(query, top=30) if r.good_match][:6]  # good matches only
    assert [r["person_id"] for r in result.records] == [r.person_id for r in expected]
    assert list(result.records[0]) == CANDIDATE_KEYS
    scores = [r["score"] for r in result.records]
    assert scores == sorted(scores, reverse=True)
    anna = next(r for r in result.records if r["name"] == "Anna Schmidt")
    assert anna["source"] == "anna-schmidt.md"
    assert anna["languages"].split()[0] in {"de-C2", "en-C2"} and "fr-B1" in anna["languages"]
    assert "kubernetes" in anna["skills"].split("; ")
    assert anna["availability"] is None  # no period asked for
    assert 0 < len(anna["evidence"]) <= 200
    assert result.status_text == status_text("search_candidates") == "Searching CVs…"
    assert result.arguments == {
        "query": query,
        "top": 6,
        "location": None,
        "language": None,
        "available_from": None,
        "available_to": None,
        "min_availability": 0.5,
        "exclude_people": None,
    }


def test_search_filters_are_normalised_and_applied(sample: ToolContext) -> None:
    result = run_tool(
        "search_candidates",
        {
            "query": "Python developer for a data project",
            "location": "München",
            "language": "German:c1",
            "available_from": "2027-01-04",
            "available_to": "2027-01-29",
        },
        sample,
    )
    payload = assert_ok(result, "candidates")
    assert result.arguments["location"] == ["Munich"]
    assert result.arguments["language"] == "de:C1"
    assert result.arguments["available_from"] == "2027-01-04"
    for record in result.records:
        assert record["location"] == "Munich"
        assert record["availability"] >= 0.5
        levels = dict(pair.split("-") for pair in record["languages"].split())
        assert levels["de"] in {"C1", "C2"}
    # The one good match in Munich is booked then: the answer says so instead of listing a poor fit.
    assert result.records == []
    assert "Hannah Keller (0% free from 2027-01-04 to 2027-01-29, 50% needed)" in payload["note"]


def test_search_language_without_level_means_b2(sample: ToolContext) -> None:
    result = run_tool("search_candidates", {"query": "cloud engineer", "language": "de", "top": 25}, sample)
    assert_ok(result, "candidates")
    assert result.arguments["language"] == "de:B2"
    ranked = sample.searcher.search("cloud engineer", top=30, filters=SearchFilters(language=("de", "B2")))
    expected = [r for r in ranked if r.good_match][:25]
    assert [r["person_id"] for r in result.records] == [r.person_id for r in expected]


def test_search_excludes_people(sample: ToolContext) -> None:
    first = run_tool("search_candidates", {"query": "Kubernetes", "top": 3}, sample)
    shown = [r["person_id"] for r in first.records]
    again = run_tool("search_candidates", {"query": "Kubernetes", "top": 3, "exclude_people": shown}, sample)
    assert_ok(again, "candidates")
    assert again.records and not set(shown) & {r["person_id"] for r in again.records}


def test_search_without_matches_tells_the_model_which_filter_to_relax(sample: ToolContext) -> None:
    result = run_tool("search_candidates", {"query": "Kubernetes", "location": ["Atlantis"]}, sample)
    payload = assert_ok(result, "candidates")
    assert result.records == []
    assert "Nobody matches well" in payload["note"] and "Daniel Koch (based in Munich)" in payload["note"]
    assert "Relax the location filter" in payload["note"]


# --- get_person_profile ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    ["Jürgen Hartmann", "Juergen Hartmann", "Jurgen Hartmann", "jürgen  hartmann", 10, "10", "Hartmann"],
)
def test_profile_by_id_or_forgiving_name(sample: ToolContext, ref: str | int) -> None:
    result = run_tool("get_person_profile", {"person": ref}, sample)
    assert_ok(result, "profile")
    (record,) = result.records
    assert record["person_id"] == 10 and record["name"] == "Jürgen Hartmann"  # ids follow file names


def test_profile_content(sample: ToolContext) -> None:
    result = run_tool("get_person_profile", {"person": "Lena Hofmann"}, sample)  # CV says "Dr. Lena Hofmann"
    assert_ok(result, "profile")
    (record,) = result.records
    assert list(record) == [
        "person_id",
        "name",
        "title",
        "location",
        "seniority",
        "years",
        "languages",
        "skills",
        "no_experience",
        "roles",
        "projects",
        "source",
        "cv_url",
    ]
    assert record["name"] == "Dr. Lena Hofmann" and record["location"] == "Munich"
    assert {"python", "machine learning", "azure"} <= set(record["skills"].split("; "))
    assert record["no_experience"] == "aws"  # "I have not worked with AWS"
    assert record["source"] == "lena-hofmann.md"
    projects = record["projects"].split("; ")
    assert len(projects) == 5 and "present" in projects[0]  # most recent first
    assert any(p.startswith("Insurance group (01/2025") for p in projects)
    assert "email" not in record and "phone" not in record


def test_profile_of_a_person_without_cv(sample: ToolContext) -> None:
    result = run_tool("get_person_profile", {"person": "Birgit Sommer"}, sample)  # MOCO user, no CV
    payload = assert_ok(result, "profile")
    (record,) = result.records
    assert record["skills"] == "" and record["source"] is None
    assert "No CV" in payload["note"]


# --- get_jira_history ------------------------------------------------------------------------------


def test_jira_history_most_recent_first(sample: ToolContext) -> None:
    result = run_tool("get_jira_history", {"person": "Anna Schmidt"}, sample)
    payload = assert_ok(result, "issues")
    assert payload["person"] == "Anna Schmidt" and payload["person_id"] == 4
    assert list(result.records[0]) == [
        "key",
        "summary",
        "type",
        "status",
        "project",
        "updated",
        "resolved",
        "labels",
    ]
    updated = [r["updated"] for r in result.records]
    assert updated == sorted(updated, reverse=True)
    assert all(date.fromisoformat(u) for u in updated)
    assert all(r["key"].startswith(f"{r['project']}-") for r in result.records)
    assert any("kubernetes" in r["labels"].split("; ") for r in result.records)
    done = [r for r in result.records if r["status"] == "Done"]
    assert done and all(date.fromisoformat(r["resolved"]) for r in done)


def test_jira_history_since_and_limit(sample: ToolContext) -> None:
    everything = run_tool("get_jira_history", {"person": 4, "limit": 100}, sample).records
    recent = run_tool("get_jira_history", {"person": 4, "since": "2025-01-01"}, sample)
    assert_ok(recent, "issues")
    assert recent.records == [r for r in everything if r["updated"] >= "2025-01-01"]
    limited = run_tool("get_jira_history", {"person": 4, "limit": 2}, sample)
    payload = assert_ok(limited, "issues")
    assert limited.records == everything[:2]
    assert f"2 most recent of {len(everything)}" in payload["note"]


def test_jira_history_of_someone_without_tickets(sample: ToolContext) -> None:
    result = run_tool("get_jira_history", {"person": "Markus Klein"}, sample)  # Scrum Master: no tickets
    payload = assert_ok(result, "issues")
    assert result.records == [] and "no Jira" in payload["note"]


# --- check_availability ----------------------------------------------------------------------------


def test_availability_per_person_with_bookings(sample: ToolContext) -> None:
    result = run_tool(
        "check_availability",
        {"people": ["Felix Wagner", 4, "Hannah Keller"], "start": "2027-01-04", "end": "2027-01-29"},
        sample,
    )
    payload = assert_ok(result, "availability")
    assert payload["period"] == "2027-01-04 to 2027-01-29"
    felix, anna, hannah = result.records
    assert list(felix) == [
        "person_id",
        "name",
        "share_free",
        "free_hours",
        "capacity_hours",
        "allocated_hours",
        "absent_days",
        "projects",
    ]
    assert felix["name"] == "Felix Wagner" and felix["share_free"] == 1 and felix["projects"] == ""
    assert anna["name"] == "Anna Schmidt" and anna["share_free"] == 0
    assert "Core Banking Modernisation" in anna["projects"]
    assert hannah["capacity_hours"] == felix["capacity_hours"] / 2  # part-time, 20 h a week
    assert hannah["share_free"] == 0
    assert "note" not in payload


def test_availability_reports_unknown_people_instead_of_dropping_them(sample: ToolContext) -> None:
    result = run_tool(
        "check_availability",
        {"people": ["Felix Wagner", "Nobody Here"], "start": "2027-01-04", "end": "2027-01-29"},
        sample,
    )
    payload = assert_ok(result, "availability")
    assert [r["name"] for r in result.records] == ["Felix Wagner", "Nobody Here"]
    assert result.records[1]["share_free"] is None and result.records[1]["person_id"] is None
    assert "Nobody Here" in payload["note"]


def test_availability_of_people_unknown_to_the_erp(namesakes: ToolContext) -> None:
    result = run_tool(
        "check_availability",
        {"people": ["Anna Weber"], "start": "2027-01-04", "end": "2027-01-08"},
        namesakes,
    )
    payload = assert_ok(result, "availability")
    (record,) = result.records
    assert record["name"] == "Anna Weber" and record["person_id"] is not None
    assert record["share_free"] is None and record["free_hours"] is None
    assert "Not in the ERP" in payload["note"] and "Anna Weber" in payload["note"]


def test_availability_of_tentative_bookings(sample: ToolContext) -> None:
    result = run_tool(
        "check_availability", {"people": ["David Müller"], "start": "2027-01-04", "end": "2027-03-31"}, sample
    )
    assert_ok(result, "availability")
    assert "(tentative)" in result.records[0]["projects"]


def test_availability_on_a_weekend_only(sample: ToolContext) -> None:
    result = run_tool(
        "check_availability", {"people": [2], "start": "2027-01-09", "end": "2027-01-10"}, sample
    )
    assert_error(result, "no working days")


def test_names_with_special_letters(namesakes: ToolContext) -> None:
    for ref in ("Joerg Weiss", "Jorg Weis", "jörg weiß"):
        result = run_tool("get_person_profile", {"person": ref}, namesakes)
        assert_ok(result, "profile")
        assert result.records[0]["name"] == "Jörg Weiß"


def test_a_period_in_the_past_is_pointed_out(sample: ToolContext) -> None:
    """A model that reads "January" as this year's January gets told, and can correct itself."""
    availability = run_tool(
        "check_availability", {"people": [2], "start": "2026-01-05", "end": "2026-01-30"}, sample
    )
    assert "in the past (today is 2026-11-27)" in assert_ok(availability, "availability")["note"]
    search = run_tool(
        "search_candidates",
        {"query": "Java developer", "available_from": "2026-01-05", "available_to": "2026-01-30"},
        sample,
    )
    assert "in the past (today is 2026-11-27)" in assert_ok(search, "candidates")["note"]
