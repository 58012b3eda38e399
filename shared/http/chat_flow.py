"""The chat request flow, once for both wire formats (OpenAI Chat Completions, Anthropic Messages).

parse -> authenticate (cached key) -> usage limits and plan gates -> admission (limits + credit
reservation, one transaction) -> images -> upstream (retries, fallbacks) -> render -> account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.adapters.catalog_store import cached_catalog, current_catalog
from shared.auth.api_keys import Caller
from shared.catalog.models import Catalog
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.errors import RateLimited, SluiceError
from shared.gateway import router
from shared.gateway.accounting import Outcome, finish
from shared.gateway.call import ChatCall, admit_call, needs_status_read, prepare, read_status
from shared.gateway.images import has_images, inline_images
from shared.gateway.passthrough import PassthroughProvider
from shared.gateway.router import ProviderFor
from shared.gateway.sse_render import SseRenderer
from shared.gateway.streaming import relay, routed_model, start_stream
from shared.http.app import request_id
from shared.http.chat import authenticate_chat, parse_json_object, read_key_body, success_headers
from shared.http.context import source_ip
from shared.http.json_response import UpstreamJSONResponse
from shared.http.limits import enforce
from shared.http.sse_response import SseResponse
from shared.limits.buckets import LimitFacts
from shared.providers.registry import provider_for

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True)
class ChatFormat:
    endpoint: str
    parse: Callable[[dict[str, Any]], ChatRequest]
    render: Callable[[ChatRequest, ChatResponse, str], dict[str, Any]]  # (client's request, answer, model)
    stream_renderer: Callable[[ChatRequest, str], SseRenderer]
    passthrough: bool = False  # send the client's own body to upstreams of the same format


async def handle_chat(request: Request, fmt: ChatFormat) -> Response:
    """The public chat endpoints: API-key auth, the ``chat.public`` limits.

    The IP row applies before auth, to every request: one refused before its admission (body,
    JSON, fields, plan, model, credits) is counted against its IP on the way out, as a failed key
    is. Once the IP is over, the answer is the 429; otherwise the refusal, with the IP's
    ``X-RateLimit-*`` headers."""
    try:
        raw = await read_key_body(request)
        caller, catalog = await _caller_and_catalog(request, raw)
        data = parse_json_object(raw)
        call = prepare(
            fmt.parse(data), caller, catalog, request_id=request_id(request), endpoint=fmt.endpoint
        )
        if fmt.passthrough:
            call.passthrough = PassthroughProvider(data, call.models, _betas(request))
        facts = LimitFacts(ip=source_ip(request.scope), key_id=caller.key.key_id)
        return await execute_call(request, call, fmt, facts, "chat.public")
    except SluiceError as error:
        if not isinstance(error, RateLimited) and not _counted(request):
            await enforce(request, "chat.public", stage="pre_auth")
        raise


def _betas(request: Request) -> tuple[str, ...]:
    return tuple(b.strip() for b in request.headers.get("anthropic-beta", "").split(",") if b.strip())


def _counted(request: Request) -> bool:
    """Whether the IP row saw this request: its admission, or the failed key's count."""
    return getattr(request.state, "admission", None) is not None or admitted(request)


def admitted(request: Request) -> bool:
    """Whether the request's call passed its admission (``execute_call`` keeps the call on the
    request before admitting it): after that, its usage event accounts for it."""
    call: ChatCall | None = getattr(request.state, "call", None)
    return call is not None and call.admission is not None


async def _caller_and_catalog(request: Request, raw: bytes) -> tuple[Caller, Catalog]:
    """The key lookup and the catalog read overlap: each may cost a DynamoDB round trip when its
    cache is cold, and neither blocks the event loop (warm caches cost no thread hop)."""
    cached = cached_catalog()
    if cached is not None:
        return await authenticate_chat(request, raw), cached
    catalog = asyncio.create_task(asyncio.to_thread(current_catalog))
    try:
        caller = await authenticate_chat(request, raw)
    except BaseException:
        catalog.cancel()  # the thread finishes on its own; its result is not wanted
        raise
    return caller, await catalog


async def execute_call(
    request: Request, call: ChatCall, fmt: ChatFormat, facts: LimitFacts, limit_endpoint: str
) -> Response:
    """Admission, images, the upstream call and the response, for a prepared call.

    Other chat-shaped routes (tool proxy, chat workspace, playground) prepare their own call
    (their caller is the account's default key) and limit it by their own policy rows.
    """
    request.state.call = call
    ahead = building = None
    if not has_images(call.request):  # built from the request as sent: images are fetched first
        ahead = router.FirstRequest(call.request, call.models, _providers(call))
        building = asyncio.get_running_loop().call_soon(ahead.build)  # once the admission is out
    try:
        await admit_call(call, facts, limit_endpoint)
    except BaseException:
        if building is not None:
            building.cancel()  # refused before the build ran: nothing to build
        raise
    status = asyncio.create_task(read_status(call)) if needs_status_read(call) else None
    try:
        upstream_request = await inline_images(call.request)
    except SluiceError as error:
        await _settle(call, Outcome(error=error), status)
        raise
    if call.request.stream:
        return await _stream(call, upstream_request, fmt, status, ahead)
    return await _complete(call, upstream_request, fmt, status, ahead)


async def _complete(
    call: ChatCall,
    upstream_request: ChatRequest,
    fmt: ChatFormat,
    status: asyncio.Task[None] | None,
    ahead: router.FirstRequest | None,
) -> Response:
    outcome = Outcome()
    try:
        target, answer = await router.complete(upstream_request, call.models, _providers(call), ahead)
        outcome.target, outcome.usage, outcome.completed, outcome.output_started = (
            target,
            answer.usage,
            True,
            True,
        )
    except SluiceError as error:
        outcome.error = error
        raise
    finally:
        await _settle(call, outcome, status)
    body = fmt.render(call.request, answer, target.entry.id)
    return UpstreamJSONResponse(body, headers=success_headers(call, target.entry.id))


async def _settle(call: ChatCall, outcome: Outcome, status: asyncio.Task[None] | None) -> None:
    """Account for the call, with the headers' read (if one was needed) awaited alongside."""
    if status is None:
        await finish(call, outcome)
    else:
        await asyncio.gather(status, finish(call, outcome))


def _providers(call: ChatCall) -> ProviderFor:
    """Anthropic-format calls reach Anthropic-native routes untranslated (shared/gateway/passthrough.py)."""
    return call.passthrough.for_route if call.passthrough is not None else provider_for


async def _stream(
    call: ChatCall,
    upstream_request: ChatRequest,
    fmt: ChatFormat,
    status: asyncio.Task[None] | None,
    ahead: router.FirstRequest | None,
) -> Response:
    try:
        task = await start_stream(call, upstream_request, _providers(call), ahead)
    except SluiceError as error:
        await _settle(call, Outcome(error=error), status)
        raise
    if status is not None:
        await status
    body = relay(call, task, lambda model: fmt.stream_renderer(call.request, model))
    return SseResponse(
        body,
        headers=SSE_HEADERS,
        # read as the first bytes leave: by then the upstream has usually committed to a model
        late_headers=lambda: success_headers(call, routed_model(call, task)),
    )
