"""Fixtures for the remote sources: started fakes, settings pointing at them, a wait recorder, a CV store
double, and helpers to drive the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

import skillmatch.cli.ingest_remote  # noqa: F401 - registers the commands on `ingest_app`
from skillmatch.cli import app
from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.ingest.cv_store import UpsertResult
from tests.fakes.graph import FakeGraph
from tests.fakes.jira import FakeJira
from tests.fakes.moco import FakeMoco

# Few retries keep the "fails persistently" tests short; the wait recorder makes them instant anyway.
TEST_RETRIES = 2


def make_settings(**aliases: Any) -> Settings:
    """Settings from explicit values only (no .env), with the test retry policy."""
    values: dict[str, Any] = {"SKILLMATCH_HTTP_MAX_RETRIES": TEST_RETRIES, "SKILLMATCH_HTTP_MAX_BACKOFF": 60}
    return Settings(_env_file=None, **(values | aliases))  # type: ignore[call-arg]


class Waits(list[float]):
    """Stands in for time.sleep: records each back-off instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def moco() -> Iterator[FakeMoco]:
    with FakeMoco() as fake:
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake
        assert not fake.errors, fake.errors


def jira_env(fake: FakeJira) -> dict[str, str]:
    return {"JIRA_BASE_URL": fake.base_url, "JIRA_EMAIL": fake.email, "JIRA_API_TOKEN": fake.api_token}


def moco_env(fake: FakeMoco) -> dict[str, str]:
    return {"MOCO_BASE_URL": fake.base_url, "MOCO_API_KEY": fake.api_key}


def graph_env(fake: FakeGraph) -> dict[str, str]:
    assert fake.ca_file
    return {
        "GRAPH_AUTHORITY_HOST": fake.authority_host,
        "GRAPH_BASE_URL": fake.base_url,
        "SKILLMATCH_HTTP_CA_BUNDLE": fake.ca_file,
        "SHAREPOINT_TENANT_ID": fake.tenant_id,
        "SHAREPOINT_CLIENT_ID": fake.client_id,
        "SHAREPOINT_CLIENT_SECRET": fake.client_secret,
        "SHAREPOINT_DRIVE_ID": fake.drive_id,
    }


# Every variable a developer's shell might carry into a CLI test; unset unless a test sets it.
_SOURCE_VARIABLES = [
    "JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_JQL", "MOCO_BASE_URL", "MOCO_API_KEY",
    "GRAPH_AUTHORITY_HOST", "GRAPH_BASE_URL", "SKILLMATCH_HTTP_CA_BUNDLE", "SHAREPOINT_TENANT_ID",
    "SHAREPOINT_CLIENT_ID", "SHAREPOINT_CLIENT_SECRET", "SHAREPOINT_DRIVE_ID", "SHAREPOINT_FOLDER",
    "DATABASE_URL",
]  # fmt: skip


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """`run_cli(["ingest", "jira"], env)`: no .env from the checkout, no stray source variables."""
    monkeypatch.chdir(tmp_path)

    def run(args: list[str], env: dict[str, str]) -> Result:
        full_env: dict[str, str | None] = dict.fromkeys(_SOURCE_VARIABLES)
        full_env |= {"SKILLMATCH_HTTP_MAX_RETRIES": "0", "COLUMNS": "200"} | env
        return CliRunner().invoke(app, args, env=full_env)

    return run


# --- a CvStore double ----------------------------------------------------------------------------------


@dataclass
class StoredDocument:
    source_kind: str
    display_name: str
    data: bytes
    modified_at: datetime | None
    web_url: str | None


class RecordingStore:
    """The CvStore contract in memory, recording each call as ("upsert"|"remove", source)."""

    def __init__(self) -> None:
        self.documents: dict[str, StoredDocument] = {}
        self.calls: list[tuple[str, str]] = []

    def upsert(
        self,
        *,
        source: str,
        source_kind: str,
        display_name: str,
        data: bytes,
        modified_at: datetime | None = None,
        web_url: str | None = None,
    ) -> UpsertResult:
        self.calls.append(("upsert", source))
        previous = self.documents.get(source)
        self.documents[source] = StoredDocument(source_kind, display_name, data, modified_at, web_url)
        if previous is None:
            return UpsertResult(source, "added")
        return UpsertResult(source, "unchanged" if previous.data == data else "updated")

    def remove(self, source: str) -> bool:
        self.calls.append(("remove", source))
        return self.documents.pop(source, None) is not None

    def known_sources(self, prefix: str) -> set[str]:
        return {source for source in self.documents if source.startswith(prefix)}

    def upserted(self) -> list[str]:
        return [source for call, source in self.calls if call == "upsert"]

    def removed(self) -> list[str]:
        return [source for call, source in self.calls if call == "remove"]
