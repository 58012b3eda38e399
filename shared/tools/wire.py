"""What the dashboard sends to the tools routes (validated at the edge)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from shared.errors import InvalidRequest
from shared.tools.models import (
    NAME_CHARS,
    TOOL_ID_PATTERN,
    Description,
    MaxOutputTokens,
    ModelId,
    Option,
    Options,
    SystemPrompt,
    Temperature,
    ToolConfig,
)
from shared.wire.names import human_name
from shared.wire.strict import HasText

# Kept as sent (not stripped); its size is the plan's message limit.
ToolInput = Annotated[str, StringConstraints(min_length=1), HasText]
# A name the client gives: held to the names rule here, at the edge. ToolConfig's own Name only
# trims, so that a tool stored before the rule still loads.
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=NAME_CHARS), BeforeValidator(human_name)]


class NewTool(ToolConfig):
    """A custom tool as ``POST /api/tools`` receives it."""

    name: ToolName


class InstallTool(BaseModel):
    """POST /api/tools: a starter (``starter_id``, optionally renamed) or a custom ``tool``."""

    model_config = ConfigDict(extra="forbid")

    starter_id: Annotated[str, StringConstraints(max_length=48)] | None = None
    name: ToolName | None = None
    tool: NewTool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> InstallTool:
        if (self.starter_id is None) == (self.tool is None):
            raise InvalidRequest("Give either starter_id (a starter tool) or tool (a custom tool).")
        return self


NotSent = SkipJsonSchema[None]  # a field left out; a JSON null for it is refused (below)


class UpdateTool(BaseModel):
    """PATCH /api/tools/{tool_id}: the settings to change; the rest stay. A null ``tone`` or
    ``profile`` clears the choice; every other setting is one each tool has, so null is refused."""

    model_config = ConfigDict(extra="forbid")

    name: ToolName | NotSent = None
    description: Description | NotSent = None
    input_hint: Description | NotSent = None
    system_prompt: SystemPrompt | NotSent = None
    tone_options: Options | NotSent = None
    tone: Option | None = None
    profile_options: Options | NotSent = None
    profile: Option | None = None
    model: ModelId | NotSent = None
    temperature: Temperature | NotSent = None
    max_output_tokens: MaxOutputTokens | NotSent = None

    @field_validator(
        "name",
        "description",
        "input_hint",
        "system_prompt",
        "tone_options",
        "profile_options",
        "model",
        "temperature",
        "max_output_tokens",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        """A setting every tool has cannot be null: refused, not read as "leave it as it is"."""
        if value is None:
            raise PydanticCustomError(
                "null_not_allowed", "Input may not be null; leave the field out to keep it"
            )
        return value


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
