"""Counting event loop turns, for tests of what happens in the same turn and what waits for the next."""

from __future__ import annotations

import asyncio


class Turns:
    """A callback that schedules itself runs once per turn: ``now`` is the current turn's number."""

    def __init__(self) -> None:
        self.now = 0
        asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        self.now += 1
        asyncio.get_running_loop().call_soon(self._tick)
