"""`skillmatch db upgrade|downgrade REV` as the README writes them, on both backends."""

from __future__ import annotations

import pytest
from click.testing import Result
from sqlalchemy import text
from typer.testing import CliRunner

from assistant.cli import app
from skillmatch.db import create_db_engine, current_revision

runner = CliRunner()


def db(*args: str, url: str) -> Result:
    return runner.invoke(app, ["db", *args, "--database-url", url])


def revision_of(url: str) -> str | None:
    engine = create_db_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def test_the_readme_forms_move_the_schema_up_and_down(database_url: str) -> None:
    assert "schema at revision 0001" in ok(db("upgrade", "0001", url=database_url))
    assert revision_of(database_url) == "0001"
    assert "schema at revision 0002" in ok(db("upgrade", "0002", url=database_url))
    assert "schema at revision 0001" in ok(db("downgrade", "0001", url=database_url))
    assert "schema at revision base" in ok(db("downgrade", "base", url=database_url))
    assert revision_of(database_url) is None
    ok(db("upgrade", "head", url=database_url))
    head = revision_of(database_url)
    assert head is not None and head >= "0002"
    ok(db("downgrade", "base", url=database_url))
    assert f"schema at revision {head}" in ok(db("upgrade", url=database_url))  # the default is head


@pytest.mark.parametrize("command", ["upgrade", "downgrade"])
def test_an_unknown_revision_lists_the_known_ones(sqlite_url: str, command: str) -> None:
    ok(db("upgrade", url=sqlite_url))
    result = db(command, "9999", url=sqlite_url)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "unknown revision '9999'" in result.stderr and "0001, 0002" in result.stderr
    assert revision_of(sqlite_url) is not None  # nothing happened


def test_upgrading_to_an_older_revision_says_to_downgrade(sqlite_url: str) -> None:
    ok(db("upgrade", url=sqlite_url))
    result = db("upgrade", "0001", url=sqlite_url)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "skillmatch db downgrade 0001" in result.stderr


def test_a_database_from_a_newer_release_is_refused_with_the_way_out(database_url: str) -> None:
    ok(db("upgrade", url=database_url))
    engine = create_db_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    for args in (["db", "upgrade"], ["search", "java"]):
        result = runner.invoke(app, [*args, "--database-url", database_url])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert "revision 0999, which this version of SkillMatch does not know" in result.stderr
    assert revision_of(database_url) == "0999"  # untouched
