"""What a plan may do: which models, and which Pro-only features (SPEC "Models")."""

from __future__ import annotations

import datetime as dt

from shared.catalog.models import ModelEntry
from shared.chat.canonical import ChatRequest, ResponseFormatKind, ServerTool, Tool
from shared.errors import ModelRetired, PermissionDenied


def uses_tools(request: ChatRequest) -> bool:
    return any(isinstance(t, Tool | ServerTool) for t in request.tools)


# Constrained decoding that upstream servers take in fields of their own, which reach them as
# extras: vLLM's guided decoding and structured outputs, llama.cpp's grammar and JSON schema,
# Anthropic's structured outputs. JSON mode by another name, gated as JSON mode is.
JSON_MODE_EXTRAS = (
    "guided_json",
    "guided_regex",
    "guided_choice",
    "guided_grammar",
    "structured_outputs",
    "json_schema",
    "grammar",
    "output_format",
)


def json_mode_field(request: ChatRequest) -> str | None:
    """The field that asks for constrained (JSON) output, if any."""
    if request.response_format is not None and request.response_format.kind is not ResponseFormatKind.TEXT:
        return "response_format"
    return next((name for name in JSON_MODE_EXTRAS if request.extras.get(name) is not None), None)


def uses_json_mode(request: ChatRequest) -> bool:
    return json_mode_field(request) is not None


def check_not_retired(entry: ModelEntry, today: dt.date) -> None:
    if entry.retired(today):
        raise ModelRetired(entry.id, entry.eol_date.isoformat() if entry.eol_date else "", entry.replacement)


def check_model_allowed(entry: ModelEntry, plan: str, today: dt.date) -> None:
    """Free keys may call ``auto`` and free-tier models; retired models name their replacement."""
    check_not_retired(entry, today)
    if plan != "pro" and entry.tier != "free":
        raise PermissionDenied(
            f"The model '{entry.id}' requires a Pro plan. Free keys may call 'auto' and the free models.",
            param="model",
        )


def check_features_allowed(request: ChatRequest, plan: str) -> None:
    """JSON mode and function calling are Pro features."""
    if plan == "pro":
        return
    if uses_tools(request):
        field = "functions" if request.legacy_functions else "tools"
        raise PermissionDenied(f"Function calling ({field}) requires a Pro plan.", param=field)
    json_field = json_mode_field(request)
    if json_field is not None:
        raise PermissionDenied(f"JSON mode ({json_field}) requires a Pro plan.", param=json_field)
    if request.parallel_tool_calls:
        raise PermissionDenied("parallel_tool_calls requires a Pro plan.", param="parallel_tool_calls")
