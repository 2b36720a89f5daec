"""The schema only changes through Alembic, and the migrations match the models on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from skillmatch.db import create_db_engine, current_revision, downgrade, is_schema_current, upgrade
from skillmatch.models import Base


def test_upgrade_to_head_then_downgrade_to_base(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine)
        assert is_schema_current(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables

        downgrade(engine, "base")
        assert current_revision(engine) is None
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()

        upgrade(engine)  # and back up again: downgrade left nothing behind that blocks it
        assert is_schema_current(engine)
    finally:
        engine.dispose()


def test_models_and_migrations_have_no_drift(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
