"""A request too long for a model's context window: older turns go first, the question and the current tool
round never; when even that does not fit, the next provider (perhaps with a larger window) is asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistant.llm import MAX_TRIMS, LLMRequest, LLMRequestError, RoutedLLM, trim_older_turns
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import openai_provider

MakeLLM = Callable[..., RoutedLLM]
SYSTEM = {"role": "system", "content": "You staff projects."}


def tool_round(call_id: str, query: str, result: str) -> list[dict[str, Any]]:
    call = {"id": call_id, "type": "function", "function": {"name": "search_candidates", "arguments": query}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call_id, "content": result},
    ]


def conversation(older_turns: int, words: int = 40) -> list[dict[str, Any]]:
    """System prompt, `older_turns` earlier question/tool/answer turns, then the current question and the
    current turn's tool round (as on the second model call of a turn)."""
    messages: list[dict[str, Any]] = [SYSTEM]
    for n in range(older_turns):
        messages.append({"role": "user", "content": f"Earlier question {n}: " + "java " * words})
        messages += tool_round(f"old{n}", f'{{"query": "java {n}"}}', "people " * words)
        messages.append({"role": "assistant", "content": f"Earlier answer {n}: " + "Ben " * words})
    messages.append({"role": "user", "content": "Who could lead a Kubernetes migration for a bank?"})
    messages += tool_round("now", '{"query": "kubernetes bank"}', "Anna Schmidt; Daniel Koch " * words)
    return messages


def current_part(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return messages[last_user:]


def test_older_turns_go_first_and_the_question_and_tool_round_stay() -> None:
    messages = conversation(older_turns=4)
    trimmed = trim_older_turns(messages, 1)
    assert trimmed is not None and len(trimmed) < len(messages)
    assert trimmed[0] == SYSTEM and current_part(trimmed) == current_part(messages)
    assert "Earlier question 0" not in json.dumps(trimmed)  # the oldest went first
    assert "Earlier answer 3" in json.dumps(trimmed)  # the newest older turn is still there


def test_asked_to_drop_everything_it_keeps_system_question_and_tool_round() -> None:
    messages = conversation(older_turns=4)
    trimmed = trim_older_turns(messages, 10**9)
    assert trimmed == [SYSTEM, *current_part(messages)]
    assert trim_older_turns(trimmed, 1) is None  # nothing older is left: it cannot shrink further


def test_a_tool_call_is_never_separated_from_its_results() -> None:
    messages = conversation(older_turns=3)
    for budget in range(1, 2000, 37):
        trimmed = trim_older_turns(messages, budget) or messages
        for i, message in enumerate(trimmed):
            if message.get("tool_calls"):
                assert trimmed[i + 1]["role"] == "tool"
            if message["role"] == "tool":
                assert trimmed[i - 1].get("tool_calls") or trimmed[i - 1]["role"] == "tool"


async def test_a_short_history_is_trimmed_too_not_given_up(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    messages = conversation(older_turns=2, words=20)  # a few hundred tokens: well under any old threshold
    primary.context_length_next()
    response = await make_llm(openai_provider(primary.base_url)).complete(
        LLMRequest(messages, trim=trim_older_turns)
    )
    assert [a.outcome for a in response.attempts] == ["context_length", "ok"]
    retried = primary.chat_requests()[1].json()["messages"]
    assert len(retried) < len(messages) and current_part(retried) == current_part(messages)


async def test_the_overflow_the_model_reports_decides_how_much_goes(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    """A window a little too small costs the oldest turn, not half the conversation."""
    messages = conversation(older_turns=6)
    primary.context_window = sum(len(str(m.get("content") or "").split()) + 1 for m in messages) - 30
    response = await make_llm(openai_provider(primary.base_url)).complete(
        LLMRequest(messages, trim=trim_older_turns)
    )
    sent = response.messages_sent
    assert current_part(sent) == current_part(messages)
    assert "Earlier question 0" not in json.dumps(sent) and "Earlier question 2" in json.dumps(sent)
    assert len(primary.chat_requests()) == 2


async def test_when_nothing_older_is_left_the_next_provider_gets_the_whole_conversation(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    messages = conversation(older_turns=3)
    primary.context_window = 60  # not even the question and the tool round fit
    backup.enqueue_reply("Anna Schmidt.")
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="big")
    )
    response = await llm.complete(LLMRequest(messages, trim=trim_older_turns))
    assert response.provider == "vllm" and response.content == "Anna Schmidt."
    assert backup.chat_requests()[0].json()["messages"] == messages  # a larger window gets the history
    assert [a.outcome for a in response.attempts][-1] == "ok"
    assert {a.outcome for a in response.attempts[:-1]} == {"context_length"}
    assert not llm.circuit_open("openai")  # the request was too long; the provider is fine
    assert len(primary.chat_requests()) <= MAX_TRIMS + 1


async def test_too_long_for_every_provider_is_a_request_error(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.context_window = backup.context_window = 60
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    with pytest.raises(LLMRequestError, match="context"):
        await llm.complete(LLMRequest(conversation(older_turns=2), trim=trim_older_turns))
