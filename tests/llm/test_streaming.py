"""Streaming through the routed client: deltas in order, usage at the end, failover before the first delta
(after it, see test_broken_streams.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.llm import (
    AllProvidersFailed,
    LLMRequest,
    LLMResponse,
    RoutedLLM,
    StreamEvent,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import closed_port_url, openai_provider

MakeLLM = Callable[..., RoutedLLM]


def ask(text: str = "Who knows Python?", **kwargs: object) -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}], **kwargs)  # type: ignore[arg-type]


async def collect(llm: RoutedLLM, request: LLMRequest) -> tuple[list[str], LLMResponse]:
    deltas: list[str] = []
    final: list[LLMResponse] = []
    async for event in llm.stream(request):
        assert isinstance(event, StreamEvent)
        if event.response is not None:
            assert event.delta == ""
            final.append(event.response)
        else:
            assert not final, "no delta after the final event"
            deltas.append(event.delta)
    assert len(final) == 1
    return deltas, final[0]


async def test_deltas_arrive_in_order_and_the_final_response_has_usage(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.enqueue_reply("Anna Roth fits best.", usage={"prompt_tokens": 31, "completion_tokens": 5})
    deltas, response = await collect(make_llm(openai_provider(primary.base_url)), ask())
    assert deltas == ["Anna ", "Roth ", "fits ", "best."]
    assert response.content == "Anna Roth fits best."
    assert response.usage == {"prompt_tokens": 31, "completion_tokens": 5} and not response.usage_estimated
    assert response.finish_reason == "stop"
    assert [(a.provider, a.outcome) for a in response.attempts] == [("openai", "ok")]
    sent = primary.chat_requests()[0].json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


async def test_streamed_tool_calls_are_assembled(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.enqueue_reply(
        tool_calls=[
            {"name": "search_people", "arguments": {"skills": ["python", "azure"], "city": "Munich"}},
            {"name": "availability", "arguments": {"person_id": 7}},
        ]
    )
    deltas, response = await collect(make_llm(openai_provider(primary.base_url)), ask())
    assert deltas == []
    assert response.finish_reason == "tool_calls" and response.content is None
    assert [c["function"]["name"] for c in response.tool_calls] == ["search_people", "availability"]
    assert (
        response.tool_calls[0]["function"]["arguments"] == '{"skills": ["python", "azure"], "city": "Munich"}'
    )
    assert all(c["id"] and c["type"] == "function" for c in response.tool_calls)
    assert response.assistant_message()["tool_calls"] == response.tool_calls


async def test_stream_fails_over_before_the_first_delta(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.fail_next(503, times=2)
    backup.enqueue_reply("From the backup.")
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    deltas, response = await collect(llm, ask())
    assert "".join(deltas) == "From the backup."
    assert [(a.provider, a.outcome) for a in response.attempts] == [
        ("openai", "retryable"),
        ("openai", "retryable"),
        ("vllm", "ok"),
    ]


async def test_stream_error_event_before_any_text_still_fails_over(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.broken_stream_next(after=0)
    primary.enqueue_reply("lost")
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q"), retries=0
    )
    deltas, response = await collect(llm, ask("hi"))
    assert "".join(deltas) == "echo: hi" and response.provider == "vllm"


async def test_connection_refused_stream_fails_over(backup: FakeOpenAI, make_llm: MakeLLM) -> None:
    llm = make_llm(
        openai_provider(closed_port_url()), openai_provider(backup.base_url, name="vllm", model="q")
    )
    deltas, response = await collect(llm, ask("hi"))
    assert "".join(deltas) == "echo: hi"
    assert [a.outcome for a in response.attempts] == ["retryable", "retryable", "ok"]


async def test_stream_without_usage_is_estimated(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.enqueue_reply("Two words", omit_usage=True)
    _, response = await collect(make_llm(openai_provider(primary.base_url, name="vllm", model="q")), ask())
    assert response.usage_estimated and response.usage["completion_tokens"] == 2


async def test_stream_all_down(make_llm: MakeLLM) -> None:
    llm = make_llm(openai_provider(closed_port_url()), retries=0)
    with pytest.raises(AllProvidersFailed):
        async for _ in llm.stream(ask()):
            pass


async def test_stopping_early_closes_the_stream(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.enqueue_reply("one two three four")
    llm = make_llm(openai_provider(primary.base_url))
    stream = llm.stream(ask())
    async for event in stream:
        assert event.delta == "one "
        break
    await stream.aclose()  # type: ignore[attr-defined]
    # The client is still usable afterwards.
    assert (await llm.complete(ask("again"))).content == "echo: again"
