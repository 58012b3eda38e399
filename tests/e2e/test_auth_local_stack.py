"""Sign-up -> sign-in -> create key -> use -> list -> revoke (and reissue), against the local stack over HTTP.

The stack runs as a subprocess (what `make dev` runs) with a 2 s key cache, so that the revocation
bound is shown without waiting the default 30 s. Users sign up and in with the `sluice users` CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import boto3
import httpx
import openai
import pytest
from support.stack import RunningStack, cli_output, start_stack, stop_stack

from sluice.cli.users import CONSENT_ATTRIBUTES
from sluice.local.cognito import find_local_pool
from sluice.local.resources import LocalResources
from sluice.local.template import parse_template

KEY_CACHE_SECONDS = 2
PASSWORD = "Correct-Horse-9-Battery"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp("auth-stack"), extra_env={"SLUICE_KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS)}
    )
    yield running
    stop_stack(running)


cli = cli_output


def sign_up_and_in(stack: RunningStack, *, consent: bool = True) -> tuple[str, dict]:
    """Through the CLI: confirmed at once, PostConfirmation played; prints the ID token."""
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    flags = ["--accept-policies", "--policy-version", "2025-11"] if consent else []
    signed_up = json.loads(cli(stack, "users", "signup", "--email", email, "--password", PASSWORD, *flags))
    token = cli(stack, "users", "signin", "--email", email, "--password", PASSWORD).strip()
    return token, signed_up


def sign_up_without_trigger(stack: RunningStack, *, consent: bool = True) -> str:
    """Straight to the user pool, no trigger (a dashboard talking to Cognito): opened on first use."""
    cognito = aws_client(stack, "cognito-idp")
    pool = find_local_pool(LocalResources(parse_template()), cognito)
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    attributes = [{"Name": "email", "Value": email}]
    if consent:
        attributes += [{"Name": name, "Value": "2025-11"} for name in CONSENT_ATTRIBUTES]
    cognito.sign_up(ClientId=pool.client_id, Username=email, Password=PASSWORD, UserAttributes=attributes)
    cognito.admin_confirm_sign_up(UserPoolId=pool.pool_id, Username=email)
    result = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def aws_client(stack: RunningStack, service: str):
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    return session.client(service, endpoint_url=stack.moto_endpoint)


def dashboard(stack: RunningStack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def stored_and_queued(stack: RunningStack) -> str:
    """Every item of every table and every message on every queue of the stack's moto, as text."""
    dynamodb, sqs = aws_client(stack, "dynamodb"), aws_client(stack, "sqs")
    text = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            text.append(json.dumps(page.get("Items", [])))
    for url in sqs.list_queues().get("QueueUrls", []):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        text.append(json.dumps(messages.get("Messages", [])))
    return "\n".join(text)


def test_sign_up_sign_in_create_use_list_revoke(stack: RunningStack) -> None:
    token, signed_up = sign_up_and_in(stack)
    assert signed_up["confirmed"] is True and token.count(".") == 2
    with dashboard(stack, token) as client:
        profile = client.get("/api/profile").json()
        assert profile["account_id"] == signed_up["account_id"]
        assert profile["consent"]["terms_version"] == "2025-11" and profile["plan"] == "free"

        created = client.post("/api/keys", json={"name": "e2e"})
        assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
        key = created.json()
        raw = key["key"]

        # The key works with both headers, and with the official SDK.
        for headers in ({"Authorization": f"Bearer {raw}"}, {"X-API-Key": raw}):
            assert httpx.get(f"{stack.base_url}/v1/models", headers=headers).status_code == 200
        models = openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=raw).models.list()
        assert models.data

        listing = client.get("/api/keys").json()
        assert [k["id"] for k in listing["data"]] == [key["id"]]
        assert listing["data"][0]["last_four"] == raw[-4:] and listing["data"][0]["key_prefix"] == raw[:12]
        assert listing["data"][0]["last_used_at"] is not None
        assert raw not in json.dumps(listing)

        revoked = client.delete(f"/api/keys/{key['id']}")
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    started = time.monotonic()
    status = 200
    while status == 200 and time.monotonic() - started < KEY_CACHE_SECONDS + 3:
        status = httpx.get(f"{stack.base_url}/v1/models", headers={"X-API-Key": raw}).status_code
        time.sleep(0.2)
    assert status == 401, "a revoked key stops working within the key cache bound"
    assert time.monotonic() - started <= KEY_CACHE_SECONDS + 3

    # The raw key is nowhere: not in any table, queue message or the stack's logs.
    stored, logs = stored_and_queued(stack), stack.log()
    assert stored and logs
    for secret in (raw, raw.removeprefix("sk_sluice_")):
        assert secret not in stored
        assert secret not in logs


