"""Technical terms survive tokenisation; synonyms, German words and negations are normalised."""

from __future__ import annotations

import pytest

from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.tokens import tokenize


def test_tokenizer_keeps_technical_terms_whole() -> None:
    tokens = tokenize("C#, C++ and .NET, Node.js, CI/CD, k8s, S/4HANA, ASP.NET; Python/Django, databases.")
    for term in ("c#", "c++", ".net", "node.js", "ci/cd", "k8s", "s/4hana", "asp.net", "python", "django"):
        assert term in tokens
    assert "database" in tokens  # plural folded
    assert "python/django" not in tokens  # an unknown slash pair splits


@pytest.mark.parametrize(
    ("text", "skill"),
    [
        ("k8s clusters", "kubernetes"),
        ("JS and TypeScript", "javascript"),
        ("MSSQL administration", "sql server"),
        ("GCP and BigQuery", "gcp"),
        ("Google Cloud", "gcp"),
        ("Postgres tuning", "postgresql"),
        ("ReactJS frontends", "react"),
        (".NET Core services", ".net"),
        ("Golang services", "go"),
        ("Erfahrung mit Datenbanken", "databases"),
        ("ran container orchestration platforms", "kubernetes"),
        ("built iPhone apps", "ios"),
    ],
)
def test_synonyms_resolve_to_one_skill(text: str, skill: str) -> None:
    assert skill in get_lexicon().analyse(text).skills


def test_go_as_a_language_but_not_go_live() -> None:
    lexicon = get_lexicon()
    assert "go" in lexicon.analyse("Backend services in Go and Rust.").skills
    assert "go" not in lexicon.analyse("Go-live of the new platform in March.").skills


@pytest.mark.parametrize(
    ("text", "negated", "present"),
    [
        ("No experience with Kubernetes yet, but strong in Docker.", "kubernetes", "docker"),
        ("I have not worked with AWS; all my cloud work is on Azure.", "aws", "azure"),
        ("Kubernetes: none so far. Docker daily.", "kubernetes", "docker"),
        ("Keine Erfahrung mit Java, dafür viel Kotlin.", "java", "kotlin"),
        ("Mit Kubernetes habe ich bisher nicht gearbeitet. Docker täglich.", "kubernetes", "docker"),
    ],
)
def test_a_skill_mentioned_only_as_absent_is_not_evidence(text: str, negated: str, present: str) -> None:
    analysis = get_lexicon().analyse(text)
    assert negated in analysis.negated
    assert negated not in analysis.skills
    assert present in analysis.skills
    assert negated not in analysis.index_text  # neither BM25 nor the embedder sees it


def test_absent_in_one_sentence_and_present_in_another_counts_as_present() -> None:
    analysis = get_lexicon().analyse("No AWS in my last project. Before that, three years of AWS Lambda.")
    assert "aws" in analysis.skills
    assert "aws" not in analysis.negated


def test_german_text_is_mapped_to_english_terms() -> None:
    analysis = get_lexicon().analyse("Erfahrene Entwicklerin für Barrierefreiheit im Versicherungsprojekt")
    assert "experienced developer" in analysis.index_text
    assert "accessibility" in analysis.skills
    assert "insurance" in analysis.skills  # a compound split into known parts
    assert analysis.language == "de"
