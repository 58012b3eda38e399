"""Our own dependencies failing: DynamoDB throttling and SQS send failures, injected at the adapters.

The boto3 client an adapter uses is replaced by one whose named method raises
``ProvisionedThroughputExceededException`` (or any error code). For each: the client gets a
well-formed error in the endpoint's format (503 for our own dependency), nothing is charged once
the usage events are processed, an admitted request's usage event is queued or kept in the
outbox, and the logs carry the request id.
"""

from __future__ import annotations

import pytest
from faults_support import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    FailingClient,
    FailingTransport,
    body_for,
    log_capture,  # noqa: F401 - the `logs` fixture
    outbox_events,
    patched,
    post,
    process_usage_events,
    well_formed_error,
)

from shared.adapters import (
    admission_reads,
    aws_json,
    key_store,
    ledger_store,
    limit_store,
    transactions,
    usage_queue,
)
from shared.adapters.aws import dynamodb
from shared.adapters.aws_json import async_dynamodb
from shared.auth.api_keys import clear_cache
from shared.gateway import router
from shared.usage.outbox import resend_outbox

THROTTLED = "ProvisionedThroughputExceededException"
PATHS = [pytest.param(OPENAI_PATH, id="openai"), pytest.param(ANTHROPIC_PATH, id="anthropic")]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "backoff", lambda attempt, retry_after: 0.0)
    monkeypatch.setattr(usage_queue, "_BACKOFF_BASE_S", 0.001)


def throttle(scope: pytest.MonkeyPatch, module, *methods: str, code: str = THROTTLED) -> FailingClient:
    """``module``'s DynamoDB client fails the named calls: its boto3 client, and the hot path's
    client (``async_dynamodb``) where the module has one; both record into ``calls``."""
    failing = FailingClient(dynamodb(), dict.fromkeys(methods, code))
    if hasattr(module, "dynamodb"):
        scope.setattr(module, "dynamodb", lambda: failing)
    if hasattr(module, "async_dynamodb"):
        on_loop = FailingClient(async_dynamodb(), dict.fromkeys(methods, code), calls=failing.calls)
        scope.setattr(module, "async_dynamodb", lambda: on_loop)
    return failing


def assert_dependency_error(path: str, response) -> str:
    seen = well_formed_error(path, response)
    assert not seen.in_stream and seen.status == 503, (seen, response.text)
    return response.headers["x-request-id"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_throttled_admission_is_a_503_and_consumes_nothing(
    chat_world, logs, monkeypatch, path, stream
) -> None:
    with patched(monkeypatch) as scope:
        failing = throttle(scope, limit_store, "transact_write_items")
        response = post(path, chat_world.pro.key, body_for(path, "hello", stream=stream))

    assert failing.calls == ["transact_write_items"]
    rid = assert_dependency_error(path, response)
    assert process_usage_events(chat_world.usage_queue) == [], "never admitted: nothing to account for"
    assert chat_world.pro.balance() == 1000
    assert rid in logs.text


@pytest.mark.parametrize("path", PATHS)
def test_throttled_key_lookup_is_a_503(chat_world, logs, monkeypatch, path) -> None:
    clear_cache()
    with patched(monkeypatch) as scope:
        throttle(scope, key_store, "get_item")
        response = post(path, chat_world.pro.key, body_for(path, "hello"))

    rid = assert_dependency_error(path, response)
    assert process_usage_events(chat_world.usage_queue) == []
    assert chat_world.pro.balance() == 1000
    assert rid in logs.text


@pytest.mark.parametrize("path", PATHS)
def test_throttled_release_after_an_upstream_failure_is_released_by_the_consumer(
    chat_world,
    logs,
    monkeypatch,
    path,
) -> None:
    # Given an upstream that fails, and a ledger that throttles the release of the reservation
    with patched(monkeypatch) as scope:
        throttle(scope, ledger_store, "get_item")
        throttle(scope, transactions, "transact_write_items")
        response = post(path, chat_world.pro.key, body_for(path, "[sim:fault=http_500] hi"))
    held = chat_world.pro.balance()

    # Then the client gets the upstream's error, and the reservation is still held...
    seen = well_formed_error(path, response)
    assert seen.status == 503
    assert held == 999, "the release was throttled: the reservation is still held"
    rid = response.headers["x-request-id"]
    assert rid in logs.text
    # ...until the usage consumer processes the event, which releases it
    events = process_usage_events(chat_world.usage_queue)
    assert [(e["request_id"], e["charged"]) for e in events] == [(rid, False)]
    assert chat_world.pro.balance() == 1000


@pytest.mark.parametrize("path", PATHS)
def test_sqs_down_after_an_upstream_failure_keeps_the_event_in_the_outbox(
    chat_world,
    logs,
    monkeypatch,
    path,
) -> None:
    with patched(monkeypatch) as scope:
        failing = FailingTransport(scope, "sqs", "SendMessage", "ServiceUnavailable")
        response = post(path, chat_world.pro.key, body_for(path, "[sim:fault=http_503] hi"))

    assert failing.calls == ["SendMessage"] * aws_json.MAX_ATTEMPTS, "retried, then kept"
    assert well_formed_error(path, response).status == 503
    rid = response.headers["x-request-id"]
    assert process_usage_events(chat_world.usage_queue) == []
    assert [(e["request_id"], e["charged"]) for e in outbox_events()] == [(rid, False)], "not lost"
    assert chat_world.pro.balance() == 1000, "released at once by the request itself"
    assert rid in logs.text
    # The scheduled job sends it later; processing it changes nothing more
    assert resend_outbox() == 1
    assert [e["request_id"] for e in process_usage_events(chat_world.usage_queue)] == [rid]
    assert chat_world.pro.balance() == 1000


def test_sqs_down_after_a_success_charges_once_when_the_outbox_is_resent(
    chat_world, logs, monkeypatch
) -> None:
    with patched(monkeypatch) as scope:
        failing = FailingTransport(scope, "sqs", "SendMessage", THROTTLED)
        response = post(OPENAI_PATH, chat_world.pro.key, body_for(OPENAI_PATH, "hi"))

    assert response.status_code == 200, response.text
    assert failing.calls == ["SendMessage"] * aws_json.MAX_ATTEMPTS
    rid = response.headers["x-request-id"]
    assert [(e["request_id"], e["charged"]) for e in outbox_events()] == [(rid, True)]
    assert rid in logs.text
    assert resend_outbox() == 1
    process_usage_events(chat_world.usage_queue)
    assert resend_outbox() == 0
    assert chat_world.pro.balance() == 999, "charged exactly once"


def test_a_failed_header_read_does_not_turn_a_success_into_an_error(chat_world, logs, monkeypatch) -> None:
    """The read behind X-RateLimit-* / X-Credits-Remaining is a courtesy: when it fails, the answer
    still goes out and is charged once (it used to replace the answer with a 503 while charging)."""
    with patched(monkeypatch) as scope:
        throttle(scope, admission_reads, "batch_get_item")
        response = post(OPENAI_PATH, chat_world.pro.key, body_for(OPENAI_PATH, "hi"))
    events = process_usage_events(chat_world.usage_queue)

    assert response.status_code == 200, response.text
    assert [e["charged"] for e in events] == [True]
