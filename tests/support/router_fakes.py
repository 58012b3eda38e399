"""Fake providers for the router's tests (shared/gateway/router.py): each upstream model id
follows a script of answers and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, Choice, FinishReason, Message, Role, Text, Usage
from shared.gateway import router

REQUEST = ChatRequest(model="public", messages=(Message(Role.USER, (Text("hi"),)),))
ANSWER = ChatResponse(id="x", model="up", choices=(Choice(0, (Text("ok"),)),), usage=Usage(3, 1))


class Script:
    """A fake provider: per upstream model id, what each successive call does."""

    def __init__(self, plan: dict[str, list[Any]]) -> None:
        self.plan = plan
        self.calls: list[str] = []

    def _next(self, route: UpstreamRoute) -> Any:
        self.calls.append(route.model)
        steps = self.plan[route.model]
        return steps.pop(0) if len(steps) > 1 else steps[0]

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse:
        step = self._next(route)
        if isinstance(step, Exception):
            raise step
        return ANSWER

    async def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[ev.StreamEvent]:
        step = self._next(route)
        for item in step if isinstance(step, list) else [step]:
            if isinstance(item, Exception):
                raise item
            yield item


def entry(model_id: str, *routes: str, cost: int = 1) -> ModelEntry:
    return ModelEntry(
        id=model_id,
        display_name=model_id,
        tier="pro",
        context_window=1000,
        max_output_tokens=100,
        credit_cost=cost,
        routes=tuple(UpstreamRoute(provider="openai", base_url="http://x", model=r) for r in routes),
    )


def complete(script: Script, *models: ModelEntry):
    return asyncio.run(router.complete(REQUEST, list(models), lambda route: script))


def text_stream(*words: str) -> list[ev.StreamEvent]:
    return [ev.Start(), *(ev.TextDelta(w) for w in words), ev.Finish(FinishReason.STOP)]


async def read_stream(script: Script, *models: ModelEntry) -> tuple[str, list[ev.StreamEvent]]:
    opened = await router.open_stream(REQUEST, list(models), lambda route: script)
    return opened.target.route.model, [event async for event in opened.events()]
