"""Tool plumbing: the context a tool runs in, its result, flat records, TOON encoding and token counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import toon_format
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.cvparse import EMAIL_RE, PHONE_RE
from skillmatch.matching import Matcher
from skillmatch.search import Searcher
from skillmatch.tokencount import count_tokens

# Lists inside a record are joined with "; ": a comma would make TOON quote the value (more tokens).
LIST_SEPARATOR = "; "
TOON_DELIMITER = ","

Scalar = str | int | float | bool | None


@dataclass
class ToolContext:
    sessions: sessionmaker[Session]
    searcher: Searcher
    today: date
    matcher: Matcher | None = None  # SKILLMATCH_MATCHER: a re-ranking matcher for search_candidates


@dataclass
class ToolResult:
    name: str
    arguments: dict[str, Any]  # validated, normalised arguments (what actually ran)
    records: list[dict[str, Any]]  # same keys in every record, primitive values only
    content: str  # what the model sees: TOON, or a short plain message on error
    error: str | None
    tokens_toon: int  # o200k tokens of `content`
    tokens_json: int  # o200k tokens of the same payload as compact JSON
    status_text: str


class ToolError(Exception):
    """A failed lookup or an impossible request: the message becomes the tool's answer to the model."""


class Arguments(BaseModel):
    """Base of every tool's arguments: unknown names are refused, so a typo comes back as an error."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Output:
    """What a tool returns: one collection of flat records plus a few scalar fields (person, note)."""

    collection: str
    records: list[dict[str, Any]]
    extras: dict[str, Scalar] = field(default_factory=dict)


A = TypeVar("A", bound=Arguments)


@dataclass(frozen=True)
class Tool(Generic[A]):
    name: str
    description: str
    arguments: type[A]
    status: str
    run: Callable[[A, ToolContext], Output]


# --- flat records ----------------------------------------------------------------------------------


def scrub(text: str) -> str:
    """Personal contact data never reaches the model, whatever a CV or ticket happens to contain."""
    return PHONE_RE.sub("[phone removed]", EMAIL_RE.sub("[e-mail removed]", text))


def flat(value: Any) -> Scalar:
    """One primitive per field: lists joined, dates as ISO strings, whole floats as ints."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return scrub(" ".join(f"{k}:{v}" for k, v in value.items()))
    if isinstance(value, list | tuple | set):
        return scrub(LIST_SEPARATOR.join(str(flat(v)) for v in value))
    return scrub(str(value))


def flat_records(records: list[dict[str, Any]]) -> list[dict[str, Scalar]]:
    return [{key: flat(value) for key, value in record.items()} for record in records]


def trim(text: str | None, max_chars: int) -> str | None:
    """One line of at most `max_chars`, cut at a word boundary."""
    if text is None:
        return None
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    return text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


# --- encoding --------------------------------------------------------------------------------------


def compact_json(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def payload(output: Output) -> dict[str, Any]:
    """What the model sees, before encoding: {"<collection>": flat records, "note": ..., ...}."""
    data: dict[str, Any] = {output.collection: flat_records(output.records)}
    data.update({key: flat(value) for key, value in output.extras.items() if value is not None})
    return data


def encode_toon(data: dict[str, Any]) -> str:
    """The model-facing encoding (also what the token benchmark measures)."""
    return toon_format.dumps(data, delimiter=TOON_DELIMITER)


def succeeded(tool: Tool[Any], arguments: dict[str, Any], output: Output) -> ToolResult:
    data = payload(output)
    content = encode_toon(data)
    return ToolResult(
        name=tool.name,
        arguments=arguments,
        records=data[output.collection],
        content=content,
        error=None,
        tokens_toon=count_tokens(content),
        tokens_json=count_tokens(compact_json(data)),
        status_text=tool.status,
    )


def failed(name: str, arguments: dict[str, Any], message: str, status: str) -> ToolResult:
    return ToolResult(
        name=name,
        arguments=arguments,
        records=[],
        content=message,
        error=message,
        tokens_toon=count_tokens(message),
        tokens_json=count_tokens(compact_json({"error": message})),
        status_text=status,
    )
