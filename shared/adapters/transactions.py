"""TransactWriteItems with the two outcomes callers care about: committed, or which conditions failed.

Real DynamoDB cancels a transaction that races another on the same item with the reason
``TransactionConflict`` (moto does not emulate it); those are retried here with jittered
backoff. ``ConditionalCheckFailed`` is an answer, not an error: it is returned to the caller.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from shared.adapters.aws import dynamodb

CONFLICT_ATTEMPTS = 5
CONDITION_FAILED = "ConditionalCheckFailed"
COUNTED_ATTEMPTS = 5  # transactions a counted write tries (a missing counter costs one)
_BACKOFF_BASE_S = 0.02
_RETRYABLE = {"TransactionConflict", "ThrottlingError"}

Sleep = Callable[[float], None]


class TransactionConflict(Exception):
    """Still conflicting after every retry: let the caller's own retry (SQS, schedule) try later."""


def cancellation_codes(exc: Exception) -> list[str]:
    """One code per item of a cancelled transaction ("None" for items that were fine)."""
    reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
    return [str(r.get("Code", "None")) for r in reasons]


def transact(items: list[dict[str, Any]], *, sleep: Sleep = time.sleep) -> list[str] | None:
    """Commit ``items``; None on success, else the per-item codes when a condition failed.

    Raises ``TransactionConflict`` if the items kept conflicting with concurrent transactions, and
    re-raises any other cancellation (validation, capacity).
    """
    client = dynamodb()
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=items)
        except client.exceptions.TransactionCanceledException as exc:
            codes = cancellation_codes(exc)
            if "ConditionalCheckFailed" in codes:
                return codes
            if not _RETRYABLE & set(codes):
                raise
            sleep(random.uniform(0, _BACKOFF_BASE_S * 2**attempt))
        else:
            return None
    raise TransactionConflict(f"transaction of {len(items)} items kept conflicting")


def create_counted(
    write: Callable[[], list[str] | None],
    count: Callable[[], int | None],
    initialise: Callable[[], None],
    *,
    cap: int,
    full: Callable[[], Exception],
    what: str,
) -> None:
    """Create an item under a per-account cap: ``write`` is one transaction of the new item (first)
    and its counter's increment on condition the counter is under ``cap``; its codes, or None once
    committed. A refused transaction is read back (``count``): no counter yet, an account from
    before it, is ``initialise``d and the write tried again; at ``cap``, ``full()`` is raised;
    under it, a slot was freed since, and the write is tried again."""
    for _ in range(COUNTED_ATTEMPTS):
        codes = write()
        if codes is None:
            return
        if codes[0] == CONDITION_FAILED:  # the new item's random id is taken: never, in practice
            raise RuntimeError(f"a new {what}'s id is already stored")
        current = count()
        if current is None:
            initialise()
        elif current >= cap:
            raise full()
    raise TransactionConflict(f"creating a {what} kept being refused")
