"""Streaming chat completions over a real socket: pacing, keep-alives, disconnects, mid-stream failures.

The chat app runs under uvicorn on loopback (``httpx.ASGITransport`` would buffer the whole
response), so the tests see when each line arrives. Times are only compared with each other.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from chat_support import LoopbackServer, RecordingUpstream, install_catalog, openai_route, queued_usage_events

from shared.gateway import streaming

PACED = "please stream a reply of many words so the test sees pacing [sim:token_rate=20]"


@pytest.fixture
def served(chat_world) -> Iterator[LoopbackServer]:
    from functions.chat.app import app

    with LoopbackServer(app) as server:
        yield server


def chat_body(content: str, model: str = "qwen3", **extra) -> dict:
    return {"model": model, "stream": True, "messages": [{"role": "user", "content": content}], **extra}


async def timed_lines(url: str, key: str, body: dict) -> tuple[float, list[tuple[float, str]]]:
    """When the request was sent, and every non-empty line of the response with its arrival time."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        sent = time.monotonic()
        headers = {"Authorization": f"Bearer {key}"}
        async with http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            return sent, [(time.monotonic(), line) async for line in response.aiter_lines() if line]


def data_of(lines: list[tuple[float, str]]) -> list[tuple[float, dict]]:
    return [(t, json.loads(line[6:])) for t, line in lines if line.startswith("data: {")]


def content_times(lines: list[tuple[float, str]]) -> list[float]:
    return [
        t
        for t, chunk in data_of(lines)
        if chunk.get("choices") and chunk["choices"][0]["delta"].get("content")
    ]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def usage_events_when_sent(queue_url: str) -> list[dict]:
    """The usage events, once there are some (after a disconnect, accounting finishes in the background)."""
    events: list[dict] = []

    def arrived() -> bool:
        events.extend(queued_usage_events(queue_url))
        return bool(events)

    wait_for(arrived)
    return events


def test_tokens_reach_the_client_as_the_upstream_produces_them(chat_world, served) -> None:
    sent, lines = asyncio.run(timed_lines(served.url, chat_world.pro.key, chat_body(PACED)))

    arrivals = content_times(lines)
    assert len(arrivals) >= 20, "one chunk per simulated token"
    first, last = arrivals[0] - sent, arrivals[-1] - sent
    assert first < 0.4 * last, f"first token after {first:.3f}s, last after {last:.3f}s: buffered?"
    # Spread over the generation, not delivered in a burst at the end.
    assert arrivals[len(arrivals) // 2] - sent < 0.75 * last
    assert lines[-1][1] == "data: [DONE]"


def test_keep_alives_go_out_while_the_upstream_has_not_answered(chat_world, served, monkeypatch) -> None:
    monkeypatch.setattr(streaming, "FIRST_WAIT_S", 0.1)
    monkeypatch.setattr(streaming, "KEEPALIVE_S", 0.1)
    body = chat_body("[sim:fault=hang;hang_seconds=1] are you there")

    _, lines = asyncio.run(timed_lines(served.url, chat_world.pro.key, body))

    first_data = next(i for i, (_, line) in enumerate(lines) if line.startswith("data:"))
    pings = [line for _, line in lines[:first_data] if line.startswith(":")]
    assert len(pings) >= 3, lines[:first_data]
    assert all(line == ": keep-alive" for line in pings)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for _, c in data_of(lines) if c["choices"])
    assert text.startswith("Simulated reply to: are you there")
    assert lines[-1][1] == "data: [DONE]"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is True and event["status"] == 200


