"""The admission's reservation items, built by hand on the hot path, say what the generic
serializer would have said."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.adapters.items import from_item, to_item
from shared.adapters.reservation_store import RESERVATION_TTL, reservation_items, reservation_shard

NOW = "2026-12-07T06:30:15.123+00:00"


@pytest.mark.parametrize("balance", [None, 40])
def test_the_open_reservation_is_the_item_to_item_gives(balance: int | None) -> None:
    take, put = reservation_items("acct_1", "req_abc", 7, "key_9", NOW, balance=balance)

    expires = dt.datetime.fromisoformat(NOW) + RESERVATION_TTL
    expected = {
        "account_id": "acct_1",
        "sk": "RES#req_abc",
        "cost": 7,
        "state": "open",
        "created_at": NOW,
        "key_id": "key_9",
        "res_shard": reservation_shard("req_abc"),
        "expires_at": int(expires.timestamp()),
    }
    assert put["Put"]["Item"] == to_item(expected)
    assert from_item(put["Put"]["Item"]) == expected
    assert put["Put"]["ConditionExpression"] == "attribute_not_exists(sk)"
    condition = take["Update"]["ConditionExpression"]
    assert condition == ("balance >= :cost" if balance is None else "balance = :balance")
