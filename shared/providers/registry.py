"""Which adapter serves a route. Adapters are imported on first use (cold start: an OpenAI-only
deployment never imports the Anthropic or Bedrock code)."""

from __future__ import annotations

import importlib
from functools import cache

from shared.catalog.models import UpstreamRoute
from shared.providers.base import Provider

_ADAPTERS = {
    "openai": ("shared.providers.openai_compat", "OpenAICompatibleProvider"),
    "anthropic": ("shared.providers.anthropic", "AnthropicProvider"),
    "bedrock": ("shared.providers.bedrock", "BedrockProvider"),
}


@cache
def _provider(kind: str) -> Provider:
    module, name = _ADAPTERS[kind]
    provider: Provider = getattr(importlib.import_module(module), name)()
    return provider


def provider_for(route: UpstreamRoute) -> Provider:
    return _provider(route.provider)
