"""The simulator's Bedrock routes read reasoning as the model id's model does: a Claude model by
``thinking`` in ``additionalModelRequestFields`` (test_simulator_bedrock.py), another model by
Converse's ``outputConfig.effort``, refusing Claude's ``thinking`` as a key it does not know."""

from __future__ import annotations

from typing import Any

from simulator_bedrock_support import (
    MODEL,
    THINKING,
    bedrock_runtime,  # noqa: F401 - the `bedrock` fixture
    client_error,
    say,
    simulator_server,  # noqa: F401 - the `server` fixture
)

OTHER = "openai.gpt-oss-120b-1:0"


def reasoning_blocks(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in answer["output"]["message"]["content"] if "reasoningContent" in block]


def test_another_model_refuses_claudes_thinking_field(bedrock: Any) -> None:
    error = client_error(
        bedrock.converse, modelId=OTHER, messages=say("think first"), additionalModelRequestFields=THINKING
    )

    assert error.response["Error"]["Code"] == "ValidationException"
    assert "extraneous key [thinking]" in error.response["Error"]["Message"]


def test_another_model_reasons_at_the_effort_and_claude_only_when_thinking(bedrock: Any) -> None:
    other = bedrock.converse(modelId=OTHER, messages=say("think first"), outputConfig={"effort": "high"})
    plain = bedrock.converse(modelId=OTHER, messages=say("think first"))
    claude = bedrock.converse(modelId=MODEL, messages=say("think first"), outputConfig={"effort": "high"})

    [reasoning] = reasoning_blocks(other)
    assert reasoning["reasoningContent"]["reasoningText"]["text"]
    assert reasoning_blocks(plain) == [] and reasoning_blocks(claude) == []
    assert other["output"]["message"]["content"][-1]["text"].startswith("Simulated reply to: think first")
