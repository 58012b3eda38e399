"""Chat function: OpenAI Chat Completions and Anthropic Messages, streaming.

Deployed under the AWS Lambda Web Adapter (response streaming): ``run.sh`` starts uvicorn on
this ASGI app. The local stack serves the same app directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from shared.adapters.catalog_store import current_catalog
from shared.catalog.service import find_model
from shared.chat.from_anthropic import request_from_anthropic
from shared.gateway.plan_gates import check_not_retired
from shared.gateway.token_count import estimate_input_tokens
from shared.http.app import create_app
from shared.http.body import parse_model
from shared.http.chat import authenticate_chat, error_headers, parse_json_object, read_key_body
from shared.http.chat_flow import handle_chat
from shared.http.chat_formats import ANTHROPIC, OPENAI
from shared.http.limits import enforce, with_limits
from shared.wire.anthropic import CountTokensRequest


async def chat_completions(request: Request) -> Response:
    return await handle_chat(request, OPENAI)


async def messages(request: Request) -> Response:
    return await handle_chat(request, ANTHROPIC)


async def count_tokens(request: Request) -> Response:
    """An estimate of the input tokens of a Messages request (see shared/gateway/token_count.py)."""
    raw = await read_key_body(request)
    await authenticate_chat(request, raw)
    admission = await enforce(request, "chat.public", stage="pre_auth")
    counted = parse_model(CountTokensRequest, parse_json_object(raw))
    entry = find_model(await asyncio.to_thread(current_catalog), counted.model)  # 404 for an unknown model
    check_not_retired(entry, dt.date.today())  # as /v1/messages answers it, naming the replacement
    tokens = estimate_input_tokens(request_from_anthropic(counted))
    return await with_limits(JSONResponse({"input_tokens": tokens, "estimate": True}), admission)


async def ready(request: Request) -> Response:
    """Readiness check of the Lambda Web Adapter (not routed by API Gateway)."""
    return PlainTextResponse("ok")


routes = [
    Route(f"{prefix}{path}", endpoint, methods=["POST"])
    for prefix in ("", "/api")
    for path, endpoint in (
        ("/v1/chat/completions", chat_completions),
        ("/v1/messages", messages),
        ("/v1/messages/count_tokens", count_tokens),
    )
] + [Route("/_ready", ready, methods=["GET"])]

app = create_app(routes, error_headers=error_headers)
