"""The block structure of Markdown as models write it, shared by the Slack and Teams renderers.

`fenced_blocks` splits a reply into prose and code (an unclosed fence, as in a cut-off reply, is still
code); `prose_items` splits prose into tables (a header line, a separator line, the rows) and single
lines. Each renderer turns these into its platform's markup; neither walks the text itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

FENCE = re.compile(r"^\s*(```|~~~)")
TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$")


def fenced_blocks(text: str) -> Iterator[tuple[bool, list[str]]]:
    """(is code, lines) in order; code lines without their fences, language tags dropped."""
    prose: list[str] = []
    code: list[str] | None = None
    for line in text.replace("\r\n", "\n").replace("\x00", "").split("\n"):
        if FENCE.match(line):
            if code is None:
                yield False, prose
                prose, code = [], []
            else:
                yield True, code
                code = None
            continue
        (prose if code is None else code).append(line)
    yield False, prose
    if code is not None:
        yield True, code


def prose_items(
    lines: list[str],
) -> Iterator[tuple[Literal["table"], list[str]] | tuple[Literal["line"], str]]:
    """("table", [header, *rows]) or ("line", line without trailing blanks or a hard-break backslash)."""
    i = 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and TABLE_SEP.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            yield "table", [lines[i], *lines[i + 2 : end]]
            i = end
            continue
        yield "line", lines[i].rstrip().removesuffix("\\")
        i += 1
