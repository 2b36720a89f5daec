"""Assembling a streamed chat completion: text deltas, tool-call fragments, finish reason, usage."""

from __future__ import annotations

from typing import Any


class StreamAccumulator:
    def __init__(self) -> None:
        self._content: list[str] = []
        self._tools: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None

    @property
    def text_yielded(self) -> bool:
        return bool(self._content)

    def add(self, chunk: Any) -> str:
        """Take one chunk; return its text delta ("" for none)."""
        self.model = self.model or getattr(chunk, "model", None)
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        text = ""
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                text += delta.content
            for call in (delta.tool_calls if delta is not None else None) or []:
                slot = self._tools.setdefault(
                    call.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                )
                if call.id:
                    slot["id"] = call.id
                if call.function is not None:
                    slot["function"]["name"] += call.function.name or ""
                    slot["function"]["arguments"] += call.function.arguments or ""
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        if text:
            self._content.append(text)
        return text

    def content(self) -> str:
        return "".join(self._content)

    def tool_calls(self) -> list[dict[str, Any]]:
        return [self._tools[index] for index in sorted(self._tools)]
