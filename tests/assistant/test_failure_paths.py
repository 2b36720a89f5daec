"""What a user sees when the model misbehaves: a stream that breaks, providers that hang or fail, a
conversation too long for the model. Always a complete answer, never a fragment; streamed text that turns
out void is announced through `on_retract`, and `TurnReply.streamed` says whether the streamed text stands."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from assistant.sessions import thread_key_console
from skillmatch.models import LlmCall, Message
from tests.assistant.conftest import MakeRuntime, say
from tests.fakes.openai_server import FakeOpenAI

RETRACT = "<retract>"
ANSWER = "Anna Schmidt fits best: she led the Kubernetes migration of a private bank."


def search(query: str, **arguments: Any) -> dict[str, Any]:
    return {"name": "search_candidates", "arguments": json.dumps({"query": query, **arguments})}


class Recorder:
    """A channel's view of one turn: status lines, deltas and retractions, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def status(self, text: str) -> None:
        self.events.append(f"<status {text}>")

    async def delta(self, text: str) -> None:
        self.events.append(text)

    async def retract(self) -> None:
        self.events.append(RETRACT)

    def callbacks(self) -> dict[str, Any]:
        return {"on_status": self.status, "on_delta": self.delta, "on_retract": self.retract}

    def shown(self) -> str:
        """The answer as a channel honouring retractions shows it (status lines are not part of it)."""
        text = ""
        for event in self.events:
            if event == RETRACT:
                text = ""
            elif not event.startswith("<status"):
                text += event
        return text


async def test_a_stream_broken_mid_answer_is_retracted_and_the_retried_answer_stands(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI
) -> None:
    rt = make_runtime()
    fake_openai.enqueue_reply("Let me search.", tool_calls=[search("Kubernetes migration bank")])
    fake_openai.enqueue_reply(ANSWER, broken_after=3)
    fake_openai.enqueue_reply(ANSWER)
    channel = Recorder()
    _, reply = await say(
        rt, thread_key_console(), "Who could lead a Kubernetes migration for a bank?", **channel.callbacks()
    )
    assert reply.status == "ok" and reply.text == ANSWER
    assert channel.events.count(RETRACT) == 1
    assert channel.events.index(RETRACT) > channel.events.index("Anna ")  # text came, then was voided
    assert channel.shown() == ANSWER and reply.streamed  # what stands after the retraction is the answer
    assert reply.candidates and reply.candidates[0]["name"] == "Anna Schmidt"


async def test_a_stream_that_cannot_be_recovered_ends_in_the_marked_search_answer(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI
) -> None:
    rt = make_runtime()
    key = thread_key_console()
    fake_openai.enqueue_reply("Let me search.", tool_calls=[search("Kubernetes migration bank")])
    fake_openai.enqueue_reply(ANSWER, broken_after=3)
    fake_openai.enqueue_reply(ANSWER, broken_after=2)
    channel = Recorder()
    _, reply = await say(rt, key, "Who could lead a Kubernetes migration for a bank?", **channel.callbacks())
    assert reply.status == "degraded" and not reply.streamed
    assert RETRACT in channel.events and channel.shown() == ""  # everything streamed in this turn is void
    assert reply.text.startswith("_The language model's answer broke off")
    assert "Anna Schmidt" in reply.text and reply.candidates  # the search answer, with its candidates
    assert "fits best" not in reply.text  # no fragment of the broken answer
    with rt.sessions() as session:
        stored = session.scalars(select(Message.content).where(Message.role == "assistant")).all()
    assert stored[-1] == reply.text


async def test_every_provider_hanging_ends_in_the_search_answer_when_the_turn_budget_is_spent(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, backup_openai: FakeOpenAI
) -> None:
    rt = make_runtime(backup=True, SKILLMATCH_TURN_TIMEOUT=0.5)  # provider timeouts stay at 30 s and 60 s
    fake_openai.hang_next(120, times=None)
    backup_openai.hang_next(120, times=None)
    started = time.monotonic()
    _, reply = await say(rt, thread_key_console(), "Python developer with FastAPI")
    assert time.monotonic() - started < 20  # below one provider timeout (30 s): the budget cut the wait
    assert reply.status == "degraded"
    assert reply.text.startswith("_The language model did not answer within 0.5 s")
    assert "Ahmet Demir" in reply.text and reply.candidates
    assert len(fake_openai.chat_requests()) == 1 and backup_openai.chat_requests() == []
    with rt.sessions() as session:
        row = session.scalars(select(LlmCall)).one()
    assert row.status == "failed" and "time budget" in (row.error or "")


async def test_the_default_turn_budget_is_45_seconds(make_runtime: MakeRuntime) -> None:
    assert make_runtime(tracing=False).settings.turn_timeout == 45.0


async def test_a_context_error_in_a_tool_round_keeps_the_question_and_drops_older_turns(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI
) -> None:
    rt = make_runtime()
    key = thread_key_console()
    for n, skill in enumerate(("Java", "SAP ABAP", "Vue.js")):
        fake_openai.enqueue_reply(tool_calls=[search(skill)])
        fake_openai.enqueue_reply(f"Answer {n}: somebody for {skill}.")
        _, earlier = await say(rt, key, f"Earlier question {n}: who knows {skill}?")
        assert earlier.status == "ok"
    question = "Who could lead a Kubernetes migration for a bank?"
    fake_openai.enqueue_reply(tool_calls=[search("Kubernetes migration bank")])
    # The second call of the turn, with the tool round, is too long.
    fake_openai.context_length_next(match=lambda request: request.json()["messages"][-1]["role"] == "tool")
    fake_openai.enqueue_reply(ANSWER)
    _, reply = await say(rt, key, question)
    assert reply.status == "ok" and reply.text == ANSWER
    too_long, retried = (r.json()["messages"] for r in fake_openai.chat_requests()[-2:])
    assert len(retried) < len(too_long)
    assert retried[0]["role"] == "system"
    assert any(m["role"] == "user" and m["content"] == question for m in retried)  # the question stays
    assert retried[-2:] == too_long[-2:] and retried[-1]["role"] == "tool"  # so does the tool round
    assert "Earlier question 0" not in json.dumps(retried)  # the oldest turn went first


async def test_a_failover_is_told_in_one_line(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, backup_openai: FakeOpenAI
) -> None:
    rt = make_runtime(backup=True)
    fake_openai.fail_next(500, times=2)
    backup_openai.enqueue_reply("Daniel Koch.")
    _, reply = await say(rt, thread_key_console(), "SRE with Prometheus")
    assert reply.status == "ok" and reply.text == "Daniel Koch."
    assert reply.notice == "OpenAI unavailable (HTTP 500), answered by vLLM"
    fake_openai.enqueue_reply("Daniel Koch again.")
    _, calm = await say(rt, thread_key_console(), "SRE with Prometheus")
    assert calm.notice is None or "answered by vLLM" in calm.notice  # the circuit may still be open
