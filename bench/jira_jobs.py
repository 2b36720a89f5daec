"""Throughput of the Jira board job: a 200-ticket board against a fake model that takes 1 s per call.

Per concurrency setting (SKILLMATCH_JIRA_CONCURRENCY), a first run (every ticket read by the model,
searched and commented) and an unchanged re-run (nothing to do). Ideal for the first run: the model is
the only slow part, so `concurrency` tickets per second. Also: the same board without a model (rules
only), which shows what a ticket costs besides the model. Tokens are counted with o200k on what was sent.
Real code throughout: the routed OpenAI client, the Jira client against the fake Jira, the search over
the bundled sample (60 CVs, MOCO data for 36), SQLite; Langfuse off.

    .venv/bin/python -m bench.jira_jobs [--tickets 200] [--concurrency 4 8 16] [--model-seconds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import QUERIES, console, machine

TODAY = date(2026, 11, 27)


def build_sample(folder: Path) -> str:
    from skillmatch.config import Settings
    from skillmatch.db import create_db_engine, session_factory, upgrade
    from skillmatch.embeddings import OnnxEmbedder
    from skillmatch.ingest.cv_store import CvStore
    from skillmatch.ingest.sample import ingest_sample

    url = f"sqlite:///{folder / 'sample.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    ingest_sample(sessions, CvStore(sessions, OnnxEmbedder(), Settings(_env_file=None), today=TODAY))  # type: ignore[call-arg]
    engine.dispose()
    return url


def tickets(count: int) -> list[dict[str, Any]]:
    from tests.fakes.jira import jira_issue

    issues = []
    for n in range(1, count + 1):
        query = QUERIES[n % len(QUERIES)]
        description = f"{query}. Team of five, start in January, hybrid. Ticket {n}."
        extra = {"customfield_10015": "2027-01-04", "customfield_10016": "2027-03-26"}
        issues.append(
            jira_issue(f"STAFF-{n}", query, description=description, status="Open", extra_fields=extra)
        )
    return issues


def reading_for(body: dict[str, Any], seconds: float) -> Any:
    from assistant.llm import estimate_prompt_tokens
    from skillmatch.tokencount import count_tokens
    from tests.fakes.openai_server import ChatReply

    time.sleep(seconds)  # the model "thinks"; the fake serves each request on its own thread
    answer = json.dumps(
        {"usable": True, "role": "developer", "skills": ["python", "kubernetes"], "domain": None,
         "seniority": "senior", "locations": [], "language": "de:C1", "start": "2027-01-04",
         "end": "2027-03-26", "headcount": None, "missing": []}
    )  # fmt: skip
    usage = {
        "prompt_tokens": estimate_prompt_tokens(body["messages"]),
        "completion_tokens": count_tokens(answer),
    }
    return ChatReply(answer, usage=usage)


async def board_run(settings: Any, embedder: Any) -> tuple[float, Any]:
    from assistant.jobs.context import build_job_context
    from assistant.jobs.run import run_board

    job = build_job_context(settings, embedder=embedder, today=lambda: TODAY, search_today=TODAY)
    try:
        job.searcher.index()  # loaded once per process in production too; not part of a ticket's cost
        started = time.perf_counter()
        report = await run_board(job, project="STAFF", options=job.options())
        return time.perf_counter() - started, report
    finally:
        await job.aclose()


def reset(database_url: str) -> None:
    from sqlalchemy import delete

    from skillmatch.db import create_db_engine, session_factory
    from skillmatch.models import JiraTicket, LlmCall

    engine = create_db_engine(database_url)
    with session_factory(engine).begin() as session:
        session.execute(delete(JiraTicket))
        session.execute(delete(LlmCall))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--model-seconds", type=float, default=1.0)
    args = parser.parse_args()
    os.environ["LANGFUSE_TRACING_ENABLED"] = "false"
    logging.getLogger("langfuse").setLevel(logging.ERROR)

    from assistant.config import AssistantSettings
    from skillmatch.embeddings import OnnxEmbedder
    from tests.fakes.jira import FakeJira
    from tests.fakes.openai_server import FakeOpenAI

    embedder = OnnxEmbedder()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        console.print("building the sample database (60 CVs, MOCO data)…")
        database_url = build_sample(Path(tmp))
        with FakeOpenAI() as model:
            model.responder = lambda body: reading_for(body, args.model_seconds)
            for concurrency in [None, *args.concurrency]:  # None: no model, rules only
                reset(database_url)
                with FakeJira() as jira:
                    jira.add_issues(tickets(args.tickets))
                    values: dict[str, Any] = {
                        "DATABASE_URL": database_url,
                        "SKILLMATCH_JIRA_FIELDS": {"start": "customfield_10015", "end": "customfield_10016"},
                        "SKILLMATCH_JIRA_CONCURRENCY": concurrency or 4,
                        "SKILLMATCH_LLM_PROVIDERS": "openai" if concurrency else "",
                        "OPENAI_API_KEY": model.api_key,
                        "OPENAI_BASE_URL": model.base_url,
                        "JIRA_BASE_URL": jira.base_url,
                        "JIRA_EMAIL": jira.email,
                        "JIRA_API_TOKEN": jira.api_token,
                    }
                    settings = AssistantSettings(_env_file=None, **values)  # type: ignore[call-arg]
                    for phase in ("first run", "unchanged re-run"):
                        seconds, report = asyncio.run(board_run(settings, embedder))
                        assert report.failed == 0, [o.detail for o in report.outcomes if o.failed]
                        n = len(report.outcomes)
                        tokens_in, tokens_out = report.tokens
                        ideal = "–"
                        if concurrency and phase == "first run":
                            ideal_seconds = math.ceil(n / concurrency) * args.model_seconds
                            ideal = f"{n / ideal_seconds * 60:,.0f}"
                        rows.append(
                            (
                                f"{concurrency}" if concurrency else "no model",
                                phase,
                                f"{seconds:.1f}",
                                f"{n / seconds * 60:,.0f}",
                                ideal,
                                f"{report.llm_calls / n:.2f}",
                                f"{tokens_in / n:,.0f} + {tokens_out / n:,.0f}",
                                ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items())),
                            )
                        )
                        console.print(f"  concurrency {concurrency or '–'}, {phase}: {seconds:.1f} s")
    table = Table(
        title=f"Jira board job, {args.tickets} tickets, model {args.model_seconds:g} s/call ({machine()})",
        header_style="bold",
    )
    for column in ("concurrency", "run", "seconds", "tickets/min", "ideal/min", "LLM calls/ticket",
                   "tokens/ticket (in + out)", "outcomes"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("run", "outcomes") else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)  # wide enough for every column, terminal or not


if __name__ == "__main__":
    main()
