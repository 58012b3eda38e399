"""Dependency checks for /api/health: cheap, bounded, and never raising."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from shared.adapters.aws import dynamodb
from shared.settings import get_settings


def _check_dynamodb() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        dynamodb().describe_table(TableName=get_settings().catalog_table)
    except Exception as exc:  # health reports failures, it does not raise them
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def dependency_status() -> dict[str, dict[str, Any]]:
    return {"dynamodb": await asyncio.to_thread(_check_dynamodb)}
