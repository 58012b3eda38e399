"""Pure ledger rules: FIFO allocation and what of a due lot may expire."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.credits.allocation import allocate, exhausted_due_lots, held_by_reservations, plan_expiry
from shared.credits.models import Lot

NOW = "2025-06-01T12:00:00+00:00"


def lot(name: str, remaining: int, expiry: str | None = None, expired: bool = False) -> Lot:
    key = expiry or "9999-12-31T23:59:59Z"
    return Lot(
        sk=f"LOT#{key}#{name}",
        lot_id=name,
        amount=max(remaining, 1),
        remaining=remaining,
        source="admin",
        created_at="2025-01-01T00:00:00+00:00",
        expiry=expiry,
        expired_at="2025-05-01T00:00:00+00:00" if expired else None,
    )


def test_allocation_takes_lots_in_order_and_splits_across_them() -> None:
    lots = [lot("a", 2, "2025-06-10T00:00:00+00:00"), lot("b", 3, "2025-07-01T00:00:00+00:00"), lot("c", 5)]

    result = allocate(lots, 4)

    assert [(t.lot.lot_id, t.amount, t.new_remaining) for t in result.takes] == [("a", 2, 0), ("b", 2, 1)]
    assert result.uncovered == 0


def test_allocation_skips_expired_and_empty_lots() -> None:
    lots = [lot("gone", 5, "2025-05-01T00:00:00+00:00", expired=True), lot("empty", 0), lot("c", 5)]

    result = allocate(lots, 1)

    assert [t.lot.lot_id for t in result.takes] == ["c"]


def test_a_shortfall_is_reported_not_hidden() -> None:
    assert allocate([lot("a", 1)], 3).uncovered == 2


def test_a_due_lot_expires_whole_when_nothing_is_held() -> None:
    lots = [lot("due", 4, "2025-06-01T11:00:00+00:00"), lot("c", 5)]

    plan = plan_expiry(lots, balance=9, now_iso=NOW)

    assert [(t.lot.lot_id, t.amount) for t in plan] == [("due", 4)]


def test_credits_held_by_open_reservations_stay_in_the_soonest_lots() -> None:
    # 3 credits are reserved (balance 9 of 12 live): they will settle against "due" first
    lots = [
        lot("due", 4, "2025-06-01T11:00:00+00:00"),
        lot("later", 3, "2025-09-01T00:00:00+00:00"),
        lot("c", 5),
    ]

    assert held_by_reservations(lots, 9) == 3
    plan = plan_expiry(lots, balance=9, now_iso=NOW)

    assert [(t.lot.lot_id, t.amount, t.new_remaining) for t in plan] == [("due", 1, 3)]


def test_lots_not_yet_due_or_without_expiry_never_expire() -> None:
    lots = [lot("future", 4, "2025-06-01T12:00:01+00:00"), lot("never", 5)]

    assert plan_expiry(lots, balance=9, now_iso=NOW) == []


def test_used_up_due_lots_only_leave_the_index() -> None:
    lots = [lot("used", 0, "2025-06-01T11:00:00+00:00"), lot("due", 2, "2025-06-01T11:00:00+00:00")]

    assert [x.lot_id for x in exhausted_due_lots(lots, NOW)] == ["used"]


remaining = st.integers(min_value=0, max_value=20)


@given(
    due=st.lists(remaining, max_size=4),
    later=st.lists(remaining, max_size=4),
    held=st.integers(min_value=0, max_value=40),
)
def test_expiry_never_takes_the_balance_below_zero_nor_what_reservations_hold(due, later, held) -> None:
    lots = [lot(f"d{i}", r, "2025-05-01T00:00:00+00:00") for i, r in enumerate(due)]
    lots += [lot(f"l{i}", r) for i, r in enumerate(later)]
    live = sum(due) + sum(later)
    held = min(held, live)
    balance = live - held

    plan = plan_expiry(lots, balance, NOW)

    expired = sum(t.amount for t in plan)
    assert 0 <= expired <= balance
    assert all(0 < t.amount <= t.lot.remaining for t in plan)
    # what stays live still covers every open reservation, so settlement always finds its credits
    assert live - expired >= held
    # and everything not needed by reservations, in due lots, does expire
    assert expired == max(0, sum(due) - held)
