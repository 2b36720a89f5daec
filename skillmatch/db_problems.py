"""Database problems an operator can fix, each as one line: what is wrong and what to do about it.

`check_database_url` runs before an engine exists. It accepts what hosting providers hand out
(`postgres://...`, `postgresql://...`) by naming the installed psycopg driver, and refuses what cannot
work: unknown schemes and drivers, a password with an unescaped '@', and `sqlite://name.db`, which
SQLAlchemy would silently open as an empty in-memory database.

`explain` turns an error raised later (connecting, a lost connection, a locked or foreign SQLite file,
an exhausted pool) into a `DatabaseProblem`. It returns None for everything else: a ProgrammingError or an
IntegrityError is a bug and keeps its traceback.

No message contains the password: URLs are shown with it masked, and it is scrubbed from any server text
that is quoted. Exit codes: 2 means fix the configuration (as for usage errors and the jobs' configuration
errors), 75 (EX_TEMPFAIL) means the database was unreachable or busy and the same command may succeed
later, which is what cron and Kubernetes Jobs can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

EX_CONFIG = 2
EX_TEMPFAIL = 75
EXAMPLES = "sqlite:///path/to/skillmatch.db or postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME"
POSTGRES_DRIVER = "postgresql+psycopg"


class DatabaseProblem(Exception):
    """A database problem the user can act on; `message` is the whole story in one line."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.temporary = temporary

    @property
    def exit_code(self) -> int:
        return EX_TEMPFAIL if self.temporary else EX_CONFIG


@dataclass(frozen=True)
class DatabaseTarget:
    """What an engine was connecting to, attached to its errors so that `explain` can name it."""

    url: URL
    connect_timeout: float | None = None


TARGET_ATTRIBUTE = "skillmatch_target"


def display_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def mask_password(text: str) -> str:
    """Mask the password in a URL that may not even parse: everything between the first ':' of the
    user part and the last '@' goes (over-masking is fine, leaking is not)."""
    if "@" not in text:
        return text
    userinfo, _, rest = text.rpartition("@")
    start = userinfo.find("//") + 2 if "//" in userinfo else 0
    colon = userinfo.find(":", start)
    if colon < 0:
        return text
    return f"{userinfo[: colon + 1]}***@{rest}"


def check_database_url(raw: str | URL) -> URL:
    """The URL SQLAlchemy should get, or a DatabaseProblem saying what to write instead."""
    if isinstance(raw, URL):
        return _check_parsed(raw)
    text = raw.strip()
    if not text:
        raise DatabaseProblem(f"DATABASE_URL is empty: set it (or --database-url) to {EXAMPLES}")
    if "://" not in text:
        raise DatabaseProblem(f"{mask_password(text)!r} is not a valid database URL: write {EXAMPLES}")
    try:
        url = make_url(text)
    except ValueError:  # make_url's int() of the port
        raise DatabaseProblem(
            f"the port in {mask_password(text)!r} is not a number: write HOST:5432 (or leave the port out)"
        ) from None
    except sa_exc.ArgumentError:
        raise DatabaseProblem(
            f"{mask_password(text)!r} is not a valid database URL: write {EXAMPLES}"
        ) from None
    return _check_parsed(url, text)


def _check_parsed(url: URL, text: str | None = None) -> URL:
    backend, _, driver = url.drivername.lower().partition("+")
    if backend in ("postgres", "postgresql"):
        if url.host and "@" in url.host:
            # make_url split at the first '@'; the rest of the password now looks like part of the host.
            raise DatabaseProblem(
                "the password in DATABASE_URL contains an '@' (or the URL has two): percent-encode it in the "
                "password (@ is %40, : is %3A, / is %2F)"
            )
        fixed = url.set(drivername=POSTGRES_DRIVER)
        if driver not in ("", "psycopg"):
            raise DatabaseProblem(
                f"the PostgreSQL driver {driver!r} is not installed; psycopg is: write {display_url(fixed)}"
            )
        return fixed
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise DatabaseProblem(
                f"the SQLite driver {driver!r} is not supported: write sqlite:///path/to/file.db"
            )
        if url.host:
            name = f"{url.host}/{url.database}" if url.database else url.host
            raise DatabaseProblem(
                f"sqlite://{name} names no file (SQLite would use an empty in-memory database): write "
                f"sqlite:///{name} with three slashes for a relative path, four for an absolute one"
            )
        return url.set(drivername="sqlite")
    raise DatabaseProblem(f"database {backend!r} is not supported: use {EXAMPLES}")


# --- errors raised while connecting or migrating ------------------------------------------------------


def explain(error: BaseException) -> DatabaseProblem | None:
    """The first database problem in an exception's chain, as one line; None when it is not one."""
    for item in _chain(error):
        if isinstance(item, DatabaseProblem):
            return item
        problem = _explain_one(item)
        if problem is not None:
            return problem
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    item: BaseException | None = error
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        yield item
        item = item.__cause__ or item.__context__


def _explain_one(error: BaseException) -> DatabaseProblem | None:
    target: DatabaseTarget | None = getattr(error, TARGET_ATTRIBUTE, None)
    if isinstance(error, sa_exc.TimeoutError):  # the pool's, not the network's
        return DatabaseProblem(
            f"all database connections stayed busy ({error}): try again, or raise SKILLMATCH_DB_POOL_SIZE "
            "and SKILLMATCH_DB_MAX_OVERFLOW",
            temporary=True,
        )
    # Operational and interface errors are the environment's by definition; a plain DatabaseError is what
    # sqlite3 raises for a file that is not a database. Its subclasses (integrity, programming) are bugs.
    if not (
        isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
        or type(error) is sa_exc.DatabaseError
    ):
        return None
    original = error.orig if error.orig is not None else error
    detail = _scrub(str(original), target)
    module = type(original).__module__
    if module.startswith("sqlite3") or (target and target.url.get_backend_name() == "sqlite"):
        return _explain_sqlite(detail, target)
    if module.startswith("psycopg") or (target and target.url.get_backend_name() == "postgresql"):
        return _explain_postgres(original, detail, target)
    return None


