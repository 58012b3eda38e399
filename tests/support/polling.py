"""Waiting for what the local stack does in the background (queues, schedules), by polling."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually[T](probe: Callable[[], T], timeout: float = 30.0, interval: float = 0.25) -> T:
    """``probe()``'s first truthy value, or its last value once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_for[T](condition: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """``condition()``'s first truthy value; the test fails if none comes within ``timeout`` seconds."""
    value = eventually(condition, timeout)
    if not value:
        raise AssertionError(f"{what} not reached in {timeout} s")
    return value
