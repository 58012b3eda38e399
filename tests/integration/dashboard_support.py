"""The dashboard's tools, workspace, playground and contact functions in process, through events/.

Streaming functions (Lambda Web Adapter) are ASGI apps: a sample event becomes an HTTP request
with ``x-amzn-request-context`` built from the event's requestContext, as the adapter sends it.
Buffered functions (Mangum) are invoked with the event itself. Users are Cognito subs whose
accounts (``acct_<sub>``) have a default key and credits; the catalog routes to the simulator.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx
from chat_support import TestAccount, make_account

from shared.accounts.models import Plan
from shared.adapters import limit_store
from shared.auth.users import account_id_for_sub
from shared.limits.buckets import Bucket, LimitFacts, buckets_for
from shared.limits.policy import load_policy

EVENTS = Path(__file__).resolve().parents[2] / "events"
ADA = "7d3f8a2c-5b1e-4c9a-9f6d-2e8b4a1c0d57"  # the user of the sample events (Free in these tests)
BOB = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"  # a Pro user
EVE = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"  # another Free user
SOURCE_IP = "198.51.100.7"  # the sourceIp of the sample events


class FakeContext:
    function_name = "test"
    aws_request_id = "test-request"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@dataclass(frozen=True)
class User:
    sub: str
    account: TestAccount

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @property
    def plan(self) -> str:
        return self.account.plan


def make_user(sub: str, plan: Plan, credits: int = 500) -> User:
    """A Cognito user's account with consent, credits and a default key."""
    return User(sub, make_account(account_id_for_sub(sub), plan, credits))


def load_event(function: str, name: str) -> dict[str, Any]:
    return json.loads((EVENTS / function / f"{name}.json").read_text(encoding="utf-8"))


def event_for(
    function: str,
    name: str,
    *,
    sub: str | None = None,
    body: Any = None,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """A sample event with this test's user (Cognito claims), body, path parameters and query."""
    event = copy.deepcopy(load_event(function, name))
    context = event["requestContext"]
    context["requestId"] = str(uuid.uuid4())  # a fresh one per request, as API Gateway gives
    if sub is not None and "authorizer" in context:
        context["authorizer"]["claims"].update({"sub": sub, "cognito:username": sub})
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if path_params is not None:
        event["pathParameters"] = path_params
        path = event["resource"]
        for key, value in path_params.items():
            path = path.replace("{" + key + "}", value)
        event["path"] = path
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    if headers is not None:
        event["headers"] = {**event["headers"], **headers}
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    if ip is not None:
        context["identity"]["sourceIp"] = ip
    return event


async def _send(app: Any, event: dict[str, Any]) -> httpx.Response:
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "x-amzn-request-context"}
    headers["x-amzn-request-context"] = json.dumps(event["requestContext"])
    url = event["path"] + (
        "?" + urlencode(event["queryStringParameters"]) if event.get("queryStringParameters") else ""
    )
    transport = httpx.ASGITransport(app=app, client=(event["requestContext"]["identity"]["sourceIp"], 1234))
    async with httpx.AsyncClient(transport=transport, base_url="https://sluice.test", timeout=30) as client:
        response = await client.request(
            event["httpMethod"], url, headers=headers, content=event.get("body") or b""
        )
        await response.aread()
        return response


def call_streaming(app: Any, event: dict[str, Any]) -> httpx.Response:
    """Send a sample event to a Lambda Web Adapter function's ASGI app, as the adapter would."""
    return asyncio.run(_send(app, event))


