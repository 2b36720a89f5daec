"""Settings of the conversation layer, on top of the domain's (one object, built at start-up)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, SecretStr, field_validator

from skillmatch.config import Settings

# USD per 1M tokens (input, output). Override with SKILLMATCH_LLM_PRICES='{"model": [in, out], ...}'.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
}


class AssistantSettings(Settings):
    # LLM providers, tried in this order; only configured ones take part.
    llm_providers: str = Field(default="openai,azure,vllm", alias="SKILLMATCH_LLM_PROVIDERS")
    openai_model: str = Field(default="gpt-4o-mini", alias="SKILLMATCH_OPENAI_MODEL")
    openai_timeout: float = Field(default=30.0, alias="SKILLMATCH_OPENAI_TIMEOUT")
    azure_openai_deployment: str | None = Field(default=None, alias="AZURE_OPENAI_DEPLOYMENT")
    azure_timeout: float = Field(default=30.0, alias="SKILLMATCH_AZURE_TIMEOUT")
    vllm_base_url: str | None = Field(default=None, alias="VLLM_BASE_URL")
    vllm_model: str | None = Field(default=None, alias="VLLM_MODEL")
    vllm_api_key: SecretStr = Field(default=SecretStr("EMPTY"), alias="VLLM_API_KEY")
    vllm_timeout: float = Field(default=60.0, alias="SKILLMATCH_VLLM_TIMEOUT")
    llm_retries: int = Field(default=1, alias="SKILLMATCH_LLM_RETRIES")  # per provider, before failover
    # Seconds one turn may wait for the model, over all calls, providers and retries; then the search answers.
    turn_timeout: float = Field(default=45.0, gt=0, alias="SKILLMATCH_TURN_TIMEOUT")
    llm_cooldown_seconds: float = Field(default=60.0, alias="SKILLMATCH_LLM_COOLDOWN")
    llm_temperature: float = Field(default=0.2, alias="SKILLMATCH_LLM_TEMPERATURE")
    llm_max_tokens: int = Field(default=1200, alias="SKILLMATCH_LLM_MAX_TOKENS")
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), alias="SKILLMATCH_LLM_PRICES"
    )

    # Langfuse: tracing is on only when both keys are set.
    langfuse_public_key: str | None = Field(default=None, alias="LANGFUSE_PUBLIC_KEY")
    langfuse_secret_key: SecretStr | None = Field(default=None, alias="LANGFUSE_SECRET_KEY")
    langfuse_base_url: str = Field(default="https://cloud.langfuse.com", alias="LANGFUSE_BASE_URL")
    langfuse_prompt_name: str = Field(default="skillmatch-system", alias="SKILLMATCH_PROMPT_NAME")
    langfuse_prompt_label: str = Field(default="production", alias="SKILLMATCH_PROMPT_LABEL")
    # Seconds a background export may take (the OTLP client's timeout), and the longest a command waits at
    # exit for traces still queued before it gives up on them.
    langfuse_export_timeout: float = Field(default=5.0, gt=0, alias="SKILLMATCH_TRACE_EXPORT_TIMEOUT")
    trace_flush_timeout: float = Field(default=2.0, ge=0, alias="SKILLMATCH_TRACE_FLUSH_TIMEOUT")

    # `skillmatch chat`: where log lines go instead of the terminal ("" keeps none).
    log_file: str | None = Field(default=None, alias="SKILLMATCH_LOG_FILE")

    # Conversation limits.
    history_token_budget: int = Field(default=6000, alias="SKILLMATCH_HISTORY_TOKENS")
    max_tool_steps: int = Field(default=6, alias="SKILLMATCH_MAX_TOOL_STEPS")
    max_message_chars: int = Field(default=4000, alias="SKILLMATCH_MAX_MESSAGE_CHARS")

    # Slack.
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")  # Socket Mode only
    slack_api_base_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_BASE_URL")
    slack_follow_threads: bool = Field(default=False, alias="SLACK_FOLLOW_THREADS")
    slack_ignore_bots: bool = Field(default=True, alias="SLACK_IGNORE_BOTS")
    slack_allowed_teams: str = Field(default="", alias="SLACK_ALLOWED_TEAMS")
    slack_allowed_channels: str = Field(default="", alias="SLACK_ALLOWED_CHANNELS")
    slack_allowed_users: str = Field(default="", alias="SLACK_ALLOWED_USERS")

    # Microsoft Teams (Microsoft 365 Agents SDK): the service connection's own names. Teams is on when
    # a client id is set, or when anonymous mode is asked for explicitly (local development only).
    teams_client_id: str | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
    )
    teams_client_secret: SecretStr | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET"
    )
    teams_tenant_id: str | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID"
    )
    teams_anonymous: bool = Field(
        default=False, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED"
    )
    teams_allowed_tenants: str = Field(default="", alias="TEAMS_ALLOWED_TENANTS")
    # Where the Bot Framework's token signing keys are; override only for sovereign clouds and tests.
    teams_jwks_url: str | None = Field(default=None, alias="TEAMS_JWKS_URL")
    teams_send_timeout: float = Field(default=15.0, gt=0, alias="TEAMS_SEND_TIMEOUT")

    # Serving.
    host: str = Field(default="0.0.0.0", alias="SKILLMATCH_HOST")
    port: int = Field(default=3000, alias="SKILLMATCH_PORT")
    max_concurrent_turns: int = Field(default=64, ge=1, alias="SKILLMATCH_MAX_CONCURRENT_TURNS")
    # Delivery (assistant/delivery): leases, takeover, order. A dead replica's threads are taken over
    # after at most lease + poll seconds.
    lease_seconds: float = Field(default=20.0, gt=0, alias="SKILLMATCH_LEASE_SECONDS")
    delivery_poll_seconds: float = Field(default=2.0, gt=0, alias="SKILLMATCH_DELIVERY_POLL_SECONDS")
    order_window_ms: int = Field(default=300, ge=0, alias="SKILLMATCH_ORDER_WINDOW_MS")
    max_turn_attempts: int = Field(default=2, ge=1, alias="SKILLMATCH_MAX_TURN_ATTEMPTS")
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, alias="SKILLMATCH_SHUTDOWN_GRACE_SECONDS")

    @field_validator("llm_prices", mode="before")
    @classmethod
    def _parse_prices(cls, value: Any) -> Any:
        if isinstance(value, str):
            parsed = json.loads(value)
            return {**DEFAULT_PRICES, **{k: tuple(v) for k, v in parsed.items()}}
        return value

    @property
    def tracing_enabled(self) -> bool:
        return bool(self.langfuse_public_key and self.langfuse_secret_key)

    @staticmethod
    def _listed(value: str) -> frozenset[str]:
        return frozenset(v.strip() for v in value.split(",") if v.strip())

    @property
    def allowed_teams(self) -> frozenset[str]:
        return self._listed(self.slack_allowed_teams)

    @property
    def allowed_channels(self) -> frozenset[str]:
        return self._listed(self.slack_allowed_channels)

    @property
    def allowed_users(self) -> frozenset[str]:
        return self._listed(self.slack_allowed_users)

    @property
    def allowed_tenants(self) -> frozenset[str]:
        return self._listed(self.teams_allowed_tenants)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_client_id) or self.teams_anonymous

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def provider_order(self) -> list[str]:
        return [p.strip().lower() for p in self.llm_providers.split(",") if p.strip()]

    # --- Jira staffing jobs (assistant/jobs, `skillmatch jobs jira-board|jira-ticket`; owner: jobs) --------
    # Which tickets are requests: `--project KEY` (or this default) AND the filter; `--jql` replaces both.
    jira_project: str | None = Field(default=None, alias="SKILLMATCH_JIRA_PROJECT")
    jira_request_filter: str = Field(default="statusCategory != Done", alias="SKILLMATCH_JIRA_REQUEST_FILTER")
    # Custom fields carrying the request's details: {"start"|"end"|"location"|"language"|"headcount": id}.
    jira_request_fields: dict[str, str] = Field(default_factory=dict, alias="SKILLMATCH_JIRA_FIELDS")
    jira_top: int = Field(default=5, ge=1, le=20, alias="SKILLMATCH_JIRA_TOP")
    jira_available_only: bool = Field(default=False, alias="SKILLMATCH_JIRA_AVAILABLE_ONLY")
    jira_min_availability: float = Field(
        default=0.5, ge=0.0, le=1.0, alias="SKILLMATCH_JIRA_MIN_AVAILABILITY"
    )
    jira_ask_for_details: bool = Field(default=False, alias="SKILLMATCH_JIRA_ASK_FOR_DETAILS")
    # Tickets processed at once by the board job (each may wait on the model and on Jira).
    jira_concurrency: int = Field(default=4, ge=1, le=64, alias="SKILLMATCH_JIRA_CONCURRENCY")
    jira_lease_seconds: float = Field(default=600.0, ge=30.0, alias="SKILLMATCH_JIRA_LEASE_SECONDS")
    jira_feedback_hint: str = Field(
        default="reply in this ticket or tell the staffing team", alias="SKILLMATCH_JIRA_FEEDBACK"
    )

    @field_validator("jira_request_fields")
    @classmethod
    def _request_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - {"start", "end", "location", "language", "headcount"}
        if unknown:
            raise ValueError(
                f"unknown keys {sorted(unknown)}: use start, end, location, language, headcount "
                '(e.g. {"start": "customfield_10015", "end": "duedate"})'
            )
        return {name: field.strip() for name, field in value.items() if field.strip()}
