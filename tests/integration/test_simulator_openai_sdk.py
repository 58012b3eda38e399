"""The official OpenAI SDK on the upstream simulator at a real uvicorn port: a completion and its
stream with usage, the model list, streamed tool calls, structured output parsed into a pydantic
model, and an injected error raised as the SDK's own exception."""

from __future__ import annotations

import json
from typing import Literal

import openai
import pytest
from pydantic import BaseModel
from simulator_openai_support import (
    WEATHER,
    _server,  # noqa: F401 - the `server` fixture
)

from sluice.simulator import SimulatorServer

# The official SDK


def test_the_openai_sdk_talks_to_the_simulator(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything")

    completion = sdk.chat.completions.create(
        model="sdk-model", messages=[{"role": "user", "content": "Hi from the SDK"}], max_tokens=6
    )
    stream = sdk.chat.completions.create(
        model="sdk-model",
        messages=[{"role": "user", "content": "Hi from the SDK"}],
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert completion.model == "sdk-model"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 6
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed == completion.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    assert [model.owned_by for model in sdk.models.list()] == ["sluice-simulator"]


def test_the_openai_sdk_streams_tool_calls_and_parses_structured_output(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything")

    class Forecast(BaseModel):
        city: str
        unit: Literal["celsius", "fahrenheit"]
        highs: list[int]

    with sdk.chat.completions.stream(
        model="sdk-model",
        messages=[{"role": "user", "content": "use the tool for Zagreb"}],
        tools=[WEATHER],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_completion()
    parsed = sdk.chat.completions.parse(
        model="sdk-model", messages=[{"role": "user", "content": "forecast"}], response_format=Forecast
    )

    tool_calls = final.choices[0].message.tool_calls
    assert tool_calls is not None
    call = tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.content == "Calling get_weather."
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample", "unit": "celsius"}
    assert parsed.choices[0].message.parsed == Forecast(city="sample", unit="celsius", highs=[1])


def test_the_openai_sdk_sees_injected_errors(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0)

    with pytest.raises(openai.RateLimitError) as raised:
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "[sim:fault=http_429]"}])

    assert raised.value.response.headers["retry-after"] == "1"
