"""What the tests of the upstream simulator's Anthropic Messages route share: requests, a tool,
an image, the SDK client and a reader of raw event streams."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from sluice.simulator import SimulatorConfig, SimulatorServer

VERSION = {"anthropic-version": "2023-06-01"}
HELLO = "Hello simulator, please answer"
WEATHER: Any = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
CLOCK: Any = {
    "name": "get_time",
    "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
}
# A 1x1 transparent PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture(scope="module", name="server")
def simulator_server() -> Iterator[SimulatorServer]:
    """The simulator at its default pace (import as ``simulator_server``; use as ``server``)."""
    with SimulatorServer(SimulatorConfig()) as running:
        yield running


def root(server: SimulatorServer) -> str:
    return f"http://{server.host}:{server.port}"


@pytest.fixture(name="claude")
def anthropic_client(server: SimulatorServer) -> anthropic.Anthropic:
    """The official SDK on the simulator (import as ``anthropic_client``; use as ``claude``)."""
    return anthropic.Anthropic(base_url=root(server), api_key="anything", max_retries=0)


def user(text: str = HELLO) -> list[Any]:
    return [{"role": "user", "content": text}]


def text_of(block: object) -> str:
    assert isinstance(block, anthropic.types.TextBlock), block
    return block.text


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of every event of an Anthropic SSE body."""
    events = []
    for frame in filter(None, text.split("\n\n")):
        name, data = frame.split("\n")
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events
