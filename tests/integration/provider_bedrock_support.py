"""What the tests of the Bedrock adapter share: the model and its route, a tool, a canonical
request, and readers of a call's failure and of a stream's events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, Message, Role, Text, Tool
from shared.providers.base import UpstreamCallFailed

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ROUTE = UpstreamRoute(provider="bedrock", model=MODEL, region="eu-west-1")
WEATHER = Tool("get_weather", {"type": "object", "properties": {"city": {"type": "string"}}})


def request(**changes: Any) -> ChatRequest:
    messages = (Message(Role.USER, (Text("Weather in Paris?"),)),)
    return ChatRequest(**{"model": "sluice-smart", "messages": messages, "max_tokens": 200, **changes})


def failure_of(coro: Any) -> UpstreamCallFailed:
    with pytest.raises(UpstreamCallFailed) as caught:
        asyncio.run(coro)
    return caught.value


async def collect(events: AsyncIterator[ev.StreamEvent]) -> list[ev.StreamEvent]:
    return [event async for event in events]
