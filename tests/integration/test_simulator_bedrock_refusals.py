"""The simulator's Bedrock routes refusing as Bedrock does (validation exceptions that name the
problem, Bedrock's error shape, unsigned clients) and the faults it injects, through a real boto3
client."""

from __future__ import annotations

from typing import Any

import boto3
import botocore
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import EventStreamError
from simulator_bedrock_support import (
    MODEL,
    PNG,
    THINKING,
    TOOLS,
    bedrock_client,
    bedrock_runtime,  # noqa: F401 - the `bedrock` fixture
    client_error,
    events_of,
    say,
    simulator_server,  # noqa: F401 - the `server` fixture
    texts,
    user,
)

from sluice.simulator import SimulatorServer

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
