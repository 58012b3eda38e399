"""Which family a Bedrock route's model is (shared/providers/bedrock_request.py): read from the
model id, or stated on the route where the id names none, as an application inference profile's
ARN does. The family decides Claude's fields and rules, where ``top_k`` goes, and Llama's refusal."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError
from support.claude_requests import from_anthropic, from_openai

from shared.catalog.models import ModelFamily, UpstreamRoute
from shared.chat.canonical import ChatRequest
from shared.errors import InvalidRequest
from shared.providers.bedrock_request import family_of, request_to_converse

PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"


def converse(req: ChatRequest, family: ModelFamily | None = None) -> dict[str, Any]:
    return request_to_converse(replace(req, model=PROFILE), family=family)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude"),
        ("us.anthropic.claude-opus-4-6-v1", "claude"),
        ("amazon.nova-pro-v1:0", "nova"),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0", "nova"),
        ("cohere.command-r-plus-v1:0", "command-r"),
        ("us.meta.llama4-maverick-17b-instruct-v1:0", "llama"),
        ("mistral.mistral-large-2407-v1:0", "other"),
        (PROFILE, "other"),
    ],
)
def test_the_family_is_read_from_the_model_id(model: str, family: str) -> None:
    assert family_of(model) == family


def test_a_profile_stated_as_claude_gets_claudes_thinking_and_rules() -> None:
    unstated = converse(from_openai(reasoning_effort="high"))
    stated = converse(from_openai(reasoning_effort="high"), "claude")

    assert "additionalModelRequestFields" not in unstated  # another model: effort alone
    assert stated["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    assert stated["outputConfig"] == {"effort": "high"}
    with pytest.raises(InvalidRequest) as refused:  # Claude's refusal of a blank stop sequence
        converse(from_openai(stop=["\n"]), "claude")
    assert refused.value.param == "stop"
    assert converse(from_openai(stop=["\n"]))["inferenceConfig"]["stopSequences"] == ["\n"]


@pytest.mark.parametrize(
    ("family", "fields"),
    [("nova", {"inferenceConfig": {"topK": 40}}), ("command-r", {"k": 40}), ("other", {"top_k": 40})],
)
def test_a_stated_family_puts_top_k_where_its_request_reads_it(family: ModelFamily, fields: Any) -> None:
    assert converse(from_anthropic(top_k=40), family)["additionalModelRequestFields"] == fields


def test_a_profile_stated_as_llama_refuses_top_k() -> None:
    with pytest.raises(InvalidRequest) as refused:
        converse(from_openai(top_k=40), "llama")

    assert refused.value.param == "top_k"
    assert converse(from_openai(top_k=40))["additionalModelRequestFields"] == {"top_k": 40}


def test_the_catalog_takes_only_known_families() -> None:
    route = UpstreamRoute(provider="bedrock", model=PROFILE, family="claude")

    assert route.family == "claude"
    with pytest.raises(ValidationError):
        UpstreamRoute.model_validate({"provider": "bedrock", "model": PROFILE, "family": "gpt"})
