"""Structured fields from English and German CVs."""

from __future__ import annotations

from datetime import date

from skillmatch.chunking import chunk_cv, recency_weight
from skillmatch.cvparse import parse_cv

TODAY = date(2026, 11, 27)

ENGLISH = """# Anna Schmidt
Senior Cloud Architect
anna.schmidt@example-consulting.com | +49 89 5550 1234 | München

## Profile
Cloud architect with 12 years of experience in AWS and k8s platforms for banks.

## Skills
AWS, Kubernetes, Terraform, Python. No experience with Azure.

## Languages
German (native), English (C1), French – basic

## Project history
### 2021 – present: Platform modernisation, private bank
Role: Lead Architect
Migrated 40 services to EKS; built GitLab CI pipelines.

### 2010 – 2014: Java developer, insurer
Java EE and Oracle.
"""

GERMAN = """Jürgen Müller
Junior Data Engineer
Standort: Köln · juergen.mueller@example-consulting.com · 0221 5550 777

Kurzprofil
Werkstudent und seit 2024 Junior Data Engineer mit Schwerpunkt auf Datenpipelines.

Kenntnisse
Python, Apache Airflow, dbt, Postgres. Keine Erfahrung mit Kubernetes.

Sprachen
Deutsch – Muttersprache
Englisch – verhandlungssicher
Spanisch – Grundkenntnisse

Berufserfahrung
03/2024 – heute: Junior Data Engineer, Handelskonzern
Aufbau von ELT-Strecken mit dbt und Airflow.
10/2022 – 02/2024: Werkstudent Data Engineering
"""


def test_english_cv_fields() -> None:
    cv = parse_cv(ENGLISH, today=TODAY)
    assert cv.name == "Anna Schmidt"
    assert cv.email == "anna.schmidt@example-consulting.com"
    assert cv.phone == "+49 89 5550 1234"
    assert cv.location == "Munich"
    assert cv.title == "Senior Cloud Architect"
    assert cv.seniority == "senior"
    assert cv.years_experience == 12
    assert cv.languages == {"de": "C2", "en": "C1", "fr": "A2"}
    assert {"aws", "kubernetes", "terraform", "python", "java"} <= set(cv.skills)
    assert cv.negated_skills == ["azure"]
    assert "Lead Architect" in cv.roles
    assert [(p.start, p.end) for p in cv.projects] == [(2021, 2026), (2010, 2014)]
    assert cv.language == "en"


def test_german_cv_fields() -> None:
    cv = parse_cv(GERMAN, today=TODAY)
    assert cv.name == "Jürgen Müller"
    assert cv.location == "Cologne"
    assert cv.seniority == "junior"
    assert cv.languages == {"de": "C2", "en": "C1", "es": "A2"}
    assert {"python", "airflow", "dbt", "postgresql"} <= set(cv.skills)
    assert "kubernetes" in cv.negated_skills
    assert cv.years_experience == 4  # from the earliest dated entry (10/2022)
    assert cv.language == "de"


def test_stale_experience_weighs_less_than_recent() -> None:
    chunks = chunk_cv(parse_cv(ENGLISH, today=TODAY), TODAY.year)
    recent = next(c for c in chunks if c.end_year == 2026)
    stale = next(c for c in chunks if c.end_year == 2014)
    assert "java" in stale.skills
    assert stale.weight < recent.weight
    assert recency_weight(2014, 2026) == 0.4
    assert recency_weight(2024, 2026) == 1.0


def test_contact_details_stay_out_of_the_index() -> None:
    chunks = chunk_cv(parse_cv(ENGLISH, today=TODAY), TODAY.year)
    joined = " ".join(c.text for c in chunks)
    assert "anna.schmidt@" not in joined
    assert "5550 1234" not in joined
