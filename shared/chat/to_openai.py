"""Canonical -> OpenAI Chat Completions wire: upstream requests and client responses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from shared.chat.cache import with_cache
from shared.chat.canonical import (
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
    ServerTool,
    Text,
    ThinkingMode,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
    WireFormat,
)
from shared.chat.messages import text_of
from shared.errors import InvalidRequest

type Json = dict[str, Any]

THINKING_TO_OPENAI: Mapping[ThinkingMode, str] = {
    ThinkingMode.ENABLED: "enabled",
    ThinkingMode.ADAPTIVE: "enabled",  # OpenAI-compatible hosts know only enabled/disabled
    ThinkingMode.DISABLED: "disabled",
    ThinkingMode.BETWEEN_TOOLS: "disabled",
}
EFFORT_TO_OPENAI: Mapping[ReasoningEffort, str] = {effort: effort.value for effort in ReasoningEffort}
TOOL_CHOICE_TO_OPENAI: Mapping[ToolChoiceMode, str] = {
    ToolChoiceMode.AUTO: "auto",
    ToolChoiceMode.NONE: "none",
    ToolChoiceMode.REQUIRED: "required",
}
SYSTEM_JOINER = "\n\n"
TOOL_ERROR_PREFIX = "Error: "

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


def request_to_openai(req: ChatRequest, *, max_tokens_field: MaxTokensField = "max_tokens") -> Json:
    """A Chat Completions body for an OpenAI-compatible upstream.

    ``max_tokens_field`` picks the spelling the upstream understands. A stream always asks for
    usage (``stream_options.include_usage``): Sluice needs the real counts even when the client
    did not ask for them. Unknown fields of an OpenAI-format request are passed through; an
    Anthropic request's are not.
    """
    sampling = req.sampling
    body: Json = {"model": req.model, "messages": _messages(req), "stream": req.stream}
    optional: dict[str, Any] = {
        max_tokens_field: req.max_tokens,
        "stop": list(req.stop) or None,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "frequency_penalty": sampling.frequency_penalty,
        "presence_penalty": sampling.presence_penalty,
        "seed": sampling.seed,
        "tools": _tools(req) or None,
        "tool_choice": _tool_choice(req.tool_choice),
        "parallel_tool_calls": req.parallel_tool_calls,
        "response_format": _response_format(req.response_format),
        "n": req.n,
        "user": req.user,
        "stream_options": {"include_usage": True} if req.stream else None,
        "logprobs": req.logprobs,
        "top_logprobs": req.top_logprobs,
        **_reasoning(req.reasoning),
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if req.extras_format is WireFormat.OPENAI:
        for key, value in req.extras.items():
            body.setdefault(key, value)
    return body


def _messages(req: ChatRequest) -> list[Json]:
    """The request's own system prompt (an Anthropic-format client's, the model's persona) joins
    the client's first message when that is a system message: many chat templates (Mistral's,
    Qwen's, Gemma's) take one system message, first, and refuse a second."""
    rendered = [item for message in req.messages for item in _message(message)]
    if not req.system:
        return rendered
    system = text_of(req.system, SYSTEM_JOINER)
    first = rendered[0] if rendered else None
    if first is not None and first["role"] == "system" and "name" not in first:
        rendered[0] = {**first, "content": _after(system, first["content"])}
    else:
        rendered.insert(0, {"role": "system", "content": system})
    return rendered


def _after(system: str, content: str | list[Json]) -> str | list[Json]:
    """``system`` first, then a system message's own content (text, or parts that carry a cache mark)."""
    if isinstance(content, str):
        return f"{system}{SYSTEM_JOINER}{content}" if content else system
    return [{"type": "text", "text": system + SYSTEM_JOINER}, *content]


def _message(message: Message) -> list[Json]:
    if message.role is Role.ASSISTANT:
        return [_named(assistant_message(message.parts, history=True), message.name)]
    if message.role is Role.SYSTEM:
        return [_named({"role": "system", "content": _content(message.parts)}, message.name)]
    results = [p for p in message.parts if isinstance(p, ToolResult)]
    rest = [p for p in message.parts if not isinstance(p, ToolResult)]
    rendered = [_tool_message(r) for r in results]
    rendered.extend(_tool_images(results))
    if rest or not results:
        rendered.append(_named({"role": "user", "content": _content(rest)}, message.name))
    return rendered


def _named(message: Json, name: str | None) -> Json:
    return {**message, "name": name} if name is not None else message


def _content(parts: Iterable[Part]) -> str | list[Json]:
    """One plain text part renders as a string (what every server accepts), anything else as parts."""
    items = list(parts)
    if len(items) == 1 and isinstance(items[0], Text) and items[0].cache is None:
        return items[0].text
    if not items:
        return ""
    return [_content_part(p) for p in items]


def _content_part(part: Part) -> Json:
    if isinstance(part, Text):
        return with_cache({"type": "text", "text": part.text}, part.cache)
    if isinstance(part, Image):
        return image_part(part)
    raise InvalidRequest(f"A {type(part).__name__} part cannot be sent as OpenAI message content.")


def image_part(image: Image) -> Json:
    """An ``image_url`` part; inline images become base64 data URLs."""
    url = image.url if image.url is not None else f"data:{image.media_type};base64,{image.data}"
    spec: Json = {"url": url}
    if image.detail is not None:
        spec["detail"] = image.detail
    return {"type": "image_url", "image_url": spec}


