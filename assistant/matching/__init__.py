"""Matchers the assistant adds to the search: `llm` (a model re-ranks the hybrid's top candidates).

Importing this package registers them with `skillmatch.matching`; `assistant.cli` and the runtime do, so
`skillmatch search --matcher llm`, `skillmatch eval --compare hybrid,llm` and SKILLMATCH_MATCHER=llm work
while `skillmatch` itself never imports `assistant`.
"""

from __future__ import annotations

from assistant.config import AssistantSettings
from assistant.matching.llm import NAME, LLMMatcher
from skillmatch.config import Settings
from skillmatch.matching import Matcher, MatcherUnavailable, register_matcher

__all__ = ["LLMMatcher", "build_llm_matcher"]


class _OwnedLLMMatcher(LLMMatcher):
    """A matcher built for a command: it owns its ledger connection and tracing, and closes them."""

    def __init__(self, settings: AssistantSettings) -> None:
        from assistant.telemetry import Telemetry
        from skillmatch.db import create_db_engine_from_settings, ensure_schema, session_factory

        self._db = create_db_engine_from_settings(settings)
        ensure_schema(self._db)
        super().__init__(settings, telemetry=Telemetry(settings, session_factory(self._db)), session_id="cli")

    def close(self) -> None:
        super().close()
        self.telemetry.shutdown()
        self._db.dispose()


def build_llm_matcher(settings: Settings) -> Matcher:
    """From the domain settings of a command: the assistant's settings (providers, prices) read alongside."""
    full = settings if isinstance(settings, AssistantSettings) else AssistantSettings()
    full = full.model_copy(update={"database_url": settings.database_url})
    matcher = _OwnedLLMMatcher(full)
    if not matcher.llm.providers:
        matcher.close()
        raise MatcherUnavailable(
            "the llm matcher needs a language model: set OPENAI_API_KEY (or OPENAI_BASE_URL), "
            "AZURE_OPENAI_* or VLLM_BASE_URL and VLLM_MODEL"
        )
    return matcher


register_matcher(NAME, build_llm_matcher)
