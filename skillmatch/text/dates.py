"""Date ranges in CVs: "2019 – 2023", "03/2019 – heute", "Jan 2020 - present", "seit 2021", "since 2018"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = (
    r"(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:ar(?:ch)?|ärz|aerz)|apr(?:il)?|ma[iy]|jun[ie]?|jul[iy]?|"
    r"aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)\.?"
)
_POINT = rf"(?:(?:\d{{1,2}}[./]\s?)|(?:{_MONTH}\s+))?((?:19|20)\d{{2}})"
_OPEN_END = r"(present|today|now|current|currently|ongoing|heute|aktuell|dato|jetzt|laufend|gegenwart)"
RANGE_RE = re.compile(
    rf"{_POINT}\s*(?:–|—|-|to|bis|until)\s*(?:{_POINT}|(?:bis\s+)?{_OPEN_END})", re.IGNORECASE
)
SINCE_RE = re.compile(rf"\b(?:since|seit|from|ab)\s+{_POINT}", re.IGNORECASE)
YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class YearRange:
    start: int
    end: int
    open_ended: bool
    span: tuple[int, int]


def find_ranges(text: str, current_year: int) -> list[YearRange]:
    ranges: list[YearRange] = []
    for m in RANGE_RE.finditer(text):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else current_year
        if start <= end <= current_year + 1:
            ranges.append(YearRange(start, end, m.group(2) is None, m.span()))
    taken = [r.span for r in ranges]
    for m in SINCE_RE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        start = int(m.group(1))
        if start <= current_year:
            ranges.append(YearRange(start, current_year, True, m.span()))
    ranges.sort(key=lambda r: r.span)
    return ranges


def latest_year(text: str, current_year: int) -> int | None:
    """The most recent year a passage speaks of: a range's end, else the largest plausible year."""
    ranges = find_ranges(text, current_year)
    if ranges:
        return max(r.end for r in ranges)
    years = [int(y) for y in YEAR_RE.findall(text) if 1970 <= int(y) <= current_year]
    return max(years) if years else None
