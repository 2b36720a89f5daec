"""`ingest cvs`: idempotent by content hash, deletions honoured, bad files reported, nothing lost."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skillmatch.chunking import EMBEDDED_SECTIONS
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.models import Chunk, CvDocument, Embedding, Person
from tests.builders import docx_bytes, pdf_bytes
from tests.ingest.conftest import CountingEmbedder

ANNA = """# Anna Schmidt
Senior Cloud Architect · anna@example.com · Berlin

## Skills
AWS, Kubernetes, Terraform

## Projects
2022 – present: Kubernetes platform for a bank. Built the GitLab CI pipelines.
"""
BEN = """Ben Weber
Frontend Developer, Hamburg

Skills: React, TypeScript, accessibility (WCAG).
"""


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "anna.md").write_text(ANNA, encoding="utf-8")
    (folder / "ben.txt").write_text(BEN, encoding="utf-8")
    (folder / "carla.docx").write_bytes(
        docx_bytes(
            ["Data engineer: Spark, Airflow and dbt pipelines for retail clients since 2019."],
            header=["Carla Nowak | carla@example.com | Munich"],
        )
    )
    (folder / "dieter.pdf").write_bytes(
        pdf_bytes(["Dieter Braun", "SAP ABAP developer, S/4HANA migrations."])
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_first_run_indexes_every_format(tmp_path: Path, store: CvStore) -> None:
    write_corpus(tmp_path / "cvs")
    report = ingest_folder(tmp_path / "cvs", store)
    assert report.counts["added"] == 4
    assert report.problems == []
    with store.sessions() as session:
        names = set(session.scalars(select(Person.name)))
        assert names == {"Anna Schmidt", "Ben Weber", "Carla Nowak", "Dieter Braun"}
        sources = set(session.scalars(select(CvDocument.source)))
        assert str((tmp_path / "cvs" / "anna.md").resolve()) in sources
        assert count(session, Chunk) > 4


def test_unchanged_rerun_costs_no_parsing_and_no_embedding(
    tmp_path: Path, store: CvStore, counting_embedder: CountingEmbedder
) -> None:
    write_corpus(tmp_path / "cvs")
    ingest_folder(tmp_path / "cvs", store)
    embedded_first = len(counting_embedder.texts)
    report = ingest_folder(tmp_path / "cvs", store)
    assert report.counts["unchanged"] == 4
    assert report.counts["added"] == report.counts["updated"] == 0
    assert len(counting_embedder.texts) == embedded_first


def test_a_changed_file_is_reparsed_and_only_new_text_is_embedded(
    tmp_path: Path, store: CvStore, counting_embedder: CountingEmbedder
) -> None:
    write_corpus(tmp_path / "cvs")
    ingest_folder(tmp_path / "cvs", store)
    counting_embedder.texts.clear()
    (tmp_path / "cvs" / "anna.md").write_text(ANNA + "\n## Certifications\nCKA (2025)\n", encoding="utf-8")
    report = ingest_folder(tmp_path / "cvs", store)
    assert report.counts["updated"] == 1 and report.counts["unchanged"] == 3
    assert counting_embedder.texts == ["cka (2025)"]  # the one passage that is new; the rest is cached
    with store.sessions() as session:
        texts = session.scalars(
            select(Chunk.text).join(CvDocument).where(CvDocument.display_name == "anna.md")
        )
        assert any("CKA" in t for t in texts)


def test_a_vanished_file_leaves_the_index(tmp_path: Path, store: CvStore) -> None:
    write_corpus(tmp_path / "cvs")
    ingest_folder(tmp_path / "cvs", store)
    (tmp_path / "cvs" / "ben.txt").unlink()
    report = ingest_folder(tmp_path / "cvs", store)
    assert report.counts["removed"] == 1
    with store.sessions() as session:
        assert "Ben Weber" not in set(session.scalars(select(Person.name)))
        assert count(session, CvDocument) == 3


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path: Path, store: CvStore) -> None:
    folder = tmp_path / "cvs"
    write_corpus(folder)
    (folder / "empty.md").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\xff" * 400)
    (folder / "corrupt.docx").write_bytes(b"PK\x03\x04broken")
    (folder / "scan.pdf").write_bytes(pdf_bytes([], text_layer=False))
    (folder / "huge.md").write_text("Python " * 60_000, encoding="utf-8")
    (folder / "notes.xlsx").write_bytes(b"PK")
    (folder / "~$anna.docx").write_bytes(b"lock file")  # Word's lock file: ignored silently
    report = ingest_folder(folder, store)
    assert report.counts["added"] == 4
    reasons = {Path(p.item).name: p.reason for p in report.problems}
    assert set(reasons) == {"empty.md", "binary.txt", "corrupt.docx", "scan.pdf", "huge.md", "notes.xlsx"}
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["binary.txt"]
    assert "over the limit" in reasons["huge.md"]
    assert "no text layer" in reasons["scan.pdf"]


def test_an_unreadable_new_version_keeps_the_old_one(tmp_path: Path, store: CvStore) -> None:
    write_corpus(tmp_path / "cvs")
    ingest_folder(tmp_path / "cvs", store)
    (tmp_path / "cvs" / "carla.docx").write_bytes(b"PK\x03\x04 truncated upload")
    report = ingest_folder(tmp_path / "cvs", store)
    assert "previously indexed version is kept" in report.problems[0].reason
    with store.sessions() as session:
        document = session.scalar(select(CvDocument).where(CvDocument.display_name == "carla.docx"))
        assert document is not None and "Airflow" in document.extracted_text


def test_embeddings_are_cached_by_content_hash(tmp_path: Path, store: CvStore) -> None:
    folder = tmp_path / "cvs"
    folder.mkdir()
    (folder / "a.md").write_text(ANNA, encoding="utf-8")
    (folder / "copy-of-a.md").write_text(
        ANNA.replace("anna@example.com", "anna2@example.com"), encoding="utf-8"
    )
    ingest_folder(folder, store)
    with store.sessions() as session:
        embedded_sections = Chunk.section.in_(EMBEDDED_SECTIONS)
        distinct = session.scalar(select(func.count(func.distinct(Chunk.text_hash))).where(embedded_sections))
        assert count(session, Embedding) == distinct
