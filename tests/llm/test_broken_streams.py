"""A stream that breaks after its first words: the words are void, and the answer comes again, whole.

The router says so with a `discard` event (every delta since the last discard is void), then retries on
the same provider or fails over, as it would before the first delta."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.llm import AllProvidersFailed, LLMRequest, RoutedLLM, StreamEvent, StreamInterrupted
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import openai_provider

MakeLLM = Callable[..., RoutedLLM]


def ask(text: str = "Who knows Python?") -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": text}])


async def events(llm: RoutedLLM, request: LLMRequest) -> list[StreamEvent]:
    return [event async for event in llm.stream(request)]


def shown(received: list[StreamEvent]) -> str:
    """What a channel that honours discards ends up showing."""
    text = ""
    for event in received:
        text = "" if event.discard else text + event.delta
    return text


async def test_a_stream_broken_after_text_is_discarded_and_retried(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.enqueue_reply("Anna Roth fits best.", broken_after=2)
    primary.enqueue_reply("Anna Roth fits best.")
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    received = await events(llm, ask())
    assert [e.delta for e in received[:2]] == ["Anna ", "Roth "]
    assert received[2].discard and received[2].delta == "" and received[2].response is None
    assert shown(received) == "Anna Roth fits best."
    final = received[-1].response
    assert final is not None and final.content == "Anna Roth fits best."
    assert [(a.provider, a.outcome) for a in final.attempts] == [("openai", "retryable"), ("openai", "ok")]
    assert "worker died" in (final.attempts[0].error or "")
    assert backup.chat_requests() == []


async def test_a_stream_breaking_on_every_try_fails_over_to_the_next_provider(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.enqueue_reply("Anna Roth fits best.", broken_after=1)
    primary.enqueue_reply("Anna Roth fits best.", broken_after=3)
    backup.enqueue_reply("Ben Hall, from the backup.")
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    received = await events(llm, ask())
    assert sum(e.discard for e in received) == 2
    assert shown(received) == "Ben Hall, from the backup."
    final = received[-1].response
    assert final is not None and final.provider == "vllm"
    assert [a.outcome for a in final.attempts] == ["retryable", "retryable", "ok"]


async def test_garbage_in_the_middle_of_a_stream_is_discarded_and_failed_over(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.enqueue_reply("Anna Roth fits best.", garbage_after=2)
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q"), retries=0
    )
    received = await events(llm, ask("hi"))
    assert [e.delta for e in received[:2]] == ["Anna ", "Roth "] and received[2].discard
    assert shown(received) == "echo: hi"
    final = received[-1].response
    assert final is not None and final.provider == "vllm"
    assert "JSONDecodeError" in (final.attempts[0].error or "")


async def test_a_stream_that_never_recovers_says_what_came_before_it_broke(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.enqueue_reply("Anna Roth fits best.", broken_after=2)
    primary.enqueue_reply("Anna Roth fits best.", broken_after=1)
    llm = make_llm(openai_provider(primary.base_url))
    received: list[StreamEvent] = []
    with pytest.raises(StreamInterrupted) as raised:
        async for event in llm.stream(ask()):
            received.append(event)
    assert isinstance(raised.value, AllProvidersFailed)
    assert [e.delta or ("<discard>" if e.discard else "") for e in received] == [
        "Anna ",
        "Roth ",
        "<discard>",
        "Anna ",
        "<discard>",
    ]
    assert raised.value.partial_text == "Anna "
    assert [a.outcome for a in raised.value.attempts] == ["retryable", "retryable"]


async def test_a_discard_comes_only_after_text(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.broken_stream_next(after=0)
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q"), retries=0
    )
    received = await events(llm, ask("hi"))
    assert not any(e.discard for e in received)
    assert shown(received) == "echo: hi"
