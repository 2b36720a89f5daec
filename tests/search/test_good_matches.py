"""The good-match floor on the bundled consultancy: only people who fit are listed, a CV that denies a
skill is no evidence for it, and an empty or short list comes with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from skillmatch.db import create_db_engine, session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.matches import find_matches
from skillmatch.search import InvalidFilters, Searcher, SearchFilters
from tests.conftest import TODAY


@pytest.fixture
def sample(sample_db_url: str) -> Iterator[Searcher]:
    engine = create_db_engine(sample_db_url)
    yield Searcher(session_factory(engine), OnnxEmbedder(), today=TODAY)
    engine.dispose()


def test_a_cv_that_denies_a_skill_is_not_evidence_for_it(sample: Searcher) -> None:
    """Sophie Lang: "I have not\\nused React in a production project" (the line break used to hide "not")."""
    results = sample.search("React developer", top=10)
    for sophie in (r for r in results if r.name == "Sophie Lang"):
        assert "react" not in sophie.matched_skills
        assert not sophie.good_match
        for evidence in sophie.evidence:
            assert "used React" not in evidence.text or "not used React" in evidence.text
    assert "Sophie Lang" not in [r.name for r in find_matches(sample, "React developer").good]


def test_react_in_stuttgart_lists_react_developers_and_says_none_is_in_stuttgart(sample: Searcher) -> None:
    matches = find_matches(sample, "React developer in Stuttgart")
    names = [r.name for r in matches.good]
    assert {"Maximilian Bauer", "Emma Fuchs"} <= set(names)
    for unfit in ("Jürgen Hartmann", "Florian Graf", "Daniel Koch", "Dr. Lena Hofmann"):  # SAP, PM, SRE, ML
        assert unfit not in names
    assert all("react" in r.matched_skills for r in matches.good)
    assert "Nobody in Stuttgart matches well" in (matches.note() or "")


@pytest.mark.parametrize(
    "query",
    ["'; DROP TABLE people; --", "k" * 10_000, "🚀🚀 rockstar ninja 🤖", "someone good", "Haskell developer"],
)
def test_a_request_nobody_fits_lists_nobody_and_says_so(sample: Searcher, query: str) -> None:
    assert sample.search(query, top=10)  # the ranking still orders people ...
    matches = find_matches(sample, query)
    assert matches.good == []  # ... but none of them is shown as a match
    assert (matches.note() or "").startswith("Nobody matches well")


def test_the_one_good_fit_being_booked_is_the_reason_given(sample: Searcher) -> None:
    january = SearchFilters(
        locations=["Munich"], available_from=date(2027, 1, 4), available_to=date(2027, 1, 29)
    )
    matches = find_matches(sample, "Python developer for a data project", filters=january)
    assert matches.good == []
    note = matches.note() or ""
    assert "Hannah Keller (0% free from 2027-01-04 to 2027-01-29, 50% needed)" in note
    assert "Relax the availability or location filter" in note


def test_every_result_carries_its_match_and_whether_it_clears_the_threshold(sample: Searcher) -> None:
    results = sample.search("Kubernetes expert", top=20)
    assert all(r.match is not None and 0.0 <= r.match <= 1.0 for r in results)
    assert all(r.good_match == (r.match >= sample.good_match) for r in results)  # type: ignore[operator]
    assert any(r.good_match for r in results) and not all(r.good_match for r in results)


def test_the_threshold_is_one_knob_that_does_not_change_the_ranking(
    sample: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLMATCH_GOOD_MATCH", "0.9")
    strict = Searcher(sample.sessions, sample.embedder, today=TODAY)
    lenient = Searcher(sample.sessions, sample.embedder, today=TODAY, good_match=0.1)
    assert strict.good_match == 0.9
    query = "Java developer with Spring Boot"
    assert [r.person_id for r in strict.search(query)] == [r.person_id for r in lenient.search(query)]
    assert len(find_matches(strict, query).good) < len(find_matches(lenient, query).good)


def test_filters_that_contradict_themselves_are_refused() -> None:
    with pytest.raises(InvalidFilters, match=r"ends \(2027-01-01\) before it starts \(2027-03-01\)"):
        SearchFilters(available_from=date(2027, 3, 1), available_to=date(2027, 1, 1))
    with pytest.raises(InvalidFilters, match="needs a start"):
        SearchFilters(available_to=date(2027, 1, 1))


@pytest.mark.parametrize("spelling", ["München", "Muenchen", "Munchen", "munich"])
def test_a_place_in_the_request_is_understood_in_every_spelling(sample: Searcher, spelling: str) -> None:
    assert find_matches(sample, f"Kubernetes engineer in {spelling}").wanted_places == ["Munich"]
    in_munich = sample.search("Kubernetes", top=10, filters=SearchFilters(locations=[spelling]))
    assert in_munich and all(r.location == "Munich" for r in in_munich)
