"""The simulator's Bedrock Converse / ConverseStream routes answering, driven by a real boto3
client on a real uvicorn port (botocore signs, serializes and parses the binary event stream
itself), compared with the simulator's OpenAI route; its refusals and faults are in
test_simulator_bedrock_refusals.py, the gateway's provider on it in test_simulator_bedrock_provider.py."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest
from simulator_bedrock_support import (
    MODEL,
    PNG,
    THINKING,
    TOOLS,
    WEATHER_SCHEMA,
    bedrock_runtime,  # noqa: F401 - the `bedrock` fixture
    events_of,
    openai_answer,
    say,
    simulator_server,  # noqa: F401 - the `server` fixture
    texts,
    user,
)

from sluice.simulator import SimulatorServer
from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens

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
