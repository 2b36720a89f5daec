"""The LLM matcher: the model's graded ranking decides order and good matches; an invalid answer or an
outage leaves the hybrid order, says why, and is on the ledger."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.matching import LLMMatcher
from assistant.matching.llm import parse_ranking
from assistant.telemetry import Telemetry
from skillmatch.matches import find_matches
from skillmatch.models import LlmCall
from skillmatch.search import Searcher
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI
from tests.matching.conftest import candidate_ids, ranking, reverse_ranking

QUERY = "Senior cloud engineer for a Kubernetes migration"


def ledger(sessions: sessionmaker[Session]) -> list[LlmCall]:
    with sessions() as session:
        return list(session.scalars(select(LlmCall).order_by(LlmCall.id)))


def test_the_models_ranking_orders_the_candidates_and_its_grades_decide_who_is_good(
    searcher: Searcher, matcher: LLMMatcher, model: FakeOpenAI, sessions: sessionmaker[Session]
) -> None:
    hybrid = searcher.search(QUERY, top=5)
    model.responder = reverse_ranking
    judged = matcher.judge(QUERY, hybrid)
    assert judged.fallback is None
    assert [r.name for r in judged.results] == [r.name for r in hybrid][::-1]
    first, second = judged.results[0], judged.results[1]
    assert judged.grades[first.person_id] == 3 and judged.is_good(first)
    assert judged.grades[second.person_id] == 1 and not judged.is_good(second)
    assert judged.reasons[first.person_id].startswith("reason for")
    [row] = ledger(sessions)
    assert (row.status, row.session_id, row.provider) == ("ok", "test", "openai")
    assert row.tokens_in and row.tokens_out and judged.tokens_in == row.tokens_in


def test_find_matches_lists_only_those_the_model_grades_good_with_their_reasons(
    searcher: Searcher, matcher: LLMMatcher, model: FakeOpenAI
) -> None:
    model.responder = lambda body: ranking(
        *[(i, 2 if i == 2 else 0, "fits" if i == 2 else "no") for i in candidate_ids(body)]
    )
    hybrid = searcher.search(QUERY, top=matcher.candidates)
    matches = find_matches(searcher, QUERY, top=5, matcher=matcher)
    assert [r.name for r in matches.good] == [hybrid[1].name]
    assert matches.good[0].reason == "fits"
    assert matches.matcher == "llm" and matches.fallback is None


def test_the_model_reads_a_toon_table_of_evidence_without_contact_details(
    searcher: Searcher, matcher: LLMMatcher, model: FakeOpenAI
) -> None:
    model.responder = reverse_ranking
    hybrid = searcher.search(QUERY, top=3)
    assert len(hybrid) == 3
    matcher.judge(QUERY + " (call me: anna@example.com)", hybrid)
    body = json.loads(model.chat_requests()[-1].body)
    prompt = body["messages"][-1]["content"]
    assert "candidates[3]{id,title,location,seniority,years,languages,skills,evidence}:" in prompt
    assert candidate_ids(body) == [1, 2, 3]
    assert "anna@example.com" not in prompt
    assert body["temperature"] == 0


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("Anna is the best fit.", "not a valid ranking"),
        (ranking((1, 3, "ok"), (9, 2, "who?")), "unknown candidate id 9"),
        (ranking((1, 3, "ok"), (1, 2, "again")), "ranked twice"),
        (ranking((1, 7, "great")), "grade"),
        (json.dumps({"ranking": []}), "the ranking is empty"),
    ],
)
def test_an_answer_that_is_no_valid_ranking_leaves_the_hybrid_order_and_says_why(
    searcher: Searcher, matcher: LLMMatcher, model: FakeOpenAI, answer: str, why: str
) -> None:
    hybrid = searcher.search(QUERY, top=3)
    model.enqueue_reply(content=answer)
    judged = matcher.judge(QUERY, hybrid)
    assert [r.name for r in judged.results] == [r.name for r in hybrid]
    assert judged.fallback is not None and why in judged.fallback
    assert judged.grades == {} and judged.tokens_in > 0  # the call happened and cost tokens


def test_an_outage_leaves_the_hybrid_order_and_writes_a_failed_ledger_row(
    searcher: Searcher, matcher: LLMMatcher, model: FakeOpenAI, sessions: sessionmaker[Session]
) -> None:
    hybrid = searcher.search(QUERY, top=3)
    model.fail_next(500, times=5)
    matches = find_matches(searcher, QUERY, top=3, matcher=matcher)
    assert matches.fallback is not None and "unavailable" in matches.fallback
    assert "could not rank this" in (matches.note() or "")
    assert [r.name for r in matches.good] == [r.name for r in hybrid if r.good_match]
    [row] = ledger(sessions)
    assert row.status == "failed" and row.tokens_in is None


def test_a_fenced_json_answer_is_accepted() -> None:
    parsed = parse_ranking("```json\n" + ranking((2, 3, "a"), (1, 0, "b")) + "\n```", 2)
    assert [v.id for v in parsed.ranking] == [2, 1]


def test_a_fallback_is_an_event_in_langfuse(
    searcher: Searcher,
    settings: AssistantSettings,
    sessions: sessionmaker[Session],
    model: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANGFUSE_TRACING_ENABLED")  # the SDK reads it over the client's own setting
    with FakeLangfuse() as fake, isolated_langfuse(fake, tracing_enabled=True) as client:
        matcher = LLMMatcher(settings, telemetry=Telemetry(settings, sessions, client=client))
        model.enqueue_reply(content="no JSON here")
        judged = matcher.judge(QUERY, searcher.search(QUERY, top=3))
        matcher.close()
        client.flush()
        [event] = fake.wait_for_spans(1) and fake.spans_named("matcher.llm.fallback")
    assert judged.fallback is not None
    assert event.level == "WARNING" and "not a valid ranking" in event.metadata["reason"]
