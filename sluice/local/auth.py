"""The local stack's stand-in for API Gateway's Cognito authorizer.

Deployed, API Gateway verifies the user's ID token against the user pool and hands the function
its claims (``requestContext.authorizer.claims``, every value a string). Locally the gateway calls
:func:`local_authorizer`, which verifies the token the same way against the local user pool in
moto: RS256 signature by a key of the pool's JWKS, ``iss`` of the pool, ``aud`` of its app client,
``token_use == "id"``, not expired. The claims are rendered as API Gateway renders them, so
handlers see the same values in both places. A token that fails any check gives None (401).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from sluice.local.cognito import CLIENT_ID_ENV, POOL_ID_ENV, LocalUserPool

MAX_TOKEN_CHARS = 8192  # Cognito ID tokens are 1-2 KB; anything far larger is not one
_TIME_CLAIMS = ("exp", "iat")


def token_from_headers(headers: dict[str, str]) -> str | None:
    """The token of ``Authorization: <jwt>`` or ``Authorization: Bearer <jwt>`` (names lowercase)."""
    value = headers.get("authorization", "").strip()
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else value
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        return None
    return token


def _gateway_value(name: str, value: Any) -> str:
    """A claim as API Gateway's Cognito authorizer passes it on: always a string."""
    if name in _TIME_CLAIMS and isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


@dataclass
class TokenVerifier:
    """Verifies ID tokens of one local user pool; its JWKS is fetched once, then cached."""

    pool: LocalUserPool
    endpoint: str
    _keys: Any = field(default=None, repr=False)

    async def _key_set(self) -> Any:
        if self._keys is None:
            import httpx
            from joserfc.jwk import KeySet

            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"{self.endpoint}/{self.pool.pool_id}/.well-known/jwks.json")
                response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    def _claims(self, token: str, keys: Any) -> dict[str, Any] | None:
        from joserfc import jwt
        from joserfc.errors import JoseError

        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.pool.issuer},
            aud={"essential": True, "value": self.pool.client_id},
            token_use={"essential": True, "value": "id"},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError):
            return None
        return dict(decoded.claims)

    async def verify(self, token: str) -> dict[str, str] | None:
        """API Gateway-style claims of a valid ID token of the pool, else None."""
        claims = self._claims(token, await self._key_set())
        if claims is None:
            return None
        return {name: _gateway_value(name, value) for name, value in claims.items()}


_verifiers: dict[tuple[str, str, str], TokenVerifier] = {}


def _default_verifier() -> TokenVerifier | None:
    """The verifier of the pool the local stack provisioned (its ids are in the environment)."""
    pool_id, client_id = os.environ.get(POOL_ID_ENV), os.environ.get(CLIENT_ID_ENV)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not (pool_id and client_id and endpoint):
        return None
    key = (pool_id, client_id, endpoint.rstrip("/"))
    if key not in _verifiers:
        _verifiers[key] = TokenVerifier(LocalUserPool(pool_id, client_id), key[2])
    return _verifiers[key]


async def local_authorizer(headers: dict[str, str]) -> dict[str, Any] | None:
    """The claims of the request's valid ID token, or None (the gateway then answers 401)."""
    token = token_from_headers(headers)
    verifier = _default_verifier()
    if token is None or verifier is None:
        return None
    return await verifier.verify(token)
