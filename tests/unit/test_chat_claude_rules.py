"""Claude's sampling and stop-sequence rules (shared/chat/claude_rules.py), as both request
mappers apply them (Anthropic Messages, Bedrock Converse)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from support.claude_requests import BEDROCK_CLAUDE, from_anthropic, from_openai

from shared.chat.canonical import ChatRequest
from shared.chat.to_anthropic import request_to_anthropic
from shared.errors import InvalidRequest
from shared.providers.bedrock_request import request_to_converse

type Sampled = dict[str, Any]


def anthropic_sampling(req: ChatRequest) -> Sampled:
    body = request_to_anthropic(req)
    return {k: body[k] for k in ("temperature", "top_p", "top_k", "thinking") if k in body}


def bedrock_sampling(req: ChatRequest) -> Sampled:
    kwargs = request_to_converse(replace(req, model=BEDROCK_CLAUDE))
    inference, fields = kwargs.get("inferenceConfig", {}), kwargs.get("additionalModelRequestFields", {})
    names = {"temperature": "temperature", "topP": "top_p"}
    sampled = {names[k]: v for k, v in inference.items() if k in names}
    sampled.update({k: v for k, v in fields.items() if k in ("top_k", "thinking")})
    return sampled


MAPPERS = pytest.mark.parametrize(
    "sampled", [anthropic_sampling, bedrock_sampling], ids=["anthropic", "bedrock"]
)


@MAPPERS
def test_an_openai_clients_effort_leaves_out_the_values_thinking_refuses(
    sampled: Callable[[ChatRequest], Sampled],
) -> None:
    """An OpenAI SDK's temperature, top_p and top_k next to ``reasoning_effort`` would make Claude
    refuse the request: they are left out, and it thinks."""
    req = from_openai(reasoning_effort="high", temperature=0.2, top_p=0.9, top_k=40)

    assert sampled(req) == {"thinking": {"type": "adaptive"}}


@MAPPERS
def test_the_values_thinking_allows_are_kept(sampled: Callable[[ChatRequest], Sampled]) -> None:
    assert sampled(from_openai(reasoning_effort="low", temperature=1)) == {
        "temperature": 1,
        "thinking": {"type": "adaptive"},
    }
    assert sampled(from_openai(reasoning_effort="low", top_p=0.97)) == {
        "top_p": 0.97,
        "thinking": {"type": "adaptive"},
    }


@MAPPERS
def test_without_thinking_the_values_go_as_sent(sampled: Callable[[ChatRequest], Sampled]) -> None:
    assert sampled(from_openai(temperature=0.2, top_k=40)) == {"temperature": 0.2, "top_k": 40}
    assert sampled(from_openai(top_p=0.9)) == {"top_p": 0.9}
    assert sampled(from_openai(temperature=1.7))["temperature"] == 1.0, "clamped to Claude's maximum"


@MAPPERS
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ({"temperature": 0.7, "top_p": 1}, {"temperature": 0.7}),  # top_p at its no-op value
        ({"temperature": 1, "top_p": 0.9}, {"top_p": 0.9}),  # temperature at its no-op value
        ({"temperature": 0.5, "top_p": 0.9}, {"temperature": 0.5}),  # both chosen: temperature
        ({"reasoning_effort": "low", "temperature": 1, "top_p": 0.97}, {"top_p": 0.97}),
    ],
)
def test_temperature_and_top_p_do_not_go_together(
    sampled: Callable[[ChatRequest], Sampled], sent: dict[str, Any], kept: dict[str, Any]
) -> None:
    """Claude models since 4.1 refuse the two together, and OpenAI clients often send both."""
    values = sampled(from_openai(**sent))
    values.pop("thinking", None)

    assert values == kept


def test_bedrock_models_other_than_claude_take_both() -> None:
    kwargs = request_to_converse(replace(from_openai(temperature=0.5, top_p=0.9), model="meta.llama3-70b"))

    assert kwargs["inferenceConfig"] == {"maxTokens": 4096, "temperature": 0.5, "topP": 0.9}


@MAPPERS
def test_an_openai_clients_explicit_thinking_follows_the_same_rule(
    sampled: Callable[[ChatRequest], Sampled],
) -> None:
    req = from_openai(thinking={"type": "enabled", "budget_tokens": 2048}, temperature=0.5, top_k=5)

    assert sampled(req) == {"thinking": {"type": "enabled", "budget_tokens": 2048}}


@MAPPERS
def test_an_anthropic_clients_values_go_as_it_sent_them(sampled: Callable[[ChatRequest], Sampled]) -> None:
    """Its client chose thinking and the values together, as it would with Claude directly, and gets
    Claude's answer to them."""
    req = from_anthropic(
        thinking={"type": "enabled", "budget_tokens": 2048}, temperature=0.5, top_p=0.5, top_k=5
    )

    assert sampled(req) == {
        "temperature": 0.5,
        "top_p": 0.5,
        "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }


@MAPPERS
@pytest.mark.parametrize("stop", ["\n", " ", "", "\t\n"])
def test_a_whitespace_stop_sequence_is_a_400_naming_stop(
    sampled: Callable[[ChatRequest], Sampled], stop: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        sampled(from_openai(stop=["END", stop]))

    assert refused.value.param == "stop"


def test_stop_sequences_with_text_go_and_other_bedrock_models_take_whitespace() -> None:
    assert request_to_anthropic(from_openai(stop=["\nEND"]))["stop_sequences"] == ["\nEND"]
    llama = replace(from_openai(stop=["\n"]), model="meta.llama3-70b")
    assert request_to_converse(llama)["inferenceConfig"]["stopSequences"] == ["\n"]
