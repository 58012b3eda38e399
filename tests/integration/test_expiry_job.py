"""The scheduled credit job: lots past expiry expire exactly once; stale reservations are released."""

from __future__ import annotations

import datetime as dt
import threading

import boto3
import pytest
from credits_support import LambdaContext, admit, load_event

from shared.adapters import ledger_store, reservation_store
from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item
from shared.credits.expiry import expire_due_lots, sweep_stale_reservations
from shared.credits.ledger import balance, grant_credits, settle

NOW = dt.datetime.now(dt.UTC)
PAST = NOW - dt.timedelta(minutes=1)


@pytest.fixture
def ddb(aws):
    return boto3.client("dynamodb", region_name="us-east-1")


def ledger_item(account: str, sk: str) -> dict | None:
    item = (
        dynamodb()
        .get_item(
            TableName=ledger_store.table_name(), Key=ledger_store.item_key(account, sk), ConsistentRead=True
        )
        .get("Item")
    )
    return from_item(item) if item else None


def state_of(account: str, request_id: str) -> str:
    """The state of the request's reservation, which exists."""
    reservation = reservation_store.get_reservation(account, request_id)
    assert reservation is not None
    return reservation.state


def lot(account: str, reference: str):
    return next(lot for lot in ledger_store.iter_lots(account) if lot.reference == reference)


def expiring_index(account: str) -> list[str]:
    items = dynamodb().query(
        TableName=ledger_store.table_name(),
        IndexName="expiring",
        KeyConditionExpression="exp_shard = :s",
        ExpressionAttributeValues={":s": {"S": "LOT"}},
    )["Items"]
    return [i["sk"]["S"] for i in items if i["account_id"]["S"] == account]


def test_a_lot_past_expiry_expires_once_when_the_job_runs_twice(aws) -> None:
    # Given a lot that expired a minute ago, one that expires next month, and one that never does
    account = "acct_exp_twice"
    grant_credits(account, 10, source="package", reference="old", expires_at=PAST)
    grant_credits(account, 4, source="package", reference="new", expires_at=NOW + dt.timedelta(days=30))
    grant_credits(account, 5, source="admin", reference="never", expires_at=None)
    assert balance(account) == 19

    # When the job runs twice
    first = expire_due_lots(NOW)
    second = expire_due_lots(NOW)

    # Then the old lot's 10 credits expired once, with a ledger entry; the rest is untouched
    assert (first.lots_expired, first.credits_expired) == (1, 10)
    assert (second.lots_expired, second.credits_expired) == (0, 0)
    assert balance(account) == 9
    old = lot(account, "old")
    assert old.remaining == 0 and old.expired_at is not None
    assert lot(account, "new").remaining == 4 and lot(account, "never").remaining == 5
    entry = ledger_item(account, f"EXP#{old.lot_id}")
    assert entry is not None and entry["amount"] == 10 and entry["lot_sk"] == old.sk
    assert ledger_store.balance_counters(account)["expired"] == 10
    assert expiring_index(account) == [lot(account, "new").sk], "an expired lot leaves the index"
    assert "expires_at" not in (ledger_item(account, old.sk) or {}), "lots never carry the TTL attribute"


def test_concurrent_runs_expire_each_lot_exactly_once(aws) -> None:
    accounts = [f"acct_exp_race_{i}" for i in range(4)]
    for account in accounts:
        grant_credits(account, 7, source="package", reference="old", expires_at=PAST)
        grant_credits(account, 3, source="admin", reference="keep", expires_at=None)
    runs = []
    barrier = threading.Barrier(6)

    def run() -> None:
        barrier.wait()
        runs.append(expire_due_lots(NOW))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.credits_expired for r in runs) == 7 * len(accounts)
    assert sum(r.lots_expired for r in runs) == len(accounts)
    for account in accounts:
        assert balance(account) == 3
        entry = ledger_item(account, f"EXP#{lot(account, 'old').lot_id}")
        assert entry is not None and entry["amount"] == 7
        assert ledger_store.balance_counters(account)["expired"] == 7


def test_credits_held_by_an_open_reservation_are_settled_not_expired(ddb) -> None:
    # Given a lot that expires while a request holding 4 of its credits is in flight
    account = "acct_exp_held"
    grant_credits(account, 10, source="package", reference="old", expires_at=NOW + dt.timedelta(seconds=1))
    grant_credits(account, 2, source="admin", reference="never", expires_at=None)
    assert admit(ddb, account, "r1", 4)
    later = NOW + dt.timedelta(minutes=5)

    # When the job runs, then the request settles, then the job runs again
    first = expire_due_lots(later)
    assert lot(account, "old").remaining == 4, "what the request holds stays in the lot"
    assert balance(account) == 2
    assert settle(account, "r1")
    second = expire_due_lots(later)

    # Then the request consumed the expiring lot (its credits were live when reserved)
    assert first.credits_expired == 6 and second.credits_expired == 0
    assert lot(account, "old").remaining == 0
    assert lot(account, "never").remaining == 2
    assert ledger_store.balance_counters(account) == {"balance": 2, "consumed": 4, "expired": 6}
    assert expiring_index(account) == []


def test_held_credits_of_a_failed_request_expire_on_the_next_run(ddb) -> None:
    from shared.credits.ledger import release

    account = "acct_exp_held_released"
    grant_credits(account, 10, source="package", reference="old", expires_at=PAST)
    assert admit(ddb, account, "r1", 3)

    assert expire_due_lots(NOW).credits_expired == 7
    assert release(account, "r1")
    assert balance(account) == 3
    assert expire_due_lots(NOW).credits_expired == 3

    assert balance(account) == 0
    entry = ledger_item(account, f"EXP#{lot(account, 'old').lot_id}")
    assert entry is not None and entry["amount"] == 10
    assert lot(account, "old").expired_at is not None


def test_a_lot_not_yet_due_is_left_alone(aws) -> None:
    account = "acct_exp_future"
    grant_credits(account, 5, source="package", reference="soon", expires_at=NOW + dt.timedelta(hours=1))

    assert expire_due_lots(NOW).credits_expired == 0
    assert balance(account) == 5
    assert expire_due_lots(NOW + dt.timedelta(hours=2)).credits_expired == 5
    assert balance(account) == 0


def test_a_stale_reservation_is_released_once_and_a_fresh_one_is_kept(ddb) -> None:
    account = "acct_sweep"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "crashed", 3, at=NOW - dt.timedelta(minutes=45))
    assert admit(ddb, account, "in-flight", 2, at=NOW - dt.timedelta(minutes=1))
    assert balance(account) == 5

    assert sweep_stale_reservations(NOW) == 1
    assert sweep_stale_reservations(NOW) == 0

    assert balance(account) == 8
    assert state_of(account, "crashed") == "released"
    assert state_of(account, "in-flight") == "open"
    assert settle(account, "crashed") is False, "a late usage event for it charges nothing"


def test_the_scheduled_handler_runs_every_step(aws) -> None:
    from functions.credit_expiry.app import handler

    account = "acct_exp_handler"
    grant_credits(account, 6, source="package", reference="old", expires_at=PAST)

    summary = handler(load_event("credit_expiry", "schedule"), LambdaContext())

    assert summary["credits_expired"] == 6 and summary["lots_expired"] == 1
    assert summary["outbox_resent"] == 0 and summary["reservations_released"] == 0
    assert balance(account) == 0
