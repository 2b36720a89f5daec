"""Engine and session factory; SQLite gets foreign keys and WAL, PostgreSQL a bounded pool and connect
timeout. Migrations run one process at a time per database: a PostgreSQL advisory lock (transaction
scoped, so a killed migrator releases it) or SQLite's BEGIN EXCLUSIVE, around one transaction."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import (
    DEFAULT_DB_CONNECT_TIMEOUT,
    DEFAULT_DB_MAX_OVERFLOW,
    DEFAULT_DB_POOL_SIZE,
    DEFAULT_DB_POOL_TIMEOUT,
    package_path,
)
from skillmatch.db_problems import TARGET_ATTRIBUTE, DatabaseProblem, DatabaseTarget, check_database_url

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from skillmatch.config import Settings

SQLITE_BUSY_TIMEOUT = 30  # s a writer waits for another one (and a migrator for another migrator)
# pg_advisory_xact_lock(namespace, key): the key is the schema, so tests in separate schemas do not queue.
MIGRATION_LOCK_NAMESPACE = 0x5C111  # arbitrary, fixed: "skill"


def _quiet_alembic() -> None:
    """Alembic announces its plugins and its context at INFO on every start; keep only what it applies."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(
        lambda record: record.levelno >= logging.WARNING or record.getMessage().startswith("Running ")
    )


_quiet_alembic()


def create_db_engine(
    url: str | URL,
    *,
    pool_size: int = DEFAULT_DB_POOL_SIZE,
    max_overflow: int = DEFAULT_DB_MAX_OVERFLOW,
    pool_timeout: float = DEFAULT_DB_POOL_TIMEOUT,
    connect_timeout: float = DEFAULT_DB_CONNECT_TIMEOUT,
    **kwargs: object,
) -> Engine:
    """An engine for a checked URL (a DatabaseProblem otherwise). The pool settings apply to PostgreSQL;
    SQLite gets its busy timeout and pragmas."""
    parsed = check_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        target = DatabaseTarget(parsed)
    else:
        connect_args: dict[str, object] = {}
        if "connect_timeout" not in parsed.query:  # a timeout in the URL wins
            # libpq counts whole seconds and treats anything below 2 as 2.
            connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout))
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            connect_args=connect_args,
            **kwargs,
        )
        timeout = parsed.query.get("connect_timeout", connect_args.get("connect_timeout"))
        target = DatabaseTarget(parsed, float(timeout) if isinstance(timeout, int | float | str) else None)

    def _remember_target(context) -> None:  # type: ignore[no-untyped-def]
        # Connection errors carry no URL; the CLI's one-line message needs to name host, port or file.
        if context.sqlalchemy_exception is not None:
            setattr(context.sqlalchemy_exception, TARGET_ATTRIBUTE, target)

    event.listen(engine, "handle_error", _remember_target)
    return engine


