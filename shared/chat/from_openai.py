"""OpenAI Chat Completions wire -> canonical: client requests (upstream answers:
``from_openai_response``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from shared.chat.cache import cache_from_wire
from shared.chat.canonical import (
    CacheControl,
    ChatRequest,
    Image,
    Message,
    Part,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    RedactedReasoning,
    Refusal,
    ResponseFormat,
    ResponseFormatKind,
    Role,
    Sampling,
    Text,
    ThinkingMode,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolResult,
    WireFormat,
)
from shared.chat.messages import check_parts, check_tool_choice, unique_tools
from shared.chat.openai_legacy import LegacyCalls, legacy_tools, tool_from_function
from shared.errors import InvalidRequest
from shared.wire import openai as wire
from shared.wire.anthropic import RedactedThinkingBlock, ThinkingBlock

ROLE_FROM_OPENAI: Mapping[str, Role] = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,  # developer is OpenAI's newer name for system instructions
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.USER,  # a tool result is part of the user's side of the conversation
    "function": Role.USER,  # the deprecated spelling of a tool result (openai_legacy)
}
TOOL_CHOICE_FROM_OPENAI: Mapping[str, ToolChoiceMode] = {
    "none": ToolChoiceMode.NONE,
    "auto": ToolChoiceMode.AUTO,
    "required": ToolChoiceMode.REQUIRED,
}
THINKING_FROM_OPENAI: Mapping[str, ThinkingMode] = {
    "enabled": ThinkingMode.ENABLED,
    "disabled": ThinkingMode.DISABLED,
}


def request_from_openai(req: wire.ChatCompletionRequest) -> ChatRequest:
    """A validated Chat Completions request in canonical form; unknown fields kept as extras.
    The deprecated ``functions`` / ``function_call`` are tools (``openai_legacy``)."""
    legacy = legacy_tools(req)
    calls = LegacyCalls()
    tools = legacy.tools if legacy else unique_tools(_tool(t) for t in req.tools or ())
    tool_choice = legacy.choice if legacy else _tool_choice(req.tool_choice)
    check_tool_choice(tools, tool_choice, "function_call" if legacy else "tool_choice")
    return ChatRequest(
        model=req.model,
        messages=tuple(_message(m, i, calls) for i, m in enumerate(req.messages)),
        max_tokens=_max_tokens(req),
        stop=tuple(req.stop or ()),
        sampling=Sampling(
            temperature=req.temperature,
            top_p=req.top_p,
            top_k=req.top_k,
            frequency_penalty=req.frequency_penalty,
            presence_penalty=req.presence_penalty,
            seed=req.seed,
        ),
        tools=tools,
        tool_choice=tool_choice,
        # a legacy answer carries one call (OpenAI-compatible servers refuse the field without tools)
        parallel_tool_calls=(False if legacy.tools else None) if legacy else req.parallel_tool_calls,
        response_format=_response_format(req.response_format),
        reasoning=_reasoning(req),
        n=req.n,
        user=req.user,
        stream=bool(req.stream),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs,
        extras=dict(req.model_extra or {}),
        extras_format=WireFormat.OPENAI,
        legacy_functions=legacy is not None,
    )


def _max_tokens(req: wire.ChatCompletionRequest) -> int | None:
    both = req.max_tokens is not None and req.max_completion_tokens is not None
    if both and req.max_tokens != req.max_completion_tokens:
        raise InvalidRequest(
            "max_tokens and max_completion_tokens disagree; send one of them.", param="max_tokens"
        )
    return req.max_completion_tokens if req.max_completion_tokens is not None else req.max_tokens


def _message(msg: wire.ChatMessage, index: int, calls: LegacyCalls) -> Message:
    param = f"messages.{index}"
    _check_fields(msg, param)
    role = ROLE_FROM_OPENAI[msg.role]
    if msg.role == "tool":
        parts: tuple[Part, ...] = (_tool_result(msg, param, msg.tool_call_id or ""),)
    elif msg.role == "function":  # the deprecated tool result: answers a legacy call by name
        parts = (_tool_result(msg, param, calls.answer(msg.name, param)),)
    elif msg.role == "assistant":
        parts = _assistant_parts(msg, param)
        if msg.function_call is not None:
            parts += (calls.call(msg.function_call, index),)
    else:
        parts = tuple(_part(p, f"{param}.content.{j}") for j, p in enumerate(msg.content or ()))
    parts = _cache_last(parts, cache_from_wire(msg.cache_control))
    # a function message's name is its function's, not a participant's
    message = Message(role=role, parts=parts, name=None if msg.role == "function" else msg.name)
    check_parts(message, f"{param}.content")
    return message


def _check_fields(msg: wire.ChatMessage, param: str) -> None:
    if msg.content is None and not _content_optional(msg):
        raise InvalidRequest(f"{param}: content is required.", param=f"{param}.content")
    for field in ("tool_calls", "function_call"):
        if getattr(msg, field) and msg.role != "assistant":
            raise InvalidRequest(f"{param}: only assistant messages carry {field}.", param=f"{param}.{field}")
    if msg.role == "tool" and not msg.tool_call_id:
        raise InvalidRequest(f"{param}: a tool message needs tool_call_id.", param=f"{param}.tool_call_id")
    if msg.tool_call_id is not None and msg.role != "tool":
        raise InvalidRequest(
            f"{param}: only tool messages carry tool_call_id.", param=f"{param}.tool_call_id"
        )


def _content_optional(msg: wire.ChatMessage) -> bool:
    """Only an assistant turn that carries something else (tool calls, a refusal, reasoning) may
    leave its content out, as OpenAI allows."""
    if msg.role == "function":
        return True  # OpenAI's own type allows a null result
    if msg.role != "assistant":
        return False
    calls = msg.tool_calls or msg.function_call
    return bool(calls or msg.refusal or msg.reasoning_content or msg.thinking_blocks)


def _cache_last(parts: tuple[Part, ...], cache: CacheControl | None) -> tuple[Part, ...]:
    """A message's ``cache_control`` on its last part that can carry one."""
    if cache is None:
        return parts
    for index in reversed(range(len(parts))):
        part = parts[index]
        if isinstance(part, Text | Image | ToolCall | ToolResult):
            return (*parts[:index], replace(part, cache=cache), *parts[index + 1 :])
    return parts


