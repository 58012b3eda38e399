"""Starlette glue shared by the chat endpoints (OpenAI and Anthropic formats)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from shared import json_codec
from shared.adapters import ledger_store
from shared.auth.api_keys import Caller, authenticate, authenticate_cached, should_touch, touch_last_used
from shared.catalog.service import deprecation_headers
from shared.errors import InvalidApiKey, InvalidRequest, RequestTooLarge
from shared.gateway.call import ChatCall
from shared.gateway.usage_limits import MAX_BODY_ANY_PLAN, body_too_large, check_body_size
from shared.http.body import read_limited
from shared.http.limits import enforce
from shared.numbers import ascii_int


def lower_headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


async def read_body(request: Request, plan: str | None = None) -> bytes:
    """The raw body, refused above the largest plan's limit before it is all read; the 413 names
    ``plan`` and its limit, or without one the largest limit. A smaller plan's limit is checked
    by the caller (the tools proxy logs a refused run from its body)."""
    try:
        return await read_limited(request, MAX_BODY_ANY_PLAN, "Request body is too large.")
    except RequestTooLarge:  # the message is built here, off the path of a body that fits
        raise body_too_large(_declared(request), plan) from None


async def read_key_body(request: Request) -> bytes:
    """``read_body`` for the API-key endpoints, where the key is checked after the body: a body
    over every limit is refused whether or not its key is valid, and the 413 names the plan of a
    valid key (it then carries X-Credits-Remaining too)."""
    try:
        return await read_body(request)
    except RequestTooLarge:
        caller = await _known_caller(request)
        if caller is None:
            raise
        raise body_too_large(_declared(request), caller.plan) from None


def _declared(request: Request) -> int | None:
    """The declared length of a body over the largest limit (None: sent without one, refused as
    it arrived)."""
    declared = ascii_int(request.headers.get("content-length", ""))
    return declared if declared is not None and declared > MAX_BODY_ANY_PLAN else None


async def _known_caller(request: Request) -> Caller | None:
    """The caller of a valid key in the headers, else None (no IP count here: the chat flow
    counts every refusal before admission against the IP)."""
    try:
        caller = await _lookup(lower_headers(request))
    except InvalidApiKey:
        return None
    request.state.caller = caller
    return caller


async def _lookup(headers: dict[str, str]) -> Caller:
    """The key's caller: from this instance's cache, else read off the event loop; InvalidApiKey
    if there is none."""
    cached = authenticate_cached(headers)
    return cached if cached is not None else await asyncio.to_thread(authenticate, headers)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    try:
        data = json_codec.loads_strict(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    return data


async def authenticate_chat(request: Request, raw: bytes, endpoint: str = "chat.public") -> Caller:
    """The caller, or 401; a failed attempt still counts against the IP (before-auth) limit."""
    try:
        caller = await _lookup(lower_headers(request))
    except InvalidApiKey:
        await enforce(request, endpoint, stage="pre_auth")  # 429 once the IP is over its limit
        raise
    request.state.caller = caller
    check_body_size(len(raw), caller.plan)
    if should_touch(caller):
        asyncio.get_running_loop().run_in_executor(None, touch_last_used, caller)
    return caller


def success_headers(call: ChatCall, routed_model: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if call.limit_status is not None:
        headers.update(call.limit_status.headers())
    if call.balance_after is not None:
        headers["X-Credits-Remaining"] = str(call.balance_after)
    if routed_model:
        headers["X-Sluice-Model"] = routed_model
        for entry in call.models:  # a deprecated model answers with its Deprecation and Sunset
            if entry.id == routed_model:
                headers.update(deprecation_headers(entry))
    if call.clamped_to is not None:
        headers["X-Sluice-Max-Tokens-Clamped"] = str(call.clamped_to)
    return headers


async def error_headers(request: Request) -> dict[str, str]:
    """``X-Credits-Remaining`` (and limit headers) on errors too, when the caller is known."""
    caller: Caller | None = getattr(request.state, "caller", None)
    call: ChatCall | None = getattr(request.state, "call", None)
    headers: dict[str, str] = {}
    if call is not None and call.limit_status is not None:
        headers.update(call.limit_status.headers())
    if caller is not None:
        balance = await asyncio.to_thread(ledger_store.get_balance, caller.account_id)
        headers["X-Credits-Remaining"] = str(balance)
    return headers
