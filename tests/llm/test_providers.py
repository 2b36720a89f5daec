"""Providers from settings, and what each call leaves in Langfuse."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langfuse import observe

from assistant.config import AssistantSettings
from assistant.llm import LLMRequest, RoutedLLM, build_providers
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI
from tests.llm.conftest import openai_provider

MakeLLM = Callable[..., RoutedLLM]

ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "OPENAI_API_VERSION",
    "VLLM_BASE_URL",
    "VLLM_MODEL",
    "VLLM_API_KEY",
    "SKILLMATCH_LLM_PROVIDERS",
)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AssistantSettings]]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)

    def make(**values: Any) -> AssistantSettings:
        return AssistantSettings(_env_file=None, **values)  # type: ignore[call-arg]

    yield make


def test_nothing_configured_means_no_providers(settings: Callable[..., AssistantSettings]) -> None:
    assert build_providers(settings()) == []


def test_only_configured_providers_in_the_configured_order(
    settings: Callable[..., AssistantSettings],
) -> None:
    config = settings(
        SKILLMATCH_LLM_PROVIDERS="vllm, openai ,azure",
        OPENAI_API_KEY="sk-openai",
        SKILLMATCH_OPENAI_MODEL="gpt-4.1-mini",
        SKILLMATCH_OPENAI_TIMEOUT=12,
        AZURE_OPENAI_ENDPOINT="https://example.openai.azure.com",
        AZURE_OPENAI_API_KEY="azure-key",  # no deployment: not configured
        VLLM_BASE_URL="http://vllm:8000/v1",
        VLLM_MODEL="Qwen/Qwen2.5-7B-Instruct",
        SKILLMATCH_VLLM_TIMEOUT=90,
    )
    providers = build_providers(config)
    assert [(p.name, p.model, p.timeout) for p in providers] == [
        ("vllm", "Qwen/Qwen2.5-7B-Instruct", 90.0),
        ("openai", "gpt-4.1-mini", 12.0),
    ]
    assert all(p.client.max_retries == 0 for p in providers)
    vllm, openai_ = providers
    assert str(vllm.client.base_url) == "http://vllm:8000/v1/" and vllm.client.api_key == "EMPTY"
    assert openai_.client.api_key == "sk-openai" and openai_.client.timeout == 12.0


def test_azure_needs_endpoint_key_and_deployment(settings: Callable[..., AssistantSettings]) -> None:
    config = settings(
        SKILLMATCH_LLM_PROVIDERS="azure",
        AZURE_OPENAI_ENDPOINT="https://example.openai.azure.com/",
        AZURE_OPENAI_API_KEY="azure-key",
        AZURE_OPENAI_DEPLOYMENT="gpt-4o-prod",
        OPENAI_API_VERSION="2024-10-21",
    )
    (azure,) = build_providers(config)
    assert (azure.name, azure.model, azure.timeout) == ("azure", "gpt-4o-prod", 30.0)
    assert str(azure.client.base_url) == "https://example.openai.azure.com/openai/deployments/gpt-4o-prod/"
    assert azure.client.max_retries == 0 and azure.client._api_version == "2024-10-21"


def test_openai_with_only_a_base_url_counts_as_configured(settings: Callable[..., AssistantSettings]) -> None:
    (provider,) = build_providers(settings(OPENAI_BASE_URL="http://proxy.local/v1"))
    assert provider.name == "openai" and provider.client.api_key == "EMPTY"


def test_unknown_provider_name_is_a_startup_error(settings: Callable[..., AssistantSettings]) -> None:
    with pytest.raises(ValueError, match="unknown LLM provider 'anthropic'"):
        build_providers(settings(SKILLMATCH_LLM_PROVIDERS="openai,anthropic"))


async def test_built_providers_talk_to_the_fakes(settings: Callable[..., AssistantSettings]) -> None:
    with FakeOpenAI() as openai_fake, FakeOpenAI(api_key="azure-key", deployments=["dep"]) as azure_fake:
        config = settings(
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=openai_fake.base_url,
            AZURE_OPENAI_ENDPOINT=azure_fake.azure_endpoint,
            AZURE_OPENAI_API_KEY="azure-key",
            AZURE_OPENAI_DEPLOYMENT="dep",
        )
        openai_fake.fail_next(500, times=None)
        llm = RoutedLLM(build_providers(config), retries=config.llm_retries, sleep=_no_sleep)
        try:
            response = await llm.complete(LLMRequest([{"role": "user", "content": "hi"}]))
        finally:
            await llm.aclose()
        assert (response.provider, response.model, response.content) == ("azure", "dep", "echo: hi")
        assert len(openai_fake.chat_requests()) == 2  # one retry, as configured; the SDK added none


async def _no_sleep(seconds: float) -> None:
    return None


# -- Langfuse --


async def test_each_call_is_a_generation_with_routing_metadata(
    monkeypatch: pytest.MonkeyPatch, primary: FakeOpenAI, backup: FakeOpenAI, make_llm: MakeLLM
) -> None:
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "true")
    primary.fail_next(500, times=2)
    backup.enqueue_reply("Anna.", usage={"prompt_tokens": 12, "completion_tokens": 2})
    llm = make_llm(
        openai_provider(primary.base_url), openai_provider(backup.base_url, name="vllm", model="q")
    )
    key = "pk-lf-llm-routing"
    with FakeLangfuse() as server, isolated_langfuse(server, public_key=key, timeout=2) as langfuse:

        @observe(name="assistant.turn")
        async def turn() -> str | None:
            request = LLMRequest(
                [{"role": "user", "content": "Who?"}], generation_name="assistant.llm", metadata={"step": 0}
            )
            return (await llm.complete(request)).content

        assert await turn(langfuse_public_key=key) == "Anna."  # type: ignore[call-arg]
        langfuse.flush()
        generations = server.spans_named("assistant.llm")
        turn_span = server.span_named("assistant.turn")

    assert len(generations) == 3
    assert all(
        g.observation_type == "generation" and g.parent_span_id == turn_span.span_id for g in generations
    )
    failed, retried, served = sorted(generations, key=lambda g: g.metadata["attempts_total"])
    assert (failed.level, retried.level, served.level) == ("ERROR", "ERROR", "DEFAULT")
    assert {k: served.metadata[k] for k in ("provider", "model", "attempt", "attempts_total", "step")} == {
        "provider": "vllm",
        "model": "q",
        "attempt": 1,
        "attempts_total": 3,
        "step": 0,
    }
    assert float(served.metadata["routing_ms"]) >= 0
    assert (retried.metadata["provider"], retried.metadata["attempt"]) == ("openai", 2)
    assert served.model == "q"
    assert served.usage is not None and served.usage["prompt_tokens"] == 12


async def test_a_streamed_generation_records_usage(
    monkeypatch: pytest.MonkeyPatch, primary: FakeOpenAI, make_llm: MakeLLM
) -> None:
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "true")
    primary.enqueue_reply("Anna Roth.", usage={"prompt_tokens": 20, "completion_tokens": 3})
    llm = make_llm(openai_provider(primary.base_url))
    key = "pk-lf-llm-streaming"
    with FakeLangfuse() as server, isolated_langfuse(server, public_key=key, timeout=2) as langfuse:

        @observe(name="assistant.turn")
        async def turn() -> str:
            text = ""
            async for event in llm.stream(LLMRequest([{"role": "user", "content": "Who?"}])):
                text += event.delta
            return text

        assert await turn(langfuse_public_key=key) == "Anna Roth."  # type: ignore[call-arg]
        langfuse.flush()
        (generation,) = server.spans_named("assistant.llm")
    assert generation.usage is not None and generation.usage["prompt_tokens"] == 20
    assert "Anna Roth." in str(generation.output)
    assert generation.metadata["provider"] == "openai"


async def test_reasoning_models_get_max_completion_tokens_and_no_temperature(make_llm) -> None:  # type: ignore[no-untyped-def]
    from assistant.llm import LLMRequest
    from tests.fakes.openai_server import FakeOpenAI
    from tests.llm.conftest import openai_provider

    with FakeOpenAI() as fake:
        for model, reasoning in (("gpt-5-mini", True), ("o4-mini", True), ("gpt-4o-mini", False)):
            llm = make_llm(openai_provider(fake.base_url, model=model))
            await llm.complete(
                LLMRequest(messages=[{"role": "user", "content": "hi"}], temperature=0.2, max_tokens=300)
            )
            sent = fake.chat_requests()[-1].json()
            if reasoning:
                assert sent["max_completion_tokens"] == 300 and "max_tokens" not in sent
                assert "temperature" not in sent
            else:
                assert sent["max_tokens"] == 300 and sent["temperature"] == 0.2
