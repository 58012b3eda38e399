"""Rate limiting for handlers: facts from the request, admission off the event loop, headers."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.http.context import source_ip
from shared.limits.admission import Admission, admit
from shared.limits.buckets import LimitFacts, buckets_for
from shared.limits.policy import Stage, load_policy


def request_facts(request: Request, **known: str | None) -> LimitFacts:
    """Limiter facts of a request; the IP is always API Gateway's ``sourceIp``."""
    return LimitFacts(ip=source_ip(request.scope), **known)


async def enforce(
    request: Request,
    endpoint: str,
    *,
    plan: str = "free",
    stage: Stage | None = None,
    reservation: list[dict[str, Any]] | None = None,
    **known: str | None,
) -> Admission:
    """Admit the request against every rule of ``endpoint`` (at ``stage``), or raise 429/403."""
    rules = load_policy().rules_for(endpoint, stage)
    buckets = buckets_for(rules, plan, request_facts(request, **known))
    admission = await asyncio.to_thread(admit, buckets, reservation=reservation)
    request.state.admission = admission
    return admission


async def limit_headers(admission: Admission) -> dict[str, str]:
    """``X-RateLimit-*`` of the tightest bucket (may read the counts: kept off the event loop)."""
    if admission.counts is not None or not admission.buckets:
        return admission.headers()
    return await asyncio.to_thread(admission.headers)


async def with_limits[R: Response](response: R, admission: Admission) -> R:
    response.headers.update(await limit_headers(admission))
    return response
