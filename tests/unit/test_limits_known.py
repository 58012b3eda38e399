"""The per-instance map of known counts and balances (shared/limits/known.py)."""

from __future__ import annotations

from shared.limits import known


def test_claims_are_one_admission_at_a_time_and_the_map_is_bounded() -> None:
    known.clear()
    keys = ["ip#1", "key#1", known.balance_key("acct")]
    assert known.claim(keys) is None, "unknown values are not stated"
    known.remember(keys, [3, 4, 100])
    assert known.claim(keys) == [3, 4, 100]
    assert known.claim(keys[1:]) is None, "claimed by an admission in flight"
    known.settle(keys, [4, 5, 99])
    assert known.claim(keys) == [4, 5, 99]
    known.settle(keys, None)
    assert known.value("ip#1") is None, "a cancelled statement forgets the values"
    known.remember([f"k{i}" for i in range(known.MAX_KEYS + 1)], list(range(known.MAX_KEYS + 1)))
    assert len(known._values) <= known.MAX_KEYS // 2 + 1
    assert known.value(f"k{known.MAX_KEYS}") == known.MAX_KEYS, "the newest are kept"
    known.clear()
