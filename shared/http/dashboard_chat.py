"""Chat-shaped dashboard routes (tool proxy, chat workspace, playground chat) as gateway calls.

Each authenticates a dashboard user its own way, then runs the request through the account's
default key: the key's plan for usage limits and plan gates, its account for credits, its id in
the usage event. ``execute_call`` (shared/http/chat_flow.py) does the rest, limited by the
route's own policy rows.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from shared.accounts.models import Account
from shared.accounts.service import account_for_claims
from shared.adapters.catalog_store import current_catalog
from shared.auth.api_keys import Caller
from shared.chat.canonical import ChatRequest
from shared.dashboard.default_key import default_caller
from shared.gateway.call import ChatCall, prepare
from shared.gateway.usage_limits import check_body_size
from shared.http.app import request_id
from shared.http.chat import parse_json_object, read_body
from shared.http.context import authorizer_claims


async def signed_in_account(request: Request) -> Account:
    """The Cognito user's account (opened on first use); 401 without a user."""
    return await asyncio.to_thread(account_for_claims, authorizer_claims(request.scope))


async def default_key_caller(request: Request, account: Account) -> Caller:
    """The account's default key as the caller (403 ``default_key_required`` without one)."""
    caller = await asyncio.to_thread(default_caller, account)
    request.state.caller = caller  # error responses then carry X-Credits-Remaining
    return caller


async def read_chat_json(request: Request, caller: Caller) -> dict[str, Any]:
    """The JSON body, within the caller's plan body limit (413 above it)."""
    raw = await read_body(request, caller.plan)
    check_body_size(len(raw), caller.plan)
    return parse_json_object(raw)


async def prepare_call(
    request: Request, chat: ChatRequest, caller: Caller, endpoint: str, tool_id: str | None = None
) -> ChatCall:
    """Plan gates, usage limits, model choice; ``endpoint`` and ``tool_id`` go into the usage event."""
    catalog = await asyncio.to_thread(current_catalog)
    call = prepare(chat, caller, catalog, request_id=request_id(request), endpoint=endpoint)
    call.tool_id = tool_id
    return call
