"""What the tests of the upstream simulator's OpenAI Chat Completions route share: requests, two
tools, a reader of SSE bodies, and the simulator in-process (``client``) or on a real port
(``server``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from sluice.simulator import SimulatorConfig, SimulatorServer, create_app

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}


def body(text: str = "Hello simulator, please answer", **fields: Any) -> dict[str, Any]:
    return {"model": "test-model", "messages": [{"role": "user", "content": text}], **fields}


def sse_payloads(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body, JSON-decoded except for ``[DONE]``."""
    payloads = [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]
    return [payload if payload == "[DONE]" else json.loads(payload) for payload in payloads]


@pytest.fixture(name="client")
def _client() -> Iterator[TestClient]:
    """The simulator's app in-process, through Starlette's TestClient (import as ``_client``; use as
    ``client``)."""
    with TestClient(create_app(SimulatorConfig())) as test_client:
        yield test_client


@pytest.fixture(scope="module", name="server")
def _server() -> Iterator[SimulatorServer]:
    """The simulator on a real uvicorn port, one per test module (import as ``_server``; use as
    ``server``)."""
    with SimulatorServer(SimulatorConfig()) as running:
        yield running
