"""The starter catalog, read once from starter_tools.json (data, shipped with the layer)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.errors import NotFound
from shared.tools.models import StarterTool

STARTER_FILE = Path(__file__).with_name("starter_tools.json")


@lru_cache(maxsize=1)
def starter_tools() -> tuple[StarterTool, ...]:
    document = json.loads(STARTER_FILE.read_text(encoding="utf-8"))
    return tuple(StarterTool.model_validate(entry) for entry in document["tools"])


def starter_tool(starter_id: str) -> StarterTool:
    """One starter tool, or 404."""
    for tool in starter_tools():
        if tool.id == starter_id:
            return tool
    raise NotFound(f"No starter tool '{starter_id}'. GET /api/tools/starter lists them.", param="starter_id")


def starter_view(tool: StarterTool) -> dict[str, Any]:
    return {"object": "starter_tool", **tool.model_dump(mode="json")}