def call_mangum(handler: Any, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke a buffered function's Lambda entry point; ``(status, lowercase headers, JSON body)``."""
    result = handler(event, FakeContext())
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    body = json.loads(result["body"]) if result.get("body") else None
    return result["statusCode"], headers, body


def sse_data(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body (``[DONE]`` as the string)."""
    found: list[Any] = []
    for line in text.splitlines():
        if line.startswith("data: "):
            payload = line[6:]
            found.append(payload if payload == "[DONE]" else json.loads(payload))
    return found


def streamed_text(text: str) -> str:
    return "".join(
        chunk["choices"][0]["delta"].get("content") or ""
        for chunk in sse_data(text)
        if isinstance(chunk, dict) and chunk.get("choices")
    )


def fresh_window(seconds: int = 60, margin: float = 4.0) -> None:
    """Wait for a new window if the current one ends within ``margin`` seconds (no rollover mid-test)."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


def bucket(endpoint: str, limiter: str, plan: str, facts: LimitFacts) -> Bucket:
    [rule] = [r for r in load_policy().rules_for(endpoint) if r.limiter == limiter]
    [found] = buckets_for([rule], plan, facts)
    return found


def preload(found: Bucket, count: int) -> None:
    """Count ``count`` requests in the bucket's current window (instead of sending them)."""
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=limit_store._table(),
        Item={
            "pk": {"S": found.item_key(time.time())},
            "count": {"N": str(count)},
            "expires_at": {"N": str(int(time.time()) + 120)},
        },
    )


def assert_limited(first: httpx.Response | tuple, second: httpx.Response | tuple, limit: int) -> None:
    """``first`` was the L-th request (allowed, 0 left), ``second`` the (L+1)-th (429, Retry-After)."""
    status_1, headers_1, _ = _parts(first)
    status_2, headers_2, body_2 = _parts(second)
    assert status_1 in (200, 201, 202), (status_1, headers_1)
    assert headers_1["x-ratelimit-limit"] == str(limit)
    assert headers_1["x-ratelimit-remaining"] == "0"
    assert int(headers_1["x-ratelimit-reset"]) > time.time() - 1
    assert status_2 == 429, (status_2, body_2)
    assert body_2["error"]["code"] == "rate_limit_exceeded"
    assert headers_2["x-ratelimit-limit"] == str(limit) and headers_2["x-ratelimit-remaining"] == "0"
    assert 1 <= int(headers_2["retry-after"]) <= 60


def _parts(result: httpx.Response | tuple) -> tuple[int, dict[str, str], Any]:
    if isinstance(result, tuple):
        return result
    body = result.json() if result.headers.get("content-type", "").startswith("application/json") else None
    return result.status_code, {k.lower(): v for k, v in result.headers.items()}, body


def sqs_event(function: str, name: str, bodies: list[Any]) -> dict[str, Any]:
    """The sample SQS event of events/<function>/<name>.json, one record per body."""
    template = load_event(function, name)["Records"][0]
    return {
        "Records": [
            {**template, "messageId": f"msg-{i}", "receiptHandle": f"rh-{i}", "body": json.dumps(body)}
            for i, body in enumerate(bodies)
        ]
    }


def playground(name: str, **kwargs: Any) -> httpx.Response:
    """A sample event of events/playground sent to the playground function's ASGI app."""
    from functions.playground.app import app

    token = kwargs.pop("token", None)
    if token is not None:
        kwargs["headers"] = {**kwargs.get("headers", {}), "Authorization": f"Bearer {token}"}
    return call_streaming(app, event_for("playground", name, **kwargs))


def playground_token(sub: str) -> str:
    """A playground token for ``sub``, from ``POST /api/playground/token``."""
    response = playground("token", sub=sub)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def new_session(token: str, **body: Any) -> dict[str, Any]:
    response = playground("create_session", token=token, body=body or {"title": "Test session"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def tools(name: str, **kwargs: Any) -> httpx.Response:
    """A sample event of events/tools sent to the tools function's ASGI app."""
    from functions.tools.app import app

    return call_streaming(app, event_for("tools", name, **kwargs))


def install(sub: str = ADA, starter: str = "blog-intro-writer") -> dict:
    """Install a starter tool for ``sub``; the tool as the API returns it."""
    response = tools("install_starter_tool", sub=sub, body={"starter_id": starter})
    assert response.status_code == 201, response.text
    return response.json()


def run(
    tool_id: str,
    sub: str = ADA,
    *,
    stream: bool = False,
    text: str = "Topic: moving to spreadsheets",
    **extra: Any,
) -> httpx.Response:
    """Run a tool for ``sub`` through the tool proxy (JSON, or SSE with ``stream=True``)."""
    name = "tool_proxy_chat" if stream else "tool_proxy_chat_json"
    body = {"tool_id": tool_id, "input": text, "stream": stream, **extra}
    return tools(name, sub=sub, body=body)
