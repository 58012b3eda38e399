"""Helpers of the fuzz suite: credentials, many loopback source addresses, the error-format check.

Per-IP rate limits (48 chat requests a minute) would turn most generated requests into 429s, so
requests go out from many loopback addresses (127.0.x.y: all of 127/8 is this machine); the
limits themselves stay as deployed.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import requests
from requests.adapters import HTTPAdapter

from sluice.cli.users import CONSENT_ATTRIBUTES
from sluice.local.cognito import find_local_pool
from sluice.local.resources import LocalResources
from sluice.local.template import parse_template

PASSWORD = "Correct-Horse-9-Battery"
SOURCE_ADDRESSES = 128


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self._source = source
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


def source_sessions(count: int = SOURCE_ADDRESSES) -> Iterator[requests.Session]:
    """An endless round robin of sessions, each sending from its own loopback address."""
    sessions = []
    for n in range(count):
        session = requests.Session()
        adapter = _SourceAddressAdapter(f"127.0.{1 + n // 250}.{1 + n % 250}")
        session.mount("http://", adapter)
        sessions.append(session)
    return itertools.cycle(sessions)


def moto_client(moto_endpoint: str, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    )
    return session.client(service, endpoint_url=moto_endpoint)


def dashboard_token(moto_endpoint: str) -> str:
    """An ID token of a new, confirmed user of the stack's user pool who accepted the policies."""
    cognito = moto_client(moto_endpoint, "cognito-idp")
    pool = find_local_pool(LocalResources(parse_template()), cognito)
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    attributes = [{"Name": "email", "Value": email}]
    attributes += [{"Name": name, "Value": "2025-11"} for name in CONSENT_ATTRIBUTES]
    cognito.sign_up(ClientId=pool.client_id, Username=email, Password=PASSWORD, UserAttributes=attributes)
    cognito.admin_confirm_sign_up(UserPoolId=pool.pool_id, Username=email)
    result = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def is_anthropic(path: str) -> bool:
    return path.removeprefix("/api").startswith("/v1/messages")


def error_format_problem(path: str, status: int, headers: Any, body: bytes) -> str | None:
    """Why a response breaks the error contract, or None: every error is JSON in the path's format,
    carries ``X-Request-Id``, and shows no stack trace; nothing is a 5xx."""
    headers = {str(k).lower(): (v[0] if isinstance(v, list) else v) for k, v in headers.items()}
    if status >= 500:
        return f"a {status}"
    if not headers.get("x-request-id"):
        return "no X-Request-Id"
    if status < 400:
        return None
    if b"Traceback" in body:
        return "a stack trace"
    if not headers.get("content-type", "").startswith("application/json"):
        return f"an error as {headers.get('content-type')!r}, not JSON"
    try:
        data = json.loads(body)
    except ValueError:
        return "an error body that is not JSON"
    if is_anthropic(path):
        detail = data.get("error") if isinstance(data, dict) and data.get("type") == "error" else None
        keys = {"type", "message"}
    else:
        detail = data.get("error") if isinstance(data, dict) and set(data) == {"error"} else None
        keys = {"message", "type", "code", "param"}
    if not isinstance(detail, dict) or set(detail) != keys or not isinstance(detail.get("message"), str):
        return f"an error not in the {'Anthropic' if is_anthropic(path) else 'OpenAI'} format: {data!r:.300}"
    return None


def issued_keys(body: bytes) -> list[str]:
    """Raw keys in a response body (``POST /api/keys`` shows a new key once)."""
    return re.findall(r"sk_sluice_[A-Za-z0-9_-]{20,}", body.decode("utf-8", "replace"))


def stored_and_queued(moto_endpoint: str) -> str:
    """Every item of every table and every message on every queue of the stack's moto, as text."""
    dynamodb, sqs = moto_client(moto_endpoint, "dynamodb"), moto_client(moto_endpoint, "sqs")
    text = []
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            text.append(json.dumps(page.get("Items", [])))
    for url in sqs.list_queues().get("QueueUrls", []):
        for _ in range(20):
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            if not batch.get("Messages"):
                break
            text.append(json.dumps(batch["Messages"]))
    return "\n".join(text)
