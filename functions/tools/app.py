"""Tools function: the starter catalog, an account's tools, and running one (tool proxy).

Every route is Cognito-authorized (API Gateway verifies the user's ID token). Deployed under the
Lambda Web Adapter because ``POST /api/tools/proxy/chat`` streams; ``run.sh`` starts uvicorn on
this ASGI app. A run goes through the account's default key, limited by the ``tools.proxy`` rows
(per account key and per tool id) and charged like any chat call; the usage consumer logs it, and
this function logs a run refused before or by its admission (shared/tools/refusals.py).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from shared.accounts.models import Account
from shared.dashboard.paging import page_limit
from shared.errors import SluiceError
from shared.gateway.usage_limits import check_body_size
from shared.http.app import create_app, request_id
from shared.http.body import parse_model, read_json
from shared.http.chat import error_headers, parse_json_object, read_body
from shared.http.chat_flow import admitted, execute_call
from shared.http.chat_formats import OPENAI
from shared.http.context import source_ip
from shared.http.dashboard_chat import default_key_caller, prepare_call, signed_in_account
from shared.limits.buckets import LimitFacts
from shared.tools import run_log, service
from shared.tools.prompt import log_tool_input, tool_request
from shared.tools.refusals import RunAttempt, log_refusal
from shared.tools.starter import starter_tools, starter_view
from shared.tools.wire import InstallTool, RunTool, UpdateTool

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _json(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def list_starters(request: Request) -> JSONResponse:
    await signed_in_account(request)
    return _json({"object": "list", "data": [starter_view(t) for t in starter_tools()]})


async def list_tools(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    tools = await asyncio.to_thread(service.list_tools, account.account_id)
    return _json({"object": "list", "data": [t.view() for t in tools]})


async def install_tool(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    body = parse_model(InstallTool, await read_json(request, MAX_BODY))
    tool = await asyncio.to_thread(service.install, account, body)
    return _json(tool.view(), status=201)


async def get_tool(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    tool = await asyncio.to_thread(service.get_tool, account.account_id, request.path_params["tool_id"])
    return _json(tool.view())


async def update_tool(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    body = parse_model(UpdateTool, await read_json(request, MAX_BODY))
    tool = await asyncio.to_thread(service.update, account, request.path_params["tool_id"], body)
    return _json(tool.view())


async def uninstall_tool(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    return _json(await asyncio.to_thread(service.uninstall, account, request.path_params["tool_id"]))


async def tool_runs(request: Request) -> JSONResponse:
    account = await signed_in_account(request)
    tool = await asyncio.to_thread(service.get_tool, account.account_id, request.path_params["tool_id"])
    limit = page_limit(request.query_params.get("limit"))
    page = await asyncio.to_thread(
        run_log.tool_runs, account.account_id, tool.tool_id, limit, request.query_params.get("cursor")
    )
    return _json(page)


async def run_tool(request: Request) -> Response:
    account = await signed_in_account(request)
    attempt = RunAttempt(account.account_id, request_id(request))
    try:
        return await _run_tool(request, account, attempt)
    except SluiceError as error:
        if not admitted(request):  # an admitted run's usage event logs it
            await asyncio.to_thread(log_refusal, attempt, error)
        raise


async def _run_tool(request: Request, account: Account, attempt: RunAttempt) -> Response:
    attempt.raw = await read_body(request, account.plan)
    caller = await default_key_caller(request, account)
    attempt.key_id = caller.key.key_id
    check_body_size(len(attempt.raw), caller.plan)
    run = parse_model(RunTool, parse_json_object(attempt.raw))
    attempt.stream = run.stream
    tool = attempt.tool = await asyncio.to_thread(service.get_tool, account.account_id, run.tool_id)
    call = await prepare_call(request, tool_request(tool, run), caller, "tools.proxy", tool_id=tool.tool_id)
    log_tool_input(call.request_id, tool.tool_id, run.input)
    facts = LimitFacts(ip=source_ip(request.scope), account_key_id=caller.key.key_id, tool_id=tool.tool_id)
    return await execute_call(request, call, OPENAI, facts, "tools.proxy")


async def ready(request: Request) -> Response:
    """Readiness check of the Lambda Web Adapter (not routed by API Gateway)."""
    return PlainTextResponse("ok")


routes = [
    Route("/api/tools/proxy/chat", run_tool, methods=["POST"]),
    Route("/api/tools/starter", list_starters, methods=["GET"]),
    Route("/api/tools", list_tools, methods=["GET"]),
    Route("/api/tools", install_tool, methods=["POST"]),
    Route("/api/tools/{tool_id}", get_tool, methods=["GET"]),
    Route("/api/tools/{tool_id}", update_tool, methods=["PATCH"]),
    Route("/api/tools/{tool_id}", uninstall_tool, methods=["DELETE"]),
    Route("/api/tools/{tool_id}/runs", tool_runs, methods=["GET"]),
    Route("/_ready", ready, methods=["GET"]),
]

app = create_app(routes, error_headers=error_headers)
