"""A multi-turn conversation end to end: the real openai client (through the Langfuse wrapper) against a
scripted fake OpenAI server, traces exported by the real Langfuse SDK to a fake OTLP receiver (fixtures in
conftest.py)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from sqlalchemy import select

from assistant.runtime import Runtime
from assistant.sessions import thread_key_console
from assistant.telemetry import trace_id_for
from skillmatch.models import LlmCall, Message
from tests.assistant.conftest import TODAY, say
from tests.fakes.langfuse_server import FakeLangfuse
from tests.fakes.openai_server import FakeOpenAI

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+49[\d ]{8,}")


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "arguments": json.dumps(arguments)}


async def test_multi_turn_conversation_is_traced_accounted_and_masked(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    key = thread_key_console()
    # Turn 1: a search, then an answer that (wrongly) repeats contact data the user typed.
    fake_openai.enqueue_reply(
        tool_calls=[tool_call("search_candidates", {"query": "Kubernetes migration bank"})]
    )
    fake_openai.enqueue_reply(
        "Anna Schmidt fits best. I will reply to max.muster@example.com / +49 171 5550123."
    )
    # Turn 2: a follow-up narrowing to Munich.
    fake_openai.enqueue_reply(
        tool_calls=[
            tool_call("search_candidates", {"query": "Kubernetes migration bank", "location": ["Munich"]})
        ]
    )
    fake_openai.enqueue_reply("In Munich: Daniel Koch.")
    # Turn 3: one person's Jira history.
    fake_openai.enqueue_reply(
        tool_calls=[tool_call("get_jira_history", {"person": "Daniel Koch", "limit": 5})]
    )
    fake_openai.enqueue_reply("Daniel worked on the platform team's tickets.")

    turns = [
        await say(
            runtime,
            key,
            "Who could lead a Kubernetes migration for a bank? "
            "Mail me at max.muster@example.com or +49 171 5550123",
        ),
        await say(runtime, key, "only Munich"),
        await say(runtime, key, "What did Daniel do in Jira?"),
    ]
    runtime.telemetry.flush()

    assert [reply.status for _, reply in turns] == ["ok", "ok", "ok"]
    assert turns[0][1].candidates[0]["name"] == "Anna Schmidt"
    assert all(c["location"] == "Munich" for c in turns[1][1].candidates)

    # The follow-up reached the model with the earlier turn in its history.
    second_turn_first_call = fake_openai.chat_requests()[2].json()["messages"]
    assert any(
        m["role"] == "user" and "Kubernetes migration" in (m["content"] or "") for m in second_turn_first_call
    )
    assert any(m["role"] == "tool" for m in second_turn_first_call)

    # One trace per turn, with the deterministic id; every span carries the session id.
    roots = fake_langfuse.spans_named("assistant.turn")
    assert sorted(s.trace_id for s in roots) == sorted(trace_id_for("console", mid) for mid, _ in turns)
    assert fake_langfuse.spans and all(s.session_id == key for s in fake_langfuse.spans)
    assert all(s.user_id == "U123" for s in fake_langfuse.spans)

    # One generation per LLM round, nested in its turn; no duplicates; tool spans present.
    generations = fake_langfuse.spans_of_type("generation")
    assert len(generations) == len(fake_openai.chat_requests()) == 6
    root_of = {s.trace_id: s for s in roots}
    assert all(g.trace_id in root_of for g in generations)
    tools = fake_langfuse.spans_of_type("tool")
    assert sorted(t.name for t in tools) == [
        "tool.get_jira_history",
        "tool.search_candidates",
        "tool.search_candidates",
    ]
    assert not fake_langfuse.spans_named("assistant.llm.duplicate")

    # No raw e-mail address or phone number anywhere in what was exported.
    exported = json.dumps([s.attributes for s in fake_langfuse.spans], ensure_ascii=False, default=str)
    assert not EMAIL.search(exported), EMAIL.search(exported)
    assert not PHONE.search(exported)
    assert "[email]" in exported and "[phone]" in exported

    # The ledger matches the generations: same count, provider, model and tokens.
    with runtime.sessions() as session:
        ledger = list(session.scalars(select(LlmCall).order_by(LlmCall.id)))
        stored = list(session.scalars(select(Message).order_by(Message.id)))
    assert len(ledger) == 6 and not any(row.duplicate for row in ledger)
    assert {row.provider for row in ledger} == {"openai"}
    assert sorted((row.tokens_in, row.tokens_out) for row in ledger) == sorted(
        (
            g.usage.get("input", g.usage.get("prompt_tokens")),
            g.usage.get("output", g.usage.get("completion_tokens")),
        )
        for g in generations
    )
    assert {row.trace_id for row in ledger} == set(root_of)
    # Persisted: 3 user messages, 3 answers, 3 tool-call messages, 3 tool results.
    assert [m.role for m in stored].count("tool") == 3 and [m.role for m in stored].count("user") == 3


async def test_identical_request_in_one_turn_is_sent_once(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    """The model asks for the same tool twice in one round: the tool runs once, and when the loop would
    send an identical request again, the first answer is reused and flagged."""
    args = {"query": "SAP ABAP developer"}
    fake_openai.enqueue_reply(
        tool_calls=[tool_call("search_candidates", args), tool_call("search_candidates", args)]
    )
    fake_openai.enqueue_reply("Jürgen Hartmann.")
    _, reply = await say(runtime, thread_key_console(), "SAP ABAP developer for an S/4HANA conversion")
    runtime.telemetry.flush()
    assert reply.status == "ok"
    assert len(fake_langfuse.spans_of_type("tool")) == 1  # the same call with the same arguments ran once

    from assistant.llm import LLMRequest
    from assistant.telemetry import TurnTrace
    from assistant.tools import ToolContext
    from assistant.turn import AnswerStream, LLMTurn

    trace = TurnTrace(trace_id="0" * 32, session_id="console:guard")
    turn = LLMTurn(
        llm=runtime.llm,
        settings=runtime.settings,
        store=runtime.store,
        telemetry=runtime.telemetry,
        conversation=runtime.store.open("console:guard", platform="console", user_id=None),
        trace=trace,
        tools=ToolContext(sessions=runtime.sessions, searcher=runtime.searcher, today=TODAY),
        deadline=runtime.llm.clock() + 30,
        on_status=None,
        delivery=AnswerStream(None, None),
    )
    fake_openai.enqueue_reply("hello")
    before = len(fake_openai.chat_requests())
    first, _ = await turn.complete(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    second, _ = await turn.complete(LLMRequest(messages=[{"role": "user", "content": "hi"}]))
    assert second is first
    assert len(fake_openai.chat_requests()) == before + 1
    with runtime.sessions() as session:
        rows = list(session.scalars(select(LlmCall).where(LlmCall.trace_id == "0" * 32)))
    assert [r.duplicate for r in rows] == [False, True]


async def test_all_providers_down_still_answers_and_records_the_failure(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    fake_openai.fail_next(500, times=None)
    key = thread_key_console()
    message_id, reply = await say(runtime, key, "Python developer with FastAPI")
    runtime.telemetry.flush()
    assert reply.status == "degraded"
    assert "unavailable" in reply.text and "Ahmet Demir" in reply.text  # the search still answered
    root = fake_langfuse.span_named("assistant.turn")
    assert root.trace_id == trace_id_for("console", message_id) and root.level == "ERROR"
    with runtime.sessions() as session:
        statuses = [r.status for r in session.scalars(select(LlmCall))]
        roles = [(m.role, m.status) for m in session.scalars(select(Message).order_by(Message.id))]
    assert statuses == ["failed"]
    assert roles == [("user", "ok"), ("assistant", "ok")]  # nothing lost: the question and the answer


async def test_empty_and_oversized_messages_get_clear_answers(
    runtime: Runtime, fake_openai: FakeOpenAI
) -> None:
    _, empty = await say(runtime, thread_key_console(), "   ")
    assert empty.status == "rejected" and "Tell me who you are looking for" in empty.text
    _, huge = await say(runtime, thread_key_console(), "Java " * 2000)
    assert huge.status == "rejected" and "characters long" in huge.text
    assert fake_openai.chat_requests() == []


async def test_prompt_from_langfuse_is_linked_to_generations(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    fake_langfuse.add_prompt("skillmatch-system", "You staff projects. Today is {{today}}.", version=3)
    runtime.engine.prompts.refresh()  # at start-up; turns themselves never wait for Langfuse
    fake_openai.enqueue_reply("Nobody needed.")
    await say(runtime, thread_key_console(), "Anyone for COBOL on the mainframe?")
    runtime.telemetry.flush()
    system = fake_openai.chat_requests()[-1].json()["messages"][0]
    assert system == {"role": "system", "content": "You staff projects. Today is 2026-11-27."}
    generation = fake_langfuse.spans_of_type("generation")[-1]
    assert (generation.prompt_name, generation.prompt_version) == ("skillmatch-system", 3)


async def test_a_langfuse_outage_neither_fails_nor_delays_the_turn(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    fake_langfuse.fail_next(500, times=None)
    fake_openai.enqueue_reply("Daniel Koch.")
    started = time.perf_counter()
    _, reply = await say(runtime, thread_key_console(), "SRE with Prometheus")
    assert time.perf_counter() - started < 1.0  # nothing on the turn's path waits for Langfuse
    assert reply.status == "ok" and reply.text == "Daniel Koch."
    runtime.telemetry.flush()  # returns although every export fails
    with runtime.sessions() as session:
        assert session.scalar(select(LlmCall.status)) == "ok"  # the ledger has the call regardless


async def test_tool_loops_end_at_the_step_limit(runtime: Runtime, fake_openai: FakeOpenAI) -> None:
    runtime.settings.max_tool_steps = 2
    fake_openai.responder = lambda body: {
        "tool_calls": [tool_call("get_person_profile", {"person": "Anna Schmidt"})]
    }
    _, reply = await say(runtime, thread_key_console(), "Tell me everything about Anna")
    requests = fake_openai.chat_requests()
    assert len(requests) == 3  # two tool rounds, then one call that must answer
    assert requests[-1].json()["tool_choice"] == "none"
    assert reply.status == "ok" and "too many tool calls" in reply.text


def test_audit_reads_generations_back_from_langfuse(
    runtime: Runtime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse, sample_db_url: str
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from assistant.cli import app

    key = thread_key_console()
    fake_openai.enqueue_reply(tool_calls=[tool_call("search_candidates", {"query": "Vue.js frontend"})])
    fake_openai.enqueue_reply("Sophie Lang.")
    asyncio.run(say(runtime, key, "Vue.js frontend developer for a booking platform"))
    runtime.telemetry.flush()
    env = {
        "LANGFUSE_PUBLIC_KEY": runtime.settings.langfuse_public_key,
        "LANGFUSE_SECRET_KEY": "sk-lf-test",
        "LANGFUSE_BASE_URL": fake_langfuse.origin,
    }
    result = CliRunner().invoke(
        app,
        ["audit", "--source", "langfuse", "--session", key, "--since", "1h", "--database-url", sample_db_url],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "LLM calls per trace (langfuse" in result.output
    row = next(line for line in result.output.splitlines() if key[:30] in line)
    assert " 2 " in row  # two generations in the one trace, no duplicates
    requests = fake_langfuse.requests_to("/api/public/v2/observations", "GET")
    assert requests and requests[0].param("sessionId") == key
