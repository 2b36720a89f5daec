"""Tokens per turn of a typical conversation, counted the way the ledger counts them, and what they cost.

A three-turn staffing conversation on the bundled sample data (60 people), run through the real engine,
tools and routed openai client against the scripted fake model:

  1. "Who could lead a Kubernetes migration for a bank from January? German speaking."
     -> search_candidates(query, language, available_from/to) -> answer
  2. "Only Munich, please."
     -> search_candidates(... location=["Munich"]) -> answer
  3. "What did Daniel Koch work on in Jira recently, and is he free in January?"
     -> get_jira_history + check_availability -> answer

The fake sends no usage (as vLLM may not), so every ledger row holds the router's estimate: o200k tokens of
exactly what was sent (system prompt, history, tool schemas, TOON tool results) and of what came back,
with OpenAI's per-message framing. Answers are written to the length the system prompt asks for (3-5
people, short bullets). Cost uses the configured price table (SKILLMATCH_LLM_PRICES defaults).

    .venv/bin/python -m bench.turn_tokens
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TODAY = date(2026, 11, 27)
TURNS = [
    "Who could lead a Kubernetes migration for a bank from January? German speaking.",
    "Only Munich, please.",
    "What did Daniel Koch work on in Jira recently, and is he free in January?",
]
ANSWERS = [
    "Best fits for leading the Kubernetes migration at a bank (German speaking, free from January):\n"
    "- **Anna Schmidt**, Senior Cloud Architect, Berlin: leads the Kubernetes migration of a private bank "
    "since 01/2024 (team of six, BaFin/DORA sign-off); built an EKS platform for twelve teams. German "
    "native. About 60% free in January. (anna-schmidt.md)\n"
    "- **Daniel Koch**, Site Reliability Engineer, Munich: ran four GKE clusters (~1,200 pods), upgrades "
    "and capacity planning; no banking project in his CV. German C2. Free in January. (daniel-koch.md)\n"
    "- **Christian Lorenz**, Senior DevOps Engineer, Leipzig: moved 35 Java/.NET applications to "
    "Kubernetes with Rancher for an energy supplier; Helm, Prometheus, GitLab CI. German native. Partly "
    "booked in January. (christian-lorenz.pdf)\n"
    "Anna is the only one with a bank migration behind her; Daniel is the strongest operator.",
    "In Munich:\n"
    "- **Daniel Koch**, Site Reliability Engineer: four GKE clusters, node pool design and cost optimisation "
    "(-28% compute); German C2; free in January. (daniel-koch.md)\n"
    "- **Elena Petrova**, Cloud & DevOps Engineer (Azure): operated three AKS clusters, autoscaling and "
    "ingress; German B2; about half free in January. (cv_elena_petrova.docx)\n"
    "Neither has led a migration at a bank; Daniel has the deeper platform experience.",
    "Daniel Koch in Jira, most recent first:\n"
    "- PLAT-412 Upgrade the GKE clusters to 1.30 (done, November)\n"
    "- PLAT-398 Alerting rules for the payment services (done)\n"
    "- PLAT-377 Spot node pools for stateless workloads (done)\n"
    "January: about 80% free (one project booking of 8 h/week ends mid-January, no absences).",
]


def scripted(body: dict[str, Any]) -> dict[str, Any]:
    """The model's side of the conversation: one tool round per turn, then the answer."""
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    turn = sum(m["role"] == "user" for m in messages) - 1
    if any(m["role"] == "tool" for m in messages[last_user:]):
        return {"content": ANSWERS[turn], "omit_usage": True}
    january = {"available_from": "2027-01-04", "available_to": "2027-01-29"}
    search = {"query": "lead Kubernetes migration for a bank", "language": "de", **january}
    calls: list[dict[str, Any]] = [
        [{"name": "search_candidates", "arguments": search}],
        [{"name": "search_candidates", "arguments": {**search, "location": ["Munich"]}}],
        [
            {"name": "get_jira_history", "arguments": {"person": "Daniel Koch", "since": "2026-08-01"}},
            {
                "name": "check_availability",
                "arguments": {"people": ["Daniel Koch"], "start": "2027-01-04", "end": "2027-01-29"},
            },
        ],
    ][turn]
    return {"tool_calls": calls, "omit_usage": True}


