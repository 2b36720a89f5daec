"""Bytes of a CV file -> plain text, or a reason a user understands why it could not be read."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf")
MEDIA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
}
MIN_TEXT_CHARS = 40


class UnreadableDocument(Exception):
    """The file cannot become CV text; `str(exc)` is the reason shown to the user."""


@dataclass(frozen=True)
class ExtractedText:
    text: str
    media_type: str


def is_supported(name: str) -> bool:
    return PurePath(name).suffix.lower() in SUPPORTED_SUFFIXES


def read_document(name: str, data: bytes, max_bytes: int) -> ExtractedText:
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise UnreadableDocument(f"unsupported file type {shown}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    if not data:
        raise UnreadableDocument("the file is empty")
    if len(data) > max_bytes:
        raise UnreadableDocument(
            f"the file is {len(data) / 1_048_576:.1f} MB, over the limit of {max_bytes / 1_048_576:.1f} MB"
        )
    if suffix in (".md", ".markdown", ".txt"):
        text = _read_text(data)
        if suffix != ".txt":
            text = _strip_markdown(text)
    elif suffix == ".docx":
        text = _read_docx(data)
    else:
        text = _read_pdf(data)
    text = _tidy(text)
    if len(text) < MIN_TEXT_CHARS:
        raise UnreadableDocument("no readable text in the file (fewer than 40 characters)")
    return ExtractedText(text=text, media_type=MEDIA_TYPES[suffix])


def _read_text(data: bytes) -> str:
    sample = data[:8192]
    if b"\x00" in sample:
        raise UnreadableDocument("binary content where text was expected (contains NUL bytes)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise UnreadableDocument("the text encoding is neither UTF-8 nor Windows-1252")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if controls > max(8, len(text[:8192]) // 50):
        raise UnreadableDocument("binary content where text was expected (many control characters)")
    return text


_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")


def _strip_markdown(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    return _MD_EMPHASIS.sub("", text)


def _read_docx(data: bytes) -> str:
    try:
        from docx import Document
        from docx.opc.exceptions import PackageNotFoundError

        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableDocument(
            f"not a readable .docx file (corrupt or not a Word document: {exc})"
        ) from exc
    except Exception as exc:  # lxml errors on damaged XML parts and similar
        raise UnreadableDocument(f"not a readable .docx file ({type(exc).__name__}: {exc})") from exc

    lines: list[str] = []
    seen_parts: set[int] = set()
    for section in document.sections:
        for part in (section.header, section.first_page_header):
            if part is not None and not part.is_linked_to_previous and id(part._element) not in seen_parts:
                seen_parts.add(id(part._element))
                lines.extend(_block_lines(part))
    lines.extend(_block_lines(document))
    for section in document.sections:
        footer = section.footer
        if footer is not None and not footer.is_linked_to_previous and id(footer._element) not in seen_parts:
            seen_parts.add(id(footer._element))
            lines.extend(_block_lines(footer))
    return "\n".join(lines)


def _block_lines(container) -> list[str]:  # type: ignore[no-untyped-def]
    """Paragraphs and tables in document order; tables row by row, cells joined with ' | '."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                # Resolving a style is slow in python-docx; headings are short, so only short lines pay.
                heading = len(text) <= 60 and _is_heading_style(block)
                lines.append(f"## {text}" if heading else text)
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    lines.append(" | ".join(cells))
    return lines


def _is_heading_style(paragraph) -> bool:  # type: ignore[no-untyped-def]
    style = paragraph.style
    return style is not None and (style.name or "").startswith(("Heading", "Title"))


def _read_pdf(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise UnreadableDocument("the PDF is password-protected") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableDocument:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableDocument("the PDF is password-protected") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"not a readable PDF (corrupt: {exc})") from exc
    except Exception as exc:  # pypdf raises a wide range on damaged files
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    text = "\n".join(pages)
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise UnreadableDocument("the PDF has no text layer (a scanned image?); OCR is not supported")
    return text


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\x0c", "\n")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