def create_db_engine_from_settings(settings: Settings, **kwargs: object) -> Engine:
    """`create_db_engine` with DATABASE_URL and the SKILLMATCH_DB_* pool settings."""
    return create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_timeout=settings.db_connect_timeout,
        **kwargs,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _prepare_sqlite_file(url: URL) -> None:
    """Create the directory and prove the file can be written, so the error names the path, not
    'unable to open database file' from deep inside the first query."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return
    path = Path(url.database).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseProblem(
            f"cannot create the directory {_existing_part(path.parent)} for the SQLite database "
            f"{path}: {exc.strerror}; set DATABASE_URL to a writable path"
        ) from None
    try:
        # O_CREAT without truncation: an existing database is opened, never changed; an empty new file
        # is a valid empty database.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except IsADirectoryError:
        raise DatabaseProblem(
            f"{path} is a directory: name a file in DATABASE_URL, e.g. {path}/skillmatch.db"
        ) from None
    except OSError as exc:
        what = "is not writable" if path.exists() else "cannot be created: the directory is not writable"
        raise DatabaseProblem(
            f"the SQLite database {path} {what} ({exc.strerror}): make {path.parent} writable or set "
            "DATABASE_URL to another path"
        ) from None
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseProblem(
            f"the directory of the SQLite database {path} is not writable: SQLite writes {path.name}-wal "
            f"and {path.name}-shm beside the file; make {path.parent} writable or set DATABASE_URL elsewhere"
        )


def _existing_part(path: Path) -> Path:
    """The deepest ancestor that exists as something: where mkdir actually failed."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrations_dir() -> Path:
    return package_path().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["database_url"] = engine.url.render_as_string(hide_password=False)
    return cfg


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that only one migrator per database holds at a time.

    Others wait, then find the schema current. Everything a migration does commits together or not at
    all, so a migrator killed halfway (kill -9, OOM, a node gone) leaves the previous revision behind
    and releases the lock with its connection.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, hashtext(coalesce(current_schema(), '')))"),
                {"namespace": MIGRATION_LOCK_NAMESPACE},
            )
            yield conn
        return
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            dbapi_connection = conn.connection.dbapi_connection
            saved = dbapi_connection.isolation_level  # type: ignore[union-attr]
            # Python's sqlite3 commits before every DDL statement unless it leaves transactions to us.
            dbapi_connection.isolation_level = None  # type: ignore[union-attr]
            try:
                conn.exec_driver_sql("BEGIN EXCLUSIVE")
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            finally:
                dbapi_connection.isolation_level = saved  # type: ignore[union-attr]
        return
    with engine.begin() as conn:  # pragma: no cover - only SQLite and PostgreSQL are supported
        yield conn


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    _check_revision(script, revision)
    with migration_lock(engine) as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and not _known(script, current):
            raise DatabaseProblem(
                f"the database schema is at revision {current}, which this version of SkillMatch does not "
                f"know (its newest is {script.get_current_head()}): run the release that migrated it, or "
                f"downgrade with that release's `skillmatch db downgrade {script.get_current_head()}`"
            )
        if direction == "upgrade" and current and _below(script, revision, current):
            raise DatabaseProblem(
                f"the database is at {current}, above {revision}: use `skillmatch db downgrade {revision}`"
            )
        cfg.attributes["connection"] = conn
        try:
            getattr(command, direction)(cfg, revision)
        except CommandError as exc:
            other = "downgrade" if direction == "upgrade" else "upgrade"
            raise DatabaseProblem(
                f"cannot {direction} to {revision}: the database is at {current or 'base'} "
                f"({exc}); use `skillmatch db {other} {revision}`"
            ) from None


def _known(script: ScriptDirectory, revision: str) -> bool:
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _symbolic(revision: str) -> bool:
    """head/base, relative steps and ranges: Alembic resolves them against the database."""
    return revision in ("head", "heads", "base") or any(mark in revision for mark in "+-:@")


def _below(script: ScriptDirectory, revision: str, current: str) -> bool:
    """True when `revision` is an older ancestor of `current` (Alembic would upgrade to it as a no-op)."""
    if _symbolic(revision) or not _known(script, revision) or revision == current:
        return False
    return any(
        r.revision == script.get_revision(revision).revision
        for r in script.iterate_revisions(current, "base")
    )


def _check_revision(script: ScriptDirectory, revision: str) -> None:
    if _symbolic(revision):
        return
    if not _known(script, revision):
        known = [r.revision for r in reversed(list(script.walk_revisions()))]
        raise DatabaseProblem(f"unknown revision {revision!r}: use head, base or one of {', '.join(known)}")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_schema(engine: Engine) -> None:
    """Bring the schema to head; cheap when it already is, so every entry point just calls it. Safe from
    several processes at once (see `migration_lock`)."""
    if not is_schema_current(engine):
        upgrade(engine)


def is_schema_current(engine: Engine) -> bool:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    return current_revision(engine) == head and inspect(engine).has_table("people")


def insert_ignoring_conflicts(session: Session, model: type, rows: list[dict[str, object]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: concurrent writers of the same key both succeed."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(model).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(model).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        session.execute(model.__table__.insert(), rows)  # type: ignore[attr-defined]
