"""The garbage collector's pauses: in the gateway over a run, and a handler's heap after import.

``GcPauses`` times every collection of the process it is installed in (``gc.callbacks``), by
generation; ``bench/stack.py`` installs it at its first request (after the start's collection)
and hands it out at ``/__bench/gc``. A full collection
(generation 2) walks every tracked object not frozen, so its pause grows with the heap.

``collection_pauses`` imports a handler module in a fresh interpreter and times full collections
right after the import, then again once ``gc.freeze()`` has moved what is alive out of the
collector's reach, as ``shared.http.server.serve`` does before the server starts: the baseline
and the change, in the same run.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from typing import Any

_PROBE = """
import gc, json, statistics, sys, time
import {module}

def pauses():
    runs = []
    for _ in range(5):
        began = time.perf_counter()
        gc.collect()
        runs.append((time.perf_counter() - began) * 1e6)
    return round(statistics.median(runs), 1)

tracked = len(gc.get_objects())
before = pauses()
gc.freeze()
json.dump({{"tracked": tracked, "full_us": before, "frozen_full_us": pauses(),
           "frozen": gc.get_freeze_count()}}, sys.stdout)
"""


class GcPauses:
    """Count, total and longest pause per generation since ``install``."""

    def __init__(self) -> None:
        self.by_generation = {g: {"count": 0, "total_ms": 0.0, "longest_ms": 0.0} for g in range(3)}
        self._began = 0.0
        self._installed = False

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._callback)
            self._installed = True

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        pause_ms = (time.perf_counter() - self._began) * 1000
        row = self.by_generation[info["generation"]]
        row["count"] += 1
        row["total_ms"] += pause_ms
        row["longest_ms"] = max(row["longest_ms"], pause_ms)

    def snapshot(self) -> dict[str, Any]:
        return {
            "generations": {
                str(g): {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
                for g, row in self.by_generation.items()
            },
            "tracked": len(gc.get_objects()),
            "frozen": gc.get_freeze_count(),
        }


def collection_pauses(module: str) -> dict[str, Any]:
    """A full collection's median pause (µs) after importing ``module``, and after ``gc.freeze()``."""
    result = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def after_import_pauses() -> dict[str, Any]:
    """``collection_pauses`` of each function that ``shared.http.server`` serves (run.sh)."""
    from sluice.local.template import parse_template

    functions = sorted(parse_template().functions.items())
    return {
        name: {"module": spec.module, **collection_pauses(spec.module)}
        for name, spec in functions
        if spec.streaming
    }
