"""Account function (Cognito-authenticated): GET/PATCH /api/profile, the dashboard's API keys.

API Gateway's Cognito authorizer has verified the user's ID token before the request gets here
(the local stack verifies it against moto's user pool); handlers read its claims.
"""

from __future__ import annotations

from mangum import Mangum
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.accounts import keys
from shared.accounts.models import Account
from shared.accounts.service import account_for_claims, profile_view, update_profile
from shared.accounts.wire import CreateKeyRequest, ProfileUpdate
from shared.errors import PermissionDenied
from shared.http.app import create_app
from shared.http.body import parse_model, read_json
from shared.http.context import authorizer_claims

MAX_BODY = 16 * 1024
NO_STORE = {"Cache-Control": "no-store"}


def _account(request: Request) -> Account:
    return account_for_claims(authorizer_claims(request.scope))


def _json(body: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def get_profile(request: Request) -> JSONResponse:
    return _json(profile_view(_account(request)))


async def patch_profile(request: Request) -> JSONResponse:
    data = await read_json(request, MAX_BODY)
    if isinstance(data, dict) and "plan" in data:
        raise PermissionDenied("The plan is set by the operator, not through the profile.", param="plan")
    update = parse_model(ProfileUpdate, data)
    return _json(profile_view(update_profile(_account(request), update)))


async def create_key(request: Request) -> JSONResponse:
    body = parse_model(CreateKeyRequest, await read_json(request, MAX_BODY))
    return _json(keys.create_key(_account(request), body.name), status=201)


async def list_keys(request: Request) -> JSONResponse:
    return _json(keys.list_keys(_account(request)))


async def revoke_key(request: Request) -> JSONResponse:
    return _json(keys.revoke(_account(request), request.path_params["key_id"]))


async def reissue_key(request: Request) -> JSONResponse:
    return _json(keys.reissue(_account(request), request.path_params["key_id"]), status=201)


async def set_default_key(request: Request) -> JSONResponse:
    return _json(keys.make_default(_account(request), request.path_params["key_id"]))


routes = [
    Route("/api/profile", get_profile, methods=["GET"]),
    Route("/api/profile", patch_profile, methods=["PATCH"]),
    Route("/api/keys", create_key, methods=["POST"]),
    Route("/api/keys", list_keys, methods=["GET"]),
    Route("/api/keys/{key_id}", revoke_key, methods=["DELETE"]),
    Route("/api/keys/{key_id}/default", set_default_key, methods=["POST"]),
    Route("/api/keys/{key_id}/reissue", reissue_key, methods=["POST"]),
]

app = create_app(routes)
handler = Mangum(app, lifespan="off")
