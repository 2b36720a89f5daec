"""Fitting a chat history into a token budget without breaking tool-call pairs.

A history is cut into units: an assistant message with `tool_calls` together with the tool messages that
answer it, or any other single message. Units are dropped oldest first until the rest fits; a leading
system message and the newest unit always stay (without the current question there is nothing to answer,
so the newest unit may exceed a tiny budget on its own). A tool-call unit missing an answer, and a tool
message answering nothing, are dropped: chat APIs reject both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from skillmatch.tokencount import count_tokens

ENCODING = "o200k_base"
MESSAGE_OVERHEAD = 4  # role and separators, as OpenAI counts them per message


def message_tokens(message: dict[str, Any]) -> int:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = " ".join(p["text"] if p.get("type") == "text" else json.dumps(p) for p in content)
    parts = [content or "", message.get("name") or ""]
    if message.get("tool_calls"):
        parts.append(json.dumps(message["tool_calls"], separators=(",", ":"), ensure_ascii=False))
    return MESSAGE_OVERHEAD + sum(count_tokens(p, ENCODING) for p in parts if p)


def _units(messages: Sequence[dict[str, Any]]) -> list[list[int]]:
    units: list[list[int]] = []
    i = 0
    while i < len(messages):
        message = messages[i]
        if message.get("role") == "assistant" and message.get("tool_calls"):
            wanted = {call.get("id") for call in message["tool_calls"]}
            answered: set[Any] = set()
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                call_id = messages[j].get("tool_call_id")
                if call_id not in wanted or call_id in answered:
                    break
                answered.add(call_id)
                j += 1
            if answered == wanted:
                units.append(list(range(i, j)))
            i = j
        elif message.get("role") == "tool":
            i += 1
        else:
            units.append([i])
            i += 1
    return units


def fit(
    messages: Sequence[dict[str, Any]], budget_tokens: int, tokens: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The newest messages that fit `budget_tokens` (see the module docstring); `tokens` per message."""
    counts = list(tokens) if tokens is not None else [message_tokens(m) for m in messages]
    units = _units(messages)
    pinned: list[int] = []
    if units and messages[units[0][0]].get("role") == "system" and units[0][0] == 0:
        pinned = units.pop(0)
    total = sum(counts[i] for unit in [pinned, *units] for i in unit)
    start = 0
    while total > budget_tokens and start < len(units) - 1:
        total -= sum(counts[i] for i in units[start])
        start += 1
    return [messages[i] for unit in [pinned, *units[start:]] for i in unit]
