"""Bedrock Converse request bodies as the simulator reads them: Bedrock's own field names and unions,
so a 400 names the Bedrock field (see ``bedrock_request`` for the mapping onto ``ChatRequest``)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Json, model_validator
from pydantic_core import PydanticCustomError

from sluice.simulator.frontends import MIN_THINKING_BUDGET

type JsonObject = dict[str, Any]


def _not_blank(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("blank_text", "the text field is blank; add text and try again")
    return text


def _base64(data: str) -> str:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PydanticCustomError("invalid_base64", "image bytes are not valid base64") from error
    return data


NotBlank = Annotated[str, AfterValidator(_not_blank)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class _Shape(BaseModel):
    """A Bedrock structure; fields the simulator does not read are accepted and ignored."""

    model_config = ConfigDict(extra="allow")


class _Union(_Shape):
    """A Bedrock union: exactly one member, and one the simulator reads."""

    @model_validator(mode="after")
    def _one_known_member(self) -> Self:
        known = [field.alias or name for name, field in type(self).model_fields.items()]
        if unknown := sorted(self.model_extra or {}):
            raise PydanticCustomError(
                "unsupported_member",
                "unsupported member '{member}': the simulator reads {known}",
                {"member": unknown[0], "known": ", ".join(known)},
            )
        if len(self.model_fields_set) != 1:
            raise PydanticCustomError(
                "union_members", "exactly one member of {known} must be set", {"known": ", ".join(known)}
            )
        return self


class ImageSource(_Union):
    data: Annotated[str, AfterValidator(_base64), Field(alias="bytes")]  # a blob: base64 in JSON


class ImageBlock(_Shape):
    format: Literal["png", "jpeg", "gif", "webp"]
    source: ImageSource

    def part(self) -> JsonObject:
        """The OpenAI ``image_url`` part: the bytes as a data URL."""
        return {
            "type": "image_url",
            "image_url": {"url": f"data:image/{self.format};base64,{self.source.data}"},
        }


class ToolUseBlock(_Shape):
    toolUseId: Name
    name: Name
    input: Any


class ToolResultContent(_Union):
    text: str | None = None
    json_: Annotated[Any, Field(alias="json")] = None
    image: ImageBlock | None = None

    def part(self) -> JsonObject:
        """An OpenAI content part: ``json`` content is its JSON text."""
        if self.image is not None:
            return self.image.part()
        text = self.text if self.text is not None else json.dumps(self.json_)
        return {"type": "text", "text": text}


class ToolResultBlock(_Shape):
    toolUseId: Name
    content: list[ToolResultContent]
    status: Literal["success", "error"] | None = None


class ContentBlock(_Union):
    text: NotBlank | None = None
    image: ImageBlock | None = None
    toolUse: ToolUseBlock | None = None
    toolResult: ToolResultBlock | None = None
    reasoningContent: Any = None
    cachePoint: Any = None


class Message(_Shape):
    role: Literal["user", "assistant"]
    content: Annotated[list[ContentBlock], Field(min_length=1)]


class SystemBlock(_Union):
    text: NotBlank | None = None
    cachePoint: Any = None


class InferenceConfig(_Shape):
    maxTokens: Annotated[int | None, Field(ge=1)] = None
    temperature: Annotated[float | None, Field(ge=0, le=1)] = None
    topP: Annotated[float | None, Field(ge=0, le=1)] = None
    stopSequences: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, max_length=2500)


class InputSchema(_Union):
    json_: Annotated[JsonObject, Field(alias="json")]


class ToolSpec(_Shape):
    name: Name
    description: str | None = None
    inputSchema: InputSchema


class ToolEntry(_Union):
    toolSpec: ToolSpec | None = None
    cachePoint: Any = None


class SpecificTool(_Shape):
    name: Name


class ToolChoice(_Union):
    auto: JsonObject | None = None
    any_: Annotated[JsonObject | None, Field(alias="any")] = None
    tool: SpecificTool | None = None

    def openai(self) -> str | JsonObject:
        """OpenAI's ``tool_choice``: ``auto``, ``required`` or the named function."""
        if self.tool is not None:
            return {"type": "function", "function": {"name": self.tool.name}}
        return "required" if self.any_ is not None else "auto"


class ToolConfig(_Shape):
    tools: Annotated[list[ToolEntry], Field(min_length=1)]
    toolChoice: ToolChoice | None = None


class Thinking(_Shape):
    """``thinking`` in ``additionalModelRequestFields``, as Claude on Bedrock reads it."""

    type: Literal["enabled", "adaptive", "between_tools", "disabled"]
    budget_tokens: Annotated[int | None, Field(ge=MIN_THINKING_BUDGET)] = None


class ModelFields(_Shape):
    thinking: Thinking | None = None


class JsonSchemaDefinition(_Shape):
    schema_: Annotated[Json[JsonObject], Field(alias="schema")]  # a JSON document in a string
    name: str | None = None


class OutputStructure(_Union):
    jsonSchema: JsonSchemaDefinition


class TextFormat(_Shape):
    type: Literal["json_schema"]
    structure: OutputStructure


class OutputConfig(_Shape):
    textFormat: TextFormat | None = None
    effort: str | None = None


class ConverseRequest(_Shape):
    """A ``Converse`` / ``ConverseStream`` body (the model id is in the path)."""

    messages: Annotated[list[Message], Field(min_length=1)]
    system: list[SystemBlock] = Field(default_factory=list)
    inferenceConfig: InferenceConfig = Field(default_factory=InferenceConfig)
    toolConfig: ToolConfig | None = None
    additionalModelRequestFields: ModelFields = Field(default_factory=ModelFields)
    additionalModelResponseFieldPaths: list[str] = Field(default_factory=list)
    outputConfig: OutputConfig = Field(default_factory=OutputConfig)
