"""Migrations started by several real processes at once (a `db upgrade` Job plus replicas that migrate at
start-up), and a migrator killed with SIGKILL halfway: the schema ends at head either way."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from skillmatch.db import create_db_engine, current_revision, is_schema_current, upgrade
from skillmatch.models import Base

# Each worker imports everything first, says "ready", and starts only when the test says "go": the
# processes then race from the same moment, which is when the unique constraints collided.
WORKER = textwrap.dedent(
    """
    import sys
    from assistant.cli import app
    from skillmatch.db import create_db_engine, ensure_schema

    kind, url = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    if kind == "db-upgrade":
        app(["db", "upgrade", "--database-url", url])
    else:  # what `serve`, `chat` and every other command do at start-up
        engine = create_db_engine(url)
        ensure_schema(engine)
        engine.dispose()
    """
)

# Migrates and kills itself (SIGKILL, no clean-up) right after the first ALTER TABLE, i.e. inside the
# second migration, after the first one's tables exist.
KILLED_MIGRATOR = textwrap.dedent(
    """
    import os, signal, sys
    from sqlalchemy import event
    from skillmatch.db import create_db_engine, upgrade

    engine = create_db_engine(sys.argv[1])

    @event.listens_for(engine, "after_cursor_execute")
    def _die(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("ALTER TABLE"):
            os.kill(os.getpid(), signal.SIGKILL)

    upgrade(engine)
    """
)


def race(url: str, kinds: list[str]) -> list[subprocess.CompletedProcess[str]]:
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, kind, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in kinds
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker, kind in zip(workers, kinds, strict=True):
            out, err = worker.communicate(timeout=120)
            results.append(subprocess.CompletedProcess([kind], worker.returncode, out, err))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def assert_at_head_without_drift(url: str) -> None:
    engine = create_db_engine(url)
    try:
        assert is_schema_current(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("round_", [1, 2, 3])
def test_db_upgrade_and_two_starting_servers_on_an_empty_postgres_schema_all_succeed(
    postgres_url: str, round_: int
) -> None:
    results = race(postgres_url, ["db-upgrade", "start-up", "start-up"])
    for result in results:
        assert result.returncode == 0, f"{result.args}: {result.stderr}"
        assert "Traceback" not in result.stderr
    assert_at_head_without_drift(postgres_url)


@pytest.mark.parametrize("round_", [1, 2])
def test_db_upgrade_and_two_starting_processes_on_a_new_sqlite_file_all_succeed(
    sqlite_url: str, round_: int
) -> None:
    results = race(sqlite_url, ["db-upgrade", "start-up", "start-up"])
    for result in results:
        assert result.returncode == 0, f"{result.args}: {result.stderr}"
    assert_at_head_without_drift(sqlite_url)


def test_a_migrator_killed_halfway_leaves_nothing_behind_and_the_next_run_finishes(database_url: str) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MIGRATOR, database_url], capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    engine = create_db_engine(database_url)
    try:
        # The first migration had finished and the second had begun: all of it was rolled back together.
        assert current_revision(engine) is None
        assert not inspect(engine).has_table("people")
        upgrade(engine)  # and the lock died with the killed process: this does not wait
    finally:
        engine.dispose()
    assert_at_head_without_drift(database_url)
