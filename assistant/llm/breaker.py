"""Per-provider health, shared by every request of a process: a circuit that opens after a provider failed
(skip it for the cool-down) and a note that a provider rejects tool requests (vLLM without a tool parser)."""

from __future__ import annotations

from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, cooldown_seconds: float, clock: Callable[[], float]) -> None:
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self._open_until: dict[str, float] = {}
        self._no_tools_until: dict[str, float] = {}

    def is_open(self, provider: str) -> bool:
        return self._open_until.get(provider, float("-inf")) > self.clock()

    def open_for(self, provider: str) -> float:
        """Seconds the circuit stays open (0 when closed)."""
        return max(self._open_until.get(provider, float("-inf")) - self.clock(), 0.0)

    def trip(self, provider: str) -> None:
        if self.cooldown_seconds > 0:
            self._open_until[provider] = self.clock() + self.cooldown_seconds

    def reset(self, provider: str) -> None:
        self._open_until.pop(provider, None)

    def rejects_tools(self, provider: str) -> bool:
        return self._no_tools_until.get(provider, float("-inf")) > self.clock()

    def note_rejects_tools(self, provider: str) -> None:
        self._no_tools_until[provider] = self.clock() + max(self.cooldown_seconds, 0.0)