def test_client_disconnect_cancels_the_upstream_call_and_charges_for_started_output(
    chat_world, served
) -> None:
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as up:
        install_catalog(routes={"qwen3": [openai_route(f"{up.url}/v1")]})

        async def read_first_token_then_hang_up() -> None:
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
                headers = {"Authorization": f"Bearer {chat_world.pro.key}"}
                body = chat_body("a long answer please [sim:token_rate=5]")
                async with http.stream(
                    "POST", "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    async for line in response.aiter_lines():
                        if content_times([(0.0, line)]):
                            return  # leaving the block closes the connection mid-stream

        asyncio.run(read_first_token_then_hang_up())
        wait_for(lambda: upstream.calls and (upstream.calls[0].disconnected or upstream.calls[0].finished))

        [call] = upstream.calls
        assert call.disconnected and not call.finished, "the upstream stream was cut, not run to its end"
        events = usage_events_when_sent(chat_world.usage_queue)
    [event] = events
    assert (event["outcome"], event["charged"], event["status"]) == ("client_closed", True, 499), event
    assert chat_world.pro.balance() == 999


def test_client_gone_before_the_first_token_cancels_the_upstream_and_charges_nothing(
    chat_world, served, monkeypatch
) -> None:
    monkeypatch.setattr(streaming, "FIRST_WAIT_S", 0.05)
    monkeypatch.setattr(streaming, "KEEPALIVE_S", 0.05)
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as up:
        install_catalog(routes={"qwen3": [openai_route(f"{up.url}/v1")]})

        async def hang_up_after_a_keep_alive() -> None:
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
                headers = {"Authorization": f"Bearer {chat_world.pro.key}"}
                body = chat_body("[sim:fault=hang;hang_seconds=30] anyone")
                async with http.stream(
                    "POST", "/v1/chat/completions", json=body, headers=headers
                ) as response:
                    async for line in response.aiter_lines():
                        if line == ": keep-alive":
                            return

        asyncio.run(hang_up_after_a_keep_alive())
        wait_for(lambda: upstream.calls and upstream.calls[0].disconnected)
        events = usage_events_when_sent(chat_world.usage_queue)

    assert [(e["outcome"], e["charged"], e["status"]) for e in events] == [("client_closed", False, 499)]
    assert chat_world.pro.balance() == 1000


def test_mid_stream_reset_ends_with_an_error_event_and_charges_nothing(chat_world, served) -> None:
    body = chat_body("[sim:fault=reset_mid_stream] tell me a story")

    _, lines = asyncio.run(timed_lines(served.url, chat_world.pro.key, body))

    chunks = [chunk for _, chunk in data_of(lines)]
    assert any(c.get("choices") and c["choices"][0]["delta"].get("content") for c in chunks), "output began"
    assert set(chunks[-1]) == {"error"} and chunks[-1]["error"]["message"]
    assert set(chunks[-1]["error"]) == {"message", "type", "code", "param"}, "SPEC Errors' shape"
    assert (chunks[-1]["error"]["type"], chunks[-1]["error"]["code"]) == ("api_error", "upstream_unavailable")
    assert not any(c.get("choices") and c["choices"][0]["finish_reason"] for c in chunks)
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is False and event["status"] >= 500
    assert chat_world.pro.balance() == 1000, "the reservation was released"


def test_the_openai_sdk_raises_on_the_error_event(chat_world, served) -> None:
    async def go() -> list[str]:
        client = openai.AsyncOpenAI(base_url=f"{served.url}/v1", api_key=chat_world.pro.key, max_retries=0)
        seen: list[str] = []
        stream = await client.chat.completions.create(
            model="qwen3",
            stream=True,
            messages=[{"role": "user", "content": "[sim:fault=reset_mid_stream] x"}],
        )
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
        return seen

    with pytest.raises(openai.APIError) as failed:
        asyncio.run(go())
    assert not isinstance(failed.value, openai.APIStatusError), "the status was 200: an in-stream error"
    # The SDK hangs up as soon as it sees the error event: that must not make the failure chargeable.
    events = usage_events_when_sent(chat_world.usage_queue)
    assert [e["charged"] for e in events] == [False]
    assert chat_world.pro.balance() == 1000


class PortRecorder:
    """An upstream that notes the client port of each request (one port = one connection)."""

    def __init__(self, app) -> None:
        self.app = app
        self.ports: list[int] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.ports.append(scope["client"][1])
        await self.app(scope, receive, send)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_streams_leave_the_upstream_connection_reusable(chat_world, served, path) -> None:
    """After the last event, the rest of the upstream body is read, so the pooled connection
    serves the next streamed call (no new TCP or TLS handshake per stream)."""
    from sluice.simulator import SimulatorConfig
    from sluice.simulator.app import create_app

    upstream = PortRecorder(create_app(SimulatorConfig()))
    with LoopbackServer(upstream) as up:
        install_catalog(routes={"qwen3": [openai_route(f"{up.url}/v1")]})

        async def two_streams() -> None:
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
                headers = {"Authorization": f"Bearer {chat_world.pro.key}"}
                for _ in range(2):
                    body = chat_body("hello there", max_tokens=32)
                    async with http.stream("POST", path, json=body, headers=headers) as response:
                        assert response.status_code == 200
                        text = (await response.aread()).decode()
                    assert "[DONE]" in text or "message_stop" in text

        asyncio.run(two_streams())
    assert len(upstream.ports) == 2 and upstream.ports[0] == upstream.ports[1], upstream.ports