def _tool_message(result: ToolResult) -> Json:
    """A tool message. OpenAI has no error flag, so an error result's text starts with "Error: "."""
    texts = [
        p if isinstance(p, Text) else Text(f"[tool_reference: {p.tool_name}]")
        for p in result.content
        if isinstance(p, Text | ToolReference)
    ]
    if result.is_error:
        first = texts[0].text if texts else ""
        texts[:1] = [Text(TOOL_ERROR_PREFIX + first)]
    return {"role": "tool", "tool_call_id": result.tool_call_id, "content": _content(texts)}


def _tool_images(results: Iterable[ToolResult]) -> list[Json]:
    """Tool messages carry only text: images a tool returned follow in one user message."""
    rendered = []
    for result in results:
        images = [p for p in result.content if isinstance(p, Image)]
        if images:
            label: Json = {"type": "text", "text": f"Images returned by tool call {result.tool_call_id}:"}
            rendered.append({"role": "user", "content": [label, *(image_part(i) for i in images)]})
    return rendered


def assistant_message(parts: Iterable[Part], *, history: bool = False) -> Json:
    """An assistant message: text, ``reasoning_content``, ``refusal`` and ``tool_calls``.

    In a response ``content`` is one string; in request history several text parts stay parts.
    A response also carries signed and redacted reasoning (a Claude route's) as ``thinking_blocks``,
    which a client sends back with the message for the next step of a tool loop to think (Claude
    takes a tool loop's history only with the signed thinking that led to the calls). OpenAI has
    no spelling for them, so request history to an OpenAI-compatible upstream does not carry them.
    """
    items = list(parts)
    texts = [p for p in items if isinstance(p, Text)]
    calls = [_tool_call(p) for p in items if isinstance(p, ToolCall)]
    refusal = "".join(p.text for p in items if isinstance(p, Refusal))
    content: str | list[Json] | None = _content(texts) if history else text_of(texts)
    # an answer that only calls tools or refuses has no content, as OpenAI answers it
    empty = calls or (refusal and not history)
    message: Json = {"role": "assistant", "content": content if texts or not empty else None}
    reasoning = "".join(p.text for p in items if isinstance(p, Reasoning))
    if reasoning:
        message["reasoning_content"] = reasoning
    blocks = [] if history else _thinking_blocks(items)
    if blocks:
        message["thinking_blocks"] = blocks
    if refusal or not history:
        message["refusal"] = refusal or None
    if calls:
        message["tool_calls"] = calls
    return message


def _thinking_blocks(parts: Iterable[Part]) -> list[Json]:
    """Signed and redacted reasoning in the Anthropic shape; unsigned reasoning has none."""
    blocks: list[Json] = []
    for part in parts:
        if isinstance(part, Reasoning) and part.signature:
            blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
        elif isinstance(part, RedactedReasoning):
            blocks.append({"type": "redacted_thinking", "data": part.data})
    return blocks


def _tool_call(call: ToolCall) -> Json:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def _tools(req: ChatRequest) -> list[Json]:
    return [_tool(t, i, req.extras_format) for i, t in enumerate(req.tools)]


def _tool(tool: Tool | ServerTool, index: int, source: WireFormat | None) -> Json:
    if isinstance(tool, ServerTool):
        raise InvalidRequest(
            f"tools.{index}: the server tool {tool.type!r} runs only on Anthropic upstreams.",
            param=f"tools.{index}",
        )
    fn: Json = {"name": tool.name}
    if tool.description is not None:
        fn["description"] = tool.description
    if tool.parameters is not None:
        fn["parameters"] = tool.parameters
    if tool.strict is not None:
        fn["strict"] = tool.strict
    if source is WireFormat.OPENAI:
        fn.update({k: v for k, v in tool.extras.items() if k not in fn})
    return {"type": "function", "function": fn}


def _tool_choice(choice: ToolChoice | None) -> str | Json | None:
    if choice is None:
        return None
    if choice.mode is ToolChoiceMode.TOOL:
        return {"type": "function", "function": {"name": choice.name}}
    return TOOL_CHOICE_TO_OPENAI[choice.mode]


def _response_format(fmt: ResponseFormat | None) -> Json | None:
    if fmt is None:
        return None
    if fmt.kind is not ResponseFormatKind.JSON_SCHEMA:
        return {"type": fmt.kind.value}
    spec: Json = {"name": fmt.name or "response"}
    optional = {"description": fmt.description, "schema": fmt.schema, "strict": fmt.strict}
    spec.update({k: v for k, v in optional.items() if v is not None})
    return {"type": "json_schema", "json_schema": spec}


def _reasoning(config: ReasoningConfig | None) -> Json:
    if config is None:
        return {}
    fields: Json = {}
    if config.effort is not None:
        fields["reasoning_effort"] = EFFORT_TO_OPENAI[config.effort]
    if config.mode is not None:
        thinking: Json = {"type": THINKING_TO_OPENAI[config.mode]}
        if config.budget_tokens is not None:
            thinking["budget_tokens"] = config.budget_tokens
        fields["thinking"] = thinking
    return fields
