"""Cognito, locally: template.yaml's user pool and app client created in moto, and its triggers.

moto's cognito-idp signs tokens with its own key (served at ``<moto>/<pool>/.well-known/jwks.json``)
but runs no Lambda triggers; :func:`run_post_confirmation` plays the PostConfirmation trigger with
the event Cognito would send, through the same handler the template names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sluice.local.lambda_runtime import LambdaContext, load_attribute
from sluice.local.resources import REGION, LocalResources
from sluice.local.template import LocalTemplate

POOL_TYPE = "AWS::Cognito::UserPool"
CLIENT_TYPE = "AWS::Cognito::UserPoolClient"
# Properties CloudFormation and the CreateUserPool/CreateUserPoolClient APIs spell alike.
_POOL_PROPERTIES = (
    "Policies",
    "Schema",
    "UsernameAttributes",
    "AutoVerifiedAttributes",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "AdminCreateUserConfig",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
)
_CLIENT_PROPERTIES = (
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "IdTokenValidity",
    "AccessTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
)
POOL_ID_ENV = "SLUICE_USER_POOL_ID"
CLIENT_ID_ENV = "SLUICE_USER_POOL_CLIENT_ID"


@dataclass(frozen=True)
class LocalUserPool:
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        """``iss`` of the pool's tokens (moto names the real regional endpoint)."""
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.pool_id}"

    def environment(self) -> dict[str, str]:
        return {POOL_ID_ENV: self.pool_id, CLIENT_ID_ENV: self.client_id}


def _unconditional(template: LocalTemplate, kind: str) -> dict[str, dict[str, Any]]:
    """Resources of ``kind`` that exist whatever the parameters (OAuth providers are optional)."""
    resources = template.document.get("Resources", {})
    return {
        name: props for name, props in template.resources(kind).items() if "Condition" not in resources[name]
    }


def _plain(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named properties, skipping any written with an intrinsic function (``!If``, ...)."""
    return {k: props[k] for k in names if k in props and not _is_intrinsic(props[k])}


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _find_pool(cognito: Any, name: str) -> str | None:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                return str(pool["Id"])
    return None


def _find_client(cognito: Any, pool_id: str, name: str) -> str | None:
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60).get("UserPoolClients", [])
    return next((str(c["ClientId"]) for c in clients if c["ClientName"] == name), None)


def provision_cognito(resources: LocalResources, cognito: Any) -> dict[str, str]:
    """Create the template's user pool and its app client (idempotently); their ids as env vars."""
    pools = _unconditional(resources.template, POOL_TYPE)
    if not pools:
        return {}
    pool_logical, pool_props = next(iter(pools.items()))
    pool_name = resources.physical_name(pool_logical)
    pool_id = (
        _find_pool(cognito, pool_name)
        or cognito.create_user_pool(PoolName=pool_name, **_plain(pool_props, _POOL_PROPERTIES))["UserPool"][
            "Id"
        ]
    )
    client_logical, client_props = next(
        (name, props)
        for name, props in _unconditional(resources.template, CLIENT_TYPE).items()
        if props.get("UserPoolId") == {"Ref": pool_logical}
    )
    client_name = resources.physical_name(client_logical)
    client_id = (
        _find_client(cognito, pool_id, client_name)
        or cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=client_name, **_plain(client_props, _CLIENT_PROPERTIES)
        )["UserPoolClient"]["ClientId"]
    )
    return LocalUserPool(pool_id=pool_id, client_id=client_id).environment()


def find_local_pool(resources: LocalResources, cognito: Any) -> LocalUserPool:
    """The local stack's user pool and client, found by the names :func:`provision_cognito` gave them."""
    pool_logical = next(iter(_unconditional(resources.template, POOL_TYPE)))
    pool_id = _find_pool(cognito, resources.physical_name(pool_logical))
    if pool_id is None:
        raise LookupError("no local user pool: is the local stack running?")
    for name, props in _unconditional(resources.template, CLIENT_TYPE).items():
        if props.get("UserPoolId") == {"Ref": pool_logical}:
            client_id = _find_client(cognito, pool_id, resources.physical_name(name))
            if client_id:
                return LocalUserPool(pool_id=pool_id, client_id=client_id)
    raise LookupError(f"no app client in local user pool {pool_id}")


def post_confirmation_function(template: LocalTemplate) -> str | None:
    """The function the template wires to a user pool's PostConfirmation trigger."""
    for name, props in template.resources("AWS::Serverless::Function").items():
        for event in (props.get("Events") or {}).values():
            details = event.get("Properties") or {}
            if event.get("Type") == "Cognito" and details.get("Trigger") in (
                "PostConfirmation",
                ["PostConfirmation"],
            ):
                return name
    return None


def post_confirmation_event(pool: LocalUserPool, username: str, attributes: dict[str, str]) -> dict[str, Any]:
    """The event Cognito sends a PostConfirmation trigger after a sign-up is confirmed."""
    return {
        "version": "1",
        "region": REGION,
        "userPoolId": pool.pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": pool.client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {**attributes, "cognito:user_status": "CONFIRMED"}},
        "response": {},
    }


def run_post_confirmation(resources: LocalResources, pool: LocalUserPool, cognito: Any, username: str) -> Any:
    """Invoke the template's PostConfirmation function for a confirmed user, as Cognito would.

    The function runs in this process with its own environment variables from the template
    (table names resolved to the local stack's), as the Lambda runtime would give it.
    """
    function = post_confirmation_function(resources.template)
    if function is None:
        return None
    user = cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    attributes.setdefault("email_verified", "true")
    os.environ.update(resources.environment(function))
    from shared.settings import get_settings

    get_settings.cache_clear()
    handler = load_attribute(resources.template.functions[function])
    event = post_confirmation_event(pool, str(user["Username"]), attributes)
    return handler(event, LambdaContext(function_name=function, timeout_s=5))
