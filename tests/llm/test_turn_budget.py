"""A turn's time budget, shared by every provider and retry: an attempt never gets more than what is left.

The deadline is in the router's clock (the tests' FakeClock), so nothing here waits for it; the only real
waiting is a fake provider's controlled hang, cut short by the budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.llm import AllProvidersFailed, LLMRequest, RoutedLLM, TurnBudgetSpent
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import FakeClock, RecordingSleep, openai_provider

MakeLLM = Callable[..., RoutedLLM]


def ask(deadline: float | None) -> LLMRequest:
    return LLMRequest(messages=[{"role": "user", "content": "Who knows Python?"}], deadline=deadline)


def outcomes(attempts: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(a.provider, a.outcome) for a in attempts]


async def test_an_attempt_gets_at_most_the_budget_left_and_then_the_turn_gives_up(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock
) -> None:
    primary.hang_next(30)
    llm = make_llm(
        openai_provider(primary.base_url, timeout=30.0),
        openai_provider(backup.base_url, name="vllm", model="q", timeout=60.0),
    )
    with pytest.raises(TurnBudgetSpent) as raised:
        await llm.complete(ask(deadline=clock() + 0.3))
    assert isinstance(raised.value, AllProvidersFailed)  # callers that fall back on outages do so here too
    assert outcomes(raised.value.attempts) == [("openai", "retryable")]
    assert "timed out after 0.3 s" in (raised.value.attempts[0].error or "")
    assert "time budget" in str(raised.value)
    assert backup.chat_requests() == []  # the budget was spent waiting; nobody else is asked


async def test_a_spent_budget_sends_no_request(
    primary: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock
) -> None:
    llm = make_llm(openai_provider(primary.base_url))
    with pytest.raises(TurnBudgetSpent):
        await llm.complete(ask(deadline=clock() - 0.1))
    with pytest.raises(TurnBudgetSpent):
        async for _ in llm.stream(ask(deadline=clock())):
            pass
    assert primary.chat_requests() == []


async def test_the_budget_left_is_shared_across_providers(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock, sleep: RecordingSleep
) -> None:
    """The primary fails (time passes), the backup is asked with what is left, not its own full timeout."""
    primary.fail_next(500, times=2)
    backup.hang_next(30)

    async def slow_sleep(seconds: float) -> None:
        await sleep(seconds)
        clock.advance(44.0)  # the primary's failures and the backoff used most of the budget

    llm = RoutedLLM(
        [
            openai_provider(primary.base_url, timeout=30.0),
            openai_provider(backup.base_url, name="vllm", model="q", timeout=60.0),
        ],
        retries=1,
        clock=clock,
        sleep=slow_sleep,
    )
    try:
        with pytest.raises(TurnBudgetSpent) as raised:
            await llm.complete(ask(deadline=clock() + 44.4))
    finally:
        await llm.aclose()
    assert outcomes(raised.value.attempts) == [
        ("openai", "retryable"),
        ("openai", "retryable"),
        ("vllm", "retryable"),
    ]
    assert "timed out after 0.4 s" in (raised.value.attempts[-1].error or "")


async def test_a_retry_wait_longer_than_the_budget_left_fails_over_at_once(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock, sleep: RecordingSleep
) -> None:
    primary.fail_next(429, headers={"Retry-After": "3"})
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    response = await llm.complete(ask(deadline=clock() + 2.0))
    assert response.provider == "vllm" and sleep.delays == []
    assert outcomes(response.attempts) == [("openai", "retryable"), ("vllm", "ok")]


async def test_without_a_deadline_each_provider_has_its_own_timeout(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.hang_next(30)
    llm = make_llm(openai_provider(primary.base_url, timeout=0.3))
    response = await llm.complete(ask(deadline=None))
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "ok")]
    assert "timed out after 0.3 s" in (response.attempts[0].error or "")


async def test_a_stream_gets_at_most_the_budget_left(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock
) -> None:
    primary.hang_next(30)
    llm = make_llm(
        openai_provider(primary.base_url, timeout=30.0),
        openai_provider(backup.base_url, name="vllm", model="q"),
    )
    with pytest.raises(TurnBudgetSpent) as raised:
        async for _ in llm.stream(ask(deadline=clock() + 0.3)):
            pass
    assert outcomes(raised.value.attempts) == [("openai", "retryable")]
    assert backup.chat_requests() == []
