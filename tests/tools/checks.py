"""Assertions every tool result must pass."""

from __future__ import annotations

import json

import toon_format

from assistant.tools import ToolResult
from skillmatch.tokencount import count_tokens

PRIMITIVES = (str, int, float, bool, type(None))


def assert_ok(result: ToolResult, collection: str) -> dict:
    """No error, flat uniform records, and content that decodes back to exactly the payload."""
    assert result.error is None, result.error
    keys = [list(record) for record in result.records]
    assert all(k == keys[0] for k in keys), "every record has the same keys in the same order"
    for record in result.records:
        for key, value in record.items():
            assert isinstance(value, PRIMITIVES), f"{key} is {type(value).__name__}"
    payload = toon_format.loads(result.content)
    assert payload[collection] == result.records
    assert result.tokens_toon == count_tokens(result.content)
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    assert result.tokens_json == count_tokens(compact)
    assert result.status_text
    return payload


def assert_error(result: ToolResult, *fragments: str) -> None:
    assert result.error, result.content
    assert result.content == result.error
    assert result.records == []
    assert result.tokens_toon > 0
    for fragment in fragments:
        assert fragment.lower() in result.error.lower(), result.error
