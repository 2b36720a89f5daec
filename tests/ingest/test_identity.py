"""One person, one record: the same CV twice, a German and an English CV, a MOCO user without a CV; and
two different people who only share a name stay two."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.models import CvDocument, Person
from skillmatch.search import Searcher
from skillmatch.text.names import name_key
from tests.ingest.conftest import CountingEmbedder

LENA_EN = """Lena Hofmann
Machine Learning Engineer · Munich · +49 89 5550 1234

Profile
Machine learning engineer who builds forecasting and NLP systems in Python.

Experience
2021 – present: Demand forecasting for a retailer with PyTorch and Kubernetes.
2018 – 2021: NLP pipelines for an insurer (spaCy, FastAPI).
"""
LENA_DE = """Lena Hofmann
Machine-Learning-Ingenieurin · München · 089 55501234

Profil
Ingenieurin für maschinelles Lernen: Prognose- und NLP-Systeme in Python.

Berufserfahrung
2021 – heute: Absatzprognose für einen Händler mit PyTorch und Kubernetes.
2018 – 2021: NLP-Pipelines für einen Versicherer (spaCy, FastAPI).
"""
LENA_DE_NO_PHONE = LENA_DE.replace(" · 089 55501234", "")
THOMAS_JAVA = """Thomas Müller
Java Developer · Berlin

Skills
Java, Spring Boot, Kafka, PostgreSQL

Projects
2019 – present: payment services for a bank in Java.
"""
THOMAS_SAP = """Thomas Mueller
SAP Consultant · Hamburg

Skills
SAP FI/CO, ABAP, S/4HANA

