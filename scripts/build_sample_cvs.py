"""Build the .docx and .pdf sample CVs and the deliberately broken files.

The content of the Word and PDF CVs lives in ``scripts/sample_cv_sources/*.txt`` in a small
markdown-like format (see ``parse_source``). The .md and .txt CVs are written by hand directly
in ``skillmatch/sample/cvs/`` and are not touched by this script.

Output is deterministic: document metadata and dates are fixed, zip entry timestamps in .docx
files are normalised and reportlab runs in invariant mode, so re-running the script produces
byte-identical files.

Usage::

    .venv/bin/python scripts/build_sample_cvs.py            # CVs + bad files
    .venv/bin/python scripts/build_sample_cvs.py --check    # fail if outputs are out of date
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "scripts" / "sample_cv_sources"
CV_DIR = REPO / "skillmatch" / "sample" / "cvs"
BAD_DIR = REPO / "skillmatch" / "sample" / "bad_cvs"

# Fixed metadata so that re-running the script does not change the files.
FIXED_DATE = dt.datetime(2026, 11, 2, 9, 0, 0)
ZIP_DATE = (2026, 11, 2, 9, 0, 0)
AUTHOR = "Example Consulting GmbH"


# --------------------------------------------------------------------------------------------
# Source format
# --------------------------------------------------------------------------------------------
#
#   output: cv_jane_doe.docx        (front matter, until the line "---")
#   title: Lebenslauf Jane Doe
#   language: de-DE
#   header: contact line            (optional; .docx only: goes into the page header)
#   ---
#   # Name                          -> document title
#   ## Section                      -> heading
#   ### Sub section                 -> sub heading (bold)
#   - bullet                        -> bullet item (continuation lines are indented)
#   | a | b |                       -> table row; consecutive rows form one table, first row = header
#   text lines                      -> paragraph; consecutive lines are joined, blank line ends it
#   **bold**                        -> bold run inside any text


@dataclass
class Block:
    kind: str  # title | h2 | h3 | para | bullet | table
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    path: Path
    meta: dict[str, str]
    blocks: list[Block]

    @property
    def output(self) -> str:
        return self.meta["output"]


def parse_source(path: Path) -> Source:
    raw = path.read_text(encoding="utf-8")
    head, sep, body = raw.partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: missing '---' after front matter")
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    for key in ("output", "title", "language"):
        if key not in meta:
            raise ValueError(f"{path}: front matter lacks {key!r}")

    blocks: list[Block] = []
    current: Block | None = None

    def flush() -> None:
        nonlocal current
        if current is not None:
            blocks.append(current)
            current = None

    for line in body.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped.startswith("### "):
            flush()
            blocks.append(Block("h3", stripped[4:]))
        elif stripped.startswith("## "):
            flush()
            blocks.append(Block("h2", stripped[3:]))
        elif stripped.startswith("# "):
            flush()
            blocks.append(Block("title", stripped[2:]))
        elif stripped.startswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if current is None or current.kind != "table":
                flush()
                current = Block("table")
            current.rows.append(cells)
        elif stripped.startswith("- "):
            flush()
            current = Block("bullet", stripped[2:])
        elif current is not None and current.kind in ("para", "bullet"):
            current.text += " " + stripped
        else:
            flush()
            current = Block("para", stripped)
    flush()
    return Source(path, meta, blocks)


BOLD_RE = re.compile(r"\*\*(.+?)\*\*")


def split_bold(text: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in BOLD_RE.finditer(text):
        if m.start() > pos:
            parts.append((text[pos : m.start()], False))
        parts.append((m.group(1), True))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


# --------------------------------------------------------------------------------------------
# .docx
# --------------------------------------------------------------------------------------------


def _add_runs(paragraph, text: str, bold: bool = False) -> None:
    for chunk, is_bold in split_bold(text):
        run = paragraph.add_run(chunk)
        run.bold = bold or is_bold


def render_docx(src: Source) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)

    section = doc.sections[0]
    header_text = src.meta.get("header")
    if header_text:
        hp = section.header.paragraphs[0]
        hp.text = header_text
        hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for run in hp.runs:
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)

    for block in src.blocks:
        if block.kind == "title":
            doc.add_heading(block.text, level=0)
        elif block.kind == "h2":
            doc.add_heading(block.text, level=1)
        elif block.kind == "h3":
            doc.add_heading(block.text, level=2)
        elif block.kind == "bullet":
            _add_runs(doc.add_paragraph(style="List Bullet"), block.text)
        elif block.kind == "para":
            _add_runs(doc.add_paragraph(), block.text)
        elif block.kind == "table":
            ncols = max(len(r) for r in block.rows)
            table = doc.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for i, row in enumerate(block.rows):
                cells = table.add_row().cells
                for j, value in enumerate(row):
                    cells[j].text = ""
                    _add_runs(cells[j].paragraphs[0], value, bold=(i == 0))
            doc.add_paragraph()

    props = doc.core_properties
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.title = src.meta["title"]
    props.language = src.meta["language"]
    props.subject = "Curriculum vitae (fictional sample data)"
    props.keywords = "CV, sample, fictional"
    props.comments = "Fictional person generated for the SkillMatch Assistant demo dataset."
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_printed = FIXED_DATE
    props.revision = 1

    buf = io.BytesIO()
    doc.save(buf)
    return normalise_zip(buf.getvalue())


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip archive with fixed timestamps and a stable entry order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        names = zin.namelist()
        # [Content_Types].xml must stay first for some consumers.
        names.sort(key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, zin.read(name))
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# .pdf
# --------------------------------------------------------------------------------------------

PDF_STYLES = {
    "title": ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=18, leading=22, spaceAfter=4),
    "h2": ParagraphStyle(
        "h2",
        fontName="Helvetica-Bold",
        fontSize=12,
        leading=15,
        spaceBefore=10,
        spaceAfter=4,
        textColor=colors.HexColor("#1f3a5f"),
    ),
    "h3": ParagraphStyle(
        "h3", fontName="Helvetica-Bold", fontSize=10, leading=13, spaceBefore=6, spaceAfter=2
    ),
    "para": ParagraphStyle(
        "para", fontName="Helvetica", fontSize=10, leading=13.5, spaceAfter=4, alignment=TA_LEFT
    ),
    "bullet": ParagraphStyle(
        "bullet", fontName="Helvetica", fontSize=10, leading=13.5, leftIndent=12, bulletIndent=2, spaceAfter=2
    ),
}


def _pdf_markup(text: str) -> str:
    return "".join(f"<b>{escape(t)}</b>" if b else escape(t) for t, b in split_bold(text))


def render_pdf(src: Source) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=src.meta["title"],
        author=AUTHOR,
        subject="Curriculum vitae (fictional sample data)",
        creator="scripts/build_sample_cvs.py",
        keywords="CV, sample, fictional",
        lang=src.meta["language"],
        invariant=1,
    )
    story = []
    for block in src.blocks:
        if block.kind == "table":
            data = [[Paragraph(_pdf_markup(c), PDF_STYLES["para"]) for c in row] for row in block.rows]
            table = Table(data, colWidths=[45 * mm, None])
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
            continue
        style = PDF_STYLES[block.kind]
        if block.kind == "bullet":
            story.append(Paragraph(_pdf_markup(block.text), style, bulletText="\u2013"))
        else:
            story.append(Paragraph(_pdf_markup(block.text), style))
        if block.kind == "title":
            story.append(Spacer(1, 2))
    doc.build(story)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Deliberately broken files for error-handling tests
# --------------------------------------------------------------------------------------------


def build_bad_files() -> dict[str, bytes]:
    rng = random.Random(20261127)
    files: dict[str, bytes] = {}
    files["empty.md"] = b""
    # Random bytes with NUL bytes and invalid UTF-8, saved with a .txt extension.
    files["binary.txt"] = b"\x00\x01\xff\xfe" + bytes(rng.randrange(256) for _ in range(1020)) + b"\x00" * 16

    # A real .docx cut off in the middle: valid zip signature, no central directory.
    docx_bytes = render_docx(
        Source(
            Path("corrupt"),
            {"output": "corrupt.docx", "title": "Corrupt", "language": "en-GB"},
            [Block("title", "Max Mustermann"), Block("para", "This document has been truncated on purpose.")],
        )
    )
    files["corrupt.docx"] = docx_bytes[:4096]

    # PDF header followed by garbage and no xref/trailer.
    files["corrupt.pdf"] = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pa" + bytes(rng.randrange(256) for _ in range(300))
    )

    # A "scanned" CV: valid PDF with a drawn rectangle only, no text layer at all.
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle("")
    c.setAuthor("")
    c.setFillColor(colors.HexColor("#d9d9d9"))
    c.rect(20 * mm, 40 * mm, 170 * mm, 230 * mm, stroke=1, fill=1)
    c.setFillColor(colors.HexColor("#8c8c8c"))
    c.rect(30 * mm, 240 * mm, 60 * mm, 20 * mm, stroke=0, fill=1)
    c.showPage()
    c.save()
    files["scanned.pdf"] = buf.getvalue()

    # Unsupported format: the start of a zip container named .xlsx (not a valid workbook).
    files["unsupported.xlsx"] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(
        rng.randrange(256) for _ in range(200)
    )
    return files


# --------------------------------------------------------------------------------------------


def build_all() -> dict[Path, bytes]:
    outputs: dict[Path, bytes] = {}
    for path in sorted(SOURCES.glob("*.txt")):
        src = parse_source(path)
        target = CV_DIR / src.output
        if target.suffix == ".docx":
            outputs[target] = render_docx(src)
        elif target.suffix == ".pdf":
            outputs[target] = render_pdf(src)
        else:
            raise ValueError(f"{path}: unsupported output {src.output}")
    for name, data in build_bad_files().items():
        outputs[BAD_DIR / name] = data
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify that the files are up to date")
    args = parser.parse_args(argv)

    outputs = build_all()
    stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(REPO)}")
        return 1 if stale else 0
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(outputs)} files ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
