"""What the dashboard sends to the tools routes (validated at the edge)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints, model_validator

from shared.errors import InvalidRequest
from shared.tools.models import (
    TOOL_ID_PATTERN,
    Description,
    MaxOutputTokens,
    ModelId,
    Name,
    Option,
    Options,
    SystemPrompt,
    Temperature,
    ToolConfig,
)

ToolInput = Annotated[str, StringConstraints(min_length=1)]  # its size is the plan's message limit


class InstallTool(BaseModel):
    """POST /api/tools: a starter (``starter_id``, optionally renamed) or a custom ``tool``."""

    model_config = ConfigDict(extra="forbid")

    starter_id: Annotated[str, StringConstraints(max_length=48)] | None = None
    name: Name | None = None
    tool: ToolConfig | None = None

    @model_validator(mode="after")
    def _one_source(self) -> InstallTool:
        if (self.starter_id is None) == (self.tool is None):
            raise InvalidRequest("Give either starter_id (a starter tool) or tool (a custom tool).")
        return self


class UpdateTool(BaseModel):
    """PATCH /api/tools/{tool_id}: the settings to change; the rest stay."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    input_hint: Description | None = None
    system_prompt: SystemPrompt | None = None
    tone_options: Options | None = None
    tone: Option | None = None
    profile_options: Options | None = None
    profile: Option | None = None
    model: ModelId | None = None
    temperature: Temperature | None = None
    max_output_tokens: MaxOutputTokens | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: StrictBool = False


class RunTool(BaseModel):
    """POST /api/tools/proxy/chat: run an installed tool on the user's input."""

    model_config = ConfigDict(extra="forbid")

    tool_id: Annotated[str, StringConstraints(pattern=TOOL_ID_PATTERN)]
    input: ToolInput
    stream: StrictBool = False  # a JSON boolean, as on the chat routes
    stream_options: StreamOptions | None = None
    tone: Option | None = None
    profile: Option | None = None
