"""Fitting a request into a model's context window after a context-length error.

A request is: leading system messages, older conversation, then the current part: the newest user message
(the question) and everything after it (this turn's tool rounds). Only older conversation may go, whole
turns at a time (a user message up to the next one, so a tool call never loses its results), oldest
first. The system prompt, the question and the current tool rounds always stay: without them there is
nothing to answer. When only they are left and still too long, the router asks the next provider.
"""

from __future__ import annotations

from typing import Any

from assistant.llm.calls import message_tokens


def _split(
    messages: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """(system head, older turns, current part)."""
    head_end = 0
    while head_end < len(messages) and messages[head_end].get("role") == "system":
        head_end += 1
    users = [i for i in range(head_end, len(messages)) if messages[i].get("role") == "user"]
    # Without a user message (a malformed history) the last message stands in for the question.
    current_start = users[-1] if users else max(len(messages) - 1, head_end)
    turns: list[list[dict[str, Any]]] = []
    for message in messages[head_end:current_start]:
        if message.get("role") == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return messages[:head_end], turns, messages[current_start:]


def trim_older_turns(messages: list[dict[str, Any]], drop_at_least: int) -> list[dict[str, Any]] | None:
    """Drop the oldest turns until at least `drop_at_least` tokens are gone (or every older turn is);
    None when there is no older turn to drop."""
    head, turns, current = _split(messages)
    if not turns:
        return None
    dropped = start = 0
    while start < len(turns) and dropped < drop_at_least:
        dropped += sum(message_tokens(m) for m in turns[start])
        start += 1
    return [*head, *(m for turn in turns[start:] for m in turn), *current]
