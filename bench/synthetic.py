"""Synthetic consultants for benchmarks: plausible CV passages drawn from the skill lexicon.

Deterministic (seeded), so runs compare. Passages are built from a pool of sentences analysed once by the
real normaliser; analysis is sentence-local, so a passage's index text is the join of its sentences'.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from skillmatch.index import ChunkRecord, PersonRecord
from skillmatch.text.lexicon import get_lexicon

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "Dieter",
    "Eva",
    "Felix",
    "Greta",
    "Hans",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mara",
    "Nils",
    "Olga",
    "Paul",
    "Rita",
    "Sven",
    "Tina",
    "Uwe",
]
LAST = [
    "Schmidt",
    "Weber",
    "Nowak",
    "Braun",
    "Keller",
    "Roth",
    "Graf",
    "Vogt",
    "Lang",
    "Koch",
    "Wolf",
    "Fuchs",
    "Berg",
    "Klein",
    "Bauer",
    "Lorenz",
    "Sommer",
    "Kraus",
]
CITIES = [
    "Munich",
    "Berlin",
    "Hamburg",
    "Frankfurt",
    "Cologne",
    "Stuttgart",
    "Vienna",
    "Zurich",
    "Leipzig",
    "Remote",
]
ROLES = [
    "Backend Developer",
    "Frontend Developer",
    "Data Engineer",
    "Cloud Architect",
    "DevOps Engineer",
    "Data Scientist",
    "QA Engineer",
    "Scrum Master",
    "Project Manager",
    "Security Consultant",
    "SAP Consultant",
    "Mobile Developer",
    "Solution Architect",
    "ML Engineer",
    "Site Reliability Engineer",
]
LEVELS = ["Junior", "", "Senior", "Lead"]
TEMPLATES = [
    "{y1} – {y2}: built {a} services with {b} and {c} for a {d} client.",
    "Designed the {a} platform on {b}; introduced {c} and automated deployments.",
    "Migrated a legacy {a} system to {b} with {c}, including data migration and testing.",
    "Responsible for {a} and {b} in a team of {n}; mentoring two juniors.",
    "{y1} – {y2}: {a} consultant for a {d} company, focus on {b} and {c}.",
    "No experience with {a} yet, but strong in {b}.",
    "Skills: {a}, {b}, {c}, {e}, {f}.",
    "Kenntnisse: {a}, {b} und {c}; Projekte im Bereich {d}.",
    "Entwicklung von Anwendungen mit {a} und {b} für {d}.",
]
DOMAINS = [
    "banking",
    "insurance",
    "retail",
    "automotive",
    "healthcare",
    "public sector",
    "energy",
    "logistics",
]


@dataclass
class SyntheticCorpus:
    people: list[PersonRecord]
    chunks: list[ChunkRecord]
    index_texts: list[str]
    weights: list[float]


def _skill_names() -> list[str]:
    return [s for s in get_lexicon().skills if len(s) > 2]


def sentence_pool(size: int = 3000, seed: int = 7) -> list[tuple[str, str, dict[str, int]]]:
    rng = random.Random(seed)
    skills = _skill_names()
    lexicon = get_lexicon()
    pool = []
    for _ in range(size):
        y1 = rng.randint(2005, 2025)
        a, b, c, e, f = rng.sample(skills, 5)
        text = rng.choice(TEMPLATES).format(
            a=a,
            b=b,
            c=c,
            e=e,
            f=f,
            d=rng.choice(DOMAINS),
            n=rng.randint(3, 12),
            y1=y1,
            y2=min(2026, y1 + rng.randint(1, 5)),
        )
        analysis = lexicon.analyse(text)
        pool.append((text, analysis.index_text, analysis.skills))
    return pool


def make_corpus(n_people: int, chunks_per_person: int = 5, seed: int = 11) -> SyntheticCorpus:
    rng = random.Random(seed)
    pool = sentence_pool()
    people: list[PersonRecord] = []
    chunks: list[ChunkRecord] = []
    texts: list[str] = []
    weights: list[float] = []
    for pid in range(n_people):
        level = rng.choice(LEVELS)
        title = f"{level} {rng.choice(ROLES)}".strip()
        people.append(
            PersonRecord(
                id=pid + 1,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {pid}",
                title=title,
                location=rng.choice(CITIES),
                seniority={"Junior": "junior", "Senior": "senior", "Lead": "lead"}.get(level, "mid"),
                years_experience=float(rng.randint(1, 25)),
                languages={"de": rng.choice(["C2", "C1", "B2"]), "en": rng.choice(["C2", "C1", "B2", "B1"])},
                source=f"/synthetic/cv-{pid}.md",
                source_name=f"cv-{pid}.md",
            )
        )
        for _ in range(chunks_per_person):
            picked = rng.sample(pool, 3)
            text = " ".join(p[0] for p in picked)
            merged: dict[str, int] = {}
            for _, _, skills in picked:
                for skill, n in skills.items():
                    merged[skill] = merged.get(skill, 0) + n
            end_year = rng.choice([None, 2026, 2025, 2021, 2014])
            chunks.append(
                ChunkRecord(
                    len(chunks),
                    pid,
                    "projects",
                    text,
                    f"/synthetic/cv-{pid}.md",
                    f"cv-{pid}.md",
                    end_year,
                    merged,
                )
            )
            texts.append(" ".join(p[1] for p in picked))
            weights.append(rng.choice([1.0, 0.7, 0.4]))
    return SyntheticCorpus(people, chunks, texts, weights)


def cv_document(pid: int, seed: int = 5) -> str:
    """A whole CV as a user would upload it, for ingestion benchmarks."""
    rng = random.Random(seed * 1_000_003 + pid)
    pool_skills = _skill_names()
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    level = rng.choice(LEVELS)
    lines = [
        f"# {name}",
        f"{level} {rng.choice(ROLES)} · {name.split()[0].lower()}.{pid}@example.com · {rng.choice(CITIES)}",
        "",
        "## Profile",
        f"Consultant with {rng.randint(2, 20)} years of experience in "
        f"{', '.join(rng.sample(pool_skills, 3))}.",
        "",
        "## Skills",
        ", ".join(rng.sample(pool_skills, 12)),
        "",
        "## Languages",
        f"German ({rng.choice(['native', 'C1', 'B2'])}), English ({rng.choice(['C1', 'B2', 'fluent'])})",
        "",
        "## Projects",
    ]
    for _ in range(rng.randint(3, 6)):
        y1 = rng.randint(2008, 2025)
        a, b, c = rng.sample(pool_skills, 3)
        lines.append(f"### {y1} – {min(2026, y1 + rng.randint(1, 4))}: {rng.choice(DOMAINS)} project")
        lines.append(
            f"Built {a} components with {b} and {c}; {rng.choice(['led', 'joined', 'supported'])} a team of "
            f"{rng.randint(3, 12)}. Introduced automated testing and monitoring."
        )
        lines.append("")
    return "\n".join(lines)
