"""Domain model of a catalog entry and its upstream routes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ProviderKind = Literal["openai", "anthropic", "bedrock"]
Tier = Literal["free", "pro"]
ModelFamily = Literal["claude", "nova", "llama", "command-r", "other"]


class UpstreamRoute(BaseModel):
    """One way to reach a model. Routes are tried in order (fallbacks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: ProviderKind
    base_url: str | None = None  # "${VAR}" is expanded from the environment at call time
    model: Annotated[str, Field(min_length=1)]
    secret_ref: str | None = None  # env:NAME, ssm:/path, secretsmanager:name-or-arn
    region: str | None = None  # Bedrock only
    # Anthropic and Bedrock: how the Claude model thinks. "budget" for models before Claude 4.6,
    # which take neither adaptive thinking nor effort: a reasoning effort becomes a token budget.
    thinking_style: Literal["adaptive", "budget"] = "adaptive"
    # Bedrock only: the model's family, where the model id does not name it (an application
    # inference profile's ARN); by default read from the id (shared/providers/bedrock_request.py).
    family: ModelFamily | None = None


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: bool = False
    json_mode: bool = False
    vision: bool = False
    thinking: bool = False


class ModelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
    display_name: str
    description: str = ""
    persona: str | None = None
    owned_by: str = "sluice"
    created: int = 1735689600
    tier: Tier
    status: Literal["active", "deprecated"] = "active"
    eol_date: dt.date | None = None
    replacement: str | None = None
    recommended: bool = False
    router: bool = False  # "auto": picks another entry per request
    context_window: Annotated[int, Field(gt=0)]
    max_output_tokens: Annotated[int, Field(gt=0)]
    capabilities: Capabilities = Capabilities()
    credit_cost: Annotated[int, Field(ge=0)] = 1
    routes: tuple[UpstreamRoute, ...] = ()

    def retired(self, today: dt.date) -> bool:
        return self.status == "deprecated" and self.eol_date is not None and today > self.eol_date


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    models: tuple[ModelEntry, ...]

    def get(self, model_id: str) -> ModelEntry | None:
        return next((m for m in self.models if m.id == model_id), None)
