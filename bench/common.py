"""Shared benchmark plumbing: timing, percentiles, the synthetic index, rich output."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.synthetic import make_corpus
from skillmatch.embeddings import Embedder
from skillmatch.index import SearchIndex, build_index

console = Console()

QUERIES = [
    "Senior Java developer with Spring Boot and Kafka for a bank",
    "Who could lead a Kubernetes migration?",
    "React and TypeScript frontend developer, German speaking",
    "data engineer with Airflow, dbt and Snowflake",
    "Wir suchen eine erfahrene Scrum Masterin für ein Versicherungsprojekt",
    "Python FastAPI backend with PostgreSQL",
    "machine learning engineer for forecasting in retail",
    "penetration tester with OSCP",
    "SAP S/4HANA migration consultant",
    "iOS developer Swift",
    "Terraform and AWS landing zones",
    "Azure DevOps pipelines and .NET Core",
    "Entwickler für barrierefreie Webanwendungen",
    "embedded C++ automotive",
    "project manager PRINCE2 public sector",
    "container orchestration and observability with Prometheus",
]


def machine() -> str:
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{python}, {os.cpu_count()} CPUs, {platform.machine()}"


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def synthetic_index(
    n_people: int, embedder: Embedder, chunks_per_person: int = 5, *, version: int = 1
) -> SearchIndex:
    with progress() as bar:
        task = bar.add_task(f"synthetic corpus, {n_people:,} people", total=3)
        corpus = make_corpus(n_people, chunks_per_person)
        bar.advance(task)
        # Passage vectors: random unit rows of the embedder's width. Scoring cost does not depend on the
        # values, and embedding 500k passages with the transformer would take the benchmark an hour.
        # Query vectors are real: the query path runs the actual model.
        rng = np.random.default_rng(1)
        vectors = rng.standard_normal((len(corpus.index_texts), embedder.dim)).astype(np.float32)
        bar.advance(task)
        index = build_index(
            corpus.people,
            corpus.chunks,
            corpus.index_texts,
            corpus.weights,
            vectors,
            version=version,
            embedder_name=embedder.name,
            current_year=2026,
        )
        bar.advance(task)
    return index


def timings_ms(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def p50(samples: list[float]) -> float:
    return statistics.median(samples)
