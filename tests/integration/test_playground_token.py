"""Playground tokens: issued to a signed-in user, verified on every playground route.

401 for a missing, malformed, tampered, foreign-secret or expired token; the token names the user,
never a key; it lives at most 15 minutes. Rate limits of ``POST /api/playground/token``: per IP
(24/min on every plan) and per user (24 / 120 per minute).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from dashboard_support import (
    ADA,
    BOB,
    SOURCE_IP,
    assert_limited,
    bucket,
    fresh_window,
    make_user,
    playground,
    playground_token,
    preload,
)

from shared.accounts.models import Plan
from shared.adapters.playground_secret import LOCAL_DEV_SECRET
from shared.limits.buckets import LimitFacts
from shared.playground.token import issue_token, verify_token

pytestmark = pytest.mark.usefixtures("chat_world")


def payload_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_a_signed_in_user_gets_a_short_lived_token_bound_to_them() -> None:
    user = make_user(ADA, "free")

    response = playground("token", sub=ADA)

    assert response.status_code == 201 and response.headers["cache-control"] == "no-store"
    issued = response.json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 900
    assert abs(issued["expires_at"] - (time.time() + 900)) < 5
    token = issued["token"]
    assert token.startswith("pgt1.") and token.count(".") == 2
    claims = payload_of(token)
    assert set(claims) == {"v", "sub", "acct", "iat", "exp", "jti"}
    assert claims["sub"] == ADA and claims["acct"] == user.account_id
    assert user.account.key not in token and user.account.key.removeprefix("sk_sluice_") not in token
    assert response.headers["x-ratelimit-limit"] == "24"
    # The token opens the playground routes.
    assert playground("list_sessions", token=token).status_code == 200


def test_the_token_lifetime_is_configurable_but_never_above_15_minutes(monkeypatch) -> None:
    from shared.settings import get_settings

    make_user(ADA, "free")
    monkeypatch.setenv("SLUICE_PLAYGROUND_TOKEN_SECONDS", "120")
    get_settings.cache_clear()

    assert playground("token", sub=ADA).json()["expires_in"] == 120
    _, claims = issue_token(ADA, LOCAL_DEV_SECRET.encode(), now=1_000, lifetime_s=10_000)
    assert claims.expires_at - claims.issued_at == 900
    get_settings.cache_clear()


def test_the_token_route_needs_a_cognito_user() -> None:
    from dashboard_support import call_streaming, load_event

    from functions.playground.app import app

    event = load_event("playground", "token")
    del event["requestContext"]["authorizer"]

    response = call_streaming(app, event)

    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def _tampered(token: str) -> list[str]:
    version, body, signature = token.split(".")
    claims = payload_of(token)
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": BOB, "acct": f"acct_{BOB}"}).encode())
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    return [
        f"{version}.{forged.decode().rstrip('=')}.{signature}",  # another user, old signature
        f"{version}.{body}.{flipped}",  # signature altered
        f"pgt2.{body}.{signature}",  # another version
        f"{version}.{body}",  # signature missing
        "not-a-token",
        "x" * 5000,
    ]


@pytest.mark.parametrize(
    "route", ["list_sessions", "create_session", "chat", "session_messages", "export_json"]
)
def test_tampered_expired_foreign_or_missing_tokens_are_401(route: str) -> None:
    make_user(ADA, "free")
    make_user(BOB, "pro")
    good = playground_token(ADA)
    expired, _ = issue_token(ADA, LOCAL_DEV_SECRET.encode(), now=int(time.time()) - 901, lifetime_s=900)
    foreign, _ = issue_token(
        ADA, b"another-secret-of-at-least-32-characters", now=int(time.time()), lifetime_s=900
    )
    in_session = route in ("session_messages", "export_json")
    kwargs = {"path_params": {"session_id": "ps_019a7b3c4d5e6f708192"}} if in_session else {}

    for token in [*_tampered(good), expired, foreign]:
        response = playground(route, token=token, **kwargs)
        assert response.status_code == 401, (token[:40], response.text)
        assert response.json()["error"]["code"] == "invalid_playground_token"
    missing = playground(route, headers={"Authorization": ""}, **kwargs)
    assert missing.status_code == 401
    expired_error = playground(route, token=expired, **kwargs).json()["error"]["message"]
    assert "expired" in expired_error


def test_verification_is_pure_and_strict() -> None:
    secret = b"s" * 40
    token, claims = issue_token(ADA, secret, now=1_000, lifetime_s=900)

    assert verify_token(token, secret, now=1_899) == claims
    with pytest.raises(Exception, match="expired"):
        verify_token(token, secret, now=1_900)
    with pytest.raises(Exception, match="not valid"):
        verify_token(token, secret, now=1_000 - 120)  # issued in the future


@pytest.mark.parametrize(
    ("limiter", "plan", "limit"),
    [("ip", "free", 24), ("ip", "pro", 24), ("user", "free", 24), ("user", "pro", 120)],
    ids=["ip-free", "ip-pro", "user-free", "user-pro"],
)
def test_token_rows(limiter: str, plan: Plan, limit: int) -> None:
    user = make_user(ADA if plan == "free" else BOB, plan)
    fresh_window()
    preload(
        bucket("playground.token", limiter, plan, LimitFacts(ip=SOURCE_IP, user=user.account_id)), limit - 1
    )

    last = playground("token", sub=user.sub)
    refused = playground("token", sub=user.sub)

    assert_limited(last, refused, limit)


def test_the_ip_row_counts_every_user_behind_one_address() -> None:
    make_user(ADA, "free")
    make_user(BOB, "pro")
    fresh_window()
    preload(bucket("playground.token", "ip", "pro", LimitFacts(ip=SOURCE_IP)), 24)

    assert playground("token", sub=ADA).status_code == 429
    assert playground("token", sub=BOB).status_code == 429, "IP-only limits are not multiplied for Pro"
    assert playground("token", sub=BOB, ip="203.0.113.77").status_code == 201
