"""The upstream request is built while the admission's DynamoDB round trip is in flight.

``execute_call`` schedules ``FirstRequest.build`` (shared/gateway/router.py) as an event loop
callback just before the admission; the admission runs until its request is written and waits,
and the build runs then. The upstream call after the admission only sends what was built. The
timeline below is recorded around the hot path's DynamoDB transaction (moto over HTTP, as
every test here) and around the provider's ``prepare``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    make_account,
    openai_route,
)

from shared.adapters.aws_json import AwsJsonClient
from shared.providers.openai_compat import OpenAICompatibleProvider

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def recorded(chat_world, monkeypatch) -> Iterator[tuple[RecordingUpstream, list[str]]]:
    upstream = RecordingUpstream()
    timeline: list[str] = []
    real_send = AwsJsonClient._send
    real_prepare = OpenAICompatibleProvider.prepare

    async def send(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        if operation != "TransactWriteItems":
            return await real_send(client, operation, body)
        timeline.append("admission sent")
        try:
            return await real_send(client, operation, body)
        finally:
            timeline.append("admission answered")

    def prepare(self: OpenAICompatibleProvider, request: Any, route: Any, *, stream: bool) -> Any:
        timeline.append(f"upstream request built (stream={stream})")
        return real_prepare(self, request, route, stream=stream)

    monkeypatch.setattr(AwsJsonClient, "_send", send)
    monkeypatch.setattr(OpenAICompatibleProvider, "prepare", prepare)
    with LoopbackServer(upstream) as server:
        routes = [openai_route(f"{server.url}/v1")]
        install_catalog(routes={"qwen3": routes, "kimi-k2.5": routes})
        yield upstream, timeline


def post(world, body: dict[str, Any], key: str | None = None) -> tuple[int, str]:
    async def main() -> tuple[int, str]:
        async with chat_http() as http:
            response = await http.post(
                "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key or world.pro.key}"}
            )
            return response.status_code, response.text

    return asyncio.run(main())


@pytest.mark.parametrize("stream", [False, True])
def test_the_upstream_request_is_built_during_the_admission_and_sent_as_built(
    chat_world, recorded, stream: bool
) -> None:
    upstream, timeline = recorded
    body = {"model": "qwen3", "messages": [{"role": "user", "content": "built ahead"}], "stream": stream}

    status, text = post(chat_world, body)

    assert status == 200, text
    assert timeline == [
        "admission sent",
        f"upstream request built (stream={stream})",
        "admission answered",
    ], "built once, while the transaction was in flight; the call sent it without building again"
    [call] = upstream.calls
    assert call.body["model"] == "sim-model" and call.body["messages"][-1]["content"] == "built ahead"
    assert bool(call.body.get("stream")) is stream
    if stream:
        assert call.body["stream_options"] == {"include_usage": True}
        assert text.rstrip().endswith("data: [DONE]")


def test_a_request_with_images_is_built_after_they_are_checked(chat_world, recorded) -> None:
    """Images are fetched and checked after the admission, and may change the request."""
    upstream, timeline = recorded
    image = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()},
    }
    body = {
        "model": "kimi-k2.5",
        "messages": [{"role": "user", "content": [image, {"type": "text", "text": "what"}]}],
    }

    status, text = post(chat_world, body)

    assert status == 200, text
    assert timeline == ["admission sent", "admission answered", "upstream request built (stream=False)"]
    assert len(upstream.calls) == 1


def test_a_request_the_admission_refuses_reaches_no_upstream(chat_world, recorded) -> None:
    """What was built during a refused admission is dropped: nothing is sent."""
    upstream, timeline = recorded
    broke = make_account("acct_broke", "pro", 0)
    body = {"model": "qwen3", "messages": [{"role": "user", "content": "no credits"}]}

    status, text = post(chat_world, body, broke.key)

    assert status == 403 and "insufficient_credits" in text, text
    assert "admission answered" in timeline and upstream.calls == []


def test_an_admission_refused_before_the_build_ran_builds_nothing(chat_world, recorded, monkeypatch) -> None:
    """An admission that fails without waiting for an answer cancels the build it scheduled."""
    from shared.errors import RateLimited
    from shared.http import chat_flow

    upstream, timeline = recorded

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise RateLimited("refused at once", retry_after=1)

    monkeypatch.setattr(chat_flow, "admit_call", refused)
    status, text = post(chat_world, {"model": "qwen3", "messages": [{"role": "user", "content": "x"}]})

    assert status == 429, text
    assert timeline == [] and upstream.calls == []
