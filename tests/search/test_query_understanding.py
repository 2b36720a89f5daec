"""What a request asks for beyond tool names: seniority outside negations, leadership, activities that name
a skill, and a place that prefers rather than filters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from skillmatch.db import create_db_engine, session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.query import analyse_query
from skillmatch.search import Searcher
from tests.conftest import TODAY


@pytest.mark.parametrize(
    ("request_text", "seniority"),
    [
        ("real leadership experience, not a junior", "lead"),
        ("Java developer, not a junior please", "senior"),
        ("Wir suchen keinen Junior, sondern jemanden mit Erfahrung in Java", "senior"),
        ("junior Java developer", "junior"),
        ("senior developer, no team lead needed", "senior"),
        ("Führungserfahrung mit Personalverantwortung", "lead"),
        ("Java developer", None),
    ],
)
def test_seniority_is_read_outside_negations(request_text: str, seniority: str | None) -> None:
    assert analyse_query(request_text).seniority == seniority


@pytest.mark.parametrize(
    ("request_text", "skill"),
    [
        ("someone to attack our portal the way a real hacker would", "penetration testing"),
        ("nobody can tell where a request spends its time", "observability"),
        ("agree reliability targets with the product teams", "sre"),
        ("forms must be usable for blind people", "accessibility"),
        ("card numbers flow through too many services", "pci-dss"),
        ("how many concurrent users can the shop take", "performance testing"),
        ("scheduled retraining of the models", "mlops"),
    ],
)
def test_an_activity_names_the_skill_it_needs(request_text: str, skill: str) -> None:
    assert skill in analyse_query(request_text).skills


@pytest.fixture
def sample(sample_db_url: str) -> Iterator[Searcher]:
    engine = create_db_engine(sample_db_url)
    yield Searcher(session_factory(engine), OnnxEmbedder(), today=TODAY)
    engine.dispose()


def test_a_paraphrased_pentest_request_finds_the_penetration_testers(sample: Searcher) -> None:
    top = [
        r.name
        for r in sample.search("someone to attack our customer portal the way a real hacker would", top=3)
    ]
    assert {"Andreas Schäfer", "Rebecca Thiel"} <= set(top)


def test_a_place_in_the_request_does_not_outweigh_the_skills(sample: Searcher) -> None:
    """Sophie Lang is in Vienna but has not used React in production; the React developers elsewhere
    rank above her (the place used to weigh 0.6 and put her first)."""
    names = [
        r.name for r in sample.search("Need a React developer for a hotel booking frontend in Vienna", top=5)
    ]
    assert names[0] in {"Emma Fuchs", "Maximilian Bauer"}
    assert "Sophie Lang" not in names or names.index("Sophie Lang") > names.index("Emma Fuchs")
