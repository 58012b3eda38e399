"""Powertools idempotency on the idempotency table: in-progress retries, failures, expiry of the key."""

from __future__ import annotations

import pytest

from shared.adapters import idempotency
from shared.errors import ServiceUnavailable

pytestmark = pytest.mark.usefixtures("aws")


def test_a_retry_while_the_first_is_running_is_409_with_retry_after() -> None:
    seen: list[object] = []

    def operation(payload: dict) -> dict:
        try:
            idempotency.run_once("test", "key-12345678", payload, operation)
        except idempotency.IdempotencyInProgress as exc:
            seen.append(exc)
        return {"ok": True}

    result, replayed = idempotency.run_once("test", "key-12345678", {"a": 1}, operation)

    assert result == {"ok": True} and replayed is False
    [error] = seen
    assert error.status == 409 and error.headers() == {"Retry-After": "1"}  # type: ignore[attr-defined]


def test_a_failed_attempt_frees_the_key_for_the_retry() -> None:
    calls = {"n": 0}

    def flaky(payload: dict) -> dict:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ServiceUnavailable("queue down")
        return {"attempt": calls["n"]}

    with pytest.raises(ServiceUnavailable):
        idempotency.run_once("test", "key-abcdefgh", {"a": 1}, flaky)
    assert idempotency.run_once("test", "key-abcdefgh", {"a": 1}, flaky) == ({"attempt": 2}, False)
    assert idempotency.run_once("test", "key-abcdefgh", {"a": 1}, flaky) == ({"attempt": 2}, True)
    assert calls["n"] == 2


def test_scopes_do_not_share_keys() -> None:
    assert idempotency.run_once("one", "shared-key-1", {}, lambda p: {"scope": "one"}) == (
        {"scope": "one"},
        False,
    )
    assert idempotency.run_once("two", "shared-key-1", {}, lambda p: {"scope": "two"}) == (
        {"scope": "two"},
        False,
    )
