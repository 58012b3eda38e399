"""What a plan may do: which models, and which Pro-only features (SPEC "Models")."""

from __future__ import annotations

import datetime as dt

from shared.catalog.models import ModelEntry
from shared.chat.canonical import ChatRequest, ResponseFormatKind, ServerTool, Tool
from shared.errors import ModelRetired, PermissionDenied


def uses_tools(request: ChatRequest) -> bool:
    return any(isinstance(t, Tool | ServerTool) for t in request.tools)


def uses_json_mode(request: ChatRequest) -> bool:
    return request.response_format is not None and request.response_format.kind is not ResponseFormatKind.TEXT


def check_model_allowed(entry: ModelEntry, plan: str, today: dt.date) -> None:
    """Free keys may call ``auto`` and free-tier models; retired models name their replacement."""
    if entry.retired(today):
        raise ModelRetired(entry.id, entry.eol_date.isoformat() if entry.eol_date else "", entry.replacement)
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
        raise PermissionDenied("Function calling (tools) requires a Pro plan.", param="tools")
    if uses_json_mode(request):
        raise PermissionDenied("JSON mode (response_format) requires a Pro plan.", param="response_format")
    if request.parallel_tool_calls:
        raise PermissionDenied("parallel_tool_calls requires a Pro plan.", param="parallel_tool_calls")