async def conversation(runtime: Any) -> list[str]:
    from assistant.engine import TurnRequest

    key = f"console:bench-{uuid.uuid4()}"
    traces = []
    for text in TURNS:
        reply = await runtime.engine.handle(TurnRequest(key, "console", uuid.uuid4().hex, text, "bench"))
        assert reply.status == "ok", reply
        traces.append(reply.trace_id)
    return traces


def main() -> None:
    os.environ["LANGFUSE_TRACING_ENABLED"] = "false"
    from sqlalchemy import select

    from assistant.config import AssistantSettings
    from assistant.runtime import build_runtime
    from assistant.telemetry import estimate_cost
    from skillmatch.config import Settings
    from skillmatch.db import create_db_engine, session_factory, upgrade
    from skillmatch.embeddings import OnnxEmbedder
    from skillmatch.ingest.cv_store import CvStore
    from skillmatch.ingest.sample import ingest_sample
    from skillmatch.models import LlmCall
    from skillmatch.search import Searcher
    from tests.fakes.openai_server import FakeOpenAI

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        url = f"sqlite:///{Path(tmp) / 'sample.db'}"
        engine = create_db_engine(url)
        upgrade(engine)
        embedder = OnnxEmbedder()
        ingest_sample(
            session_factory(engine), CvStore(session_factory(engine), embedder, Settings(), today=TODAY)
        )
        engine.dispose()
        fake.responder = scripted
        settings = AssistantSettings(
            _env_file=None,  # type: ignore[call-arg]
            DATABASE_URL=url,
            OPENAI_API_KEY=fake.api_key,
            OPENAI_BASE_URL=fake.base_url,
            SKILLMATCH_LLM_PROVIDERS="openai",
        )
        runtime = build_runtime(settings, searcher=None, today=lambda: TODAY)
        runtime.searcher = runtime.engine.searcher = Searcher(runtime.sessions, embedder, today=TODAY)
        traces = asyncio.run(conversation(runtime))
        with runtime.sessions() as session:
            rows = list(session.scalars(select(LlmCall).order_by(LlmCall.id)))
        runtime.close()

    prices = settings.llm_prices
    models = ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]
    table = Table(title="tokens per turn (ledger, o200k), typical 3-turn conversation", header_style="bold")
    for column in ("turn", "LLM calls", "prompt tokens", "completion tokens", *(f"$ {m}" for m in models)):
        table.add_column(column, justify="right")
    totals = [0, 0, 0]
    for n, trace in enumerate(traces, 1):
        calls = [r for r in rows if r.trace_id == trace]
        tokens_in = sum(r.tokens_in or 0 for r in calls)
        tokens_out = sum(r.tokens_out or 0 for r in calls)
        totals = [totals[0] + len(calls), totals[1] + tokens_in, totals[2] + tokens_out]
        costs = [estimate_cost(prices, m, tokens_in, tokens_out) or 0.0 for m in models]
        table.add_row(str(n), str(len(calls)), str(tokens_in), str(tokens_out), *(f"{c:.5f}" for c in costs))
    costs = [estimate_cost(prices, m, totals[1], totals[2]) or 0.0 for m in models]
    table.add_row("all", *(str(t) for t in totals), *(f"{c:.5f}" for c in costs), style="bold")
    wide = Console(width=120)
    wide.print(table)
    per_turn = [round(t / len(traces)) for t in totals[1:]]
    wide.print(
        f"per turn on average: {per_turn[0]} prompt + {per_turn[1]} completion tokens; "
        f"per call (prompt, completion): {json.dumps([(r.tokens_in, r.tokens_out) for r in rows])}"
    )


if __name__ == "__main__":
    main()
