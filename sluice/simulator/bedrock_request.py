"""Bedrock Converse requests, read and mapped onto the simulator's OpenAI-shaped ``ChatRequest``.

The body is read with Bedrock's field names (so a 400 names the Bedrock field), then rewritten as
the chat-completions body an OpenAI client would send for the same conversation and validated as
``ChatRequest``: the planner sees the same request whichever protocol asked, so it gives the same
words and token counts. ``system`` becomes a system message, ``toolResult`` blocks ``tool``
messages, ``toolUse`` blocks assistant tool calls, an ``image`` a data-URL image part.
``cachePoint`` and ``reasoningContent`` blocks are accepted and ignored: the simulator has no cache,
and earlier reasoning is not part of the prompt. Other union members (documents, guard content,
S3 images, system tools, ...) are refused, naming the member.

Reasoning is asked for as Claude on Bedrock reads it: ``thinking`` in ``additionalModelRequestFields``
(read and checked as Claude reads it; ``outputConfig.effort`` alone does not turn it on);
JSON mode is ``outputConfig.textFormat`` with a JSON schema sent as a string. The conversation
rules Bedrock enforces are enforced too: a user turn first, alternating roles, a ``toolConfig``
whenever tool blocks appear, and every ``toolUse`` answered by a ``toolResult`` in the next turn.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Json, model_validator
from pydantic_core import PydanticCustomError

from sluice.simulator.wire import ChatRequest, InvalidRequest

type JsonObject = dict[str, Any]

MIN_THINKING_BUDGET = 1024  # Claude's floor for thinking.budget_tokens


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


def read_converse(body: Any) -> ConverseRequest:
    """A Converse body, checked; raises ``ValidationError`` or ``InvalidRequest``."""
    request = ConverseRequest.model_validate(body)
    _check_thinking(request)
    _check_turns(request)
    return request


def chat_request(request: ConverseRequest, model_id: str, stream: bool) -> ChatRequest:
    """The ``ChatRequest`` for a checked Converse body; raises ``ValidationError``."""
    chat = ChatRequest.model_validate(openai_body(request, model_id, stream))
    # Bedrock takes up to 2500 stop sequences where OpenAI takes 4; the planner takes any number.
    return chat.model_copy(update={"stop": request.inferenceConfig.stopSequences or None})


def openai_body(request: ConverseRequest, model_id: str, stream: bool) -> JsonObject:
    """The chat-completions body an OpenAI client would send for the same request (``stop`` aside)."""
    system = [{"type": "text", "text": block.text} for block in request.system if block.text]
    turns = [message for turn in request.messages for message in _messages(turn)]
    inference, tools, output = request.inferenceConfig, request.toolConfig, request.outputConfig
    specs = [entry.toolSpec for entry in tools.tools if entry.toolSpec] if tools else []
    thinking = request.additionalModelRequestFields.thinking
    optional = {
        "max_tokens": inference.maxTokens,
        "temperature": inference.temperature,
        "top_p": inference.topP,
        "tools": [_function(spec) for spec in specs] or None,
        "tool_choice": tools.toolChoice.openai() if tools and tools.toolChoice else None,
        # Claude thinks only when ``thinking`` turns it on; ``outputConfig.effort`` alone sets how much
        # it spends, so it is not passed on as the OpenAI route's ``reasoning_effort`` (which reasons).
        "thinking": thinking.model_dump(exclude_none=True) if thinking else None,
        "response_format": _response_format(output.textFormat),
    }
    body: JsonObject = {
        "model": model_id,
        "messages": ([{"role": "system", "content": system}] if system else []) + turns,
        "stream": stream,
    }
    return body | {key: value for key, value in optional.items() if value is not None}


def _messages(turn: Message) -> list[JsonObject]:
    """One turn as OpenAI messages: tool results split off a user turn as ``tool`` messages."""
    if turn.role == "assistant":
        calls = [_tool_call(block.toolUse) for block in turn.content if block.toolUse]
        message: JsonObject = {"role": "assistant", "content": _parts(turn.content) or None}
        return [message | {"tool_calls": calls}] if calls else [message]
    messages: list[JsonObject] = []
    for is_result, group in itertools.groupby(turn.content, lambda block: block.toolResult is not None):
        if is_result:
            messages += [_tool_message(block.toolResult) for block in group if block.toolResult]
        elif parts := _parts(group):
            messages.append({"role": "user", "content": parts})
    return messages


def _parts(blocks: Iterable[ContentBlock]) -> list[JsonObject]:
    """Text and image blocks as OpenAI content parts; reasoning, tool and cache blocks are not content."""
    parts: list[JsonObject] = []
    for block in blocks:
        if block.text is not None:
            parts.append({"type": "text", "text": block.text})
        elif block.image is not None:
            parts.append(block.image.part())
    return parts


def _tool_call(use: ToolUseBlock) -> JsonObject:
    function = {"name": use.name, "arguments": json.dumps(use.input)}
    return {"id": use.toolUseId, "type": "function", "function": function}


def _tool_message(result: ToolResultBlock) -> JsonObject:
    parts = [item.part() for item in result.content]
    return {"role": "tool", "tool_call_id": result.toolUseId, "content": parts}


def _function(spec: ToolSpec) -> JsonObject:
    function: JsonObject = {"name": spec.name, "parameters": spec.inputSchema.json_}
    if spec.description is not None:
        function["description"] = spec.description
    return {"type": "function", "function": function}


def _response_format(text_format: TextFormat | None) -> JsonObject | None:
    if text_format is None:
        return None
    definition = text_format.structure.jsonSchema
    return {"type": "json_schema", "json_schema": {"name": definition.name, "schema": definition.schema_}}


def _check_thinking(request: ConverseRequest) -> None:
    """Enabled thinking needs a budget, and the budget must leave room for the answer (Claude's rules)."""
    thinking = request.additionalModelRequestFields.thinking
    if thinking is None or thinking.type != "enabled":
        return
    if thinking.budget_tokens is None:
        raise InvalidRequest("additionalModelRequestFields.thinking.budget_tokens: Field required")
    max_tokens = request.inferenceConfig.maxTokens
    if max_tokens is not None and thinking.budget_tokens >= max_tokens:
        raise InvalidRequest("inferenceConfig.maxTokens must be greater than thinking.budget_tokens")


def _check_turns(request: ConverseRequest) -> None:
    """Bedrock's conversation rules (see the module docstring), with Bedrock's messages."""
    turns = request.messages
    if turns[0].role != "user":
        raise InvalidRequest(
            "A conversation must start with a user message. Try again with a conversation that starts "
            "with a user message."
        )
    for index, (before, turn) in enumerate(itertools.pairwise(turns), start=1):
        if before.role == turn.role:
            raise InvalidRequest(
                f"messages.{index}: A conversation must alternate between user and assistant roles. Make "
                "sure the conversation alternates between user and assistant roles and try again."
            )
    uses_tools = any(block.toolUse or block.toolResult for turn in turns for block in turn.content)
    if uses_tools and request.toolConfig is None:
        raise InvalidRequest(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    asked: set[str] = set()
    for index, turn in enumerate(turns):
        misplaced = "toolResult" if turn.role == "assistant" else "toolUse"
        if any(getattr(block, misplaced) for block in turn.content):
            raise InvalidRequest(
                f"messages.{index}.content: {misplaced} blocks are not allowed in {turn.role} turns"
            )
        answered = {block.toolResult.toolUseId for block in turn.content if block.toolResult}
        _check_answers(index, asked, answered)
        asked = {block.toolUse.toolUseId for block in turn.content if block.toolUse}


def _check_answers(index: int, asked: set[str], answered: set[str]) -> None:
    """Each ``toolUse`` of a turn is answered in the next turn, and each ``toolResult`` answers one.

    A final assistant turn's open tool uses are not checked: nothing follows it yet.
    """
    if missing := asked - answered:
        raise InvalidRequest(
            f"messages.{index}.content: Expected toolResult blocks for the following Ids: "
            f"{', '.join(sorted(missing))}"
        )
    if unexpected := answered - asked:
        raise InvalidRequest(
            f"messages.{index}.content: toolResult blocks answer no toolUse of the previous turn: "
            f"{', '.join(sorted(unexpected))}"
        )
