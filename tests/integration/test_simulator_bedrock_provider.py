"""The gateway's own ``BedrockProvider`` against the simulator's Bedrock routes, compared with the
simulator's OpenAI route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from simulator_bedrock_support import (
    MODEL,
    bedrock_client,
    openai_answer,
    simulator_server,  # noqa: F401 - the `server` fixture
)

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import (
    ChatRequest,
    FinishReason,
    Message,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    Role,
    Text,
    Usage,
    WireFormat,
)
from shared.providers.bedrock import BedrockProvider
from sluice.simulator import SimulatorServer

# Through the gateway's Bedrock provider


ROUTE = UpstreamRoute(provider="bedrock", model=MODEL, region="us-east-1")


def provider(server: SimulatorServer) -> BedrockProvider:
    return BedrockProvider(client_factory=lambda region: bedrock_client(server, region))


async def collect(events: AsyncIterator[ev.StreamEvent]) -> list[ev.StreamEvent]:
    return [event async for event in events]


def test_the_gateways_bedrock_provider_agrees_with_the_openai_route(server: SimulatorServer) -> None:
    request = ChatRequest(
        model="sluice-smart",
        system=(Text("Be brief."),),
        messages=(Message(Role.USER, (Text("Compare the routes, please"),)),),
        max_tokens=9,
    )
    bedrock = provider(server)

    whole = asyncio.run(bedrock.complete(request, ROUTE))
    streamed = asyncio.run(collect(bedrock.stream(replace(request, stream=True), ROUTE)))
    openai = openai_answer(
        server,
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Compare the routes, please"},
        ],
        max_tokens=9,
    )

    text = openai["choices"][0]["message"]["content"]
    usage = Usage(openai["usage"]["prompt_tokens"], openai["usage"]["completion_tokens"])
    assert openai["choices"][0]["finish_reason"] == "length"
    assert whole.choices[0].parts == (Text(text),)
    assert whole.choices[0].finish is not None and whole.choices[0].finish.reason is FinishReason.LENGTH
    assert whole.usage == usage
    assert streamed[0] == ev.Start(model=MODEL)
    assert "".join(e.text for e in streamed if isinstance(e, ev.TextDelta)) == text
    assert streamed[-2:] == [ev.Finish(FinishReason.LENGTH), ev.UsageReport(usage)]


def test_the_gateways_reasoning_effort_and_stop_reach_the_simulator(server: SimulatorServer) -> None:
    """An OpenAI client's ``reasoning_effort`` turns adaptive thinking on (effort alone would not)."""
    request = ChatRequest(
        model="sluice-smart",
        messages=(Message(Role.USER, (Text("think, then reply"),)),),
        reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH),
        stop=("reply",),
        extras_format=WireFormat.OPENAI,
    )
    bedrock = provider(server)

    whole = asyncio.run(bedrock.complete(request, ROUTE))
    streamed = asyncio.run(collect(bedrock.stream(replace(request, stream=True), ROUTE)))

    reasoning, text = whole.choices[0].parts
    assert isinstance(reasoning, Reasoning) and reasoning.text and reasoning.signature
    assert text == Text("Simulated")
    assert whole.choices[0].finish is not None
    assert (whole.choices[0].finish.reason, whole.choices[0].finish.stop_sequence) == (
        FinishReason.STOP_SEQUENCE,
        "reply",
    )
    assert "".join(e.text for e in streamed if isinstance(e, ev.ReasoningDelta)) == reasoning.text
    assert ev.ReasoningSignature(reasoning.signature) in streamed
    assert ev.Finish(FinishReason.STOP_SEQUENCE, "reply") in streamed
