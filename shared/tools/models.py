"""Tool configurations: the starter catalog entry and the tool installed in an account."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.errors import InvalidRequest
from shared.wire.strict import Number

SYSTEM_PROMPT_CHARS = 8_000
TOOL_ID_PATTERN = r"^tool_[0-9a-f]{16}$"

NAME_CHARS = 80
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_CHARS)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
SystemPrompt = Annotated[str, StringConstraints(min_length=1, max_length=SYSTEM_PROMPT_CHARS)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Options = Annotated[tuple[Option, ...], Field(max_length=12)]
ModelId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


def _flush_to_zero(value: float) -> float:
    """A temperature under DynamoDB's smallest number (1e-130) is stored as 0
    (shared/adapters/items.py); the tool says so from the start, so what a client sets is what
    it reads back."""
    return 0.0 if value < 1e-130 else value


# JSON numbers only (``"100"`` and ``true`` are refused), as on the chat routes. The plan's cap
# on max_output_tokens is checked by the service (a 400 naming it).
Temperature = Annotated[float, Field(ge=0, le=2), Number, AfterValidator(_flush_to_zero)]
MaxOutputTokens = Annotated[int, Field(ge=1), Number]


class ToolConfig(BaseModel):
    """The settings that make a tool: what the model is told and how it is called."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    description: Description = ""
    input_hint: Description = ""
    system_prompt: SystemPrompt
    tone_options: Options = ()
    tone: Option | None = None
    profile_options: Options = ()
    profile: Option | None = None
    model: ModelId = "auto"
    temperature: Temperature = 0.7
    max_output_tokens: MaxOutputTokens = 1_024

    @model_validator(mode="after")
    def _choices_are_options(self) -> ToolConfig:
        check_option("tone", self.tone, self.tone_options)
        check_option("profile", self.profile, self.profile_options)
        return self


def check_option(name: str, value: str | None, options: tuple[str, ...]) -> None:
    """A tone/profile must be one of the tool's options, when it has any."""
    if value is not None and options and value not in options:
        raise InvalidRequest(f"{name} must be one of: {', '.join(options)}.", param=name)


class StarterTool(ToolConfig):
    """An entry of the starter catalog (shared/tools/starter_tools.json)."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,48}$")]


class InstalledTool(ToolConfig):
    """A tool in an account (tools table: ``account_id`` / ``tool_id``)."""

    account_id: str
    tool_id: Annotated[str, StringConstraints(pattern=TOOL_ID_PATTERN)]
    starter_id: str | None = None
    created_at: str
    updated_at: str

    def config(self) -> ToolConfig:
        return ToolConfig.model_validate(self.model_dump(include=set(ToolConfig.model_fields)))

    def view(self) -> dict[str, Any]:
        """What the dashboard shows: the whole configuration (it belongs to the user)."""
        data = self.model_dump(mode="json", exclude={"account_id"})
        return {"object": "tool", "id": data.pop("tool_id"), **data}
