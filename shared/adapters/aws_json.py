"""DynamoDB and SQS calls of the chat hot path, made on the event loop (AWS JSON 1.0 protocol).

Why not boto3 here: measured on this project's 2-core machine, one botocore call costs 2.5-3 ms
of client CPU (parameter validation, serialisation, an event system with a dozen hooks per call,
urllib3 and ``http.client``) and runs in a worker thread so as not to block the loop; a chat
request makes two or three (admission, the usage event, and the header read when the instance does
not know the counts: shared/limits/known.py). The same calls as one signed
POST over a kept-alive connection (shared/adapters/aws_http.py) cost a fraction of that
(docs/BENCHMARKS.md). boto3 stays everywhere else: cold paths, other functions, scheduled jobs.

What boto3 would have done and this module does too: SigV4 signing (with the session token),
credentials from the environment (what Lambda provides) or botocore's provider chain, endpoint
overrides (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``), retries with jittered
exponential backoff on throttling, 5xx and connection errors (up to ``MAX_ATTEMPTS``), and errors
as ``AwsError`` carrying the error code and the parsed body. Callers that may be retried after
a lost response pass an idempotency token (``ClientRequestToken`` of TransactWriteItems).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import os
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from shared import json_codec
from shared.adapters.aws_http import ConnectionPool
from shared.settings import get_settings

MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 0.025
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "LimitExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)


@dataclass(frozen=True)
class Service:
    name: str  # the signing name and the endpoint's first label
    target_prefix: str  # X-Amz-Target is "<prefix>.<Operation>"
    env_name: str  # AWS_ENDPOINT_URL_<env_name>


DYNAMODB = Service("dynamodb", "DynamoDB_20120810", "DYNAMODB")
SQS = Service("sqs", "AmazonSQS", "SQS")


class AwsError(Exception):
    """An AWS call that failed: the service's error code (``ThrottlingException``, ...) and body."""

    def __init__(self, operation: str, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{operation} failed: {status} {code}")  # the message may quote request data
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.body = body

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.code in THROTTLING_CODES


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None


def current_credentials() -> Credentials:
    """Lambda's own credentials are in the environment; elsewhere botocore's chain (refreshed)."""
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    frozen = _botocore_credentials().get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


@lru_cache(maxsize=1)
def _botocore_credentials() -> Any:
    import botocore.session

    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found")
    return credentials


def endpoint_for(service: Service, region: str) -> str:
    override = os.environ.get(f"AWS_ENDPOINT_URL_{service.env_name}") or get_settings().aws_endpoint_url
    if override:
        return override.rstrip("/") + "/"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service.name}.{region}.{suffix}/"


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_headers(
    service: Service,
    operation: str,
    body: bytes,
    *,
    url: str,
    region: str,
    credentials: Credentials,
    now: dt.datetime,
) -> dict[str, str]:
    """The request's headers, with a SigV4 ``Authorization`` over all of them."""
    parts = urlsplit(url)
    host = parts.netloc
    if (parts.scheme, parts.port) in {("https", 443), ("http", 80)}:
        host = parts.hostname or host
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-date": amz_date,
        "x-amz-target": f"{service.target_prefix}.{operation}",
    }
    if credentials.token:
        headers["x-amz-security-token"] = credentials.token
    names = sorted(headers)
    signed = ";".join(names)
    canonical = "\n".join(
        [
            "POST",
            parts.path or "/",
            "",
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            signed,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service.name}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(
        _signing_key(credentials.secret_key, date, region, service.name), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return headers


def _error_code(raw_type: str) -> str:
    """``com.amazonaws.dynamodb.v20120810#ThrottlingException`` -> ``ThrottlingException``."""
    return raw_type.rsplit("#", 1)[-1].split(":", 1)[0]


# One connection pool per event loop: Lambda keeps one loop for the instance's life (uvicorn); a
# process that runs a loop per job (asyncio.run) closes its pool with ``close_connections`` at the end.
_pools: dict[asyncio.AbstractEventLoop, ConnectionPool] = {}


def _pool() -> ConnectionPool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        for ended in [ended for ended in _pools if ended.is_closed()]:
            del _pools[ended]  # its sockets went with the loop
        pool = _pools[loop] = ConnectionPool()
    return pool


async def close_connections() -> None:
    """Close this loop's connections (``asyncio.run`` callers)."""
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        pool.close()


class AwsJsonClient:
    """``await async_dynamodb().call("TransactWriteItems", {...})`` -> the parsed response, or ``AwsError``."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        body = json_codec.dumps(params)
        for attempt in range(MAX_ATTEMPTS):
            try:
                return await self._send(operation, body)
            except AwsError as error:
                if not error.retryable or attempt + 1 == MAX_ATTEMPTS:
                    raise
            except (OSError, TimeoutError) as error:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise AwsError(operation, 0, "ConnectionError", type(error).__name__, {}) from error
            await asyncio.sleep(random.uniform(0, BACKOFF_BASE_S * 2**attempt))
        raise AssertionError("unreachable")

    def signed_request(self, operation: str, body: bytes) -> tuple[str, dict[str, str]]:
        """The endpoint URL and the signed headers of one call."""
        region = get_settings().region
        url = endpoint_for(self.service, region)
        credentials = current_credentials()
        now = dt.datetime.now(dt.UTC)
        return url, signed_headers(
            self.service, operation, body, url=url, region=region, credentials=credentials, now=now
        )

    async def _send(self, operation: str, body: bytes) -> dict[str, Any]:
        url, headers = self.signed_request(operation, body)
        answer = await _pool().post(url, headers, body)
        raw, status = answer.body, answer.status
        try:
            parsed = json_codec.loads(raw) if raw else {}
        except ValueError:  # a proxy's HTML error page, a truncated body
            parsed = {}
        if status < 300:
            return parsed
        code = _error_code(str(parsed.get("__type") or answer.headers.get("x-amzn-errortype") or status))
        message = str(parsed.get("message") or parsed.get("Message") or "")
        raise AwsError(operation, status, code, message, parsed)


_clients: dict[str, AwsJsonClient] = {}


def async_dynamodb() -> AwsJsonClient:
    return _clients.setdefault("dynamodb", AwsJsonClient(DYNAMODB))


def async_sqs() -> AwsJsonClient:
    return _clients.setdefault("sqs", AwsJsonClient(SQS))
