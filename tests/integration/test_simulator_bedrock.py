"""The simulator's Bedrock Converse / ConverseStream routes, driven by a real boto3 client on a real
uvicorn port (botocore signs, serializes and parses the binary event stream itself), compared with
the simulator's OpenAI route, and through the gateway's own ``BedrockProvider``."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import boto3
import botocore
import httpx
import jsonschema
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

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
from sluice.simulator import SimulatorConfig, SimulatorServer
from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens

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


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
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


@pytest.fixture(scope="module")
def bedrock(server: SimulatorServer) -> Any:
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


# Converse


@pytest.mark.parametrize(
    "model_id",
    [MODEL, "arn:aws:bedrock:us-east-1:123456789012:inference-profile/" + MODEL, "sluice-sim"],
)
def test_converse_answers_with_the_openai_routes_words_and_usage(
    server: SimulatorServer, bedrock: Any, model_id: str
) -> None:
    answer = bedrock.converse(
        modelId=model_id,
        system=[{"text": "Be brief."}],
        messages=say("Compare the routes, please"),
        inferenceConfig={"temperature": 0.5},
    )
    openai = openai_answer(
        server,
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Compare the routes, please"},
        ],
        temperature=0.5,
    )

    text = openai["choices"][0]["message"]["content"]
    assert answer["output"]["message"] == {"role": "assistant", "content": [{"text": text}]}
    assert text.startswith("Simulated reply to: Compare the routes, please")
    assert answer["stopReason"] == "end_turn"
    assert answer["usage"] == {
        "inputTokens": openai["usage"]["prompt_tokens"],
        "outputTokens": openai["usage"]["completion_tokens"],
        "totalTokens": openai["usage"]["total_tokens"],
    }
    assert answer["usage"]["inputTokens"] == 6 and answer["usage"]["outputTokens"] == count_tokens(text)
    assert answer["metrics"]["latencyMs"] == 0  # unpaced
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-sluice-simulator"] == "1"
    assert answer["ResponseMetadata"]["RequestId"]


def test_converse_stream_sends_the_same_answer_token_by_token(bedrock: Any) -> None:
    request: dict[str, Any] = {"modelId": MODEL, "messages": say("Stream to me, please")}
    whole = bedrock.converse(**request)
    streamed = bedrock.converse_stream(**request)
    events = events_of(streamed)

    text = whole["output"]["message"]["content"][0]["text"]
    deltas = texts(events)
    assert [name for name, _ in events] == [
        "messageStart",
        *["contentBlockDelta"] * len(deltas),
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0][1] == {"role": "assistant"}
    assert "".join(deltas) == text and len(deltas) == count_tokens(text)
    assert {payload["contentBlockIndex"] for name, payload in events if name.startswith("contentBlock")} == {
        0
    }
    assert events[-2][1] == {"stopReason": "end_turn"}
    assert events[-1][1]["usage"] == whole["usage"]
    assert streamed["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    assert streamed["ResponseMetadata"]["HTTPHeaders"]["x-sluice-simulator"] == "1"


def test_tool_use_then_a_tool_result_answered_in_text(bedrock: Any) -> None:
    messages = say("What is the weather in Zagreb? Use the get_weather tool.")

    first = bedrock.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS)
    text, use = first["output"]["message"]["content"]
    messages += [
        first["output"]["message"],
        user(
            {"toolResult": {"toolUseId": use["toolUse"]["toolUseId"], "content": [{"text": "18 and sunny"}]}}
        ),
    ]
    second = bedrock.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS)

    assert first["stopReason"] == "tool_use"
    assert text == {"text": "Calling get_weather."}
    assert use["toolUse"]["name"] == "get_weather" and use["toolUse"]["toolUseId"].startswith("tooluse_")
    jsonschema.validate(use["toolUse"]["input"], WEATHER_SCHEMA)
    assert second["stopReason"] == "end_turn"
    assert second["output"]["message"]["content"][0]["text"].startswith("Tool result received: 18 and sunny")


def test_a_streamed_tool_use_opens_its_block_and_sends_its_input_in_fragments(bedrock: Any) -> None:
    request: dict[str, Any] = {"modelId": MODEL, "messages": say("Use the tool"), "toolConfig": TOOLS}
    whole = bedrock.converse(**request)
    events = events_of(bedrock.converse_stream(**request))

    [(_, start)] = [(name, payload) for name, payload in events if name == "contentBlockStart"]
    fragments = [
        payload["delta"]["toolUse"]["input"]
        for name, payload in events
        if name == "contentBlockDelta" and "toolUse" in payload["delta"]
    ]
    use = whole["output"]["message"]["content"][1]["toolUse"]
    assert start["contentBlockIndex"] == 1 and start["start"]["toolUse"]["name"] == "get_weather"
    assert len(fragments) >= 2 and json.loads("".join(fragments)) == use["input"]
    assert "".join(texts(events)) == "Calling get_weather."
    assert ("messageStop", {"stopReason": "tool_use"}) in events


def test_a_stop_sequence_cuts_the_text_and_is_reported(bedrock: Any) -> None:
    request: dict[str, Any] = {
        "modelId": MODEL,
        "messages": say("stop early"),
        "inferenceConfig": {"stopSequences": ["reply"]},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
    }
    answer = bedrock.converse(**request)
    events = events_of(bedrock.converse_stream(**request))

    assert answer["output"]["message"]["content"] == [{"text": "Simulated"}]
    assert answer["stopReason"] == "stop_sequence"
    assert answer["additionalModelResponseFields"] == {"stop_sequence": "reply"}
    assert (
        "messageStop",
        {"stopReason": "stop_sequence", "additionalModelResponseFields": {"stop_sequence": "reply"}},
    ) in events


def test_max_tokens_cuts_the_answer(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=MODEL, messages=say("Tell me a long story"), inferenceConfig={"maxTokens": 5}
    )

    assert answer["stopReason"] == "max_tokens"
    assert answer["output"]["message"]["content"] == [{"text": "Simulated reply to: Tell me"}]
    assert answer["usage"]["outputTokens"] == 5


def test_thinking_gives_signed_reasoning_before_the_text(bedrock: Any) -> None:
    request: dict[str, Any] = {
        "modelId": MODEL,
        "messages": say("think first"),
        "inferenceConfig": {"maxTokens": 4096},
        "additionalModelRequestFields": THINKING,
    }
    answer = bedrock.converse(**request)
    events = events_of(bedrock.converse_stream(**request))
    plain = bedrock.converse(**request | {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}})

    reasoning, text = answer["output"]["message"]["content"]
    thought = reasoning["reasoningContent"]["reasoningText"]
    signatures = [
        payload["delta"]["reasoningContent"]["signature"]
        for name, payload in events
        if name == "contentBlockDelta" and "signature" in payload["delta"].get("reasoningContent", {})
    ]
    assert thought["text"] and thought["signature"]
    assert text["text"].startswith("Simulated reply to: think first")
    assert answer["usage"]["outputTokens"] == count_tokens(thought["text"]) + count_tokens(text["text"])
    assert "".join(texts(events, "reasoning")) == thought["text"]
    assert signatures == [thought["signature"]]
    assert "".join(texts(events)) == text["text"]
    assert [block for block in plain["output"]["message"]["content"] if "reasoningContent" in block] == []


def test_an_image_block_is_accepted_and_counted(bedrock: Any) -> None:
    answer = bedrock.converse(
        modelId=MODEL,
        messages=[user({"text": "describe it"}, {"image": {"format": "png", "source": {"bytes": PNG}}})],
    )

    assert answer["output"]["message"]["content"][0]["text"].startswith("Simulated reply to: describe it")
    assert answer["usage"]["inputTokens"] == 2 + IMAGE_PART_TOKENS


def test_json_mode_answers_json_that_fits_the_schema(bedrock: Any) -> None:
    text_format = {
        "type": "json_schema",
        "structure": {"jsonSchema": {"name": "weather", "schema": json.dumps(WEATHER_SCHEMA)}},
    }
    answer = bedrock.converse(
        modelId=MODEL, messages=say("weather as JSON"), outputConfig={"textFormat": text_format}
    )

    reply = json.loads(answer["output"]["message"]["content"][0]["text"])
    jsonschema.validate(reply, WEATHER_SCHEMA)
    assert answer["stopReason"] == "end_turn"


# Refusals and faults


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"inferenceConfig": {"temperature": 3.0}}, "inferenceConfig.temperature"),
        (
            {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
            "must start with a user message",
        ),
        ({"messages": say("a") + say("b")}, "must alternate between user and assistant"),
        (
            {"messages": [user({"document": {"format": "txt", "name": "d", "source": {"bytes": b"x"}}})]},
            "messages.0.content.0: unsupported member 'document'",
        ),
        (
            {"messages": [user({"image": {"format": "bmp", "source": {"bytes": PNG}}})]},
            "messages.0.content.0.image.format",
        ),
        (
            {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 100}}},
            "budget_tokens",
        ),
        (
            {
                "additionalModelRequestFields": THINKING,
                "inferenceConfig": {"maxTokens": 4096, "temperature": 0.5},
            },
            "temperature may only be set to 1 when thinking is enabled or adaptive",
        ),
        (
            {"additionalModelRequestFields": THINKING | {"top_k": 5}, "inferenceConfig": {"maxTokens": 4096}},
            "top_k cannot be set when thinking",
        ),
        (
            {
                "additionalModelRequestFields": {"thinking": {"type": "adaptive"}},
                "inferenceConfig": {"topP": 0.5},
            },
            "top_p must be between 0.95 and 1",
        ),
        (
            {
                "additionalModelRequestFields": {"thinking": {"type": "adaptive"}},
                "toolConfig": TOOLS | {"toolChoice": {"any": {}}},
            },
            "tool_choice may only be auto or none when thinking",
        ),
        (
            {
                "messages": [
                    *say("hi"),
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
                    },
                    user({"toolResult": {"toolUseId": "t1", "content": [{"text": "18"}]}}),
                ],
                "toolConfig": TOOLS,
                "additionalModelRequestFields": {"thinking": {"type": "adaptive"}},
            },
            "messages.1.content.0: expected reasoningContent",
        ),
        (
            {
                "outputConfig": {
                    "textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{no"}}}
                }
            },
            "outputConfig.textFormat.structure.jsonSchema.schema",
        ),
        ({"toolConfig": TOOLS | {"toolChoice": {"tool": {"name": "nope"}}}}, "'nope'"),
        (
            {
                "messages": [
                    *say("hi"),
                    {
                        "role": "assistant",
                        "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
                    },
                    *say("and?"),
                ],
                "toolConfig": TOOLS,
            },
            "Expected toolResult blocks for the following Ids: t1",
        ),
        (
            {"messages": [user({"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}})]},
            "toolConfig field must be defined",
        ),
        (
            {"inferenceConfig": {"temperature": 0.5, "topP": 0.9}},
            "temperature and top_p cannot both be set for this model",
        ),
        ({"outputConfig": {"effort": "xhigh"}}, "effort 'xhigh' needs thinking enabled or adaptive"),
    ],
)
def test_malformed_requests_are_validation_exceptions_naming_the_problem(
    bedrock: Any, changes: dict[str, Any], named: str
) -> None:
    request = {"modelId": MODEL, "messages": say("hello")} | changes

    for call in (bedrock.converse, bedrock.converse_stream):
        error = client_error(call, **request)
        assert error.response["Error"]["Code"] == "ValidationException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert named in error.response["Error"]["Message"]


def test_a_model_other_than_claude_takes_temperature_and_top_p_together(bedrock: Any) -> None:
    """Claude's one-of rule is Claude's: another model id takes both."""
    answer = bedrock.converse(
        modelId="meta.llama3-70b-instruct-v1:0",
        messages=say("hello"),
        inferenceConfig={"temperature": 0.5, "topP": 0.9},
    )

    assert answer["stopReason"] == "end_turn"


def test_raw_requests_get_bedrocks_error_shape(server: SimulatorServer) -> None:
    url = f"http://{server.host}:{server.port}/model/{MODEL}/converse"
    signed = {
        "authorization": "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/bedrock/aws4_request, Signature=0"
    }

    not_json = httpx.post(url, content=b"{nope", headers=signed)
    not_signed = httpx.post(url, json={"messages": say("hi")})

    assert not_json.status_code == 400 and not_json.json()["message"].startswith(
        "request body is not valid JSON"
    )
    assert not_json.headers["x-amzn-errortype"].startswith("ValidationException:")
    assert not_signed.status_code == 403 and not_signed.json() == {"message": "Missing Authentication Token"}


def test_an_unsigned_client_is_refused(server: SimulatorServer) -> None:
    unsigned = boto3.client(
        "bedrock-runtime",
        endpoint_url=f"http://{server.host}:{server.port}",
        region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED),
    )

    error = client_error(unsigned.converse, modelId=MODEL, messages=say("hi"))

    assert error.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ("http_429", "ThrottlingException", 429),
        ("http_503", "ServiceUnavailableException", 503),
        ("http_500", "InternalServerException", 500),
        ("http_400", "ValidationException", 400),
    ],
)
def test_http_faults_are_bedrock_client_errors(bedrock: Any, fault: str, code: str, status: int) -> None:
    for call in (bedrock.converse, bedrock.converse_stream):
        error = client_error(call, modelId=MODEL, messages=say(f"[sim:fault={fault}] hello"))
        assert error.response["Error"]["Code"] == code
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert f"({fault})" in error.response["Error"]["Message"]


def test_fail_times_fails_only_the_first_calls_of_a_key(bedrock: Any) -> None:
    messages = say("[sim:fail_times=1;key=bedrock-once;fault=http_429] hello")

    error = client_error(bedrock.converse, modelId=MODEL, messages=messages)
    answer = bedrock.converse(modelId=MODEL, messages=messages)

    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert answer["stopReason"] == "end_turn"


def test_malformed_sse_breaks_the_stream_with_an_exception_frame(bedrock: Any) -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError) as raised:
        for event in bedrock.converse_stream(modelId=MODEL, messages=say("[sim:fault=malformed_sse] hi"))[
            "stream"
        ]:
            seen.append(event)

    assert seen == [{"messageStart": {"role": "assistant"}}]
    assert raised.value.response["Error"]["Code"] == "modelStreamErrorException"


def test_reset_mid_stream_drops_the_connection_after_the_first_tokens(bedrock: Any) -> None:
    seen: list[dict[str, Any]] = []
    with pytest.raises(Exception, match="ended prematurely"):
        for event in bedrock.converse_stream(modelId=MODEL, messages=say("[sim:fault=reset_mid_stream] hi"))[
            "stream"
        ]:
            seen.append(event)

    assert seen[0] == {"messageStart": {"role": "assistant"}}
    assert [event["contentBlockDelta"]["delta"]["text"] for event in seen[1:]] == ["Simulated", " reply"]


def test_hang_after_first_sends_message_start_then_stalls(server: SimulatorServer) -> None:
    impatient = bedrock_client(server, read_timeout=0.5)
    seen: list[dict[str, Any]] = []
    with pytest.raises(Exception, match="Read timed out"):
        for event in impatient.converse_stream(
            modelId=MODEL, messages=say("[sim:fault=hang_after_first] hi")
        )["stream"]:
            seen.append(event)

    assert seen == [{"messageStart": {"role": "assistant"}}]


def test_lone_surrogate_starts_the_text_with_half_an_emoji(bedrock: Any) -> None:
    answer = bedrock.converse(modelId=MODEL, messages=say("[sim:fault=lone_surrogate] hi"))
    events = events_of(bedrock.converse_stream(modelId=MODEL, messages=say("[sim:fault=lone_surrogate] hi")))

    assert answer["output"]["message"]["content"][0]["text"].startswith("\ud83dSimulated")
    assert texts(events)[0] == "\ud83dSimulated"


# Pacing


def test_a_stream_is_paced_at_the_token_rate(bedrock: Any) -> None:
    def arrivals(marker: str) -> tuple[list[float], dict[str, Any]]:
        stream = bedrock.converse_stream(
            modelId=MODEL,
            messages=say(f"{marker} Tell me everything you know about rivers"),
            inferenceConfig={"maxTokens": 20},
        )["stream"]
        times, last = [], {}
        for event in stream:
            if "text" in event.get("contentBlockDelta", {}).get("delta", {}):
                times.append(time.monotonic())
            last = event
        return times, last

    paced, metadata = arrivals("[sim:token_rate=20]")
    unpaced, _ = arrivals("")

    spread = paced[-1] - paced[0]
    assert len(paced) == 20 and spread >= 19 / 20 * 0.8
    assert unpaced[-1] - unpaced[0] < spread / 4
    # 21 intervals: 20 tokens after messageStart, then messageStop and metadata.
    assert metadata["metadata"]["metrics"]["latencyMs"] == 1050


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
