"""`skillmatch jobs ...` as cron runs it: the real CLI in its own process (traces flushed before it ends,
two processes at once on PostgreSQL post one comment), and the exit codes cron acts on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from skillmatch.db import create_db_engine, session_factory, upgrade
from tests.fakes.jira import FakeJira
from tests.fakes.langfuse_server import FakeLangfuse
from tests.fakes.openai_server import FakeOpenAI
from tests.jobs.conftest import FIELDS, jira_env, model_reading, openai_env, request_ticket, seed_small_corpus

CLI = [sys.executable, "-c", "from assistant.cli import app; app()"]
TIMEOUT = 180  # seconds; a hung process fails the test instead of the suite
_OURS = ("DATABASE_URL", "OPENAI_", "AZURE_", "VLLM_", "LANGFUSE_", "JIRA_", "SKILLMATCH_", "MOCO_", "SLACK_")


def process_env(database_url: str, jira: FakeJira, **extra: str) -> dict[str, str]:
    """The parent's environment minus anything that configures us, plus exactly what the test sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return env | {
        "DATABASE_URL": database_url,
        "SKILLMATCH_JIRA_FIELDS": json.dumps(FIELDS),
        "SKILLMATCH_HTTP_MAX_RETRIES": "1",
        "COLUMNS": "200",
        **jira_env(jira),
        **extra,
    }


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def langfuse_env(fake: FakeLangfuse) -> dict[str, str]:
    return {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-jobs-cli",
        "LANGFUSE_SECRET_KEY": "sk-lf-jobs-cli",
        "LANGFUSE_BASE_URL": fake.origin,
    }