Projects
2015 – 2020: S/4HANA conversion for a manufacturer.
"""


def people(store: CvStore) -> list[Person]:
    with store.sessions() as session:
        return list(session.scalars(select(Person).order_by(Person.id)))


def write(folder: Path, name: str, content: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content, encoding="utf-8")
    return folder / name


def _sample_without_email(name: str) -> str:
    cv = (package_path("sample", "cvs") / name).read_text(encoding="utf-8")
    return re.sub(r"\S+@\S+", "", cv)


@pytest.mark.parametrize(
    ("content", "names", "query", "person"),
    [
        # A name starting with an umlaut: SQLite's lower() left it alone, and the copy became a second person.
        (_sample_without_email("oezlem-yilmaz.md"), ("oezlem.md", "copy of oezlem.md"), "UX", "Özlem Yılmaz"),
        # No name the parser can find: each copy was named after its file.
        ("CURRICULUM VITAE\n\n" + LENA_EN.split("\n", 2)[2], ("cv.txt", "cv (1).txt"), "PyTorch", None),
    ],
)
def test_the_same_cv_at_two_paths_is_one_person_listed_once(
    tmp_path: Path,
    store: CvStore,
    counting_embedder: CountingEmbedder,
    content: str,
    names: tuple[str, str],
    query: str,
    person: str | None,
) -> None:
    write(tmp_path / "hr", names[0], content)
    write(tmp_path / "team", names[1], content)
    ingest_folder(tmp_path / "hr", store)
    report = ingest_folder(tmp_path / "team", store)
    (only,) = people(store)
    assert person is None or only.name == person
    assert any(f"same content as {names[0]}" in note.reason for note in report.notes)
    results = Searcher(store.sessions, counting_embedder, today=date(2026, 11, 27)).search(query)
    assert [r.person_id for r in results].count(only.id) == 1
    texts = [e.text for e in results[0].evidence]
    assert len(texts) == len(set(texts))  # the copy's passages are not evidence twice


def test_a_german_and_an_english_cv_of_one_person_are_one_person(tmp_path: Path, store: CvStore) -> None:
    write(tmp_path / "cvs", "lena-en.txt", LENA_EN)
    write(tmp_path / "cvs", "lena-de.txt", LENA_DE)
    ingest_folder(tmp_path / "cvs", store)
    (lena,) = people(store)
    with store.sessions() as session:
        assert session.scalar(select(Person).where(Person.id == lena.id)).documents.__len__() == 2


def test_without_a_phone_the_place_and_the_career_dates_corroborate_the_name(
    tmp_path: Path, store: CvStore
) -> None:
    write(tmp_path / "cvs", "lena-en.txt", LENA_EN.replace(" · +49 89 5550 1234", ""))
    write(tmp_path / "cvs", "lena-de.txt", LENA_DE_NO_PHONE)
    report = ingest_folder(tmp_path / "cvs", store)
    assert len(people(store)) == 1
    assert any("location" in n.reason and "career dates" in n.reason for n in report.notes)


def test_two_people_who_only_share_a_common_name_stay_two(tmp_path: Path, store: CvStore) -> None:
    write(tmp_path / "cvs", "thomas-java.txt", THOMAS_JAVA)
    write(tmp_path / "cvs", "thomas-sap.txt", THOMAS_SAP)
    report = ingest_folder(tmp_path / "cvs", store)
    assert len(people(store)) == 2
    assert any("kept as a separate person" in n.reason for n in report.notes)


def test_different_e_mail_addresses_keep_namesakes_apart_even_in_one_city(
    tmp_path: Path, store: CvStore
) -> None:
    java = THOMAS_JAVA.replace("· Berlin", "· Berlin · thomas.mueller@example.com")
    other = THOMAS_JAVA.replace("· Berlin", "· Berlin · t.mueller@other.example")
    write(tmp_path / "cvs", "a.txt", java)
    write(tmp_path / "cvs", "b.txt", other + "\nCertifications\nOCP Java SE 17 (2024)\n")
    ingest_folder(tmp_path / "cvs", store)
    assert len(people(store)) == 2


def test_a_cv_without_e_mail_joins_the_only_moco_user_of_that_name(tmp_path: Path, store: CvStore) -> None:
    with store.sessions() as session:
        session.add(Person(name="Lena Hofmann", email="lena.hofmann@example.com", moco_user_id=7))
        session.commit()
    write(tmp_path / "cvs", "lena.txt", LENA_EN)
    ingest_folder(tmp_path / "cvs", store)
    (lena,) = people(store)
    assert lena.moco_user_id == 7 and lena.location == "Munich"


def test_a_file_that_now_holds_someone_elses_cv_moves_to_that_person(tmp_path: Path, store: CvStore) -> None:
    path = write(tmp_path / "cvs", "cv.txt", THOMAS_JAVA)
    ingest_folder(tmp_path / "cvs", store)
    path.write_text(LENA_EN, encoding="utf-8")
    ingest_folder(tmp_path / "cvs", store)
    assert [p.name for p in people(store)] == ["Lena Hofmann"]  # Thomas had only this CV: he left


def test_names_compare_by_a_folded_key_on_every_database(tmp_path: Path, store: CvStore) -> None:
    assert name_key("Dr. Jürgen Müller-Lang") == name_key("juergen mueller lang")
    assert name_key("Özlem Yılmaz") == name_key("Oezlem Yilmaz")
    write(tmp_path / "de", "oezlem.txt", LENA_DE.replace("Lena Hofmann", "Özlem Yılmaz"))
    write(tmp_path / "en", "oezlem.txt", LENA_EN.replace("Lena Hofmann", "Oezlem Yilmaz"))
    ingest_folder(tmp_path / "de", store)
    ingest_folder(tmp_path / "en", store)
    assert len(people(store)) == 1


def test_upgrading_an_existing_database_gives_its_people_name_keys(database_url: str) -> None:
    engine: Engine = create_db_engine(database_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO people (name, languages, active, created_at, updated_at) "
                     "VALUES ('Dr. Jürgen Müller', '{}', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
            )  # fmt: skip
        upgrade(engine)
        with session_factory(engine)() as session:
            assert session.scalar(select(Person.name_key)) == "juergen mueller"
    finally:
        engine.dispose()


def test_the_sample_consultancy_has_one_record_per_consultant(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sample.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    store = CvStore(sessions, OnnxEmbedder(), Settings(), today=date(2026, 11, 27))
    report = ingest_folder(package_path("sample", "cvs"), store)
    with sessions() as session:
        assert len(session.scalars(select(CvDocument)).all()) == 60
        assert len(session.scalars(select(Person)).all()) == 60, report.notes
    engine.dispose()
