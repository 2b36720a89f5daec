"""The system prompt: versioned files in this folder, or Langfuse prompt management when configured.

Files are named `<name>.v<N>.md`; the highest N is current. With Langfuse, the prompt is fetched by name
and label on a background thread and refreshed every few minutes; a turn never waits for Langfuse: until
the first fetch succeeds (or while Langfuse is down) the file serves. The version used is linked to the
generations.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
PROMPT_DIR = Path(__file__).resolve().parent
_FILE_RE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.md$")


@dataclass(frozen=True)
class Prompt:
    text: str
    version: str  # "file:v1" or "langfuse:<version>"
    langfuse_prompt: Any = None  # the Langfuse prompt client to link, when the text came from Langfuse


def latest_file(name: str = "system", directory: Path = PROMPT_DIR) -> tuple[str, int]:
    versions = [
        (int(m.group("version")), path)
        for path in directory.iterdir()
        if (m := _FILE_RE.match(path.name)) and m.group("name") == name
    ]
    if not versions:
        raise FileNotFoundError(f"no prompt file {name}.v<N>.md in {directory}")
    version, path = max(versions)
    return path.read_text(encoding="utf-8"), version


def render(template: str, **variables: str) -> str:
    """Langfuse's {{variable}} syntax, so a prompt edited in Langfuse works the same as the file."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: variables.get(m.group(1), m.group(0)), template)


class PromptProvider:
    REFRESH_SECONDS = 300.0

    def __init__(
        self,
        langfuse: Any = None,
        *,
        name: str = "skillmatch-system",
        label: str = "production",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.langfuse = langfuse
        self.name = name
        self.label = label
        self.clock = clock
        self.file_text, self.file_version = latest_file()
        self._remote: Any = None  # the last Langfuse prompt client fetched
        self._checked_at: float | None = None
        self._lock = threading.Lock()
        self._refreshing = False

    def refresh(self) -> None:
        """Fetch from Langfuse now (blocking; call at start-up or from a background thread)."""
        try:
            client = self.langfuse.get_prompt(
                self.name,
                label=self.label,
                fallback=self.file_text,
                cache_ttl_seconds=0,
                fetch_timeout_seconds=2,
                max_retries=0,
            )
            remote = None if getattr(client, "is_fallback", False) else client
        except Exception:  # Langfuse down, or no such prompt: the file serves
            log.warning("langfuse: prompt %s/%s unavailable, using the file", self.name, self.label)
            remote = self._remote  # a prompt fetched before stays in use through an outage
        with self._lock:
            self._remote = remote
            self._checked_at = self.clock()
            self._refreshing = False

    def system(self, today: date) -> Prompt:
        variables = {"today": today.isoformat()}
        if self.langfuse is not None:
            self._refresh_in_background_when_stale()
            remote = self._remote
            if remote is not None:
                return Prompt(remote.compile(**variables), f"langfuse:{remote.version}", remote)
        return Prompt(render(self.file_text, **variables), f"file:v{self.file_version}")

    def _refresh_in_background_when_stale(self) -> None:
        with self._lock:
            stale = self._checked_at is None or self.clock() - self._checked_at >= self.REFRESH_SECONDS
            if not stale or self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self.refresh, name="prompt-refresh", daemon=True).start()
