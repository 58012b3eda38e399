"""The Lambda layer ships the runtime dependencies the project declares, and the SDK it ships knows
every field the Bedrock provider sends."""

from __future__ import annotations

import tomllib
from pathlib import Path

import botocore.session
from packaging.requirements import Requirement
from support.claude_requests import from_openai

from shared.providers.bedrock_request import request_to_converse

REPO = Path(__file__).resolve().parents[2]


def _layer_requirements() -> dict[str, str]:
    lines = (REPO / "layers/sluice/requirements.txt").read_text().splitlines()
    found = [
        Requirement(line) for line in (line.strip() for line in lines) if line and not line.startswith("#")
    ]
    return {r.name: str(r.specifier) for r in found}


def test_the_layer_ships_what_the_project_declares() -> None:
    """Deployed, a function imports only the layer and the runtime: a dependency missing from the
    layer, or with a lower floor there, is found in production (boto3 included: the runtime's
    bundled SDK is not pinned)."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert _layer_requirements() == {r.name: str(r.specifier) for r in map(Requirement, declared)}


def test_the_sdk_knows_every_converse_field_the_provider_sends() -> None:
    """A field botocore does not know fails its parameter validation before any call. Claude's
    thinking asks for the most fields (``outputConfig`` among them); the installed botocore meets
    the declared floor."""
    request = from_openai(
        model="us.anthropic.claude-opus-4-6-v1",
        reasoning_effort="high",
        stop=["END"],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    )
    sent = request_to_converse(request)
    shape = botocore.session.get_session().get_service_model("bedrock-runtime").operation_model("Converse")
    assert "outputConfig" in sent, "the request sets what the floor is for"
    assert set(sent) <= set(shape.input_shape.members)
