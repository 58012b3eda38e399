"""Canonical -> Bedrock Converse: the keyword arguments of ``converse`` / ``converse_stream``.

Pure functions and explicit tables. What Converse cannot carry is refused (``n > 1``, logprobs,
provider-run tools, image URLs, which the caller must inline first) or, where it has no meaning
there, not sent (penalties, seed, user, parallel_tool_calls). Model-specific knobs go in
``additionalModelRequestFields``: ``top_k`` as the model's own request reads it (``_top_k``:
Amazon Nova's ``inferenceConfig.topK``, Cohere Command R's ``k``, ``top_k`` for Claude, Mistral
and any model not listed; refused for Meta's Llama models, which have none), and for Claude
models ``thinking`` in the Anthropic shape, by Claude's rules (``shared/chat/claude_rules.py``).
Other models read no ``thinking`` (Bedrock refuses a key the model does not know): their reasoning
is asked for with Converse's own ``outputConfig.effort`` alone. The family is read from the model
id unless the route states it (an application inference profile's ARN names no model).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.catalog.models import ModelFamily
from shared.chat.canonical import (
    ChatRequest,
    ResponseFormat,
    ResponseFormatKind,
    Role,
    ServerTool,
    Text,
    Tool,
    ToolChoiceMode,
)
from shared.chat.claude_rules import (
    EFFORT_TO_ANTHROPIC,
    MAX_TEMPERATURE,
    Controls,
    Sampling,
    ThinkingStyle,
    check_stop_sequences,
    claude_controls,
    names_claude,
    requested_thinking,
)
from shared.chat.messages import without_blank_text
from shared.chat.to_anthropic import EMPTY_SCHEMA
from shared.errors import InvalidRequest
from shared.providers.bedrock_blocks import cache_point, content_blocks

type Json = dict[str, Any]

ROLE_TO_CONVERSE: Mapping[Role, str] = {Role.USER: "user", Role.ASSISTANT: "assistant"}
TOOL_CHOICE_TO_CONVERSE: Mapping[ToolChoiceMode, str] = {
    ToolChoiceMode.AUTO: "auto",
    ToolChoiceMode.REQUIRED: "any",
    ToolChoiceMode.TOOL: "tool",
    # ToolChoiceMode.NONE: Converse has no "none"; the tools are withheld instead.
}
STOP_SEQUENCE_PATH = "/stop_sequence"  # where Claude reports which stop sequence matched
# How a model id (``amazon.nova-pro-v1:0``, an inference profile such as
# ``us.amazon.nova-2-lite-v1:0``, or its ARN) names its family.
NAMED_IN_IDS: Mapping[ModelFamily, str] = {
    "nova": "amazon.nova",
    "command-r": "cohere.command-r",
    "llama": "meta.llama",
}


def family_of(model: str) -> ModelFamily:
    """The family a Bedrock model id names; ``other`` when it names none of those mapped here."""
    if names_claude(model):
        return "claude"
    lowered = model.lower()
    return next((family for family, named in NAMED_IN_IDS.items() if named in lowered), "other")


def request_to_converse(
    req: ChatRequest, *, thinking_style: ThinkingStyle = "adaptive", family: ModelFamily | None = None
) -> Json:
    """Converse arguments for ``req``; ``req.model`` is the Bedrock model id, ``family`` its
    family when the route states it (else read from the id)."""
    family = family or family_of(req.model)
    _refuse_unsupported(req, family)
    messages = _turns(req)
    if family == "claude":
        controls = claude_controls(
            req,
            requested_thinking(req.reasoning, req.extras_format),
            unthought_tool_turn=_unthought_tool_turn(messages),
            style=thinking_style,
            max_tokens=req.max_tokens,
        )
    else:
        controls = _other_model_controls(req)
    kwargs: Json = {"modelId": req.model, "messages": messages}
    optional: dict[str, Any] = {
        "system": _system(req) or None,
        "inferenceConfig": _inference(req, controls.sampling) or None,
        "toolConfig": _tool_config(req, messages),
        "additionalModelRequestFields": _model_fields(family, controls.sampling, controls.thinking) or None,
        "additionalModelResponseFieldPaths": [STOP_SEQUENCE_PATH] if req.stop else None,
        "outputConfig": _output_config(req, controls.effort) or None,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


def _refuse_unsupported(req: ChatRequest, family: ModelFamily) -> None:
    if req.n is not None and req.n > 1:
        raise InvalidRequest("n > 1 is not supported by this model.", param="n")
    if req.logprobs:
        raise InvalidRequest("logprobs are not supported by this model.", param="logprobs")
    if req.sampling.top_k is not None and family == "llama":
        raise InvalidRequest("top_k is not supported by this model.", param="top_k")
    if family == "claude":
        check_stop_sequences(req)
    for index, tool in enumerate(req.tools):
        if isinstance(tool, ServerTool):
            raise InvalidRequest(
                f"The server tool {tool.type!r} is not supported by this model.", param=f"tools.{index}"
            )


def _system(req: ChatRequest) -> list[Json]:
    texts = list(req.system)
    for message in req.messages:
        if message.role is Role.SYSTEM:
            texts.extend(p for p in message.parts if isinstance(p, Text))
    blocks: list[Json] = []
    for text in without_blank_text(texts, req.extras_format):
        if text.text:
            blocks.extend([{"text": text.text}, *cache_point(text.cache)])
    return blocks


def _turns(req: ChatRequest) -> list[Json]:
    """User/assistant turns; neighbours of the same role merge (Converse wants alternation), and a
    message with nothing to send is left out."""
    turns: list[Json] = []
    for message in req.messages:
        if message.role is Role.SYSTEM:
            continue
        role = ROLE_TO_CONVERSE[message.role]
        parts = without_blank_text(message.parts, req.extras_format)
        blocks = [block for part in parts for block in content_blocks(part)]
        if not blocks:  # e.g. only unsigned reasoning from another provider: nothing to replay
            continue  # (an empty turn is refused); its neighbours merge instead
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _has_tool_blocks(turns: list[Json]) -> bool:
    return any("toolUse" in b or "toolResult" in b for turn in turns for b in turn["content"])


def _unthought_tool_turn(turns: list[Json]) -> bool:
    """The last assistant turn calls tools and does not start with reasoning."""
    last = next((t["content"] for t in reversed(turns) if t["role"] == "assistant"), None)
    if not last or not any("toolUse" in block for block in last):
        return False
    return "reasoningContent" not in last[0]


def _called_tools(turns: list[Json]) -> list[str]:
    """The names of the tools the conversation called, in order of first call."""
    names = (b["toolUse"]["name"] for turn in turns for b in turn["content"] if "toolUse" in b)
    return list(dict.fromkeys(names))


def _inference(req: ChatRequest, sampling: Sampling) -> Json:
    config = {
        "maxTokens": req.max_tokens,
        "temperature": sampling.temperature,
        "topP": sampling.top_p,
        "stopSequences": list(req.stop) or None,
    }
    return {key: value for key, value in config.items() if value is not None}


def _tool_spec(tool: Tool) -> list[Json]:
    spec: Json = {"name": tool.name}
    if tool.description:
        spec["description"] = tool.description
    spec["inputSchema"] = {"json": tool.parameters if tool.parameters is not None else EMPTY_SCHEMA}
    if tool.strict is not None:
        spec["strict"] = tool.strict
    return [{"toolSpec": spec}, *cache_point(tool.cache)]


def _tool_config(req: ChatRequest, turns: list[Json]) -> Json | None:
    """Tools and tool choice. Converse refuses toolUse and toolResult blocks without a toolConfig,
    so earlier tool calls keep the tools declared: ``none`` withholds them only when the history
    has none, and a request that declares no tools declares the ones its history called, as
    stand-ins (OpenAI clients often drop ``tools`` once they want a plain answer)."""
    tools = [block for tool in req.tools if isinstance(tool, Tool) for block in _tool_spec(tool)]
    choice = req.tool_choice
    history_has_tools = _has_tool_blocks(turns)
    if not tools:
        called = _called_tools(turns)
        return {"tools": [_stand_in(name) for name in called]} if called else None
    if choice is not None and choice.mode is ToolChoiceMode.NONE and not history_has_tools:
        return None
    config: Json = {"tools": tools}
    mode = TOOL_CHOICE_TO_CONVERSE.get(choice.mode) if choice is not None else None
    if mode == "tool" and choice is not None:
        config["toolChoice"] = {"tool": {"name": choice.name}}
    elif mode is not None:
        config["toolChoice"] = {mode: {}}
    return config


def _stand_in(name: str) -> Json:
    """A tool the conversation called earlier but the request does not offer."""
    description = "Called earlier in this conversation; not offered for new calls."
    return {"toolSpec": {"name": name, "description": description, "inputSchema": {"json": EMPTY_SCHEMA}}}


def _other_model_controls(req: ChatRequest) -> Controls:
    """A model other than Claude: no ``thinking``; the reasoning effort as Converse's own
    ``outputConfig.effort`` (``none``: none sent, the model's default); the sampling values as
    sent, temperatures above 1.0 clamped (Converse's models take 0 to 1)."""
    sampling = req.sampling
    temperature = min(sampling.temperature, MAX_TEMPERATURE) if sampling.temperature is not None else None
    effort = req.reasoning.effort if req.reasoning else None
    return Controls(
        thinking=None,
        sampling=Sampling(temperature, sampling.top_p, sampling.top_k),
        effort=EFFORT_TO_ANTHROPIC.get(effort) if effort is not None else None,
    )


def _model_fields(family: ModelFamily, sampling: Sampling, thinking: Json | None) -> Json:
    fields: Json = {}
    if sampling.top_k is not None:
        fields.update(_top_k(family, sampling.top_k))
    if thinking is not None:
        fields["thinking"] = thinking
    return fields


def _top_k(family: ModelFamily, top_k: int) -> Json:
    """``top_k`` where the model's own request reads it: Amazon Nova under ``inferenceConfig``
    as ``topK``, Cohere Command R as ``k``, Claude, Mistral and any other model as ``top_k``."""
    if family == "nova":
        return {"inferenceConfig": {"topK": top_k}}
    if family == "command-r":
        return {"k": top_k}
    return {"top_k": top_k}


def _output_config(req: ChatRequest, effort: str | None) -> Json:
    config: Json = {}
    if effort is not None:
        config["effort"] = effort
    text_format = _text_format(req.response_format)
    if text_format is not None:
        config["textFormat"] = text_format
    return config


def _text_format(fmt: ResponseFormat | None) -> Json | None:
    """JSON mode as a structured-output schema (a JSON string); a bare object is ``{"type": "object"}``."""
    if fmt is None or fmt.kind is ResponseFormatKind.TEXT:
        return None
    schema = fmt.schema if fmt.kind is ResponseFormatKind.JSON_SCHEMA and fmt.schema else {"type": "object"}
    definition: Json = {"schema": json.dumps(schema, ensure_ascii=False)}
    if fmt.name:
        definition["name"] = fmt.name
    if fmt.description:
        definition["description"] = fmt.description
    return {"type": "json_schema", "structure": {"jsonSchema": definition}}