def test_the_board_job_flushes_its_trace_before_the_process_ends_and_audit_covers_it(
    sample_db_url: str, jira: FakeJira, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse, tmp_path: Path
) -> None:
    jira.add_issues(
        [
            request_ticket("STAFF-1", "Senior Java developer", "Spring Boot and Kafka for an insurer."),
            request_ticket("STAFF-2", "Scrum Master", "For two teams at a bank."),
        ]
    )
    fake_openai.responder = lambda body: model_reading(role="Java developer", skills=["java", "kafka"])
    env = process_env(sample_db_url, jira, **openai_env(fake_openai), **langfuse_env(fake_langfuse))

    result = run(["jobs", "jira-board", "--project", "STAFF"], env, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "2 ticket(s): 2 posted · 2 LLM call(s)" in result.stdout
    # The process is gone; whatever it did not flush is lost. So everything must be here already.
    [root] = fake_langfuse.spans_named("process_jira_board")
    tickets = fake_langfuse.spans_named("jira.ticket")
    assert sorted(t.session_id for t in tickets) == ["jira:STAFF-1", "jira:STAFF-2"]
    assert all(t.parent_span_id == root.span_id for t in tickets)
    assert len(fake_langfuse.spans_of_type("generation")) == 2
    assert {g.trace_id for g in fake_langfuse.spans_of_type("generation")} == {root.trace_id}

    # The audit sees the run as one trace with two calls and no duplicates (exit 0), per ticket too.
    ledger = run(["audit", "--since", "1h"], env, tmp_path)
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert audit_row(ledger.stdout, root.trace_id[:16]) | {"calls": "2", "duplicates": "0"} == audit_row(
        ledger.stdout, root.trace_id[:16]
    )
    one_ticket = run(["audit", "--since", "1h", "--session", "jira:STAFF-1"], env, tmp_path)
    assert one_ticket.returncode == 0 and "jira:STAFF-1" in one_ticket.stdout
    readback = run(["audit", "--since", "1h", "--source", "langfuse"], env, tmp_path)
    assert readback.returncode == 0, readback.stdout + readback.stderr
    assert root.trace_id[:16] in readback.stdout


def audit_row(table: str, trace_prefix: str) -> dict[str, str]:
    """The audit table's row for one trace, by column name."""
    lines = table.splitlines()
    header = next(line for line in lines if "┃" in line and "duplicates" in line)
    [row] = [line for line in lines if trace_prefix in line]
    names = [cell.strip() for cell in header.split("┃")[1:-1]]
    return dict(zip(names, (cell.strip() for cell in row.split("│")[1:-1]), strict=True))


def test_the_ticket_job_traces_into_the_tickets_session(
    sample_db_url: str, jira: FakeJira, fake_langfuse: FakeLangfuse, tmp_path: Path
) -> None:
    jira.add_issues([request_ticket("STAFF-5", "React developer", "React and TypeScript.")])
    env = process_env(sample_db_url, jira, **langfuse_env(fake_langfuse))
    result = run(["jobs", "jira-ticket", "staff-5", "--dry-run"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "STAFF-5: would post" in result.stdout and "Staffing suggestions" in result.stdout
    [root] = fake_langfuse.spans_named("process_jira_ticket")
    assert root.session_id == "jira:STAFF-5"
    assert jira.writes() == []


@pytest.fixture
def small_postgres_url(postgres_url: str, embedder: Any) -> str:
    engine = create_db_engine(postgres_url)
    upgrade(engine)
    seed_small_corpus(session_factory(engine), embedder)
    engine.dispose()
    return postgres_url


@pytest.mark.postgres
def test_a_second_process_leaves_a_ticket_to_the_run_about_to_post_on_postgresql(
    small_postgres_url: str, jira: FakeJira, tmp_path: Path
) -> None:
    jira.add_issues([request_ticket("STAFF-1", "Senior Java developer", "Spring Boot and Kafka.")])
    env = process_env(small_postgres_url, jira)
    gate = jira.hold_comment_writes()
    first = subprocess.Popen(
        [*CLI, "jobs", "jira-ticket", "STAFF-1"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert jira.write_waiting.wait(timeout=TIMEOUT), "the first run never reached its comment"
        second = run(["jobs", "jira-ticket", "STAFF-1"], env, tmp_path)
    finally:
        gate.set()
        _, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert "skipped" in second.stdout and "another run is working on this ticket" in second.stdout
    assert len(jira.bot_comments("STAFF-1")) == 1
    assert len([r for r in jira.comment_writes() if r.method == "POST"]) == 1


@pytest.mark.postgres
def test_two_board_runs_at_once_on_postgresql_leave_one_comment_per_ticket(
    small_postgres_url: str, jira: FakeJira, tmp_path: Path
) -> None:
    keys = ["STAFF-1", "STAFF-2", "STAFF-3", "STAFF-4"]
    jira.add_issues([request_ticket(k, f"Java developer ({k})", "Spring Boot and Kafka.") for k in keys])
    env = process_env(small_postgres_url, jira)
    command = [*CLI, "jobs", "jira-board", "--project", "STAFF"]
    runs = [
        subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [r.communicate(timeout=TIMEOUT) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], results
    assert [len(jira.bot_comments(k)) for k in keys] == [1, 1, 1, 1]
    assert len([r for r in jira.comment_writes() if r.method == "POST"]) == 4


# --- exit codes (in-process: the same typer app, faster) ----------------------------------------------


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout

    def call(args: list[str], env: dict[str, str]) -> Any:
        return CliRunner().invoke(app, args, env={"COLUMNS": "200", **env})

    return call


def test_exit_codes_tell_cron_what_happened(sample_db_url: str, jira: FakeJira, invoke: Any) -> None:
    jira.add_issues(
        [
            request_ticket("STAFF-1", "Senior Java developer", "Spring Boot."),
            request_ticket("STAFF-2", "React developer", "TypeScript."),
        ]
    )
    env = {
        "DATABASE_URL": sample_db_url,
        "SKILLMATCH_JIRA_FIELDS": json.dumps(FIELDS),
        "SKILLMATCH_HTTP_MAX_RETRIES": "0",
        **jira_env(jira),
    }
    ok = invoke(["jobs", "jira-board", "--project", "STAFF"], env)
    assert ok.exit_code == 0, ok.output

    jira.deny("STAFF-2", "comment")
    jira.update_issue("STAFF-1", summary="Senior Java developer for a bank")
    jira.update_issue("STAFF-2", summary="React developer for a bank")
    partly = invoke(["jobs", "jira-board", "--project", "STAFF"], env)
    assert partly.exit_code == 1, partly.output
    assert "STAFF-2" in partly.output and "FAILED" in partly.output and "HTTP 403" in partly.output

    nothing = invoke(["jobs", "jira-board", "--jql", "project = STAFF AND labels = none"], env)
    assert nothing.exit_code == 0 and "No tickets matched" in nothing.output

    missing = invoke(["jobs", "jira-ticket", "STAFF-404"], env)
    assert missing.exit_code == 1 and "not found, or not visible to the Jira user" in missing.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["jobs", "jira-board", "--project", "STAFF"],
            {"JIRA_BASE_URL": ""},
            "not configured: set JIRA_BASE_URL",
        ),
        (
            ["jobs", "jira-board", "--project", "STAFF", "--jql", "x"],
            {},
            "--project and --jql exclude each other",
        ),
        (["jobs", "jira-board", "--project", "NOPE"], {}, "'NOPE' does not exist for the field 'project'"),
        (["jobs", "jira-board"], {}, "no board: give --project KEY or --jql JQL"),
        (
            ["jobs", "jira-board", "--project", "STAFF"],
            {"JIRA_API_TOKEN": "wrong"},
            "access denied (HTTP 401)",
        ),
        (["jobs", "jira-ticket", "not a key"], {}, "is not a Jira issue key"),
        (["jobs", "jira-board", "--jql", "project = STAFF", "--limit", "0"], {}, "--limit 0"),
        (
            ["jobs", "jira-board", "--project", "STAFF"],
            {"SKILLMATCH_JIRA_FIELDS": '{"begin": "x"}'},
            "unknown keys",
        ),
        (["jobs", "jira-board", "--project", "STAFF"], {"SKILLMATCH_JIRA_FIELDS": "{oops"}, "valid JSON"),
        (["jobs", "jira-board", "--project", "STAFF"], {"SKILLMATCH_JIRA_CONCURRENCY": "0"}, "CONCURRENCY"),
        (
            ["jobs", "jira-board", "--project", "STAFF"],
            {"SKILLMATCH_LLM_PROVIDERS": "gemini"},
            "unknown LLM provider",
        ),
    ],
)
def test_configuration_errors_exit_2_with_one_line_and_write_nothing(
    sample_db_url: str, jira: FakeJira, invoke: Any, args: list[str], env: dict[str, str], message: str
) -> None:
    jira.add_issues([request_ticket("STAFF-1", "Senior Java developer", "Spring Boot.")])
    result = invoke(args, {"DATABASE_URL": sample_db_url, **jira_env(jira), **env})
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert jira.writes() == []
