"""TOON for the model: tables that decode to the same payload, fewer tokens than JSON, no contact data."""

from __future__ import annotations

import json
import re

import pytest
import toon_format
from sqlalchemy import select

from assistant.tools import ToolContext, ToolResult, run_tool
from skillmatch.models import Person
from skillmatch.search import Searcher
from tests.tools.checks import assert_ok

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+\d{1,3}[\s\d()/-]{6,}\d|\b5550[\s-]?\d{4}\b|\b0\d{2,4}[\s/-]\d{3,}")


def every_ranked(context: ToolContext) -> ToolContext:
    """The same sample with no good-match threshold: every ranked person is listed (encoding tests)."""
    searcher = Searcher(context.sessions, context.searcher.embedder, today=context.today, good_match=0.0)
    return ToolContext(context.sessions, searcher, context.today)


def test_search_results_are_one_toon_table(sample: ToolContext) -> None:
    result = run_tool("search_candidates", {"query": "backend developer", "top": 12}, every_ranked(sample))
    assert_ok(result, "candidates")
    lines = result.content.splitlines()
    assert len(result.records) == 12 and len(lines) == 13  # one header line, one row per candidate
    assert lines[0] == "candidates[12]{" + ",".join(result.records[0]) + "}:"
    assert all(line.startswith("  ") and not line.startswith("   ") for line in lines[1:])
    assert toon_format.loads(result.content) == {"candidates": result.records}


@pytest.mark.parametrize("top", [10, 25])
def test_toon_costs_fewer_tokens_than_compact_json(sample: ToolContext, top: int) -> None:
    query = {"query": "cloud architect with Terraform", "top": top}
    result = run_tool("search_candidates", query, every_ranked(sample))
    assert_ok(result, "candidates")
    assert len(result.records) >= 10
    assert result.tokens_toon < 0.8 * result.tokens_json


def test_errors_count_tokens_too(sample: ToolContext) -> None:
    result = run_tool("search_candidates", {"query": "Java", "top": 500}, sample)
    assert result.tokens_toon > 0 and result.tokens_json > result.tokens_toon


def all_outputs(context: ToolContext) -> list[ToolResult]:
    """Every tool on every person of the sample, and a spread of searches."""
    with context.sessions() as session:
        ids = list(session.scalars(select(Person.id)))
    results = [run_tool("get_person_profile", {"person": pid}, context) for pid in ids]
    results += [run_tool("get_jira_history", {"person": pid, "limit": 100}, context) for pid in ids]
    for start in range(0, len(ids), 20):  # the tool takes 20 people at a time
        period = {"start": "2026-06-01", "end": "2027-06-30"}
        results.append(run_tool("check_availability", {"people": ids[start : start + 20], **period}, context))
    for query in ("Kubernetes", "Kontakt E-Mail Telefon", "Scrum Master", "SAP", "phone email contact"):
        results.append(run_tool("search_candidates", {"query": query, "top": 25}, context))
    return results


def test_no_email_addresses_or_phone_numbers_in_any_output(sample: ToolContext) -> None:
    results = all_outputs(sample)
    assert len(results) > 70 and all(r.error is None for r in results)
    for result in results:
        text = result.content + json.dumps(result.records, ensure_ascii=False)
        assert not EMAIL.search(text), (result.name, EMAIL.search(text))
        assert not PHONE.search(text), (result.name, PHONE.search(text))


def test_the_detectors_would_catch_the_sample_contact_data() -> None:
    assert EMAIL.search("anna.schmidt@example-consulting.com")
    assert PHONE.search("Phone: +43 1 5550 4471") and PHONE.search("Tel. 0221 5550 3349")
    assert not PHONE.search("2019 - 2022, 04/2014 – heute, 2026-11-27, 0.143")
