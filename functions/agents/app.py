"""Agents function: start, list, read, audit and cancel agent runs (the worker runs the steps).

The same routes twice, because API Gateway cannot put an API-key path and Cognito on one route:
- ``/api/agents/runs...``: a dashboard user, behind the Cognito authorizer (claims from the gateway);
- ``/v1/agents/runs...``: an API key (``Authorization: Bearer`` or ``X-API-Key``), no authorizer.
Either way the run belongs to the caller's account; steps call through its default key.
"""

from __future__ import annotations

import asyncio

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.accounts.models import Account
from shared.accounts.service import account_for_claims
from shared.adapters.account_store import get_account
from shared.agents import service
from shared.agents.models import CreatedVia
from shared.agents.views import run_view
from shared.agents.wire import CreateRun
from shared.auth.api_keys import authenticate
from shared.dashboard.paging import page_limit
from shared.errors import InvalidApiKey
from shared.http.app import create_app
from shared.http.body import parse_model, read_json
from shared.http.context import authorizer_claims

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _json(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _owner(request: Request) -> tuple[Account, CreatedVia]:
    """The caller's account: by API key on ``/v1/...``, by the Cognito user on ``/api/...``."""
    if request.url.path.startswith("/v1/"):
        caller = authenticate(dict(request.headers))
        account = get_account(caller.account_id)
        if account is None:
            raise InvalidApiKey()
        return account, "api_key"
    return account_for_claims(authorizer_claims(request.scope)), "dashboard"


async def create_run(request: Request) -> JSONResponse:
    account, via = await asyncio.to_thread(_owner, request)
    body = parse_model(CreateRun, await read_json(request, MAX_BODY))
    run = await asyncio.to_thread(service.create_run, account, body, via)
    return _json(run_view(run, []), status=201)


async def list_runs(request: Request) -> JSONResponse:
    account, _ = await asyncio.to_thread(_owner, request)
    limit = page_limit(request.query_params.get("limit"))
    cursor = request.query_params.get("cursor")
    return _json(await asyncio.to_thread(service.list_runs, account.account_id, limit, cursor))


async def get_run(request: Request) -> JSONResponse:
    account, _ = await asyncio.to_thread(_owner, request)
    run_id = request.path_params["run_id"]
    return _json(await asyncio.to_thread(service.run_detail, account.account_id, run_id))


async def run_events(request: Request) -> JSONResponse:
    account, _ = await asyncio.to_thread(_owner, request)
    run_id = request.path_params["run_id"]
    return _json(await asyncio.to_thread(service.run_events, account.account_id, run_id))


async def cancel_run(request: Request) -> JSONResponse:
    account, _ = await asyncio.to_thread(_owner, request)
    run_id = request.path_params["run_id"]
    return _json(await asyncio.to_thread(service.cancel_run, account.account_id, run_id))


routes = [
    Route(f"{prefix}{path}", endpoint, methods=[method])
    for prefix in ("/api/agents", "/v1/agents")
    for path, endpoint, method in (
        ("/runs", create_run, "POST"),
        ("/runs", list_runs, "GET"),
        ("/runs/{run_id}", get_run, "GET"),
        ("/runs/{run_id}/events", run_events, "GET"),
        ("/runs/{run_id}/cancel", cancel_run, "POST"),
    )
]
app = create_app(routes)
handler = Mangum(app, lifespan="off")
