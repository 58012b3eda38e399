"""Workspace function: the dashboard's chat workspace, ``POST /api/internal/chat``.

A Cognito user sends an OpenAI Chat Completions request (model picker + transcript); it runs
through the account's default key (403 ``default_key_required`` without an active one), limited
by the ``internal.chat`` row (user + IP), charged like any chat call. Streams under the Lambda
Web Adapter (``run.sh``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from shared.http.app import create_app
from shared.http.chat import error_headers
from shared.http.chat_flow import execute_call
from shared.http.chat_formats import OPENAI
from shared.http.context import source_ip
from shared.http.dashboard_chat import default_key_caller, prepare_call, read_chat_json, signed_in_account
from shared.limits.buckets import LimitFacts

ENDPOINT = "internal.chat"


async def internal_chat(request: Request) -> Response:
    account = await signed_in_account(request)
    caller = await default_key_caller(request, account)
    chat = OPENAI.parse(await read_chat_json(request, caller))
    call = await prepare_call(request, chat, caller, ENDPOINT)
    facts = LimitFacts(ip=source_ip(request.scope), user=account.account_id)
    return await execute_call(request, call, OPENAI, facts, ENDPOINT)


async def ready(request: Request) -> Response:
    """Readiness check of the Lambda Web Adapter (not routed by API Gateway)."""
    return PlainTextResponse("ok")


routes = [
    Route("/api/internal/chat", internal_chat, methods=["POST"]),
    Route("/_ready", ready, methods=["GET"]),
]

app = create_app(routes, error_headers=error_headers)