def _part(part: wire.ContentPart, param: str) -> Part:
    if isinstance(part, wire.TextPart):
        return Text(part.text, cache=cache_from_wire(part.cache_control))
    if isinstance(part, wire.ImagePart):
        image = image_from_url(part.image_url.url, part.image_url.detail, f"{param}.image_url.url")
        return replace(image, cache=cache_from_wire(part.cache_control))
    return Refusal(part.refusal)


def image_from_url(url: str, detail: str | None, param: str) -> Image:
    """An image part from an OpenAI ``image_url``: a base64 data URL or an http(s) URL."""
    if url.startswith("data:"):
        header, comma, data = url.removeprefix("data:").partition(",")
        media_type, _, encoding = header.partition(";")
        if not comma or encoding != "base64" or not media_type or not data:
            raise InvalidRequest(f"{param}: expected a data URL like data:image/png;base64,...", param=param)
        return Image(media_type=media_type, data=data, detail=detail)
    if not url.startswith(("http://", "https://")):
        raise InvalidRequest(f"{param}: image URLs must be http(s) or base64 data URLs.", param=param)
    return Image(url=url, detail=detail)


def _assistant_parts(msg: wire.ChatMessage, param: str) -> tuple[Part, ...]:
    """Reasoning, text, refusal and tool calls. Signed ``thinking_blocks`` (a Claude route's, sent
    back) stand for the reasoning; ``reasoning_content`` is then the same text, unsigned."""
    parts: list[Part] = []
    if msg.thinking_blocks:
        parts.extend(_thinking_block(block) for block in msg.thinking_blocks)
    elif msg.reasoning_content:
        parts.append(Reasoning(msg.reasoning_content))
    parts.extend(_part(p, f"{param}.content.{j}") for j, p in enumerate(msg.content or ()))
    if msg.refusal:
        parts.append(Refusal(msg.refusal))
    for call in msg.tool_calls or ():
        cache = cache_from_wire(call.cache_control)
        parts.append(ToolCall(call.id, call.function.name, call.function.arguments, cache=cache))
    return tuple(parts)


def _thinking_block(block: ThinkingBlock | RedactedThinkingBlock) -> Part:
    """An unsigned block is reasoning from elsewhere, as ``reasoning_content`` is."""
    if isinstance(block, RedactedThinkingBlock):
        return RedactedReasoning(block.data)
    return Reasoning(block.thinking, signature=block.signature or None)


def _tool_result(msg: wire.ChatMessage, param: str, call_id: str) -> ToolResult:
    content = tuple(_part(p, f"{param}.content.{j}") for j, p in enumerate(msg.content or ()))
    texts: list[Text] = []
    for index, part in enumerate(content):
        if not isinstance(part, Text):
            raise InvalidRequest(
                f"{param}: tool message content must be text.", param=f"{param}.content.{index}"
            )
        texts.append(part)
    return ToolResult(tool_call_id=call_id, content=tuple(texts))


def _tool(tool: wire.ToolDef) -> Tool:
    return tool_from_function(tool.function)


def _tool_choice(choice: str | wire.NamedToolChoice | None) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, wire.NamedToolChoice):
        return ToolChoice(ToolChoiceMode.TOOL, name=choice.function.name)
    return ToolChoice(TOOL_CHOICE_FROM_OPENAI[choice])


def _response_format(fmt: wire.ResponseFormatParam | None) -> ResponseFormat | None:
    if fmt is None:
        return None
    kind = ResponseFormatKind(fmt.type)
    if kind is not ResponseFormatKind.JSON_SCHEMA:
        return ResponseFormat(kind)
    spec = fmt.json_schema
    if spec is None:
        raise InvalidRequest(
            "response_format.json_schema is required for type json_schema.",
            param="response_format.json_schema",
        )
    return ResponseFormat(
        kind, name=spec.name, schema=spec.json_schema, strict=spec.strict, description=spec.description
    )


def _reasoning(req: wire.ChatCompletionRequest) -> ReasoningConfig | None:
    if req.reasoning_effort is None and req.thinking is None:
        return None
    thinking = req.thinking
    return ReasoningConfig(
        mode=THINKING_FROM_OPENAI[thinking.type] if thinking else None,
        budget_tokens=thinking.budget_tokens if thinking else None,
        effort=ReasoningEffort(req.reasoning_effort) if req.reasoning_effort else None,
    )
