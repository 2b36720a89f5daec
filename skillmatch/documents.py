"""Bytes of a CV file -> plain text, or a reason a user understands why it could not be read.

Memory per file is bounded: a file over `max_bytes` is refused before it is parsed, and extraction stops
as soon as the text passes `max_chars` (page by page for PDF, block by block for Word, and for plain text
before decoding when the byte count already says so). A Word file whose XML would unpack to more than
`DOCX_MAX_XML_BYTES` is refused before it is unpacked. Library warnings (pypdf's "EOF marker not found")
are collected with the file they belong to instead of being printed on their own.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
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
DEFAULT_MAX_CHARS = 200_000  # about 80 pages of prose; a long CV has 20,000-60,000 characters
DOCX_MAX_XML_BYTES = 64 * 1_048_576  # the unpacked XML parts of a .docx (python-docx holds them in memory)
PDF_MAX_PAGES = 400


class UnreadableDocument(Exception):
    """The file cannot become CV text; `str(exc)` is the reason shown to the user."""


@dataclass(frozen=True)
class ExtractedText:
    text: str
    media_type: str
    warnings: tuple[str, ...] = ()  # what the reading library complained about, for this file


def is_supported(name: str) -> bool:
    return PurePath(name).suffix.lower() in SUPPORTED_SUFFIXES


def too_long(chars: int, max_chars: int) -> UnreadableDocument:
    return UnreadableDocument(
        f"the text is over {max_chars:,} characters ({chars:,}+; SKILLMATCH_CV_MAX_TEXT_CHARS); "
        "a CV is rarely over 60,000: is this file really a CV?"
    )


def read_document(
    name: str, data: bytes, max_bytes: int, max_chars: int = DEFAULT_MAX_CHARS
) -> ExtractedText:
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "(no extension)"
        raise UnreadableDocument(f"unsupported file type {shown}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    if not data:
        raise UnreadableDocument("the file is empty")
    if len(data) > max_bytes:
        raise UnreadableDocument(
            f"the file is {len(data) / 1_048_576:.1f} MB, over the limit of {max_bytes / 1_048_576:.1f} MB "
            "(SKILLMATCH_CV_MAX_BYTES)"
        )
    failure: UnreadableDocument | None = None
    with collected_warnings() as complaints:
        try:
            text = _extract(suffix, data, max_chars)
        except UnreadableDocument as exc:
            failure = exc
    if failure is not None:
        if not complaints:
            raise failure
        said = "; ".join(complaints[:3])
        raise UnreadableDocument(f"{failure} (the reader also reported: {said})") from failure
    text = _tidy(text)
    if len(text) < MIN_TEXT_CHARS:
        raise UnreadableDocument("no readable text in the file (fewer than 40 characters)")
    return ExtractedText(text=text, media_type=MEDIA_TYPES[suffix], warnings=tuple(complaints))


def _extract(suffix: str, data: bytes, max_chars: int) -> str:
    if suffix in (".md", ".markdown", ".txt"):
        text = _read_text(data, max_chars)
        return text if suffix == ".txt" else _strip_markdown(text)
    if suffix == ".docx":
        return _read_docx(data, max_chars)
    return _read_pdf(data, max_chars)


class _LibraryWarnings(logging.Handler):
    """While installed, the parsing libraries' log records go to the reading thread's list instead of the
    console; records of other threads pass on to the root logger as if they had propagated."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.sinks: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        sink = self.sinks.get(record.thread or 0)
        if sink is None:
            logging.getLogger().handle(record)
        elif record.levelno >= logging.WARNING:
            message = record.getMessage().strip()
            if message and message not in sink:
                sink.append(message)


_LIBRARY_LOGGERS = ("pypdf", "docx")
_HANDLER = _LibraryWarnings()
_HANDLER_LOCK = threading.Lock()
_PROPAGATE: dict[str, bool] = {}


@contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """Warnings the parsing libraries log or raise while this block runs in this thread, de-duplicated.

    pypdf logs through child loggers ("pypdf._reader"), so a filter on "pypdf" would not see them; the
    handler sits on the parent with propagation off while any thread reads a document."""
    ident = threading.get_ident()
    messages: list[str] = []
    with _HANDLER_LOCK:
        if not _HANDLER.sinks:
            for name in _LIBRARY_LOGGERS:
                logger = logging.getLogger(name)
                _PROPAGATE[name] = logger.propagate
                logger.addHandler(_HANDLER)
                logger.propagate = False
        _HANDLER.sinks[ident] = messages
    try:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter("always")
            yield messages
    finally:
        with _HANDLER_LOCK:
            del _HANDLER.sinks[ident]
            if not _HANDLER.sinks:
                for name in _LIBRARY_LOGGERS:
                    logger = logging.getLogger(name)
                    logger.removeHandler(_HANDLER)
                    logger.propagate = _PROPAGATE.pop(name, True)
    for warning in raised:
        message = str(warning.message).strip()
        if message and message not in messages:
            messages.append(message)


def _read_text(data: bytes, max_chars: int) -> str:
    if len(data) > 4 * max_chars:  # UTF-8 needs at most 4 bytes a character: over the limit undecoded
        raise too_long(len(data) // 4, max_chars)
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
    if len(text) > max_chars:
        raise too_long(len(text), max_chars)
    return text


_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")


def _strip_markdown(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    return _MD_EMPHASIS.sub("", text)


def _docx_xml_bytes(data: bytes) -> int:
    """What the XML parts of a .docx unpack to, from the zip directory (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(i.file_size for i in archive.infolist() if i.filename.endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableDocument(
            f"not a readable .docx file (corrupt or not a Word document: {exc})"
        ) from exc


def _read_docx(data: bytes, max_chars: int) -> str:
    unpacked = _docx_xml_bytes(data)
    if unpacked > DOCX_MAX_XML_BYTES:
        raise UnreadableDocument(
            f"the Word document unpacks to {unpacked / 1_048_576:.0f} MB of XML, over the limit of "
            f"{DOCX_MAX_XML_BYTES / 1_048_576:.0f} MB; save it again without embedded content"
        )
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

    lines = _Budget(max_chars)
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
    return "\n".join(lines.lines)


class _Budget:
    """Lines collected until their text passes the character limit; then reading stops with a reason."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self.lines: list[str] = []

    def extend(self, lines: Iterator[str]) -> None:
        for line in lines:
            self.chars += len(line) + 1
            if self.chars > self.max_chars:
                raise too_long(self.chars, self.max_chars)
            self.lines.append(line)


def _block_lines(container) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Paragraphs and tables in document order; tables row by row, cells joined with ' | '."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                # Resolving a style is slow in python-docx; headings are short, so only short lines pay.
                heading = len(text) <= 60 and _is_heading_style(block)
                yield f"## {text}" if heading else text
        elif isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                if cells:
                    yield " | ".join(cells)


def _is_heading_style(paragraph) -> bool:  # type: ignore[no-untyped-def]
    style = paragraph.style
    return style is not None and (style.name or "").startswith(("Heading", "Title"))


def _read_pdf(data: bytes, max_chars: int) -> str:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    if b"%PDF-" not in data[:1024]:
        raise UnreadableDocument("not a PDF: the file does not start with %PDF- (renamed from another type?)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise UnreadableDocument("the PDF is password-protected") from exc
        if len(reader.pages) > PDF_MAX_PAGES:
            raise UnreadableDocument(
                f"the PDF has {len(reader.pages)} pages, over the limit of {PDF_MAX_PAGES}: is this a CV?"
            )
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1]) + 1
            if chars > max_chars:
                raise too_long(chars, max_chars)
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
