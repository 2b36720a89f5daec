"""Builders for real .docx and .pdf files in tests (python-docx and reportlab, as real tools write them)."""

from __future__ import annotations

import io

from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def docx_bytes(
    paragraphs: list[str],
    *,
    table: list[list[str]] | None = None,
    header: list[str] | None = None,
    heading: str | None = None,
) -> bytes:
    document = Document()
    if header:
        for line in header:
            document.sections[0].header.add_paragraph(line)
    if heading:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(lines: list[str], *, text_layer: bool = True) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    y = 800
    if text_layer:
        for line in lines:
            pdf.drawString(50, y, line)
            y -= 16
    else:
        pdf.rect(50, 500, 300, 200, fill=1)  # a "scan": pixels, no text
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
