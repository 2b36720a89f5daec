"""Hybrid search behaviour: synonyms, negation, stale skills, seniority, cross-language, filters, evidence."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from skillmatch.db import insert_ignoring_conflicts
from skillmatch.ingest.cv_store import CvStore
from skillmatch.models import Absence, Allocation, Employment, Person
from skillmatch.search import Searcher, SearchFilters
from tests.search.conftest import TODAY


def names(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.name for r in results]


def test_synonym_query_finds_the_spelled_out_skill(corpus: Searcher) -> None:
    assert names(corpus.search("k8s migration", top=2))[0] == "Anna Schmidt"


def test_a_negated_skill_is_not_evidence(corpus: Searcher) -> None:
    results = corpus.search("Kubernetes", top=5)
    assert {r.name for r in results[:2]} == {"Anna Schmidt", "Dana Keller"}
    for bernd in (r for r in results if r.name == "Bernd Vogt"):
        assert "kubernetes" not in bernd.matched_skills
        assert all("Kubernetes" not in e.text for e in bernd.evidence)  # "no experience" is not evidence


def test_stale_experience_ranks_below_current_experience(corpus: Searcher) -> None:
    ranked = names(corpus.search("Java developer", top=5))
    assert ranked.index("Bernd Vogt") < ranked.index("Carla Nowak")


def test_seniority_intent_prefers_the_senior_near_duplicate(corpus: Searcher) -> None:
    senior = names(corpus.search("senior Kubernetes engineer in Munich", top=2))
    junior = names(corpus.search("junior Kubernetes engineer in Munich", top=2))
    assert senior[0] == "Anna Schmidt"
    assert junior[0] == "Dana Keller"


def test_german_query_finds_english_cv_and_the_reverse(corpus: Searcher) -> None:
    assert names(corpus.search("Erfahrung mit Zahlungsverkehr und Java", top=1)) == ["Bernd Vogt"]
    assert names(corpus.search("accessibility expert for public sector web apps", top=1)) == ["Emil Roth"]


def test_location_and_language_filters_are_hard(corpus: Searcher) -> None:
    in_munich = corpus.search("cloud", top=10, filters=SearchFilters(locations=["Munich"]))
    assert set(names(in_munich)) == {"Anna Schmidt", "Dana Keller"}
    fluent_german = corpus.search("project manager", top=10, filters=SearchFilters(language=("de", "C1")))
    assert "Carla Nowak" not in names(fluent_german)


def test_results_carry_source_and_evidence(corpus: Searcher) -> None:
    top = corpus.search("Kubernetes migration for a bank", top=1)[0]
    assert top.source is not None and top.source.endswith("anna.md")
    assert top.source_name == "anna.md"
    assert top.evidence and "Kubernetes platform migration" in top.evidence[0].text
    assert "kubernetes" in top.matched_skills


def test_availability_filter_uses_erp_allocations_and_absences(corpus: Searcher) -> None:
    with corpus.sessions() as session:
        people = {p.name: p for p in session.scalars(select(Person))}
        for moco_id, name in enumerate(["Anna Schmidt", "Dana Keller", "Emil Roth"], start=1):
            people[name].moco_user_id = moco_id
        session.commit()
        anna, dana, emil = people["Anna Schmidt"], people["Dana Keller"], people["Emil Roth"]
        insert_ignoring_conflicts(
            session,
            Allocation,
            [  # Anna is fully booked in January
                {
                    "id": 1,
                    "person_id": anna.id,
                    "moco_user_id": 1,
                    "starts_on": date(2026, 12, 1),
                    "ends_on": date(2027, 3, 31),
                    "hours_per_day": 8.0,
                    "tentative": False,
                },
            ],
        )
        insert_ignoring_conflicts(
            session,
            Employment,  # Dana works 20 h a week: half her days are free capacity of 4 h
            [
                {
                    "id": 1,
                    "person_id": dana.id,
                    "moco_user_id": 2,
                    "weekly_target_hours": 20.0,
                    "from_date": date(2024, 1, 1),
                    "to_date": None,
                }
            ],
        )
        insert_ignoring_conflicts(
            session,
            Absence,  # Emil is away for most of the range
            [
                {
                    "id": i,
                    "person_id": emil.id,
                    "moco_user_id": 3,
                    "day": date(2027, 1, d),
                    "am": True,
                    "pm": True,
                }
                for i, d in enumerate([4, 5, 6, 7, 8, 11, 12, 13, 14, 15], start=1)
            ],
        )
        session.commit()
    filters = SearchFilters(
        available_from=date(2027, 1, 4), available_to=date(2027, 1, 22), min_availability=0.5
    )
    results = corpus.search("cloud engineer", top=10, filters=filters)
    assert "Anna Schmidt" not in names(results)
    dana_result = next(r for r in results if r.name == "Dana Keller")
    assert dana_result.availability == 1.0
    emil = corpus.search("React accessibility", top=10, filters=filters)
    assert "Emil Roth" not in names(emil)  # 10 of 15 workdays absent


def test_index_reloads_when_another_process_changes_the_corpus(corpus: Searcher, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "Fiona Graf" not in names(corpus.search("Rust embedded firmware", top=5))
    store = CvStore(
        corpus.sessions, corpus.embedder, __import__("skillmatch.config").config.Settings(), today=TODAY
    )
    store.upsert(
        source="sharepoint:drive:item-1",
        source_kind="sharepoint",
        display_name="fiona.md",
        data=b"# Fiona Graf\nEmbedded developer\n\n## Projects\n2023 - present: Rust firmware for sensors.\n",
    )
    assert names(corpus.search("Rust embedded firmware", top=1)) == ["Fiona Graf"]


def test_empty_query_returns_nothing(corpus: Searcher) -> None:
    assert corpus.search("   ") == []
    assert corpus.search("", top=3) == []
    assert TODAY.year == 2026