def _scrub(text: str, target: DatabaseTarget | None) -> str:
    password = target.url.password if target else None
    if password:
        text = text.replace(str(password), "***")
    return text


def _first_line(text: str) -> str:
    return " ".join(text.strip().splitlines()[:1]).strip()


def _explain_sqlite(detail: str, target: DatabaseTarget | None) -> DatabaseProblem:
    path = target.url.database if target and target.url.database else "the SQLite database"
    lowered = detail.lower()
    if "unable to open database file" in lowered:
        return DatabaseProblem(
            f"cannot open the SQLite database {path}: check that its directory exists and is writable, or "
            "set DATABASE_URL to another path"
        )
    if "readonly database" in lowered:
        return DatabaseProblem(
            f"the SQLite database {path} is read-only: make the file and its directory writable (SQLite "
            "writes -wal and -shm files beside it), or set DATABASE_URL to another path"
        )
    if "database is locked" in lowered or "database table is locked" in lowered:
        return DatabaseProblem(
            f"the SQLite database {path} stayed locked by another process: try again; several processes "
            "writing at once need PostgreSQL",
            temporary=True,
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return DatabaseProblem(
            f"{path} is not an SQLite database (or is damaged): set DATABASE_URL to a new file or the right "
            "one"
        )
    if "disk is full" in lowered or "disk i/o error" in lowered:
        return DatabaseProblem(f"the SQLite database {path} cannot be written: {detail}", temporary=True)
    return DatabaseProblem(f"the SQLite database {path} failed: {_first_line(detail)}")


_QUOTED = r'"([^"]*)"'


def _explain_postgres(original: BaseException, detail: str, target: DatabaseTarget | None) -> DatabaseProblem:
    url = target.url if target else None
    where = f"{url.host or 'localhost'}:{url.port or 5432}" if url else "the PostgreSQL server"
    database = url.database if url and url.database else None
    user = url.username if url and url.username else None
    lowered = detail.lower()
    server = _server_message(detail)
    if "timeout" in type(original).__name__.lower() or "timeout expired" in lowered:
        seconds = (
            f"{target.connect_timeout:g} s" if target and target.connect_timeout else "the connect timeout"
        )
        return DatabaseProblem(
            f"PostgreSQL at {where} did not answer within {seconds}: check host, port and firewall "
            "(or raise SKILLMATCH_DB_CONNECT_TIMEOUT)",
            temporary=True,
        )
    if "connection refused" in lowered:
        return DatabaseProblem(
            f"cannot connect to PostgreSQL at {where} (connection refused): is PostgreSQL running there, and "
            "are host and port in DATABASE_URL right?",
            temporary=True,
        )
    if "translate host name" in lowered or "name or service not known" in lowered or "nodename" in lowered:
        host = url.host if url else "the host"
        return DatabaseProblem(
            f"the database host {host!r} is not known (DNS): check the host in DATABASE_URL", temporary=True
        )
    if match := re.search(r"database " + _QUOTED + r" does not exist", detail):
        name = match.group(1)
        return DatabaseProblem(
            f'database "{name}" does not exist on {where}: create it (createdb -h {where.split(":")[0]} '
            f"{name}, or CREATE DATABASE {name}) or fix the database name in DATABASE_URL"
        )
    if match := re.search(r"role " + _QUOTED + r" does not exist", detail):
        return DatabaseProblem(
            f'PostgreSQL at {where} has no user "{match.group(1)}": fix the user in DATABASE_URL '
            "or create the role"
        )
    if "password authentication failed" in lowered:
        return DatabaseProblem(
            f'PostgreSQL at {where} refused the password for user "{user}": check user and password in '
            "DATABASE_URL (special characters in the password must be percent-encoded)"
        )
    if "no password supplied" in lowered or "fe_sendauth" in lowered:
        return DatabaseProblem(
            f"PostgreSQL at {where} wants a password: add it to DATABASE_URL "
            "(postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME)"
        )
    if "pg_hba.conf" in lowered:
        return DatabaseProblem(
            f"PostgreSQL at {where} does not accept this client, user or database (pg_hba.conf): {server}"
        )
    if "starting up" in lowered or "shutting down" in lowered or "recovery" in lowered:
        return DatabaseProblem(
            f"PostgreSQL at {where} is not ready ({server}): try again shortly", temporary=True
        )
    if "too many clients" in lowered or "connection slots" in lowered:
        return DatabaseProblem(
            f"PostgreSQL at {where} has no free connection slots ({server}): try again, or lower "
            "SKILLMATCH_DB_POOL_SIZE across replicas",
            temporary=True,
        )
    if "server closed the connection" in lowered or "terminating connection" in lowered or "lost" in lowered:
        return DatabaseProblem(
            f"the connection to PostgreSQL at {where} was lost ({server}): try again", temporary=True
        )
    suffix = f"/{database}" if database else ""
    return DatabaseProblem(f"PostgreSQL at {where}{suffix} failed: {server}", temporary=True)


def _server_message(detail: str) -> str:
    """libpq's text without the 'connection to server at ... failed:' preamble, on one line."""
    line = _first_line(detail)
    if "failed: " in line:
        line = line.rsplit("failed: ", 1)[1]
    return re.sub(r"^(FATAL|ERROR):\s+", "", line)
