"""The search-only responder: a reset phrase starts over (searching what follows it, or asking what to look
for), a contradicting period is answered with a question, and only good matches are listed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from assistant.retrieval import ASK_WHAT, SearchState, answer, next_state, split_reset
from skillmatch.db import create_db_engine, session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)
MUNICH_KUBERNETES = SearchState(
    query="Kubernetes migration", locations=["Munich"], available_from="2027-01-04", available_to="2027-01-29"
)


@pytest.fixture
def searcher(sample_db_url: str) -> Iterator[Searcher]:
    engine = create_db_engine(sample_db_url)
    yield Searcher(session_factory(engine), OnnxEmbedder(), today=TODAY)
    engine.dispose()


@pytest.mark.parametrize(
    ("message", "rest"),
    [
        ("new search", ""),
        ("New search!", ""),
        ("neue Suche", ""),
        ("Neue Suche bitte", ""),
        ("start over", ""),
        ("ok, let's start over please", ""),
        ("von vorne", ""),
        ("Von vorne anfangen.", ""),
        ("new search: Java developer in Frankfurt", "Java developer in Frankfurt"),
        ("neue Suche nach einem SAP-Berater", "einem SAP-Berater"),
        ("Start over - Python developer", "Python developer"),
        ("new search for a Scrum Master", "a Scrum Master"),
    ],
)
def test_a_reset_phrase_is_told_from_the_request_that_follows_it(message: str, rest: str) -> None:
    assert split_reset(message) == (True, rest)


@pytest.mark.parametrize("message", ["new search engine developer", "Java developer", "only Munich"])
def test_words_that_only_look_like_a_reset_are_a_request(message: str) -> None:
    assert split_reset(message) == (False, message)


def test_a_bare_reset_forgets_the_search_and_asks_what_to_look_for(searcher: Searcher) -> None:
    state = next_state(MUNICH_KUBERNETES, "neue Suche", TODAY)
    assert state == SearchState()
    text, results = answer(searcher, state, reason="No language model is configured.")
    assert ASK_WHAT in text and results == []
    assert "neue suche" not in text.lower()


def test_a_reset_with_a_request_searches_only_the_request(searcher: Searcher) -> None:
    state = next_state(MUNICH_KUBERNETES, "new search: SAP ABAP developer", TODAY)
    assert state.query == "SAP ABAP developer"
    assert state.locations == [] and state.available_from is None  # the old filters are gone
    _, results = answer(searcher, state, reason="search only")
    assert results and results[0].name == "Jürgen Hartmann"
    assert "new search" not in state.query.lower()


def test_a_reset_wins_over_refinement_even_without_skills(searcher: Searcher) -> None:
    state = next_state(MUNICH_KUBERNETES, "start over: someone in Berlin", TODAY)
    assert state.query == "someone in Berlin" and state.locations == ["Berlin"]


def test_an_inverted_period_is_answered_with_a_question_and_the_search_is_kept(searcher: Searcher) -> None:
    state = next_state(MUNICH_KUBERNETES, "available from 2027-03-01 to 2027-01-01", TODAY)
    assert state.problem and "ends (2027-01-01) before it starts (2027-03-01)" in state.problem
    assert state.dump() == MUNICH_KUBERNETES.dump()  # nothing of the bad period is stored
    text, results = answer(searcher, state, reason="search only")
    assert results == [] and "Which period do you mean?" in text


def test_only_munich_in_german_narrows_to_the_canonical_city() -> None:
    state = next_state(SearchState(query="Kubernetes"), "nur München", TODAY)
    assert state.locations == ["Munich"] and state.query == "Kubernetes nur München"


def test_nobody_matching_well_is_said_plainly_instead_of_listing_anyone(searcher: Searcher) -> None:
    text, results = answer(searcher, SearchState(query="'; DROP TABLE people; --"), reason="search only")
    assert results == []
    assert "Nobody matches well" in text
