"""A negation survives line wraps, sentence splitting, passage windows and shortening for display."""

from __future__ import annotations

import pytest

from skillmatch.chunking import MAX_WORDS, _windows
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.negation import shorten
from skillmatch.text.prose import sentences, unwrap


@pytest.mark.parametrize(
    ("text", "skill"),
    [
        ("clean state management. I have not\nused React in a production project - only a workshop", "react"),
        ("Ich habe keine\nErfahrung mit Kubernetes, aber viel mit Docker.", "kubernetes"),
        ("Kubernetes habe ich bisher nicht\neingesetzt.", "kubernetes"),
        ("Skills: Java, Python, no\nKubernetes", "kubernetes"),
        ("Java – keine", "java"),
        ("Kubernetes - none", "kubernetes"),
    ],
)
def test_a_negated_skill_is_negated_even_across_a_line_break(text: str, skill: str) -> None:
    analysis = get_lexicon().analyse(text)
    assert skill in analysis.negated
    assert skill not in analysis.skills


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("Kubernetes: none\nDocker, Helm", "docker"),
        ("Kubernetes: none\ndocker and helm", "docker"),
        ("No experience with AWS\nTerraform on Azure since 2019", "terraform"),
        ("KEINE ANGABE\nJava und Spring Boot", "java"),
        ("Frameworks       Vue 3, Nuxt, no React\nLanguages        TypeScript", "typescript"),
    ],
)
def test_lines_that_are_separate_items_are_not_joined(text: str, present: str) -> None:
    assert present in get_lexicon().analyse(text).skills


def test_unwrapping_keeps_every_offset() -> None:
    text = "I have not\nused React.\n\n- Kubernetes\n- Docker"
    assert len(unwrap(text)) == len(text)
    assert unwrap(text) == "I have not used React.\n\n- Kubernetes\n- Docker"


def test_a_wrapped_sentence_is_one_sentence() -> None:
    text = "performance and clean state management. I have not\nused React in a production project."
    assert "I have not used React in a production project." in sentences(text)
    assert not any(s.startswith("used React") for s in sentences(text))


def test_no_passage_window_starts_in_the_middle_of_a_negated_sentence() -> None:
    filler = " ".join(f"Delivered project number {i} on time for a retail client." for i in range(17))
    text = f"{filler} I have not\nused React in a production project. {filler}"
    windows = _windows(text)
    assert len(windows) >= 2
    for window in windows:
        assert len(window.split()) <= MAX_WORDS
        if "React" in window:
            assert "have not used React" in window.replace("\n", " ")
    assert all("react" not in get_lexicon().analyse(w).skills for w in windows)


@pytest.mark.parametrize(
    "text",
    [
        "Java habe ich in meinen bisherigen Projekten bei Kunden der Versicherungsbranche nicht eingesetzt",
        "Kubernetes, OpenShift, Rancher and every other container platform of the last decade: none",
        "React Native for the mobile apps of our banking clients: no experience",
    ],
)
def test_shortening_never_drops_the_words_that_negate_what_stays(text: str) -> None:
    short = shorten(text, 60)
    lowered = short.lower()
    assert any(cue in lowered for cue in ("nicht", "none", "no experience"))


def test_shortening_cuts_at_a_clause_when_it_can() -> None:
    text = "Built the React frontend of the booking portal, then maintained it; later moved to Vue and Nuxt."
    assert shorten(text, 70) == "Built the React frontend of the booking portal, then maintained it …"
    assert shorten("short", 70) == "short"
