"""The system prompt: versioned files in this folder, or Langfuse prompt management when configured.

Files are named `<name>.v<N>.md`; the highest N is current. With Langfuse, the prompt is fetched by name
and label (short timeout, cached by the SDK) with the file as fallback, and the version used is linked
to the generations.
"""

from __future__ import annotations

import logging
import re
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
    def __init__(self, langfuse: Any = None, *, name: str = "skillmatch-system", label: str = "production"):
        self.langfuse = langfuse
        self.name = name
        self.label = label
        self.file_text, self.file_version = latest_file()

    def system(self, today: date) -> Prompt:
        variables = {"today": today.isoformat()}
        if self.langfuse is not None:
            try:
                client = self.langfuse.get_prompt(
                    self.name,
                    label=self.label,
                    fallback=self.file_text,
                    cache_ttl_seconds=300,
                    fetch_timeout_seconds=2,
                    max_retries=0,
                )
                if not getattr(client, "is_fallback", False):
                    return Prompt(client.compile(**variables), f"langfuse:{client.version}", client)
            except Exception:  # Langfuse down or the prompt missing: the file serves, the turn goes on
                log.warning("langfuse: prompt %s/%s unavailable, using the file", self.name, self.label)
        return Prompt(render(self.file_text, **variables), f"file:v{self.file_version}")
