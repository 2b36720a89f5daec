"""Providers are data: a name, a model, a langfuse-wrapped async OpenAI-compatible client, a timeout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langfuse.openai import AsyncAzureOpenAI, AsyncOpenAI

from assistant.config import AssistantSettings

DISPLAY_NAMES = {"openai": "OpenAI", "azure": "Azure OpenAI", "vllm": "vLLM"}
_REASONING_MODELS = re.compile(r"^(o\d|gpt-5)")


@dataclass(frozen=True)
class Provider:
    name: str  # "openai" | "azure" | "vllm"
    model: str  # model name / Azure deployment / vLLM served name
    client: Any  # async OpenAI-compatible client from `langfuse.openai`
    timeout: float  # seconds per attempt; a turn's budget may cut it shorter
    supports_tools: bool = True


def display_name(provider: str) -> str:
    return DISPLAY_NAMES.get(provider, provider)


def is_reasoning_model(model: str) -> bool:
    """OpenAI's o-series and gpt-5 models refuse `max_tokens` and a non-default temperature."""
    return bool(_REASONING_MODELS.match(model.lower()))


def build_providers(settings: AssistantSettings) -> list[Provider]:
    """Configured providers in `settings.provider_order`; SDK retries off (RoutedLLM owns retries)."""
    providers: list[Provider] = []
    for name in settings.provider_order:
        if name == "openai":
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            if key or settings.openai_base_url:
                client = AsyncOpenAI(
                    api_key=key or "EMPTY",
                    base_url=settings.openai_base_url,
                    timeout=settings.openai_timeout,
                    max_retries=0,
                )
                providers.append(Provider("openai", settings.openai_model, client, settings.openai_timeout))
        elif name == "azure":
            key = settings.azure_openai_api_key.get_secret_value() if settings.azure_openai_api_key else None
            deployment = settings.azure_openai_deployment
            if settings.azure_openai_endpoint and key and deployment:
                client = AsyncAzureOpenAI(
                    azure_endpoint=settings.azure_openai_endpoint,
                    api_key=key,
                    api_version=settings.openai_api_version,
                    azure_deployment=deployment,
                    timeout=settings.azure_timeout,
                    max_retries=0,
                )
                providers.append(Provider("azure", deployment, client, settings.azure_timeout))
        elif name == "vllm":
            if settings.vllm_base_url and settings.vllm_model:
                client = AsyncOpenAI(
                    api_key=settings.vllm_api_key.get_secret_value() or "EMPTY",
                    base_url=settings.vllm_base_url,
                    timeout=settings.vllm_timeout,
                    max_retries=0,
                )
                providers.append(Provider("vllm", settings.vllm_model, client, settings.vllm_timeout))
        else:
            raise ValueError(
                f"unknown LLM provider {name!r} in SKILLMATCH_LLM_PROVIDERS (openai, azure, vllm)"
            )
    return providers