def test_reissue_shows_a_new_key_once_and_the_old_one_stops_within_the_bound(stack: RunningStack) -> None:
    with dashboard(stack, sign_up_without_trigger(stack)) as client:
        old = client.post("/api/keys", json={"name": "rotating"}).json()
        reissued = client.post(f"/api/keys/{old['id']}/reissue")
        assert reissued.status_code == 201 and reissued.headers["cache-control"] == "no-store"
        new = reissued.json()
        assert new["name"] == "rotating" and new["is_default"] is True and new["key"] != old["key"]
        again = client.post(f"/api/keys/{old['id']}/reissue")
        assert again.status_code == 400 and again.json()["error"]["param"] == "key_id"
        listing = client.get("/api/keys").json()
        assert [(k["id"], k["status"]) for k in listing["data"]] == [
            (new["id"], "active"),
            (old["id"], "revoked"),
        ]

    assert httpx.get(f"{stack.base_url}/v1/models", headers={"X-API-Key": new["key"]}).status_code == 200
    started, status = time.monotonic(), 200
    while status == 200 and time.monotonic() - started < KEY_CACHE_SECONDS + 3:
        status = httpx.get(f"{stack.base_url}/v1/models", headers={"X-API-Key": old["key"]}).status_code
        time.sleep(0.2)
    assert status == 401, "the old key stops working within the key cache bound"
    stored, logs = stored_and_queued(stack), stack.log()
    for raw in (old["key"], new["key"]):
        for secret in (raw, raw.removeprefix("sk_sluice_")):
            assert secret not in stored and secret not in logs


def test_without_consent_keys_are_refused_until_consent_is_recorded(stack: RunningStack) -> None:
    token = sign_up_without_trigger(stack, consent=False)
    with dashboard(stack, token) as client:
        assert client.get("/api/profile").json()["consent"] is None
        refused = client.post("/api/keys", json={"name": "x"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"

        versions = {"terms_version": "2", "privacy_version": "2", "responsible_ai_version": "2"}
        assert client.patch("/api/profile", json={"consent": versions}).status_code == 200
        assert client.post("/api/keys", json={"name": "x"}).status_code == 201


def test_one_user_cannot_touch_another_users_keys(stack: RunningStack) -> None:
    ada, bob = sign_up_without_trigger(stack), sign_up_without_trigger(stack)
    with dashboard(stack, bob) as client:
        bobs_key = client.post("/api/keys", json={"name": "bob"}).json()
    with dashboard(stack, ada) as client:
        assert client.delete(f"/api/keys/{bobs_key['id']}").status_code == 404
        assert client.post(f"/api/keys/{bobs_key['id']}/default").status_code == 404
        assert client.post(f"/api/keys/{bobs_key['id']}/reissue").status_code == 404
        assert client.get("/api/keys").json()["data"] == []
    assert httpx.get(f"{stack.base_url}/v1/models", headers={"X-API-Key": bobs_key["key"]}).status_code == 200


@pytest.mark.parametrize(
    "value",
    [b"", b"Bearer", "Bearer ключ🔑".encode(), b"Bearer " + b"A" * 10240],
    ids=["empty", "bare Bearer", "unicode", "10 KB"],
)
def test_garbage_auth_headers_are_401_never_500(stack: RunningStack, value: bytes) -> None:
    for path in ("/v1/models", "/api/v1/models"):
        for name in ("Authorization", "X-API-Key"):
            response = httpx.get(f"{stack.base_url}{path}", headers={name.encode(): value})
            assert response.status_code == 401, (path, name)
            assert response.json()["error"]["code"] == "invalid_api_key"
    for method, path in (("GET", "/api/profile"), ("GET", "/api/keys"), ("POST", "/api/keys")):
        response = httpx.request(method, f"{stack.base_url}{path}", headers={b"Authorization": value})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_signin_of_an_unknown_user_fails_cleanly(stack: RunningStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "sluice.cli.main", "users", "signin", "--email", "nobody@example.com"],
        cwd=stack.env_file.parent.parent,
        env={**env, "SLUICE_USER_PASSWORD": "Wrong-Password-1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "NotAuthorizedException" in result.stderr or "UserNotFoundException" in result.stderr
    assert "Traceback" not in result.stderr
