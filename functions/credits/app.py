"""Credits function: the caller's balance, lots, totals and usage.

- ``GET /api/user/credits``: an API key (``Authorization: Bearer`` or ``X-API-Key``), no gateway
  authorizer (API Gateway cannot put both an API-key path and Cognito on one route);
- ``GET /api/dashboard/credits``: the same report for a dashboard user, behind the Cognito
  authorizer (claims from the gateway). Query: ``days`` (1-90, default 30), ``hours`` (1-168, 24).
"""

from __future__ import annotations

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth.api_keys import authenticate
from shared.auth.users import user_from_claims
from shared.credits.report import MAX_DAYS, MAX_HOURS, credit_report
from shared.dashboard.paging import bounded_number
from shared.http.app import create_app
from shared.http.context import authorizer_claims


def _bounded(request: Request, name: str, default: int, most: int) -> int:
    return bounded_number(request.query_params.get(name), name, default, most)


def _report(request: Request, account_id: str) -> JSONResponse:
    days = _bounded(request, "days", 30, MAX_DAYS)
    hours = _bounded(request, "hours", 24, MAX_HOURS)
    return JSONResponse(credit_report(account_id, days=days, hours=hours))


async def user_credits(request: Request) -> JSONResponse:
    """GET /api/user/credits, authenticated by API key."""
    caller = authenticate(dict(request.headers))
    return _report(request, caller.account_id)


async def dashboard_credits(request: Request) -> JSONResponse:
    """GET /api/dashboard/credits, behind the Cognito authorizer."""
    _, account_id = user_from_claims(authorizer_claims(request.scope))
    return _report(request, account_id)


routes = [
    Route("/api/user/credits", user_credits, methods=["GET"]),
    Route("/api/dashboard/credits", dashboard_credits, methods=["GET"]),
]
app = create_app(routes)
handler = Mangum(app, lifespan="off")
