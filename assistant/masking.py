"""Personal data out of traces and logs: e-mail addresses and phone numbers are masked in every string that
leaves the process.

- `mask` / `mask_text`: values we hand to Langfuse (`Langfuse(mask=langfuse_mask)` covers inputs, outputs
  and metadata; the telemetry layer masks status messages itself).
- `mask_attribute`: a raw OpenTelemetry attribute value at export time (trace_export.MaskingSpanExporter),
  which catches what the first layer cannot see: error texts the langfuse.openai wrapper records, span
  names, session/user/tags from `propagate_attributes`.
- `install_log_masking()`: every log record of the process, message, arguments and traceback alike. Call
  it once at start-up (`skillmatch chat` and `serve` do); `uninstall_log_masking()` undoes it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# International (+49 ..., 0049 ...) and national (030 ..., 0171-...) numbers with at least 7 digits.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ()/.\-]{5,}\d(?![\w])")
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
# A calendar date the phone pattern would otherwise swallow together with a number after it.
_LEADING_DATE = re.compile(r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)")


def _looks_like_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if digits < 7 or digits > 15:
        return False
    # Dates (2024-01-31), ranges (2019-2023) and plain years are not phone numbers.
    return not re.fullmatch(
        r"\d{4}[-./]\d{1,2}[-./]\d{1,4}|\d{4}\s*[-–]\s*\d{4}|\d{1,2}[./]\d{1,2}[./]\d{2,4}", candidate
    )


def _phone_or_kept(match: re.Match[str]) -> str:
    candidate = match.group()
    date = _LEADING_DATE.match(candidate)
    if date is not None:  # "2026-11-27 (1200 tokens)": keep the date, look at the rest on its own
        return candidate[: date.end()] + PHONE_RE.sub(_phone_or_kept, candidate[date.end() :])
    return PHONE_MASK if _looks_like_phone(candidate) else candidate


def mask_text(text: str) -> str:
    text = EMAIL_RE.sub(EMAIL_MASK, text)
    return PHONE_RE.sub(_phone_or_kept, text)


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


def mask_attribute(value: Any) -> Any:
    """An OpenTelemetry attribute value, masked. The Langfuse SDK JSON-encodes structured values, so a
    string holding JSON is masked inside (strings only: token counts and costs stay numbers); any other
    string as text; sequences item by item."""
    if isinstance(value, str):
        return _mask_json_text(value)
    if isinstance(value, list | tuple):
        return type(value)(mask_attribute(item) for item in value)
    return value


def _mask_json_text(value: str) -> str:
    stripped = value.lstrip()
    if not stripped.startswith(("{", "[", '"')):
        return mask_text(value)
    try:
        data = json.loads(value)
    except ValueError:
        return mask_text(value)
    masked = mask(data)
    return value if masked == data else json.dumps(masked, ensure_ascii=False)


# -- logs --

_previous_factory: Callable[..., logging.LogRecord] | None = None


def install_log_masking() -> None:
    """Mask e-mail addresses and phone numbers in every log record created from now on, in this process
    (any logger, any handler, library records included). Idempotent."""
    global _previous_factory
    if _previous_factory is not None:
        return
    previous = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _mask_record(record)
        return record

    _previous_factory = previous
    logging.setLogRecordFactory(masked_record)


def uninstall_log_masking() -> None:
    global _previous_factory
    if _previous_factory is not None:
        logging.setLogRecordFactory(_previous_factory)
        _previous_factory = None


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler reports it as usual
        return
    masked = mask_text(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        # Formatted now, as a Formatter would, so handlers print the masked text instead of formatting again.
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
