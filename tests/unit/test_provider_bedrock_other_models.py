"""Bedrock routes to models other than Claude (shared/providers/bedrock_request.py): none of
Claude's fields or rules. Bedrock refuses a key in ``additionalModelRequestFields`` that the model
does not know, so ``thinking`` (Claude's) is never sent; reasoning goes as Converse's own
``outputConfig.effort``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.claude_requests import BEDROCK_CLAUDE, WEATHER, from_anthropic, from_openai, tool_loop

from shared.chat.canonical import ChatRequest
from shared.errors import InvalidRequest
from shared.providers.bedrock_request import request_to_converse

OTHER = "openai.gpt-oss-120b-1:0"


def converse(req: ChatRequest, model: str = OTHER) -> dict[str, Any]:
    return request_to_converse(replace(req, model=model))


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh", "max"])
def test_an_openai_clients_reasoning_effort_goes_as_converses_effort_alone(effort: str) -> None:
    kwargs = converse(from_openai(reasoning_effort=effort))
    on_claude = converse(from_openai(reasoning_effort=effort), BEDROCK_CLAUDE)

    assert "additionalModelRequestFields" not in kwargs
    assert kwargs["outputConfig"] == {"effort": "low" if effort == "minimal" else effort}
    assert on_claude["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}


def test_effort_none_sends_no_effort() -> None:
    assert "outputConfig" not in converse(from_openai(reasoning_effort="none"))


def test_claudes_rules_while_thinking_do_not_apply() -> None:
    """Sampling values, a forced tool call, a tool loop's unsigned history and an effort above
    high all go as the client sent them: those refusals are Claude's."""
    forced = converse(
        from_openai(
            reasoning_effort="max", tools=[WEATHER], tool_choice="required", temperature=0.3, top_p=0.5
        )
    )
    loop = converse(tool_loop(reasoning_effort="xhigh"))

    assert forced["inferenceConfig"] == {"maxTokens": 4096, "temperature": 0.3, "topP": 0.5}
    assert forced["toolConfig"]["toolChoice"] == {"any": {}}
    assert forced["outputConfig"] == {"effort": "max"}
    assert loop["outputConfig"] == {"effort": "xhigh"}
    assert "additionalModelRequestFields" not in loop


def test_top_k_goes_under_its_own_name_and_temperature_is_clamped() -> None:
    kwargs = converse(from_anthropic(top_k=40, temperature=1.0, top_p=0.9))
    hot = converse(from_openai(temperature=1.7))

    assert kwargs["additionalModelRequestFields"] == {"top_k": 40}
    assert kwargs["inferenceConfig"] == {"maxTokens": 4096, "temperature": 1.0, "topP": 0.9}
    assert hot["inferenceConfig"]["temperature"] == 1.0


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        ("amazon.nova-pro-v1:0", {"inferenceConfig": {"topK": 40}}),
        ("us.amazon.nova-2-lite-v1:0", {"inferenceConfig": {"topK": 40}}),
        ("cohere.command-r-plus-v1:0", {"k": 40}),
        ("mistral.mistral-large-2407-v1:0", {"top_k": 40}),
        pytest.param(
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
            {"inferenceConfig": {"topK": 40}},
            id="nova-by-arn",
        ),
    ],
)
def test_top_k_goes_where_the_models_own_request_reads_it(model: str, fields: dict[str, Any]) -> None:
    """Nova reads top-k as ``inferenceConfig.topK`` and Cohere Command R as ``k``: sent as
    ``top_k``, Bedrock refuses the key the model does not know."""
    from_openai_client = converse(from_openai(top_k=40, temperature=0.5), model)
    from_anthropic_client = converse(from_anthropic(top_k=40), model)

    assert from_openai_client["additionalModelRequestFields"] == fields
    assert from_anthropic_client["additionalModelRequestFields"] == fields
    assert from_openai_client["inferenceConfig"] == {"maxTokens": 4096, "temperature": 0.5}


@pytest.mark.parametrize(
    "model", ["meta.llama3-3-70b-instruct-v1:0", "us.meta.llama4-maverick-17b-instruct-v1:0"]
)
def test_top_k_to_a_llama_model_is_refused_by_name(model: str) -> None:
    """Llama's request has no top-k: refused as logprobs are, naming the parameter; without it,
    the same request goes."""
    with pytest.raises(InvalidRequest) as refused:
        converse(from_openai(top_k=40), model)

    assert refused.value.param == "top_k"
    assert "additionalModelRequestFields" not in converse(from_openai(temperature=0.2), model)


def test_an_anthropic_clients_thinking_is_left_out_and_its_effort_goes() -> None:
    kwargs = converse(
        from_anthropic(thinking={"type": "enabled", "budget_tokens": 2048}, output_config={"effort": "low"})
    )

    assert "additionalModelRequestFields" not in kwargs
    assert kwargs["outputConfig"] == {"effort": "low"}


def test_a_thinking_budget_under_claudes_floor_is_claudes_400_only() -> None:
    req = from_openai(thinking={"type": "enabled", "budget_tokens": 512})

    with pytest.raises(InvalidRequest) as refused:
        converse(req, BEDROCK_CLAUDE)
    assert refused.value.param == "thinking.budget_tokens"
    assert "additionalModelRequestFields" not in converse(req)
