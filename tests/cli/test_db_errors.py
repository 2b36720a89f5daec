"""Database problems as an operator meets them: one line that says what is wrong and what to do, a
non-zero exit, never a traceback and never the password from the URL, whatever the command."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from click.testing import Result
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from assistant.cli import app
from tests.cli.test_cli import all_commands
from tests.conftest import POSTGRES_URL

runner = CliRunner()
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")  # serve's start-up log
PASSWORD = "hunter2-S3cret"
EXIT_CONFIG = 2  # fix the configuration
EXIT_TEMPORARY = 75  # EX_TEMPFAIL: the database was unreachable or busy; try again later


def invoke(args: list[str], *, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    return runner.invoke(app, args, env=env, input=stdin)


def one_line_error(result: Result, *, exit_code: int = EXIT_CONFIG) -> str:
    """The single line the user sees; fails on a traceback, a leaked password or a zero exit."""
    assert isinstance(result.exception, SystemExit), f"unhandled {result.exception!r}\n{result.output}"
    assert result.exit_code == exit_code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert PASSWORD not in result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connection refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel does) but never answers: a firewall that drops, a hung host."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody may write to. Root ignores permission bits, so root gets a read-only mount."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys")  # sysfs: no new files, even for root
    with pytest.raises(OSError):
        (folder / "skillmatch-probe.db").touch()
    yield folder


def pg(user: str = "postgres", database: str | None = None, port: int | None = None) -> str:
    url = make_url(POSTGRES_URL).set(username=user, password=PASSWORD)
    if database:
        url = url.set(database=database)
    if port:
        url = url.set(port=port)
    return url.render_as_string(hide_password=False)


# --- what is wrong with the URL itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            f"postgresql+psycopg//admin:{PASSWORD}@db.internal/skillmatch",
            ["not a valid database URL", "postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME"],
            id="malformed",
        ),
        pytest.param(
            f"mysql://admin:{PASSWORD}@127.0.0.1/skillmatch", ["'mysql'", "not supported"], id="mysql"
        ),
        pytest.param(
            f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1/skillmatch",
            ["driver 'asyncpg'", "postgresql+psycopg://admin:***@127.0.0.1/skillmatch"],
            id="unknown-postgres-driver",
        ),
        pytest.param(
            f"oracle+oracledb://admin:{PASSWORD}@127.0.0.1/skillmatch",
            ["'oracle'", "not supported"],
            id="oracle",
        ),
        pytest.param(
            "sqlite://skillmatch.db", ["sqlite:///skillmatch.db", "three slashes"], id="sqlite-two-slashes"
        ),
        pytest.param(
            f"postgresql+psycopg://admin:{PASSWORD}@x@127.0.0.1/skillmatch",
            ["'@'", "%40"],
            id="unescaped-at-in-password",
        ),
        pytest.param(
            f"postgresql+psycopg://admin:{PASSWORD}@127.0.0.1:54x2/skillmatch", ["port"], id="bad-port"
        ),
        pytest.param("", ["DATABASE_URL is empty"], id="empty"),
    ],
)
def test_a_wrong_database_url_gets_one_line_saying_what_to_write(url: str, expected: list[str]) -> None:
    line = one_line_error(invoke(["search", "java", "--database-url", url]))
    for text in expected:
        assert text in line, line


def test_postgres_scheme_from_hosting_providers_is_accepted(postgres_url: str) -> None:
    heroku_style = postgres_url.replace("postgresql+psycopg://", "postgres://", 1)
    result = invoke(["db", "upgrade", "--database-url", heroku_style])
    assert result.exit_code == 0, result.output
    assert "schema at revision" in result.stdout


def test_database_url_from_the_environment_gets_the_same_treatment() -> None:
    line = one_line_error(invoke(["search", "java"], env={"DATABASE_URL": f"mysql://a:{PASSWORD}@h/db"}))
    assert "'mysql'" in line


# --- what is wrong with the server or the file ------------------------------------------------------


def test_unreachable_postgres_is_a_temporary_failure_naming_host_and_port(closed_port: int) -> None:
    line = one_line_error(
        invoke(["search", "java", "--database-url", pg(port=closed_port)]), exit_code=EXIT_TEMPORARY
    )
    assert f"127.0.0.1:{closed_port}" in line and "connection refused" in line
    assert "is PostgreSQL running" in line


@pytest.mark.postgres
def test_missing_postgres_database_says_how_to_create_it(postgres_available: None) -> None:
    line = one_line_error(invoke(["search", "java", "--database-url", pg(database="skillmatch_nope")]))
    assert 'database "skillmatch_nope" does not exist' in line
    assert "createdb" in line


@pytest.mark.postgres
def test_unknown_postgres_user_names_the_user(postgres_available: None) -> None:
    line = one_line_error(invoke(["search", "java", "--database-url", pg(user="nobody_here")]))
    assert 'user "nobody_here"' in line and "DATABASE_URL" in line


def test_sqlite_in_a_read_only_directory_says_which_directory(read_only_dir: Path) -> None:
    url = f"sqlite:///{read_only_dir}/skillmatch.db"
    line = one_line_error(invoke(["search", "java", "--database-url", url]))
    assert str(read_only_dir) in line and "not writable" in line


def test_sqlite_below_a_file_says_the_directory_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'a-file' / 'skillmatch.db'}"
    line = one_line_error(invoke(["search", "java", "--database-url", url]))
    assert "cannot create the directory" in line and str(tmp_path / "a-file") in line


def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    line = one_line_error(invoke(["search", "java", "--database-url", f"sqlite:///{path}"]))
    assert str(path) in line and "not an SQLite database" in line
    assert path.read_text().startswith("these are my notes")  # and nothing was written into it


# --- every command behaves the same -----------------------------------------------------------------


def command_lines(tmp_path: Path) -> dict[tuple[str, ...], tuple[list[str], dict[str, str]]]:
    """Minimal valid arguments for every command: a new command must be added here."""
    cvs = tmp_path / "cvs"
    cvs.mkdir(exist_ok=True)
    gold = tmp_path / "gold.json"
    gold.write_text('[{"id": "a", "query": "java", "relevance": {"a.md": 3}}]')
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test-secret"}
    jira = {"JIRA_BASE_URL": "http://127.0.0.1:9", "JIRA_EMAIL": "jobs@example.com", "JIRA_API_TOKEN": "t"}
    return {
        ("search",): (["search", "java"], {}),
        ("eval",): (["eval", str(gold)], {}),
        ("demo",): (["demo"], {}),
        ("chat",): (["chat"], {}),
        ("audit",): (["audit"], {}),
        ("serve",): (["serve"], slack),
        ("db", "upgrade"): (["db", "upgrade"], {}),
        ("db", "downgrade"): (["db", "downgrade", "base"], {}),
        ("ingest", "cvs"): (["ingest", "cvs", str(cvs)], {}),
        ("ingest", "sample"): (["ingest", "sample"], {}),
        ("ingest", "sharepoint"): (["ingest", "sharepoint"], {}),
        ("ingest", "jira"): (["ingest", "jira"], {}),
        ("ingest", "erp"): (["ingest", "erp"], {}),
        ("jobs", "jira-board"): (["jobs", "jira-board", "--project", "STAFF"], jira),
        ("jobs", "jira-ticket"): (["jobs", "jira-ticket", "STAFF-1"], jira),
    }


def database_commands() -> set[tuple[str, ...]]:
    """Commands that open the database (they take --database-url); others cannot meet these errors."""
    root = typer.main.get_command(app)
    found = set()
    for path in all_commands(app):
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        if any(param.name == "database_url" for param in command.params):
            found.add(path)
    return found


def test_every_command_reports_an_unreachable_database_in_one_line(tmp_path: Path, closed_port: int) -> None:
    lines = command_lines(tmp_path)
    missing = database_commands() - set(lines)
    assert not missing, f"add minimal arguments for {missing} to command_lines()"
    for path, (args, env) in lines.items():
        result = invoke([*args, "--database-url", pg(port=closed_port)], env=env)
        line = one_line_error(result, exit_code=EXIT_TEMPORARY)
        assert f"127.0.0.1:{closed_port}" in line, (path, line)


def test_every_command_reports_a_wrong_url_in_one_line(tmp_path: Path) -> None:
    for path, (args, env) in command_lines(tmp_path).items():
        line = one_line_error(invoke([*args, "--database-url", f"mysql://a:{PASSWORD}@h/db"], env=env))
        assert "not supported" in line, (path, line)


# --- the real process: serve at start-up ------------------------------------------------------------


def run_skillmatch(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run(
        [str(Path(sys.executable).parent / "skillmatch"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_serve_gives_up_on_a_silent_database_after_the_connect_timeout(silent_server: int) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "DATABASE_URL": pg(port=silent_server),
    }
    done = run_skillmatch(["serve", "--port", "0"], env)  # without a connect timeout this never returns
    assert done.returncode == EXIT_TEMPORARY, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if not LOG_LINE.match(line)]
    assert len(errors) == 1, done.stderr
    assert f"127.0.0.1:{silent_server} did not answer within" in errors[0]
    assert "SKILLMATCH_DB_CONNECT_TIMEOUT" in errors[0]
    assert PASSWORD not in done.stderr + done.stdout


def test_the_connect_timeout_setting_bounds_the_wait(silent_server: int) -> None:
    result = invoke(
        ["search", "java", "--database-url", pg(port=silent_server)],
        env={"SKILLMATCH_DB_CONNECT_TIMEOUT": "2"},
    )
    assert "did not answer within 2 s" in one_line_error(result, exit_code=EXIT_TEMPORARY)


def test_the_installed_command_prints_no_traceback_for_a_wrong_url(tmp_path: Path) -> None:
    done = run_skillmatch(["db", "upgrade"], {"DATABASE_URL": f"postgres//admin:{PASSWORD}@db/x"})
    assert done.returncode == EXIT_CONFIG
    assert done.stderr.count("\n") == 1 and "not a valid database URL" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout


def test_a_bad_setting_is_one_line_naming_the_variable() -> None:
    line = one_line_error(
        invoke(["search", "java", "--database-url", "sqlite://"], env={"SKILLMATCH_DB_POOL_SIZE": "lots"})
    )
    assert "SKILLMATCH_DB_POOL_SIZE" in line
