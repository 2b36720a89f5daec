"""Personal data out of traces and logs: e-mail addresses and phone numbers are masked before export."""

from __future__ import annotations

import re
from typing import Any

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# International (+49 ..., 0049 ...) and national (030 ..., 0171-...) numbers with at least 7 digits.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ()/.\-]{5,}\d(?![\w])")
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"


def _looks_like_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if digits < 7 or digits > 15:
        return False
    # Dates (2024-01-31), ranges (2019-2023) and plain years are not phone numbers.
    return not re.fullmatch(
        r"\d{4}[-./]\d{1,2}[-./]\d{1,4}|\d{4}\s*[-–]\s*\d{4}|\d{1,2}[./]\d{1,2}[./]\d{2,4}", candidate
    )


def mask_text(text: str) -> str:
    text = EMAIL_RE.sub(EMAIL_MASK, text)
    return PHONE_RE.sub(lambda m: PHONE_MASK if _looks_like_phone(m.group()) else m.group(), text)


def mask(data: Any) -> Any:
    """Strings anywhere inside dicts, lists and tuples, masked; everything else unchanged."""
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict):
        return {key: mask(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(mask(item) for item in data)
    return data


def langfuse_mask(*, data: Any, **_: Any) -> Any:
    """The signature Langfuse(mask=...) calls."""
    return mask(data)
