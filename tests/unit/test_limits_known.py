"""The per-instance map of known counts and balances (shared/limits/known.py)."""

from __future__ import annotations

from shared.limits import known


def test_claims_are_one_admission_at_a_time_and_the_map_is_bounded(monkeypatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(known, "_clock", lambda: clock[0])
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
    known.remember(keys, [5, 6, 98])  # read again after the ordinary admission
    assert known.claim(keys) is None, "and its keys are not stated again for a while"
    clock[0] += known.CONTENDED_S
    assert known.claim(keys) == [5, 6, 98], "then they are"
    known.settle(keys, [5, 6, 98])
    known.remember([f"k{i}" for i in range(known.MAX_KEYS + 1)], list(range(known.MAX_KEYS + 1)))
    assert len(known._values) <= known.MAX_KEYS
    assert known.value("ip#1") is None, "the oldest half went"
    assert known.value(f"k{known.MAX_KEYS}") == known.MAX_KEYS, "the newest are kept"
    known.clear()


def test_a_new_windows_counters_are_stated_as_zero_only_when_named_new() -> None:
    known.clear()
    balance = known.balance_key("acct")
    known.remember([balance], [50])
    assert known.claim(["key#1#60", balance]) is None, "an unknown counter is not guessed"
    assert known.claim(["key#1#60", balance], frozenset({"key#1#60"})) == [0, 50]
    assert known.claim([balance]) is None, "claimed until settled"
    known.release(["key#1#60", balance])
    assert known.value("key#1#60") is None, "a release remembers nothing it guessed"
    assert known.claim(["key#1#60", balance], frozenset({"key#1#60"})) == [0, 50]
    known.settle(["key#1#60", balance], [1, 49])
    assert known.claim(["key#1#60", balance], frozenset({"key#1#60"})) == [1, 49], "known beats guessed"
    known.clear()
