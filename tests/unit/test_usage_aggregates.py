"""Keys and values of the usage aggregates one event adds to."""

from __future__ import annotations

from shared.usage.aggregates import request_record, usage_counters
from shared.usage.events import UsageEvent

AT_MS = 1_763_780_400_123  # 2025-11-22T03:00:00.123Z


def event(**overrides) -> UsageEvent:
    fields = {
        "request_id": "req_1",
        "account_id": "acct_1",
        "key_id": "key_1",
        "endpoint": "chat.completions",
        "public_model": "qwen3",
        "input_tokens": 10,
        "output_tokens": 5,
        "latency_ms": 700,
        "outcome": "success",
        "status": 200,
        "credits": 2,
        "charged": True,
        "created_at_ms": AT_MS,
    }
    return UsageEvent(**{**fields, **overrides})


def test_one_event_counts_by_day_and_hour_for_account_model_and_key_plus_a_lifetime_total() -> None:
    counters = usage_counters(event())

    assert {c.sk for c in counters} == {
        "D#2025-11-22",
        "D#2025-11-22#model#qwen3",
        "D#2025-11-22#key#key_1",
        "H#2025-11-22T03",
        "H#2025-11-22T03#model#qwen3",
        "H#2025-11-22T03#key#key_1",
        "TOTAL",
    }
    assert {c.pk for c in counters} == {"USAGE#acct_1"}
    assert counters[0].values == {
        "requests": 1,
        "succeeded": 1,
        "failed": 0,
        "input_tokens": 10,
        "output_tokens": 5,
        "credits": 2,
        "latency_ms": 700,
    }
    hour = next(c for c in counters if c.sk == "H#2025-11-22T03")
    day = next(c for c in counters if c.sk == "D#2025-11-22")
    total = next(c for c in counters if c.sk == "TOTAL")
    assert hour.expires_at is not None and day.expires_at is not None and hour.expires_at < day.expires_at
    assert total.expires_at is None


def test_an_uncharged_failure_counts_as_a_request_but_no_credits() -> None:
    values = usage_counters(event(charged=False, outcome="failed", status=502))[0].values

    assert (values["requests"], values["failed"], values["credits"]) == (1, 1, 0)


def test_a_charged_run_the_client_closed_counts_its_credits_but_not_as_a_success() -> None:
    values = usage_counters(event(outcome="client_closed", status=499, input_tokens=0, output_tokens=0))[
        0
    ].values

    assert (values["requests"], values["succeeded"], values["failed"], values["credits"]) == (1, 0, 1, 2)


def test_the_request_record_is_keyed_by_time_and_id_with_a_ttl() -> None:
    record = request_record(event(charged=False))

    assert (record["pk"], record["sk"]) == ("REQ#acct_1", f"{AT_MS:013d}#req_1")
    assert record["credits"] == 0 and record["reserved_credits"] == 2
    assert record["expires_at"] - AT_MS // 1000 == 90 * 86400
    assert record["created_at"] == "2025-11-22T03:00:00.123+00:00"
