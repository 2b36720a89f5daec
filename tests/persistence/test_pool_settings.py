"""SKILLMATCH_DB_* settings reach the PostgreSQL engine; a bare URL still gets the same defaults."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from skillmatch.config import Settings
from skillmatch.db import create_db_engine, create_db_engine_from_settings


def connect_parameters(engine: Engine) -> dict[str, Any]:
    """What the driver's connect() was really called with."""
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _capture(dialect, record, cargs, cparams) -> None:  # type: ignore[no-untyped-def]
        seen.update(cparams)

    with engine.connect() as conn:
        conn.execute(text("select 1"))
    return seen


def test_the_pool_settings_have_documented_defaults() -> None:
    settings = Settings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (5, 5)
    assert (settings.db_pool_timeout, settings.db_connect_timeout) == (10.0, 5.0)


def test_the_pool_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMATCH_DB_POOL_SIZE", "12")
    monkeypatch.setenv("SKILLMATCH_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("SKILLMATCH_DB_POOL_TIMEOUT", "2.5")
    monkeypatch.setenv("SKILLMATCH_DB_CONNECT_TIMEOUT", "3")
    settings = Settings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (12, 0)
    assert (settings.db_pool_timeout, settings.db_connect_timeout) == (2.5, 3.0)


@pytest.mark.postgres
def test_postgres_engine_from_settings_applies_pool_and_connect_timeout(postgres_url: str) -> None:
    settings = Settings(
        DATABASE_URL=postgres_url,
        SKILLMATCH_DB_POOL_SIZE=3,
        SKILLMATCH_DB_MAX_OVERFLOW=1,
        SKILLMATCH_DB_POOL_TIMEOUT=4,
        SKILLMATCH_DB_CONNECT_TIMEOUT=7,
    )
    engine = create_db_engine_from_settings(settings)
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 1  # type: ignore[attr-defined]
        assert engine.pool.timeout() == 4  # type: ignore[attr-defined]
        assert engine.pool._pre_ping
        assert connect_parameters(engine)["connect_timeout"] == 7
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_bare_url_gets_the_default_pool_and_a_bounded_connect(postgres_url: str) -> None:
    engine = create_db_engine(postgres_url)
    try:
        assert engine.pool.size() == 5 and engine.pool._max_overflow == 5  # type: ignore[attr-defined]
        assert engine.pool.timeout() == 10  # type: ignore[attr-defined]
        assert connect_parameters(engine)["connect_timeout"] == 5
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connect_timeout_in_the_url_wins(postgres_url: str) -> None:
    engine = create_db_engine(f"{postgres_url}&connect_timeout=9", connect_timeout=3)
    try:
        assert str(connect_parameters(engine)["connect_timeout"]) == "9"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_hosting_provider_urls_use_the_installed_psycopg_driver(postgres_url: str) -> None:
    for scheme in ("postgres://", "postgresql://"):
        engine = create_db_engine(postgres_url.replace("postgresql+psycopg://", scheme, 1))
        try:
            assert engine.url.drivername == "postgresql+psycopg"
            assert connect_parameters(engine)
        finally:
            engine.dispose()
