"""A process that logs at INFO (as `serve` does) hears from Alembic only when a revision is applied."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from skillmatch.db import create_db_engine, ensure_schema

    engine = create_db_engine(sys.argv[1])
    ensure_schema(engine)
    print("--- second start ---", file=sys.stderr, flush=True)
    ensure_schema(engine)
    engine.dispose()
    """
)


def test_alembic_says_one_line_per_applied_revision_and_nothing_when_current(sqlite_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, sqlite_url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stderr.split("--- second start ---\n")
    alembic_lines = [line for line in first.splitlines() if line.startswith("alembic")]
    assert alembic_lines, first
    assert all("Running upgrade" in line for line in alembic_lines), first
    assert [line for line in second.splitlines() if line.startswith("alembic")] == []
