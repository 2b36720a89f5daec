"""The `skillmatch` command: the domain commands plus the assistant's (`chat`, `audit`)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

import assistant.matching  # noqa: F401 - registers the llm matcher (skillmatch never imports assistant)
from assistant.config import AssistantSettings
from skillmatch.cli import app
from skillmatch.cli.common import AppContext, DatabaseUrlOption, console, fail, resolve_settings


def assistant_settings(ctx: typer.Context, database_url: str | None) -> AssistantSettings:
    return resolve_settings(ctx, database_url, AssistantSettings)


@app.command("chat")
def chat(
    ctx: typer.Context,
    session: Annotated[
        str | None, typer.Option("--session", help="Resume a conversation by its key.")
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Talk to the assistant in the terminal. Resumable: the session key is printed at the start."""
    from assistant.logs import terminal_logging
    from assistant.runtime import build_runtime
    from assistant.sessions import thread_key_console

    settings = assistant_settings(ctx, database_url)
    with terminal_logging(settings.log_file) as log_file:
        runtime = build_runtime(settings)
        key = session or thread_key_console()
        providers = (
            ", ".join(f"{p.name} ({p.model})" for p in runtime.llm.providers) or "none: search-only answers"
        )
        tracing = "Langfuse" if runtime.telemetry.enabled else "local ledger only"
        console.print(
            f"[bold]SkillMatch chat[/]  session [cyan]{key}[/]  (resume with --session {key})\n"
            f"LLM: {providers}  ·  tracing: {tracing}  ·  log: {log_file or 'off'}\n"
            "Ask who could do a piece of work; refine in follow-ups. /new starts over, /quit ends.",
            highlight=False,
        )
        try:
            asyncio.run(_chat_loop(runtime, key, log_file))
        finally:
            if not runtime.telemetry.shutdown():
                console.print(
                    f"[yellow]Traces could not be sent to Langfuse ({runtime.telemetry.unsent_reason()}); "
                    "the local ledger has every LLM call.[/]"
                )
            runtime.close()


class _Terminal:
    """Streamed text, status lines and retractions, each starting on a line of its own."""

    def __init__(self) -> None:
        self.mid_line = False  # streamed text is waiting for its line to end

    def end_line(self) -> None:
        if self.mid_line:
            console.print()
            self.mid_line = False

    async def status(self, text: str) -> None:
        self.end_line()
        console.print(f"[dim]{text}[/]", highlight=False)

    async def delta(self, text: str) -> None:
        console.print(text, end="", markup=False, highlight=False)
        self.mid_line = True

    async def retract(self) -> None:
        self.end_line()
        console.print("[yellow]… the answer broke off; the text above is void. A complete answer follows.[/]")


async def _chat_loop(runtime, key: str, log_file: Path | None) -> None:  # type: ignore[no-untyped-def]
    import logging

    from assistant.engine import TurnRequest

    interactive = sys.stdin.isatty()
    while True:
        try:
            line = await asyncio.to_thread(_read_line, interactive)
        except (EOFError, KeyboardInterrupt):
            break
        if line is None:
            break
        text = line.strip()
        if text in ("/quit", "/exit"):
            break
        if text == "/new":
            from assistant.sessions import thread_key_console

            key = thread_key_console()
            console.print(f"new session [cyan]{key}[/]")
            continue
        if not text:
            continue
        terminal = _Terminal()
        request = TurnRequest(
            thread_key=key, platform="console", message_id=uuid.uuid4().hex, text=text, user_id="console"
        )
        try:
            reply = await runtime.engine.handle(
                request, on_status=terminal.status, on_delta=terminal.delta, on_retract=terminal.retract
            )
        except Exception:
            logging.getLogger(__name__).exception("chat: the turn failed")
            terminal.end_line()
            where = f" (details in {log_file})" if log_file else ""
            console.print(
                f"[red]Something went wrong with this answer{where}. Your message is kept; ask again.[/]"
            )
            continue
        terminal.end_line()
        if not reply.streamed:
            console.print(Markdown(reply.text))
        if reply.notice:
            console.print(f"[dim]{reply.notice}[/]", highlight=False)
        if reply.candidates and reply.status == "ok":  # a search-only answer already lists them
            console.print(_candidates_table(reply.candidates))


