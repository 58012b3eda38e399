"""The hot path's AWS client (shared/adapters/aws_json.py) without a server: signing, errors, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from shared.adapters import aws_json
from shared.adapters.aws_json import DYNAMODB, SQS, AwsError, AwsJsonClient, Credentials

NOW = dt.datetime(2026, 11, 22, 5, 30, 7, tzinfo=dt.UTC)
BODY = json.dumps({"TableName": "t", "Key": {"pk": {"S": "a"}}}).encode()


def botocore_signed(url: str, target: str, service: str, creds: Credentials) -> tuple[dt.datetime, str]:
    """What botocore's own SigV4 signer computes for the same request (the reference): its clock
    reading and its ``Authorization``."""
    request = AWSRequest(
        method="POST",
        url=url,
        data=BODY,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
    )
    if creds.token:
        request.headers["X-Amz-Security-Token"] = creds.token
    SigV4Auth(
        BotoCredentials(creds.access_key, creds.secret_key, creds.token), service, "eu-west-1"
    ).add_auth(request)
    when = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return when, str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("url", "service", "operation", "creds"),
    [
        (
            "https://dynamodb.eu-west-1.amazonaws.com/",
            DYNAMODB,
            "TransactWriteItems",
            Credentials("AKIDEXAMPLE", "s3cr3t", None),
        ),
        ("http://127.0.0.1:5000/", DYNAMODB, "GetItem", Credentials("AKID", "secret/with+chars", None)),
        (
            "https://sqs.eu-west-1.amazonaws.com/",
            SQS,
            "SendMessage",
            Credentials("ASIA1", "sk", "session-token=="),
        ),
    ],
)
def test_signature_matches_botocore(url: str, service, operation: str, creds: Credentials) -> None:
    target = f"{service.target_prefix}.{operation}"
    when, expected = botocore_signed(url, target, service.name, creds)
    headers = aws_json.signed_headers(
        service, operation, BODY, url=url, region="eu-west-1", credentials=creds, now=when
    )
    assert headers["x-amz-target"] == target
    assert headers["authorization"] == expected
    assert ("x-amz-security-token" in headers) == bool(creds.token)


def test_host_header_keeps_a_non_default_port_only() -> None:
    creds = Credentials("a", "b", None)
    local = aws_json.signed_headers(
        DYNAMODB, "GetItem", BODY, url="http://127.0.0.1:5000/", region="r", credentials=creds, now=NOW
    )
    public = aws_json.signed_headers(
        DYNAMODB,
        "GetItem",
        BODY,
        url="https://dynamodb.r.amazonaws.com:443/",
        region="r",
        credentials=creds,
        now=NOW,
    )
    assert local["host"] == "127.0.0.1:5000"
    assert public["host"] == "dynamodb.r.amazonaws.com"


def test_endpoints_follow_the_boto3_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import get_settings

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    get_settings.cache_clear()
    try:
        assert aws_json.endpoint_for(DYNAMODB, "eu-west-1") == "https://dynamodb.eu-west-1.amazonaws.com/"
        assert aws_json.endpoint_for(SQS, "cn-north-1") == "https://sqs.cn-north-1.amazonaws.com.cn/"
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:4566")
        assert aws_json.endpoint_for(SQS, "eu-west-1") == "http://127.0.0.1:4566/"
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/")
        get_settings.cache_clear()
        assert aws_json.endpoint_for(DYNAMODB, "eu-west-1") == "http://127.0.0.1:5000/"
    finally:
        get_settings.cache_clear()


def test_credentials_come_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "tok")
    assert aws_json.current_credentials() == Credentials("AKIDENV", "secret", "tok")


class ScriptedTransport:
    """``AwsJsonClient._send`` answering from a script: an exception to raise or a dict to return.

    ``asyncio.sleep`` is one function for the whole process: only this test's thread's calls are
    recorded (and skipped); other threads' (the session's simulator server ticks ten times a
    second) still sleep, and are not counted as the client's backoffs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *answers: Any) -> None:
        self.answers = list(answers)
        self.bodies: list[bytes] = []
        self.sleeps: list[float] = []
        real_sleep, this_thread = asyncio.sleep, threading.get_ident()

        async def send(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
            self.bodies.append(body)
            answer = self.answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer

        async def sleep(seconds: float, result: Any = None) -> Any:
            if threading.get_ident() != this_thread:
                return await real_sleep(seconds, result)
            self.sleeps.append(seconds)
            return result

        monkeypatch.setattr(AwsJsonClient, "_send", send)
        monkeypatch.setattr(aws_json.asyncio, "sleep", sleep)


def throttled() -> AwsError:
    return AwsError("GetItem", 400, "ProvisionedThroughputExceededException", "slow down", {})


def test_throttling_is_retried_with_backoff_then_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    script = ScriptedTransport(monkeypatch, throttled(), throttled(), {"Item": {}})
    assert asyncio.run(AwsJsonClient(DYNAMODB).call("GetItem", {"TableName": "t"})) == {"Item": {}}
    assert len(script.bodies) == 3 and len(set(script.bodies)) == 1, "the same body each attempt"
    assert len(script.sleeps) == 2 and all(0 <= s <= aws_json.BACKOFF_BASE_S * 2 for s in script.sleeps)


def test_retries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    ScriptedTransport(monkeypatch, *[throttled()] * aws_json.MAX_ATTEMPTS, {"never": "reached"})
    with pytest.raises(AwsError) as raised:
        asyncio.run(AwsJsonClient(DYNAMODB).call("GetItem", {}))
    assert raised.value.code == "ProvisionedThroughputExceededException"


def test_a_client_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    error = AwsError(
        "TransactWriteItems", 400, "TransactionCanceledException", "", {"CancellationReasons": []}
    )
    script = ScriptedTransport(monkeypatch, error, {"never": "reached"})
    with pytest.raises(AwsError) as raised:
        asyncio.run(AwsJsonClient(DYNAMODB).call("TransactWriteItems", {}))
    assert raised.value is error and len(script.bodies) == 1


def test_connection_errors_are_retried_then_reported_as_aws_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    ScriptedTransport(monkeypatch, *[ConnectionResetError("reset")] * aws_json.MAX_ATTEMPTS)
    with pytest.raises(AwsError) as raised:
        asyncio.run(AwsJsonClient(SQS).call("SendMessage", {}))
    assert raised.value.code == "ConnectionError" and raised.value.retryable is False
    assert "reset" not in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (
            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "ConditionalCheckFailedException",
        ),
        ("com.amazonaws.sqs#QueueDoesNotExist", "QueueDoesNotExist"),
        ("ThrottlingException:http://internal.amazon.com/coral/", "ThrottlingException"),
    ],
)
def test_error_codes_are_read_from_the_type(raw: str, code: str) -> None:
    assert aws_json._error_code(raw) == code


def test_error_text_never_carries_the_service_message() -> None:
    error = AwsError("PutItem", 400, "ValidationException", "value sk_sluice_secret is invalid", {})
    assert "sk_sluice" not in str(error) and error.message.endswith("invalid")
