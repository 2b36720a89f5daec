from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher

TODAY = date(2026, 11, 27)

CVS = {
    "anna.md": """# Anna Schmidt
Senior Cloud Architect · anna@example.com · Munich
## Languages
German (native), English (C1)
## Projects
2022 – present: Kubernetes platform migration for a private bank; led a team of six.
2019 – 2022: AWS landing zones with Terraform for an insurer.
""",
    "bernd.md": """# Bernd Vogt
Senior Java Developer · bernd@example.com · Berlin
## Languages
German (native), English (B2)
## Skills
Java, Spring Boot, Kafka. No experience with Kubernetes yet, but keen to learn it.
## Projects
2020 – present: payment microservices in Java and Spring Boot for a bank.
""",
    "carla.md": """# Carla Nowak
Project Manager · carla@example.com · Hamburg
## Languages
English (native), German (B1)
## Experience
2016 – present: project manager for SAP roll-outs, PRINCE2.
2004 – 2012: Java developer (J2EE, Struts) at a telco.
""",
    "dana.txt": """Dana Keller
Junior Cloud Engineer, Munich
dana@example.com

Languages: German (native), English (C1)

Experience
2024 – present: working student, then junior engineer. k8s deployments with Helm, first AWS certificate.
""",
    "emil.md": """# Emil Roth
Frontend-Entwickler · emil@example.com · Köln
## Sprachen
Deutsch – Muttersprache, Englisch – fließend
## Projekte
2021 – heute: Barrierefreie Webanwendungen mit React und TypeScript für eine Behörde (WCAG 2.1, BITV).
""",
}


@pytest.fixture
def corpus(tmp_path: Path, engine: Engine) -> Searcher:
    folder = tmp_path / "cvs"
    folder.mkdir()
    for name, text in CVS.items():
        (folder / name).write_text(text, encoding="utf-8")
    embedder = OnnxEmbedder()
    sessions = session_factory(engine)
    settings = Settings(DATABASE_URL=str(engine.url))
    report = ingest_folder(folder, CvStore(sessions, embedder, settings, today=TODAY))
    assert report.counts["added"] == len(CVS), report.problems
    return Searcher(sessions, embedder, today=TODAY)
