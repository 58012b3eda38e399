"""The Bedrock adapter's ``converse`` through botocore's Stubber on a real client: the mapped
request, text, tool use and reasoning read back, one client per region, errors classified, and a
URL image refused before any call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from provider_bedrock_support import MODEL, ROUTE, WEATHER, failure_of, request

from shared.catalog.models import UpstreamRoute
from shared.chat.canonical import (
    FinishReason,
    Image,
    Message,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    Role,
    Sampling,
    Text,
    ToolCall,
    Usage,
    WireFormat,
)
from shared.errors import InvalidRequest, UpstreamError, UpstreamUnavailable
from shared.providers.bedrock import BedrockProvider
from shared.settings import get_settings

type Stubbed = tuple[BedrockProvider, Stubber, list[str]]


# --- converse, with botocore's Stubber -----------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Any:
    return boto3.session.Session().client(
        "bedrock-runtime", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


@pytest.fixture
def stubbed(client: Any) -> Iterator[Stubbed]:
    """A provider whose clients are one real, stubbed bedrock-runtime client (regions recorded)."""
    regions: list[str] = []

    def factory(region: str) -> Any:
        regions.append(region)
        return client

    with Stubber(client) as stubber:
        yield BedrockProvider(client_factory=factory), stubber, regions
        stubber.assert_no_pending_responses()


def answer(content: list[Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
        "metrics": {"latencyMs": 250},
    }


def test_converse_sends_the_mapped_request_and_reads_text(stubbed: Stubbed) -> None:
    provider, stubber, regions = stubbed
    expected = {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 200, "temperature": 0.5},
    }
    stubber.add_response("converse", answer([{"text": "Sunny, 21°C."}]), expected)

    result = asyncio.run(
        provider.complete(request(system=(Text("Be brief."),), sampling=Sampling(temperature=0.5)), ROUTE)
    )

    assert result.choices[0].parts == (Text("Sunny, 21°C."),)
    assert result.choices[0].finish is not None and result.choices[0].finish.reason is FinishReason.STOP
    assert result.usage == Usage(12, 7)
    assert result.model == MODEL
    assert regions == ["eu-west-1"]


def test_converse_reads_tool_use_and_reasoning(stubbed: Stubbed) -> None:
    provider, stubber, _ = stubbed
    content = [
        {"reasoningContent": {"reasoningText": {"text": "Use the tool.", "signature": "sig"}}},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]
    stubber.add_response("converse", answer(content, stop="tool_use"))

    result = asyncio.run(provider.complete(request(tools=(WEATHER,)), ROUTE))

    assert result.choices[0].parts == (
        Reasoning("Use the tool.", signature="sig"),
        ToolCall("tooluse_1", "get_weather", '{"city": "Paris"}'),
    )
    assert result.choices[0].finish is not None and result.choices[0].finish.reason is FinishReason.TOOL_CALLS


def test_clients_are_built_once_per_region(stubbed: Stubbed) -> None:
    provider, stubber, regions = stubbed
    stubber.add_response("converse", answer([{"text": "a"}]))
    stubber.add_response("converse", answer([{"text": "b"}]))
    stubber.add_response("converse", answer([{"text": "c"}]))

    async def three() -> None:
        await provider.complete(request(), ROUTE)
        await provider.complete(request(), ROUTE)
        await provider.complete(request(), UpstreamRoute(provider="bedrock", model=MODEL))

    get_settings.cache_clear()
    asyncio.run(three())
    assert regions == ["eu-west-1", get_settings().region]


def test_the_routes_stated_family_reaches_the_request(stubbed: Stubbed) -> None:
    """An application inference profile's ARN names no model: the route's ``family`` makes it a
    Claude route, so an OpenAI client's effort asks Claude to think."""
    provider, stubber, _ = stubbed
    profile = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    expected = {
        "modelId": profile,
        "messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
        "inferenceConfig": {"maxTokens": 200},
        "additionalModelRequestFields": {"thinking": {"type": "adaptive"}},
        "outputConfig": {"effort": "high"},
    }
    stubber.add_response("converse", answer([{"text": "Sunny."}]), expected)
    route = UpstreamRoute(provider="bedrock", model=profile, region="eu-west-1", family="claude")

    asked = request(reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH), extras_format=WireFormat.OPENAI)

    result = asyncio.run(provider.complete(asked, route))

    assert result.choices[0].parts == (Text("Sunny."),)


@pytest.mark.parametrize(
    ("code", "status", "retryable", "client_type"),
    [
        ("ThrottlingException", 429, True, UpstreamUnavailable),
        ("ServiceUnavailableException", 503, True, UpstreamUnavailable),
        ("ModelNotReadyException", 429, True, UpstreamUnavailable),
        ("ValidationException", 400, False, InvalidRequest),
        ("AccessDeniedException", 403, True, UpstreamError),
    ],
)
def test_converse_errors_are_classified(
    stubbed: Stubbed, code: str, status: int, retryable: bool, client_type: type
) -> None:
    provider, stubber, _ = stubbed
    stubber.add_client_error(
        "converse", service_error_code=code, service_message="nope", http_status_code=status
    )

    failure = failure_of(provider.complete(request(), ROUTE))

    assert failure.retryable is retryable
    assert type(failure.client_error) is client_type


def test_a_url_image_is_refused_before_any_call(stubbed: Stubbed) -> None:
    provider, _, regions = stubbed
    with pytest.raises(InvalidRequest):
        asyncio.run(
            provider.complete(request(messages=(Message(Role.USER, (Image(url="https://x/y.png"),)),)), ROUTE)
        )
    assert regions == []
