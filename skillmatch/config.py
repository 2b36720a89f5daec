"""One settings object, built at start-up from the environment and `.env`, then passed in."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///skillmatch.db"
# PostgreSQL pool per process: pool_size + max_overflow connections at most, so replicas x that must stay
# below the server's max_connections.
DEFAULT_DB_POOL_SIZE = 5
DEFAULT_DB_MAX_OVERFLOW = 5
DEFAULT_DB_POOL_TIMEOUT = 10.0  # s a request waits for a free pooled connection
DEFAULT_DB_CONNECT_TIMEOUT = 5.0  # s for a new connection; libpq's default is to wait forever


class Settings(BaseSettings):
    """Environment variable names follow each ecosystem's own conventions (see README)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    db_pool_size: int = Field(default=DEFAULT_DB_POOL_SIZE, ge=1, alias="SKILLMATCH_DB_POOL_SIZE")
    db_max_overflow: int = Field(default=DEFAULT_DB_MAX_OVERFLOW, ge=0, alias="SKILLMATCH_DB_MAX_OVERFLOW")
    db_pool_timeout: float = Field(default=DEFAULT_DB_POOL_TIMEOUT, gt=0, alias="SKILLMATCH_DB_POOL_TIMEOUT")
    db_connect_timeout: float = Field(
        default=DEFAULT_DB_CONNECT_TIMEOUT, gt=0, alias="SKILLMATCH_DB_CONNECT_TIMEOUT"
    )

    # Embeddings: "offline" (MiniLM on onnxruntime), "static" (a model2vec folder), or "openai" / "azure"
    # (any OpenAI-compatible endpoint, e.g. a self-hosted model).
    embedder: str = Field(default="offline", alias="SKILLMATCH_EMBEDDER")
    embedder_model_path: str | None = Field(default=None, alias="SKILLMATCH_EMBEDDER_MODEL_PATH")
    embedder_threads: int | None = Field(default=None, alias="SKILLMATCH_EMBEDDER_THREADS")
    embedding_model: str = Field(default="text-embedding-3-small", alias="SKILLMATCH_EMBEDDING_MODEL")
    embedding_dimensions: int | None = Field(default=None, alias="SKILLMATCH_EMBEDDING_DIMENSIONS")
    embedding_batch_size: int = Field(default=64, alias="SKILLMATCH_EMBEDDING_BATCH_SIZE")
    embedding_max_tokens: int = Field(default=8000, alias="SKILLMATCH_EMBEDDING_MAX_TOKENS")
    embedding_base_url: str | None = Field(default=None, alias="SKILLMATCH_EMBEDDING_BASE_URL")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    azure_openai_api_key: SecretStr | None = Field(default=None, alias="AZURE_OPENAI_API_KEY")
    azure_openai_endpoint: str | None = Field(default=None, alias="AZURE_OPENAI_ENDPOINT")
    openai_api_version: str = Field(default="2024-10-21", alias="OPENAI_API_VERSION")

    # CV ingestion limits.
    cv_max_bytes: int = Field(default=20 * 1024 * 1024, alias="SKILLMATCH_CV_MAX_BYTES")
    cv_max_text_chars: int = Field(default=200_000, alias="SKILLMATCH_CV_MAX_TEXT_CHARS")

    # Search: the match quality (0..1) a result needs to count as a good match; see skillmatch.search.
    good_match: float = Field(default=0.55, ge=0.0, le=1.0, alias="SKILLMATCH_GOOD_MATCH")
    # Who decides the final order: "hybrid" (the search itself) or "llm" (a model re-ranks the search's
    # best SKILLMATCH_MATCHER_CANDIDATES with a reason each; registered by the assistant package). The
    # LLM call has SKILLMATCH_MATCHER_TIMEOUT seconds; then, or on an invalid answer, the hybrid order stands.
    matcher: str = Field(default="hybrid", alias="SKILLMATCH_MATCHER")
    matcher_candidates: int = Field(default=15, ge=2, le=40, alias="SKILLMATCH_MATCHER_CANDIDATES")
    matcher_timeout: float = Field(default=20.0, gt=0, alias="SKILLMATCH_MATCHER_TIMEOUT")
    # The company's own skills, aliases, German terms and product names (JSON), merged into the built-in
    # lexicon; see skillmatch/text/vocabulary.py. Changing it re-indexes every CV on the next ingestion.
    lexicon_file: str | None = Field(default=None, alias="SKILLMATCH_LEXICON_FILE")

    # SharePoint / Microsoft Graph (client credentials).
    graph_base_url: str = Field(default="https://graph.microsoft.com/v1.0", alias="GRAPH_BASE_URL")
    graph_authority_host: str = Field(
        default="https://login.microsoftonline.com", alias="GRAPH_AUTHORITY_HOST"
    )
    sharepoint_tenant_id: str | None = Field(default=None, alias="SHAREPOINT_TENANT_ID")
    sharepoint_client_id: str | None = Field(default=None, alias="SHAREPOINT_CLIENT_ID")
    sharepoint_client_secret: SecretStr | None = Field(default=None, alias="SHAREPOINT_CLIENT_SECRET")
    sharepoint_drive_id: str | None = Field(default=None, alias="SHAREPOINT_DRIVE_ID")
    sharepoint_folder: str = Field(default="", alias="SHAREPOINT_FOLDER")

    # Jira Cloud.
    jira_base_url: str | None = Field(default=None, alias="JIRA_BASE_URL")
    jira_email: str | None = Field(default=None, alias="JIRA_EMAIL")
    jira_api_token: SecretStr | None = Field(default=None, alias="JIRA_API_TOKEN")
    jira_jql: str = Field(default="assignee is not EMPTY ORDER BY updated ASC", alias="JIRA_JQL")

    # MOCO (ERP).
    moco_base_url: str | None = Field(default=None, alias="MOCO_BASE_URL")
    moco_api_key: SecretStr | None = Field(default=None, alias="MOCO_API_KEY")
    # MOCO requires a date window for activities; older time entries say little about current skills.
    moco_history_days: int = Field(default=730, alias="MOCO_HISTORY_DAYS")

    # HTTP behaviour shared by the remote sources.
    http_timeout_seconds: float = Field(default=30.0, alias="SKILLMATCH_HTTP_TIMEOUT")
    http_max_retries: int = Field(default=5, alias="SKILLMATCH_HTTP_MAX_RETRIES")
    http_max_backoff_seconds: float = Field(default=60.0, alias="SKILLMATCH_HTTP_MAX_BACKOFF")
    # A PEM bundle replacing the default trust store (TLS-inspecting proxies, the contract tests' fakes).
    http_ca_bundle: str | None = Field(default=None, alias="SKILLMATCH_HTTP_CA_BUNDLE")

    @property
    def moco_api_url(self) -> str | None:
        return self.moco_base_url.rstrip("/") if self.moco_base_url else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def package_path(*parts: str) -> Path:
    return Path(__file__).resolve().parent.joinpath(*parts)
