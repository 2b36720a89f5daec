"""CV files of every supported format become text; every kind of bad file gets a reason, not a crash."""

from __future__ import annotations

import pytest

from skillmatch.documents import UnreadableDocument, read_document
from tests.builders import docx_bytes, pdf_bytes

LIMIT = 1_000_000


def test_markdown_loses_its_markup_but_keeps_headings() -> None:
    data = b"# Anna Schmidt\n\n**Senior** [Kotlin](https://x) developer for payment platforms\n"
    text = read_document("a.md", data, LIMIT).text
    assert text.startswith("# Anna Schmidt")
    assert "Senior Kotlin developer" in text


def test_text_in_windows_1252_is_decoded() -> None:
    data = "Jürgen Müller, Entwickler für Datenbanken und Schnittstellen".encode("cp1252")
    assert "Jürgen Müller" in read_document("cv.txt", data, LIMIT).text


def test_docx_reads_paragraphs_tables_and_headers() -> None:
    data = docx_bytes(
        ["Profile: backend developer with a long history in payments."],
        table=[["Skills", "Kotlin, Spring Boot"], ["Languages", "German (native)"]],
        header=["Jens Hoffmann | jens@example.com | Hamburg"],
        heading="Experience",
    )
    text = read_document("cv.docx", data, LIMIT).text
    assert "Jens Hoffmann | jens@example.com | Hamburg" in text  # page header
    assert "Skills | Kotlin, Spring Boot" in text  # table row
    assert "## Experience" in text  # heading style kept as a heading
    assert text.index("Jens Hoffmann") < text.index("Profile")


def test_pdf_text_is_extracted() -> None:
    data = pdf_bytes(["Maria Lopez", "Data Engineer with Spark, Airflow and dbt experience"])
    assert "Airflow and dbt" in read_document("cv.pdf", data, LIMIT).text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 50, "binary content"),
        ("corrupt.docx", docx_bytes(["x" * 100])[:300], "not a readable .docx"),
        ("fake.docx", b"this is plain text pretending to be a word document" * 3, "not a readable .docx"),
        ("corrupt.pdf", pdf_bytes(["text"])[:120], "not a readable PDF"),
        ("scanned.pdf", pdf_bytes([], text_layer=False), "no text layer"),
        ("sheet.xlsx", b"PK\x03\x04 whatever", "unsupported file type .xlsx"),
        ("noext", b"hello", "unsupported file type (no extension)"),
        ("tiny.md", b"# Hi", "no readable text"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableDocument) as excinfo:
        read_document(name, data, LIMIT)
    assert reason in str(excinfo.value)


def test_oversized_files_are_refused_before_parsing() -> None:
    with pytest.raises(UnreadableDocument, match=r"over the limit of 0.0 MB"):
        read_document("big.md", b"a" * 5000, 1000)