def _read_line(interactive: bool) -> str | None:
    if interactive:
        return console.input("[bold green]you>[/] ")
    line = sys.stdin.readline()
    return line if line else None


def _candidates_table(candidates: list[dict]) -> Table:  # type: ignore[type-arg]
    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("#", "name", "role", "location", "free", "source"):
        table.add_column(column)
    for i, c in enumerate(candidates[:8], 1):
        free = c.get("availability")
        table.add_row(
            str(i),
            str(c.get("name", "")),
            str(c.get("title") or ""),
            str(c.get("location") or ""),
            f"{free:.0%}" if isinstance(free, int | float) else "",
            str(c.get("source") or ""),
        )
    return table


@app.command("audit")
def audit(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Option("--session", help="Only this session (thread key).")] = None,
    since: Annotated[str, typer.Option("--since", help="Window: 30m, 24h, 7d, or an ISO timestamp.")] = "24h",
    source: Annotated[
        str, typer.Option("--source", help="ledger (local) or langfuse (read back via API).")
    ] = "ledger",
    database_url: DatabaseUrlOption = None,
) -> None:
    """LLM calls per trace: attempts, failures, duplicates, tokens, cost and latency, then the costliest
    sessions. The attempts of a retried or failed-over call are one call; a request answered twice is a
    duplicate.

    Exits 1 when duplicates are found, so CI can fail on them.
    """
    from assistant.audit import audit_calls, ledger_calls, parse_since

    settings = assistant_settings(ctx, database_url)
    try:
        start = parse_since(since)
    except ValueError as exc:
        raise fail(f"--since {since!r}: use 30m, 24h, 7d or an ISO timestamp") from exc
    if source == "ledger":
        context = AppContext(settings=settings).migrated()
        try:
            calls = ledger_calls(context.sessions, since=start, session_id=session)
        finally:
            context.close()
    elif source == "langfuse":
        from assistant.audit_langfuse import langfuse_calls

        if not settings.tracing_enabled:
            raise fail("--source langfuse needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY")
        try:
            calls = langfuse_calls(settings, since=start, session_id=session)
        except Exception as exc:  # the API is unreachable or refuses: say so, do not crash
            raise fail(f"cannot read from Langfuse: {type(exc).__name__}: {exc}") from exc
    else:
        raise fail(f"unknown --source {source!r}: use ledger or langfuse")
    report = audit_calls(calls)
    _print_audit(report, source, since)
    if report.duplicates:
        console.print(f"[bold red]{report.duplicates} duplicate LLM call(s) found[/]")
        raise typer.Exit(1)


def _print_audit(report, source: str, since: str) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"LLM calls per trace ({source}, last {since})", header_style="bold")
    for column in (
        "trace",
        "session",
        "calls",
        "attempts",
        "failed",
        "duplicates",
        "tokens in",
        "tokens out",
        "cost $",
        "latency ms",
    ):
        table.add_column(column, justify="right" if column not in ("trace", "session") else "left")
    for t in report.traces:
        table.add_row(
            t.trace_id[:16],
            (t.session_id or "")[:40],
            str(t.calls),
            str(t.attempts),
            str(t.failed),
            f"[red]{t.duplicates}[/]" if t.duplicates else "0",
            str(t.tokens_in),
            str(t.tokens_out),
            f"{t.cost_usd:.5f}",
            f"{t.latency_ms:.0f}",
        )
    console.print(table)
    costly = Table(title="costliest sessions", header_style="bold")
    for column in ("session", "calls", "cost $"):
        costly.add_column(column)
    for session_id, cost, calls in report.costliest_sessions():
        costly.add_row(session_id, str(calls), f"{cost:.5f}")
    console.print(costly)
    if not report.traces:
        console.print("No LLM calls in this window.")


from assistant import (  # noqa: E402,F401 - each registers its commands
    cli_jobs,  # `jobs` (Jira staffing jobs)
    cli_serve,  # `serve`
    cli_teams,  # `teams-package`
)
