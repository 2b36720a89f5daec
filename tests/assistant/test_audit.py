"""`skillmatch audit` over the local ledger: per-trace figures, costliest sessions, exit 1 on duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from typer.testing import CliRunner

from assistant.audit import audit_calls, ledger_calls, parse_since
from assistant.cli import app
from skillmatch.db import session_factory
from skillmatch.models import LlmCall

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def add_calls(engine: Engine, rows: list[dict]) -> None:  # type: ignore[type-arg]
    sessions = session_factory(engine)
    with sessions() as session:
        for row in rows:
            session.add(LlmCall(**{"provider": "openai", "model": "gpt-4o-mini", "created_at": NOW, **row}))
        session.commit()


def test_parse_since() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("2026-11-01T00:00:00", NOW) == datetime(2026, 11, 1, tzinfo=UTC)


def test_flagged_and_unflagged_repeats_both_count_as_duplicates(engine: Engine) -> None:
    add_calls(
        engine,
        [
            {
                "trace_id": "t1",
                "session_id": "s1",
                "prompt_hash": "a",
                "tokens_in": 100,
                "tokens_out": 20,
                "cost_usd": 0.01,
            },
            {
                "trace_id": "t1",
                "session_id": "s1",
                "prompt_hash": "b",
                "tokens_in": 120,
                "tokens_out": 30,
                "cost_usd": 0.02,
            },
            {
                "trace_id": "t1",
                "session_id": "s1",
                "prompt_hash": "b",
                "duplicate": True,
            },  # prevented by the guard
            {
                "trace_id": "t2",
                "session_id": "s2",
                "prompt_hash": "c",
                "tokens_in": 50,
                "tokens_out": 5,
                "cost_usd": 0.05,
            },
            {
                "trace_id": "t2",
                "session_id": "s2",
                "prompt_hash": "c",
                "tokens_in": 50,
                "tokens_out": 5,
                "cost_usd": 0.05,
            },
        ],
    )
    report = audit_calls(ledger_calls(session_factory(engine), since=NOW - timedelta(hours=1)))
    by_trace = {t.trace_id: t for t in report.traces}
    assert (by_trace["t1"].calls, by_trace["t1"].duplicates, by_trace["t1"].tokens_in) == (3, 1, 220)
    assert (by_trace["t2"].calls, by_trace["t2"].duplicates) == (2, 1)  # sent twice: a real duplicate
    assert report.costliest_sessions()[0] == ("s2", 0.1, 2)
    assert report.duplicates == 2


def test_cli_exit_code_follows_duplicates(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    add_calls(
        engine, [{"trace_id": "t1", "session_id": "s1", "prompt_hash": "a", "created_at": datetime.now(UTC)}]
    )
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "--since", "1h", "--database-url", url])
    assert clean.exit_code == 0, clean.output
    assert "costliest sessions" in clean.output
    add_calls(
        engine,
        [
            {
                "trace_id": "t1",
                "session_id": "s1",
                "prompt_hash": "a",
                "duplicate": True,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    dirty = runner.invoke(app, ["audit", "--since", "1h", "--session", "s1", "--database-url", url])
    assert dirty.exit_code == 1
    assert "1 duplicate LLM call(s) found" in dirty.output
    unknown = runner.invoke(app, ["audit", "--source", "nowhere", "--database-url", url])
    assert unknown.exit_code == 1 and "unknown --source" in unknown.output


def test_a_failed_call_and_its_successful_repeat_are_not_duplicates(engine: Engine) -> None:
    """A turn that failed and ran again (a replica took over, a resumed message) repeats its request: the
    failed attempt cost nothing twice. Two successful calls with one request are a duplicate."""
    add_calls(
        engine,
        [
            {
                "trace_id": "t1",
                "session_id": "s1",
                "prompt_hash": "a",
                "status": "failed",
                "error": "HTTP 500",
            },
            {"trace_id": "t1", "session_id": "s1", "prompt_hash": "a", "tokens_in": 100, "cost_usd": 0.01},
            {"trace_id": "t2", "session_id": "s2", "prompt_hash": "b", "tokens_in": 100, "cost_usd": 0.01},
            {
                "trace_id": "t2",
                "session_id": "s2",
                "prompt_hash": "b",
                "status": "failed",
                "error": "timeout",
            },
            {"trace_id": "t2", "session_id": "s2", "prompt_hash": "b", "tokens_in": 100, "cost_usd": 0.01},
        ],
    )
    report = audit_calls(ledger_calls(session_factory(engine), since=NOW - timedelta(hours=1)))
    by_trace = {t.trace_id: t for t in report.traces}
    assert (by_trace["t1"].calls, by_trace["t1"].failed, by_trace["t1"].duplicates) == (2, 1, 0)
    assert (by_trace["t2"].calls, by_trace["t2"].failed, by_trace["t2"].duplicates) == (3, 1, 1)


def test_attempts_of_one_call_count_once(engine: Engine) -> None:
    """Langfuse has one generation per attempt; attempts of one routed call share its call id."""
    from assistant.audit import Call

    def generation(call_id: str, *, failed: bool, tokens: int = 0) -> Call:
        return Call("t1", "s1", "a", tokens, 0, 0.0, 10.0, False, call_id=call_id, failed=failed)

    report = audit_calls(
        [
            generation("c1", failed=True),
            generation("c1", failed=True),
            generation("c1", failed=False, tokens=50),  # the third attempt answered
            generation("c2", failed=False, tokens=50),  # the same request again, successfully
        ]
    )
    (trace,) = report.traces
    assert (trace.calls, trace.attempts, trace.duplicates, trace.failed, trace.tokens_in) == (2, 4, 1, 0, 100)
