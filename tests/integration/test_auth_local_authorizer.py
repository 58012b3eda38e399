"""Dashboard auth in the local stack: template.yaml's user pool in moto, ID tokens verified by JWKS.

Deployed, API Gateway's Cognito authorizer does this; locally ``sluice.local.auth`` does, and the
account function sees the same (string-valued) claims either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
from joserfc import jwk, jwt
from moto.utilities.utils import load_resource

from sluice.local.auth import TokenVerifier, local_authorizer, token_from_headers
from sluice.local.cognito import (
    CLIENT_ID_ENV,
    POOL_ID_ENV,
    LocalUserPool,
    provision_cognito,
    run_post_confirmation,
)
from sluice.local.gateway import LocalGateway
from sluice.local.resources import LocalResources
from sluice.local.template import LocalTemplate

PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture
def cognito():
    return boto3.client("cognito-idp", region_name="us-east-1")


@pytest.fixture
def pool(aws: LocalResources, cognito, monkeypatch: pytest.MonkeyPatch) -> LocalUserPool:
    env = provision_cognito(aws, cognito)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return LocalUserPool(env[POOL_ID_ENV], env[CLIENT_ID_ENV])


def sign_up(aws, cognito, pool: LocalUserPool, email: str, consent: bool = True) -> str:
    """Sign up, confirm and play the trigger as the CLI does locally; returns the ID token."""
    attributes = [{"Name": "email", "Value": email}]
    if consent:
        attributes += [
            {"Name": f"custom:{n}", "Value": "2025-11"}
            for n in ("terms_version", "privacy_version", "rai_version")
        ]
    cognito.sign_up(ClientId=pool.client_id, Username=email, Password=PASSWORD, UserAttributes=attributes)
    cognito.admin_confirm_sign_up(UserPoolId=pool.pool_id, Username=email)
    run_post_confirmation(aws, pool, cognito, email)
    result = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


def run(coroutine):
    """Run on a private loop: ``asyncio.run`` would leave the main thread without a current loop,
    which Mangum handlers called later in the session need."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def verify(pool: LocalUserPool, token: str, moto_server) -> dict | None:
    return run(TokenVerifier(pool, moto_server.endpoint).verify(token))


def forged(pool: LocalUserPool, key=None, **changes) -> str:
    """A token signed with moto's own key (or ``key``), with claims changed."""
    now = int(time.time())
    claims = {
        "iss": pool.issuer,
        "sub": "forged-sub",
        "aud": pool.client_id,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    signing_key = key or jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    return jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, signing_key)


def test_the_local_pool_has_the_templates_password_policy(pool, cognito, template: LocalTemplate) -> None:
    described = cognito.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    declared = template.document["Resources"]["UserPool"]["Properties"]

    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    for flag in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols"):
        assert (
            described["Policies"]["PasswordPolicy"][flag]
            is declared["Policies"]["PasswordPolicy"][flag]
            is True
        )
    assert described["UsernameAttributes"] == ["email"]
    assert described["AccountRecoverySetting"] == declared["AccountRecoverySetting"]
    assert {"custom:terms_version", "custom:privacy_version", "custom:rai_version"} <= {
        a["Name"] for a in described["SchemaAttributes"]
    }


@pytest.mark.parametrize(
    "password", ["short-1A!", "alllowercase-123!", "NoDigitsHere-Only!", "NoSymbols12345abc"]
)
def test_weak_passwords_are_refused(pool, cognito, password: str) -> None:
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(ClientId=pool.client_id, Username="weak@example.com", Password=password)


def test_provisioning_is_idempotent(aws, pool, cognito) -> None:
    assert provision_cognito(aws, cognito) == {POOL_ID_ENV: pool.pool_id, CLIENT_ID_ENV: pool.client_id}


def test_a_valid_id_token_gives_api_gateway_style_claims(aws, pool, cognito, moto_server) -> None:
    token = sign_up(aws, cognito, pool, "ada@example.com")

    claims = verify(pool, token, moto_server)

    assert claims is not None
    assert claims["email"] == "ada@example.com"
    assert claims["token_use"] == "id" and claims["aud"] == pool.client_id
    assert claims["custom:rai_version"] == "2025-11"
    assert all(isinstance(v, str) for v in claims.values()), "API Gateway passes every claim as a string"
    assert claims["exp"].endswith(time.strftime("%Y", time.gmtime())) and "UTC" in claims["exp"]


