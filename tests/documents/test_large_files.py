"""Memory per file is bounded: oversized files are refused before they are read, long texts stop being
extracted at the limit, and the reason names the setting. The batch goes on."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import Engine, select

from skillmatch import documents
from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.documents import UnreadableDocument, read_document
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.models import CvDocument
from tests.builders import docx_bytes

MB = 1_048_576
CV = (
    "Anna Schmidt\nSenior Java Developer, Berlin\n\nSkills: Java, Spring Boot, Kafka for payment platforms.\n"
)


def pdf_pages(pages: list[str]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for text in pages:
        pdf.drawString(50, 800, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_text_over_the_character_limit_is_refused_with_the_setting_named() -> None:
    data = (CV + "Built services with Python and PostgreSQL for an insurer.\n" * 5_000).encode()
    with pytest.raises(UnreadableDocument, match=r"over 200,000 characters .*SKILLMATCH_CV_MAX_TEXT_CHARS"):
        read_document("long.txt", data, 50 * MB)
    assert read_document("long.txt", data, 50 * MB, max_chars=400_000).text.startswith("Anna Schmidt")


def test_refusing_a_19_mb_text_costs_almost_no_memory() -> None:
    data = ("Python " * (19 * MB // 7)).encode()
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableDocument, match="over 200,000 characters"):
            read_document("huge.txt", data, 20 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 * MB  # refused from the byte count: nothing decoded, split or analysed


def test_a_word_file_stops_being_read_at_the_character_limit() -> None:
    data = docx_bytes([f"Paragraph {i}: built Kafka consumers for a bank." for i in range(600)])
    with pytest.raises(UnreadableDocument, match="over 10,000 characters"):
        read_document("long.docx", data, 50 * MB, max_chars=10_000)


def test_a_word_file_that_unpacks_to_too_much_xml_is_refused_before_unpacking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(documents, "DOCX_MAX_XML_BYTES", 1 * MB)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(io.BytesIO(docx_bytes(["Anna Schmidt, Java developer."]))) as real:
            for item in real.infolist():
                archive.writestr(item, real.read(item.filename))
        archive.writestr("word/padding.xml", b"<x>" + b" " * (3 * MB) + b"</x>")  # compresses to kilobytes
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(UnreadableDocument, match=r"unpacks to \d MB of XML, over the limit of 1 MB"):
        read_document("bomb.docx", buffer.getvalue(), 50 * MB)


def test_a_pdf_stops_being_read_at_the_character_limit_or_the_page_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = "Built Kafka consumers and Spring Boot services for a payment provider in Frankfurt."
    data = pdf_pages([line] * 12)
    with pytest.raises(UnreadableDocument, match="over 500 characters"):
        read_document("long.pdf", data, 50 * MB, max_chars=500)
    monkeypatch.setattr(documents, "PDF_MAX_PAGES", 10)
    with pytest.raises(UnreadableDocument, match="12 pages, over the limit of 10"):
        read_document("long.pdf", data, 50 * MB)


def test_oversized_files_are_not_read_and_the_batch_goes_on(tmp_path: Path, engine: Engine) -> None:
    folder = tmp_path / "cvs"
    folder.mkdir()
    (folder / "anna.txt").write_text(CV, encoding="utf-8")
    with open(folder / "video.pdf", "wb") as handle:
        handle.truncate(2 * 1024 * MB)  # sparse: 2 GB on paper, nothing on disk; reading it would show
    (folder / "long.txt").write_text(CV + "Kafka consumers for a bank. " * 10_000, encoding="utf-8")
    limits = Settings(SKILLMATCH_CV_MAX_BYTES=1 * MB, SKILLMATCH_CV_MAX_TEXT_CHARS=100_000)
    store = CvStore(session_factory(engine), OnnxEmbedder(), limits, today=date(2026, 11, 27))
    report = ingest_folder(folder, store)
    reasons = {Path(p.item).name: p.reason for p in report.problems}
    assert report.counts["added"] == 1
    assert "2048.0 MB, over the limit of 1.0 MB (SKILLMATCH_CV_MAX_BYTES); not read" in reasons["video.pdf"]
    assert "over 100,000 characters" in reasons["long.txt"]
    with store.sessions() as session:
        assert [d.display_name for d in session.scalars(select(CvDocument))] == ["anna.txt"]


def test_a_binary_renamed_to_pdf_is_named_for_what_it_is() -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
    with pytest.raises(UnreadableDocument, match="not a PDF: the file does not start with %PDF-"):
        read_document("interview.pdf", video, 50 * MB)
