"""Reserve, settle and release against the ledger: exact balance, FIFO lots, idempotency."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from credits_support import admit

from shared.adapters import ledger_store, reservation_store
from shared.credits.ledger import balance, grant_credits, release, settle

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def ddb(aws):
    return boto3.client("dynamodb", region_name="us-east-1")


def remaining_by_reference(account: str) -> dict[str, int]:
    return {lot.reference or "": lot.remaining for lot in ledger_store.iter_lots(account)}


def test_lots_are_consumed_soonest_expiring_first_and_no_expiry_last(ddb) -> None:
    # Given three lots granted in the "wrong" order: no expiry, 40 days, 10 days
    account = "acct_fifo"
    grant_credits(account, 3, source="admin", reference="never", expires_at=None)
    grant_credits(account, 2, source="package", reference="late", expires_at=NOW + dt.timedelta(days=40))
    grant_credits(account, 2, source="invite", reference="soon", expires_at=NOW + dt.timedelta(days=10))
    assert [lot.reference for lot in ledger_store.iter_lots(account)] == ["soon", "late", "never"]

    # When requests of 1 credit are reserved and settled one after another
    seen = []
    for i in range(7):
        assert admit(ddb, account, f"r{i}", 1)
        assert settle(account, f"r{i}") is True
        seen.append(remaining_by_reference(account))

    # Then the 10-day lot empties first, then the 40-day lot, then the lot without expiry
    assert seen[1] == {"soon": 0, "late": 2, "never": 3}
    assert seen[3] == {"soon": 0, "late": 0, "never": 3}
    assert seen[6] == {"soon": 0, "late": 0, "never": 0}
    assert balance(account) == 0
    assert ledger_store.balance_counters(account)["consumed"] == 7
    assert not admit(ddb, account, "r-over", 1), "an empty balance admits nothing"


def test_a_cost_spanning_lots_is_split_in_order(ddb) -> None:
    account = "acct_split"
    grant_credits(account, 1, source="admin", reference="a", expires_at=NOW + dt.timedelta(days=1))
    grant_credits(account, 5, source="admin", reference="b", expires_at=None)

    assert admit(ddb, account, "r", 3)
    assert settle(account, "r")

    assert remaining_by_reference(account) == {"a": 0, "b": 3}
    assert balance(account) == 3


def test_settlement_is_idempotent_by_request_id(ddb) -> None:
    account = "acct_settle_twice"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 3)

    assert settle(account, "r1") is True
    assert settle(account, "r1") is False
    assert settle(account, "r1") is False

    assert balance(account) == 7
    assert remaining_by_reference(account) == {"seed": 7}
    assert ledger_store.balance_counters(account)["consumed"] == 3
    assert release(account, "r1") is False, "a settled reservation is never given back"
    assert balance(account) == 7


def test_release_restores_the_balance_once_even_when_called_twice(ddb) -> None:
    account = "acct_release"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 2)
    assert balance(account) == 3

    assert release(account, "r1") is True
    assert release(account, "r1") is False

    assert balance(account) == 5
    assert remaining_by_reference(account) == {"seed": 5}, "no lot was touched"
    assert settle(account, "r1") is False, "a released reservation is never charged"
    assert balance(account) == 5
    assert ledger_store.balance_counters(account)["consumed"] == 0


def test_release_and_settle_of_an_unknown_request_change_nothing(ddb) -> None:
    account = "acct_unknown"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)

    assert release(account, "never-reserved") is False
    assert settle(account, "never-reserved") is False
    assert balance(account) == 5


def test_a_request_id_reserves_once(ddb) -> None:
    account = "acct_dup"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 1)

    with pytest.raises(ddb.exceptions.TransactionCanceledException) as raised:
        admit(ddb, account, "r1", 1)

    codes = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"], "item 1 (the reservation) names the duplicate"
    assert balance(account) == 4


def test_an_account_without_credits_is_refused(ddb) -> None:
    assert admit(ddb, "acct_nothing", "r1", 1) is False
    assert balance("acct_nothing") == 0


def test_reservation_items_refuse_a_zero_cost(aws) -> None:
    with pytest.raises(ValueError, match="at least one credit"):
        reservation_store.reservation_items("acct", "r", 0, "key", "2025-01-01T00:00:00.000+00:00")


def test_a_lot_emptied_under_a_settlement_is_read_again(ddb, monkeypatch) -> None:
    # Given a settlement whose allocation goes stale: a racer empties the lot it planned to use
    account = "acct_stale_read"
    grant_credits(account, 2, source="admin", reference="a", expires_at=NOW + dt.timedelta(days=1))
    grant_credits(account, 5, source="admin", reference="b", expires_at=None)
    assert admit(ddb, account, "r1", 1)
    assert admit(ddb, account, "r2", 2)
    real = reservation_store.settle_reservation
    attempts = []

    def racing(res, charge, takes, uncovered, at):
        attempts.append([(t.lot.reference, t.amount) for t in takes])
        if len(attempts) == 1:
            assert settle(account, "r2")  # commits between r1's read and r1's write
        return real(res, charge, takes, uncovered, at)

    monkeypatch.setattr(reservation_store, "settle_reservation", racing)

    # When r1 settles, Then its first plan fails, it reads again and takes from the next lot
    assert settle(account, "r1") is True
    assert attempts[0] == [("a", 1)] and attempts[-1] == [("b", 1)]
    assert remaining_by_reference(account) == {"a": 0, "b": 4}
    assert ledger_store.balance_counters(account) == {"balance": 4, "consumed": 3, "expired": 0}


def test_partial_takes_from_one_lot_do_not_conflict(ddb, monkeypatch) -> None:
    account = "acct_partial_takes"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 1)
    assert admit(ddb, account, "r2", 1)
    real = reservation_store.settle_reservation
    attempts = []

    def racing(res, charge, takes, uncovered, at):
        attempts.append(res.request_id)
        if len(attempts) == 1:
            assert settle(account, "r2")
        return real(res, charge, takes, uncovered, at)

    monkeypatch.setattr(reservation_store, "settle_reservation", racing)

    assert settle(account, "r1") is True
    assert attempts == ["r1", "r2"], "r1 committed on its first try"
    assert remaining_by_reference(account) == {"seed": 8}


def test_a_charge_below_the_reservation_gives_the_difference_back(ddb) -> None:
    # Given a request reserved at 3 credits (e.g. `auto`) that was served by a 1-credit model
    account = "acct_partial_charge"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 3)
    assert balance(account) == 7

    assert settle(account, "r1", charge=1) is True
    assert settle(account, "r1", charge=1) is False

    assert balance(account) == 9
    assert remaining_by_reference(account) == {"seed": 9}
    assert ledger_store.balance_counters(account)["consumed"] == 1


def test_a_charge_above_the_reservation_is_capped_at_it(ddb) -> None:
    account = "acct_capped_charge"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "r1", 2)

    assert settle(account, "r1", charge=5) is True

    assert balance(account) == 8
    assert ledger_store.balance_counters(account)["consumed"] == 2
