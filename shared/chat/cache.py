"""Prompt-cache breakpoints (``cache_control``) between wire and canonical form."""

from __future__ import annotations

from typing import Any

from shared.chat.canonical import CacheControl
from shared.wire.anthropic import CacheControlParam


def cache_from_wire(param: CacheControlParam | None) -> CacheControl | None:
    """A wire ``cache_control`` in canonical form (None when absent)."""
    return CacheControl(type=param.type, ttl=param.ttl) if param is not None else None


def with_cache(block: dict[str, Any], cache: CacheControl | None) -> dict[str, Any]:
    """``block`` plus its ``cache_control`` when it has one."""
    if cache is None:
        return block
    control: dict[str, Any] = {"type": cache.type}
    if cache.ttl is not None:
        control["ttl"] = cache.ttl
    return {**block, "cache_control": control}
