"""Catalog function: GET /v1/models, GET /v1/models/{id}, GET /api/health (and /api/v1 aliases)."""

from __future__ import annotations

import datetime as dt

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.adapters.catalog_store import current_catalog
from shared.adapters.health import dependency_status
from shared.auth.api_keys import authenticate, should_touch, touch_last_used
from shared.catalog.service import deprecation_headers, find_model, model_list, public_model
from shared.http.app import create_app
from shared.http.limits import enforce, with_limits


def _check_optional_key(request: Request) -> None:
    """Keys are optional on the public catalog, but a key given explicitly must be valid (else 401)."""
    given = {
        name: request.headers[name] for name in ("authorization", "x-api-key") if name in request.headers
    }
    if not given:
        return
    caller = authenticate(given)
    if should_touch(caller):
        touch_last_used(caller)


async def list_models(request: Request) -> JSONResponse:
    admission = await enforce(request, "catalog.models")
    _check_optional_key(request)
    return await with_limits(JSONResponse(model_list(current_catalog())), admission)


async def get_model(request: Request) -> JSONResponse:
    admission = await enforce(request, "catalog.models")
    _check_optional_key(request)
    entry = find_model(current_catalog(), request.path_params["model_id"])
    return await with_limits(JSONResponse(public_model(entry), headers=deprecation_headers(entry)), admission)


async def health(request: Request) -> JSONResponse:
    admission = await enforce(request, "health")
    checks = await dependency_status()
    healthy = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dependencies": checks,
    }
    return await with_limits(JSONResponse(body, status_code=200 if healthy else 503), admission)


routes = (
    [Route(f"{prefix}/v1/models", list_models, methods=["GET"]) for prefix in ("", "/api")]
    + [Route(f"{prefix}/v1/models/{{model_id:path}}", get_model, methods=["GET"]) for prefix in ("", "/api")]
    + [Route("/api/health", health, methods=["GET"])]
)

app = create_app(routes)
handler = Mangum(app, lifespan="off")
