"""What the tests of the simulator's Bedrock routes share: requests, a tool, an image, a real
boto3 bedrock-runtime client on the simulator, and readers of its answers and errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sluice.simulator import SimulatorConfig, SimulatorServer

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
}
TOOLS: dict[str, Any] = {
    "tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": WEATHER_SCHEMA}}}]
}
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def say(text: str) -> list[dict[str, Any]]:
    return [user({"text": text})]


@pytest.fixture(scope="module", name="server")
def simulator_server() -> Iterator[SimulatorServer]:
    """The simulator at its default pace (import as ``simulator_server``; use as ``server``)."""
    with SimulatorServer(SimulatorConfig()) as running:
        yield running


def bedrock_client(server: SimulatorServer, region: str = "us-east-1", read_timeout: float = 10) -> Any:
    """A real bedrock-runtime client aimed at the simulator; no botocore retries, so faults show."""
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=f"http://{server.host}:{server.port}",
        region_name=region,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=read_timeout),
    )


@pytest.fixture(scope="module", name="bedrock")
def bedrock_runtime(server: SimulatorServer) -> Any:
    """A bedrock-runtime client on the simulator (import as ``bedrock_runtime``; use as ``bedrock``)."""
    return bedrock_client(server)


def openai_answer(server: SimulatorServer, messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.base_url}/chat/completions", json={"model": MODEL, "messages": messages, **fields}
    )
    response.raise_for_status()
    return response.json()


def events_of(stream_response: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A ConverseStream's events as ``(name, payload)`` pairs."""
    return [next(iter(event.items())) for event in stream_response["stream"]]


def texts(events: list[tuple[str, dict[str, Any]]], kind: str = "text") -> list[str]:
    """The ``text`` (or reasoning text) deltas of a ConverseStream, in order."""
    deltas = [payload["delta"] for name, payload in events if name == "contentBlockDelta"]
    if kind == "reasoning":
        return [d["reasoningContent"]["text"] for d in deltas if "text" in d.get("reasoningContent", {})]
    return [d["text"] for d in deltas if "text" in d]


def client_error(call: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value