def test_tokens_failing_any_check_are_refused(aws, pool, cognito, moto_server) -> None:
    token = sign_up(aws, cognito, pool, "ada@example.com")
    access = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    header, payload, signature = token.split(".")
    stranger = jwk.RSAKey.generate_key(2048)

    refused = {
        "access token": access,
        "expired": forged(pool, exp=int(time.time()) - 5),
        "another client": forged(pool, aud="some-other-client"),
        "another pool": forged(pool, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"),
        "no token_use": forged(pool, token_use=None),
        "no exp": forged(pool, exp=None),
        "no sub": forged(pool, sub=None),
        "another key": forged(pool, key=stranger),
        "tampered payload": f"{header}.{forged(pool).split('.')[1]}.{signature}",
        "no signature": f"{header}.{payload}.",
        "alg none": "eyJhbGciOiJub25lIn0." + payload + ".",
        "garbage": "a.b.c",
        "unicode": "ключ.🔑.ключ",
    }
    assert verify(pool, forged(pool), moto_server) is not None, "the forger itself is sound"
    for name, candidate in refused.items():
        assert verify(pool, candidate, moto_server) is None, name


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer a.b.c", "a.b.c"), ("bearer a.b.c", "a.b.c"), ("a.b.c", "a.b.c"), ("", None), ("Bearer", None)],
)
def test_token_from_headers_takes_raw_or_bearer(header: str, expected: str | None) -> None:
    assert token_from_headers({"authorization": header}) == expected
    assert token_from_headers({"authorization": "Bearer " + "a." * 6000}) is None


@pytest.fixture
def gateway(pool, template: LocalTemplate) -> Iterator[httpx.Client]:
    """The local API Gateway with the local authorizer, called in-process over ASGI."""
    app = LocalGateway(template, authorizer=local_authorizer)

    async def call(method: str, path: str, headers: dict, body: bytes | None) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return await client.request(method, path, headers=headers, content=body)

    class Caller:
        def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
            return run(call(method, path, headers or {}, body))

    yield Caller()  # type: ignore[misc]
    app.shutdown()


GARBAGE_HEADERS = {
    "none": {},
    "empty": {"Authorization": b""},
    "bare Bearer": {"Authorization": b"Bearer"},
    "unicode": {"Authorization": "Bearer ключ.🔑.ключ".encode()},
    "10 KB": {"Authorization": b"Bearer " + b"A" * 10240},
    "an API key": {"Authorization": b"Bearer sk_sluice_" + b"A" * 43},
}


@pytest.mark.parametrize("headers", GARBAGE_HEADERS.values(), ids=GARBAGE_HEADERS.keys())
def test_dashboard_routes_without_a_valid_token_are_401_at_the_gateway(gateway, headers) -> None:
    for method, path in [("GET", "/api/profile"), ("POST", "/api/keys"), ("DELETE", "/api/keys/key_1")]:
        response = gateway.request(method, path, headers=headers, body=b"{}")
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["access-control-allow-origin"] == "*", "a browser can read the 401"


@pytest.mark.usefixtures("seeded_catalog")
@pytest.mark.parametrize("headers", list(GARBAGE_HEADERS.values())[1:], ids=list(GARBAGE_HEADERS)[1:])
def test_public_routes_with_garbage_keys_are_401_at_the_gateway(gateway, headers) -> None:
    x_api_key = {"X-API-Key": next(iter(headers.values()))}
    for variant in (headers, x_api_key):
        response = gateway.request("GET", "/v1/models", headers=variant)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_signed_in_user_reaches_the_account_function_with_claims(aws, pool, cognito, gateway) -> None:
    token = sign_up(aws, cognito, pool, "ada@example.com")

    for authorization in (token, f"Bearer {token}"):
        response = gateway.request("GET", "/api/profile", headers={"Authorization": authorization})
        assert response.status_code == 200
        assert response.json()["email"] == "ada@example.com"
        assert response.json()["consent"]["terms_version"] == "2025-11"
