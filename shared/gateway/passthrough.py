"""Anthropic-format requests to Anthropic-native upstreams: the client's own body, not a translation.

Only ``model`` (the route's), ``max_tokens`` (the clamp, and a thinking budget it no longer
leaves room for), ``thinking`` (left out for a model without it) and the model's persona (prepended to
``system``) change; every other field the client sent (``context_management``, ``output_config``,
server tools, ...) reaches the upstream as sent. Responses go back as the upstream wrote them,
with the public model id and a fresh message id; each event is also read into canonical events,
so that usage and the outcome are accounted like any other call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.chat.from_anthropic_response import response_from_anthropic
from shared.chat.ids import new_anthropic_id
from shared.chat.stream_anthropic import AnthropicEventParser
from shared.errors import UpstreamError
from shared.providers.base import Provider, UpstreamCallFailed
from shared.providers.registry import provider_for

type Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An upstream event to forward as-is, with what it means canonically."""

    name: str
    data: Json
    parsed: tuple[ev.StreamEvent, ...]


@dataclass(frozen=True, slots=True)
class PassthroughResponse(ChatResponse):
    raw: Mapping[str, Any] = field(default_factory=dict)


def carries_content(event: object) -> bool:
    """True once an event holds something for the client (not just the start or usage)."""
    if isinstance(event, RawEvent):
        return any(carries_content(p) for p in event.parsed)
    return not isinstance(event, ev.Start | ev.UsageReport)


def canonical_events(event: object) -> tuple[ev.StreamEvent, ...]:
    if isinstance(event, RawEvent):
        return event.parsed
    return (event,)  # type: ignore[return-value]


def _with_persona(system: Any, persona: str) -> Any:
    if not system:
        return persona
    if isinstance(system, str):
        return [{"type": "text", "text": persona}, {"type": "text", "text": system}]
    return [{"type": "text", "text": persona}, *system]


class PassthroughProvider:
    """Serves Anthropic routes from the client's body; other routes go to the usual adapters."""

    def __init__(self, body: Mapping[str, Any], models: list[ModelEntry], betas: tuple[str, ...]) -> None:
        self._body = body
        self._models = models
        self._betas = betas

    def for_route(self, route: UpstreamRoute) -> Provider:
        return self if route.provider == "anthropic" else provider_for(route)

    def _body_for(self, request: ChatRequest, route: UpstreamRoute) -> Json:
        body = dict(self._body)
        body["max_tokens"] = request.max_tokens or body.get("max_tokens")
        thinking = body.get("thinking")
        if request.reasoning is None:  # the model has no thinking: dropped, as for other routes
            body.pop("thinking", None)
        elif isinstance(thinking, dict) and request.reasoning.budget_tokens is not None:
            # the clamp's share of the cap (usage_limits._fit_budget): Anthropic refuses a budget
            # of max_tokens or more
            body["thinking"] = {**thinking, "budget_tokens": request.reasoning.budget_tokens}
        entry = next((m for m in self._models if route in m.routes), None)
        if entry is not None and entry.persona:
            body["system"] = _with_persona(body.get("system"), entry.persona)
        return body

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse:
        from shared.providers.anthropic import AnthropicProvider

        raw = await AnthropicProvider().passthrough_complete(
            self._body_for(request, route), route, betas=self._betas
        )
        try:
            answer = response_from_anthropic(raw)
        except UpstreamError as exc:
            raise UpstreamCallFailed(exc.message, retryable=True) from exc
        values = {f.name: getattr(answer, f.name) for f in fields(answer)}
        return PassthroughResponse(**values, raw=raw)

    async def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[ev.StreamEvent]:
        from shared.providers.anthropic import AnthropicProvider

        parser = AnthropicEventParser()
        body = self._body_for(request, route)
        async for name, data in AnthropicProvider().passthrough_stream(body, route, betas=self._betas):
            try:
                parsed = tuple(parser.feed(data))
            except UpstreamError as exc:
                raise UpstreamCallFailed(exc.message, retryable=True) from exc
            yield RawEvent(name, data, parsed)  # type: ignore[misc]


def rewrite_message(message: Mapping[str, Any], model: str, message_id: str) -> Json:
    return {**message, "model": model, "id": message_id}


class RawEventRewriter:
    """Forwards raw upstream events with the public model id and a fresh message id."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._id = new_anthropic_id()

    def rewrite(self, event: RawEvent) -> Json:
        if event.data.get("type") == "message_start" and isinstance(event.data.get("message"), Mapping):
            return {**event.data, "message": rewrite_message(event.data["message"], self._model, self._id)}
        return event.data
