"""The simulator checks replayed thinking as Claude does: a thinking block sent back must carry the
signature it was given for exactly its text, on the Anthropic route and for Claude models on the
Bedrock route (real SDK clients on a real port)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sluice.simulator import SimulatorConfig, SimulatorServer

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
OTHER = "openai.gpt-oss-120b-1:0"
THINKING: Any = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig()) as running:
        yield running


@pytest.fixture(scope="module")
def claude(server: SimulatorServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"http://{server.host}:{server.port}", api_key="x", max_retries=0)


@pytest.fixture(scope="module")
def bedrock(server: SimulatorServer) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=f"http://{server.host}:{server.port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_the_anthropic_route_takes_its_own_thinking_back_and_refuses_an_edited_one(
    claude: anthropic.Anthropic,
) -> None:
    first = claude.messages.create(
        model="m", max_tokens=2048, thinking=THINKING, messages=[{"role": "user", "content": "think"}]
    )
    block = first.content[0].model_dump()

    def again(thought: dict[str, Any]) -> Any:
        turns: list[Any] = [
            {"role": "user", "content": "think"},
            {"role": "assistant", "content": [thought, {"type": "text", "text": "done"}]},
            {"role": "user", "content": "and now?"},
        ]
        return claude.messages.create(model="m", max_tokens=2048, thinking=THINKING, messages=turns)

    assert again(block).content[-1].type == "text"
    with pytest.raises(anthropic.BadRequestError) as refused:
        again(block | {"thinking": block["thinking"] + " (edited)"})
    assert "messages.1.content.0: Invalid `signature` in `thinking` block" in str(refused.value)


@pytest.mark.parametrize("model", [CLAUDE, OTHER])
def test_the_bedrock_route_checks_a_claude_models_reasoning_only(bedrock: Any, model: str) -> None:
    thinking = (
        {"additionalModelRequestFields": {"thinking": THINKING}}
        if model == CLAUDE
        else {"outputConfig": {"effort": "high"}}
    )
    ask = {"modelId": model, "inferenceConfig": {"maxTokens": 2048}, **thinking}
    first = bedrock.converse(messages=[{"role": "user", "content": [{"text": "think"}]}], **ask)
    reasoning = first["output"]["message"]["content"][0]["reasoningContent"]["reasoningText"]

    def again(text: str) -> Any:
        thought = {"reasoningContent": {"reasoningText": {"text": text, "signature": reasoning["signature"]}}}
        turns = [
            {"role": "user", "content": [{"text": "think"}]},
            {"role": "assistant", "content": [thought, {"text": "done"}]},
            {"role": "user", "content": [{"text": "and now?"}]},
        ]
        return bedrock.converse(messages=turns, **ask)

    assert again(reasoning["text"])["stopReason"] == "end_turn"
    if model == OTHER:
        assert again(reasoning["text"] + " (edited)")["stopReason"] == "end_turn"
        return
    with pytest.raises(ClientError) as refused:
        again(reasoning["text"] + " (edited)")
    assert "Invalid `signature` in `thinking` block" in refused.value.response["Error"]["Message"]
