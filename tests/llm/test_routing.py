"""Failover policy of the routed client, case by case, through the real openai client against fakes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from assistant.llm import (
    BACKOFF,
    CONNECT_BACKOFF,
    MAX_TRIMS,
    AllProvidersFailed,
    LLMRequest,
    LLMRequestError,
    RoutedLLM,
)
from skillmatch.tokencount import count_tokens
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import FakeClock, RecordingSleep, azure_provider, closed_port_url, openai_provider

MakeLLM = Callable[..., RoutedLLM]

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_people",
            "description": "Find consultants by skill.",
            "parameters": {
                "type": "object",
                "properties": {"skills": {"type": "array", "items": {"type": "string"}}},
            },
        },
    }
]


def ask(text: str = "Who knows Python?", **kwargs: Any) -> LLMRequest:
    return LLMRequest(
        messages=[{"role": "system", "content": "You staff projects."}, {"role": "user", "content": text}],
        **kwargs,
    )


def outcomes(attempts: list[Any]) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in attempts]


def two(primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, **kwargs: Any) -> RoutedLLM:
    return make_llm(
        openai_provider(primary.base_url),
        openai_provider(backup.base_url, name="vllm", model="qwen2.5-7b"),
        **kwargs,
    )


# -- retryable failures --


async def test_500_then_success_on_retry(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, sleep: RecordingSleep
) -> None:
    primary.fail_next(500)
    primary.enqueue_reply("Anna Roth knows Python.")
    response = await two(primary, backup, make_llm).complete(ask())
    assert response.content == "Anna Roth knows Python."
    assert (response.provider, response.model) == ("openai", "gpt-4o-mini")
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "ok")]
    assert "HTTP 500" in (response.attempts[0].error or "")
    assert sleep.delays == [BACKOFF]
    assert len(primary.chat_requests()) == 2 and backup.chat_requests() == []


@pytest.mark.parametrize(
    ("headers", "expected"), [({"Retry-After": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5)]
)
async def test_429_retry_after_is_honoured_through_the_injected_sleep(
    primary: FakeOpenAI,
    backup: FakeOpenAI,
    make_llm: MakeLLM,
    sleep: RecordingSleep,
    headers: dict[str, str],
    expected: float,
) -> None:
    primary.fail_next(429, headers=headers)
    response = await two(primary, backup, make_llm).complete(ask())
    assert sleep.delays == [expected]
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "ok")]
    assert "Rate limit" in (response.attempts[0].error or "")


async def test_429_asking_for_a_long_wait_fails_over_without_waiting(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, sleep: RecordingSleep
) -> None:
    primary.fail_next(429, headers={"Retry-After": "120"})
    response = await two(primary, backup, make_llm).complete(ask())
    assert response.provider == "vllm"
    assert sleep.delays == []
    assert len(primary.chat_requests()) == 1


async def test_hang_past_the_timeout_fails_over_without_retrying_the_slow_provider(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.hang_next(30)
    llm = make_llm(
        openai_provider(primary.base_url, timeout=0.3),
        openai_provider(backup.base_url, name="vllm", model="q"),
    )
    response = await llm.complete(ask())
    assert response.provider == "vllm"
    assert outcomes(response.attempts) == [("openai", "retryable"), ("vllm", "ok")]
    assert "timed out after 0.3 s" in (response.attempts[0].error or "")
    assert response.attempts[0].latency_ms >= 250
    assert len(primary.chat_requests()) == 1  # a second full timeout would only delay the answer


async def test_hang_on_the_last_provider_is_retried(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.hang_next(30)
    llm = make_llm(openai_provider(primary.base_url, timeout=0.3))
    response = await llm.complete(ask())
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "ok")]


async def test_connection_refused_fails_over_after_a_retry(
    backup: FakeOpenAI, make_llm: MakeLLM, sleep: RecordingSleep
) -> None:
    llm = make_llm(
        openai_provider(closed_port_url()), openai_provider(backup.base_url, name="vllm", model="q")
    )
    response = await llm.complete(ask("hello"))
    assert response.content == "echo: hello"
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "retryable"), ("vllm", "ok")]
    assert "connection error" in (response.attempts[0].error or "")
    assert sleep.delays == [CONNECT_BACKOFF]


async def test_malformed_json_is_retried(primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.malformed_next()
    response = await two(primary, backup, make_llm).complete(ask())
    assert outcomes(response.attempts) == [("openai", "retryable"), ("openai", "ok")]
    assert "JSONDecodeError" in (response.attempts[0].error or "")


async def test_malformed_json_twice_fails_over(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.malformed_next()
    primary.fail_next(200, body=b'{"id": "x", "object": "chat.completion"}')  # valid JSON, no choices
    response = await two(primary, backup, make_llm).complete(ask())
    assert response.provider == "vllm"
    assert [a.outcome for a in response.attempts] == ["retryable", "retryable", "ok"]


async def test_no_retries_configured_means_one_attempt_per_provider(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, sleep: RecordingSleep
) -> None:
    primary.fail_next(503)
    response = await two(primary, backup, make_llm, retries=0).complete(ask())
    assert outcomes(response.attempts) == [("openai", "retryable"), ("vllm", "ok")]
    assert sleep.delays == []


# -- misconfiguration --


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_fails_over_at_once_and_is_logged(
    primary: FakeOpenAI,
    backup: FakeOpenAI,
    make_llm: MakeLLM,
    sleep: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    primary.auth_fail_next(status)
    with caplog.at_level(logging.ERROR, logger="assistant.llm"):
        response = await two(primary, backup, make_llm).complete(ask())
    assert response.provider == "vllm"
    assert outcomes(response.attempts) == [("openai", "misconfigured"), ("vllm", "ok")]
    assert len(primary.chat_requests()) == 1 and sleep.delays == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "openai" in errors[0].getMessage() and "misconfigured" in errors[0].getMessage()


async def test_the_api_key_never_reaches_logs_or_attempts(
    backup: FakeOpenAI, make_llm: MakeLLM, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-proj-0123456789abcdefSECRET"
    with FakeOpenAI(api_key=secret) as primary:
        body = {
            "error": {"message": f"Incorrect API key provided: {secret}.", "type": "invalid_request_error"}
        }
        primary.fail_next(401, body=json.dumps(body).encode())
        llm = make_llm(
            openai_provider(primary.base_url, api_key=secret),
            openai_provider(backup.base_url, name="vllm", model="q"),
        )
        with caplog.at_level(logging.DEBUG, logger="assistant.llm"):
            response = await llm.complete(ask())
    assert secret not in caplog.text
    assert all(secret not in (a.error or "") for a in response.attempts)
    assert "***" in (response.attempts[0].error or "")


async def test_unknown_model_404_fails_over_at_once(backup: FakeOpenAI, make_llm: MakeLLM) -> None:
    with FakeOpenAI(models=["Qwen/Qwen2.5-7B-Instruct"]) as vllm:
        llm = make_llm(
            openai_provider(vllm.base_url, name="vllm", model="qwen2.5-7b-instruct"),
            openai_provider(backup.base_url),
        )
        response = await llm.complete(ask())
        assert outcomes(response.attempts) == [("vllm", "misconfigured"), ("openai", "ok")]
        assert "does not exist" in (response.attempts[0].error or "")
        assert len(vllm.chat_requests()) == 1


async def test_azure_wire_format_and_wrong_deployment(backup: FakeOpenAI, make_llm: MakeLLM) -> None:
    with FakeOpenAI(deployments=["gpt-4o-prod"]) as azure:
        llm = make_llm(azure_provider(azure, deployment="gpt-4o-prod"))
        response = await llm.complete(ask("hi"))
        assert (response.provider, response.model, response.content) == ("azure", "gpt-4o-prod", "echo: hi")
        sent = azure.chat_requests()[0]
        assert sent.path == "/openai/deployments/gpt-4o-prod/chat/completions"
        assert sent.param("api-version") == "2024-10-21" and sent.header("api-key") == "sk-test"

        wrong = make_llm(azure_provider(azure, deployment="gpt-4o-typo"), openai_provider(backup.base_url))
        response = await wrong.complete(ask())
        assert outcomes(response.attempts) == [("azure", "misconfigured"), ("openai", "ok")]
        assert "deployment" in (response.attempts[0].error or "")


# -- request-specific refusals --


@pytest.mark.parametrize("with_code", [True, False])
async def test_azure_content_filter_fails_over(
    backup: FakeOpenAI, make_llm: MakeLLM, with_code: bool
) -> None:
    with FakeOpenAI() as azure:
        azure.content_filter_next(with_code=with_code)
        llm = make_llm(azure_provider(azure), openai_provider(backup.base_url, name="vllm", model="q"))
        response = await llm.complete(ask())
        assert outcomes(response.attempts) == [("azure", "content_filter"), ("vllm", "ok")]
        assert len(azure.chat_requests()) == 1
        assert not llm.circuit_open("azure")  # the prompt was refused, the provider is fine


def drop_oldest_turn(messages: list[dict[str, Any]], drop_at_least: int = 1) -> list[dict[str, Any]] | None:
    """Keep the system prompt and the last message; drop the oldest message in between (one per call,
    whatever `drop_at_least` asks)."""
    if len(messages) <= 2:
        return None
    return [messages[0], *messages[2:]]


def long_history() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You staff projects."},
        {"role": "user", "content": "Who knows Java?"},
        {"role": "assistant", "content": "Ben knows Java."},
        {"role": "user", "content": "And Python?"},
    ]


@pytest.mark.parametrize("vllm", [False, True])
async def test_context_length_trims_and_retries_on_the_same_provider(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, vllm: bool
) -> None:
    primary.context_length_next(vllm=vllm)
    request = LLMRequest(messages=long_history(), trim=drop_oldest_turn)
    response = await two(primary, backup, make_llm).complete(request)
    assert outcomes(response.attempts) == [("openai", "context_length"), ("openai", "ok")]
    sent = [r.json()["messages"] for r in primary.chat_requests()]
    assert [len(m) for m in sent] == [4, 3]
    assert response.messages_sent == sent[1] == drop_oldest_turn(long_history())
    assert request.messages == long_history()  # the caller's list is untouched
    assert backup.chat_requests() == []


async def test_context_length_gives_up_when_trim_returns_none(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.context_length_next()
    request = LLMRequest(messages=long_history()[:2], trim=drop_oldest_turn)
    with pytest.raises(LLMRequestError, match="cannot be trimmed") as raised:
        await make_llm(openai_provider(primary.base_url)).complete(request)
    assert outcomes(raised.value.attempts) == [("openai", "context_length")]
    assert len(primary.chat_requests()) == 1


async def test_context_length_with_nothing_to_trim_asks_the_next_provider(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.context_length_next()
    request = LLMRequest(messages=long_history()[:2], trim=drop_oldest_turn)
    response = await two(primary, backup, make_llm).complete(request)
    assert outcomes(response.attempts) == [("openai", "context_length"), ("vllm", "ok")]
    assert backup.chat_requests()[0].json()["messages"] == long_history()[:2]


async def test_context_length_gives_up_when_trim_does_not_shorten(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.context_length_next(vllm=True)
    request = LLMRequest(messages=long_history(), trim=lambda messages, _: list(messages))
    with pytest.raises(LLMRequestError):
        await make_llm(openai_provider(primary.base_url)).complete(request)
    assert len(primary.chat_requests()) == 1


async def test_context_length_never_loops(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.context_length_next(times=None)  # every request is too long
    messages = [{"role": "system", "content": "s"}] + [
        {"role": "user", "content": f"m{i}"} for i in range(20)
    ]
    with pytest.raises(LLMRequestError, match="still too long"):
        await make_llm(openai_provider(primary.base_url)).complete(
            LLMRequest(messages, trim=drop_oldest_turn)
        )
    assert len(primary.chat_requests()) == MAX_TRIMS + 1


async def test_context_length_without_trim_function_is_a_request_error(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.context_length_next()
    with pytest.raises(LLMRequestError, match="no trim function"):
        await make_llm(openai_provider(primary.base_url)).complete(ask())
    primary.context_length_next()
    assert (await two(primary, backup, make_llm).complete(ask())).provider == "vllm"  # a larger window


async def test_vllm_without_tool_parser_is_skipped_for_tool_requests(
    primary: FakeOpenAI,
    backup: FakeOpenAI,
    make_llm: MakeLLM,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    vllm, openai_ = primary, backup
    vllm.no_tool_parser_next()
    openai_.enqueue_reply(tool_calls=[{"name": "search_people", "arguments": {"skills": ["python"]}}])
    llm = make_llm(
        openai_provider(vllm.base_url, name="vllm", model="qwen2.5-7b"), openai_provider(openai_.base_url)
    )
    with caplog.at_level(logging.ERROR, logger="assistant.llm"):
        response = await llm.complete(ask(tools=TOOLS, tool_choice="auto"))
    assert outcomes(response.attempts) == [("vllm", "misconfigured"), ("openai", "ok")]
    assert response.tool_calls[0]["function"] == {
        "name": "search_people",
        "arguments": '{"skills": ["python"]}',
    }
    assert response.finish_reason == "tool_calls"
    assert "--enable-auto-tool-choice" in caplog.text and "vllm" in caplog.text
    sent = vllm.chat_requests()[0].json()
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto"

    # Known now: the next tool request skips vLLM without asking; a plain request still goes there.
    again = await llm.complete(ask(tools=TOOLS))
    assert outcomes(again.attempts) == [("vllm", "skipped_no_tools"), ("openai", "ok")]
    assert again.request_count == 1
    plain = await llm.complete(ask())
    assert plain.provider == "vllm"
    assert "tools" not in vllm.chat_requests()[-1].json()
    # After the cool-down vLLM is asked again (it may have been restarted with a parser).
    clock.advance(61)
    later = await llm.complete(ask(tools=TOOLS))
    assert later.provider == "vllm"


async def test_tool_request_with_no_tool_capable_provider_left(
    primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.no_tool_parser_next()
    llm = make_llm(openai_provider(primary.base_url, name="vllm", model="q"))
    with pytest.raises(AllProvidersFailed, match="enable-auto-tool-choice") as raised:
        await llm.complete(ask(tools=TOOLS))
    assert outcomes(raised.value.attempts) == [("vllm", "misconfigured")]
    static = make_llm(openai_provider(primary.base_url, name="vllm", model="q", supports_tools=False))
    with pytest.raises(AllProvidersFailed, match="cannot call tools"):
        await static.complete(ask(tools=TOOLS))


async def test_plain_400_raises_without_trying_others(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    error = {
        "message": "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'tool'.",
        "type": "invalid_request_error",
        "param": "messages[1].role",
        "code": "invalid_value",
    }
    primary.fail_next(400, body=json.dumps({"error": error}).encode())
    with pytest.raises(LLMRequestError, match="Invalid value") as raised:
        await two(primary, backup, make_llm).complete(ask())
    assert outcomes(raised.value.attempts) == [("openai", "fatal")]
    assert backup.chat_requests() == []


# -- everything down, circuit breaker --


async def test_all_providers_down_lists_every_attempt(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.fail_next(500, times=None)
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(closed_port_url(), name="vllm", model="q")
    )
    with pytest.raises(AllProvidersFailed) as raised:
        await llm.complete(ask())
    assert outcomes(raised.value.attempts) == [
        ("openai", "retryable"),
        ("openai", "retryable"),
        ("vllm", "retryable"),
        ("vllm", "retryable"),
    ]
    summary = str(raised.value)
    assert summary.startswith("all LLM providers failed:")
    assert "openai retryable x2 (HTTP 500" in summary and "vllm retryable x2 (connection error" in summary
    assert len(summary) < 1000


async def test_circuit_breaker_skips_a_failed_provider_until_the_cooldown_passes(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM, clock: FakeClock
) -> None:
    primary.fail_next(500, times=2)
    llm = two(primary, backup, make_llm, cooldown_seconds=60)
    first = await llm.complete(ask())
    assert outcomes(first.attempts) == [("openai", "retryable"), ("openai", "retryable"), ("vllm", "ok")]
    assert llm.circuit_open("openai")

    clock.advance(59)
    second = await llm.complete(ask())
    assert outcomes(second.attempts) == [("openai", "skipped_open_circuit"), ("vllm", "ok")]
    assert second.attempts[0].error == "circuit open for 1 s more"
    assert len(primary.chat_requests()) == 2  # no request while open

    clock.advance(2)
    third = await llm.complete(ask())
    assert outcomes(third.attempts) == [("openai", "ok")]
    assert not llm.circuit_open("openai")


async def test_when_every_circuit_is_open_they_are_all_tried(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.fail_next(500, times=2)
    backup.fail_next(500, times=2)
    llm = two(primary, backup, make_llm)
    with pytest.raises(AllProvidersFailed):
        await llm.complete(ask())
    assert llm.circuit_open("openai") and llm.circuit_open("vllm")
    response = await llm.complete(ask())  # half-open: asked anyway, no clock change
    assert outcomes(response.attempts) == [("openai", "ok")]


async def test_misconfigured_provider_is_skipped_during_the_cooldown(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.auth_fail_next(401)
    llm = two(primary, backup, make_llm)
    await llm.complete(ask())
    again = await llm.complete(ask())
    assert outcomes(again.attempts) == [("openai", "skipped_open_circuit"), ("vllm", "ok")]


async def test_cooldown_zero_disables_the_circuit(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.fail_next(500, times=2)
    llm = two(primary, backup, make_llm, cooldown_seconds=0)
    await llm.complete(ask())
    assert not llm.circuit_open("openai")
    assert (await llm.complete(ask())).provider == "openai"


# -- what a response reports --


async def test_response_reports_provider_model_attempts_latency_and_usage(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.fail_next(502)
    primary.fail_next(502)
    backup.enqueue_reply("Anna.", usage={"prompt_tokens": 42, "completion_tokens": 7})
    request = ask(temperature=0.2, max_tokens=300, tools=TOOLS, tool_choice="auto", metadata={"step": 1})
    response = await two(primary, backup, make_llm).complete(request)
    assert (response.provider, response.model, response.response_model) == (
        "vllm",
        "qwen2.5-7b",
        "qwen2.5-7b",
    )
    assert len(response.attempts) == 3 and response.request_count == 3
    assert response.latency_ms >= sum(a.latency_ms for a in response.attempts) > 0
    assert response.usage == {"prompt_tokens": 42, "completion_tokens": 7} and not response.usage_estimated
    assert response.assistant_message() == {"role": "assistant", "content": "Anna."}
    sent = backup.chat_requests()[0].json()
    assert sent["model"] == "qwen2.5-7b" and sent["temperature"] == 0.2 and sent["max_tokens"] == 300
    # Langfuse-only arguments never reach the provider.
    assert not {"metadata", "name", "langfuse_prompt", "session_id", "user_id"} & sent.keys()


async def test_missing_usage_is_estimated_with_o200k(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    primary.enqueue_reply("Anna Roth has ten years of Python.", omit_usage=True)
    response = await make_llm(openai_provider(primary.base_url, name="vllm", model="q")).complete(ask())
    assert response.usage_estimated
    assert response.usage["completion_tokens"] == count_tokens("Anna Roth has ten years of Python.")
    assert 15 <= response.usage["prompt_tokens"] <= 40


async def test_no_providers_is_all_failed(make_llm: MakeLLM) -> None:
    with pytest.raises(AllProvidersFailed, match="none configured"):
        await make_llm().complete(ask())


async def test_a_trim_does_not_use_up_the_retry(
    primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    primary.context_length_next()
    primary.fail_next(500)  # faults apply in the order queued
    response = await two(primary, backup, make_llm).complete(
        LLMRequest(long_history(), trim=drop_oldest_turn)
    )
    assert [a.outcome for a in response.attempts] == ["context_length", "retryable", "ok"]
    assert response.provider == "openai"
