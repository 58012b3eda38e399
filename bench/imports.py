"""Cold import time of each function's handler module against its dependencies' (``-X importtime``).

Each module is imported in a fresh interpreter; ``-X importtime`` gives every module's cumulative
import time the first time it is imported. A top-level package's cumulative time is what that
dependency cost the handler; the handler's own code is what is left.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from collections import defaultdict
from typing import Any

from sluice.local.template import parse_template

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")
OWN = ("shared", "functions", "sluice")


def _importtime(module: str) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, dotted name) of every module imported, in output order."""
    result = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        found = _LINE.match(line)
        if found:
            rows.append((int(found.group(1)), int(found.group(2)), found.group(4)))
    return rows


def _profile(module: str) -> dict[str, float]:
    """Milliseconds: the handler's total, and per top-level package (first import = cumulative)."""
    rows = _importtime(module)
    total = next(cum for _, cum, name in rows if name == module) / 1000
    packages: dict[str, float] = defaultdict(float)
    own_self = 0.0
    for self_us, _, name in rows:
        top = name.split(".")[0]
        packages[top] += self_us / 1000
        if top in OWN:
            own_self += self_us / 1000
    packages["(total)"] = total
    packages["(own: shared/functions)"] = own_self
    return packages


def import_times(repeats: int = 3) -> dict[str, Any]:
    """Per function: median over ``repeats`` cold imports; the five costliest dependencies."""
    out: dict[str, Any] = {}
    for name, spec in sorted(parse_template().functions.items()):
        runs = [_profile(spec.module) for _ in range(repeats)]
        keys = set().union(*runs)
        median = {k: round(statistics.median(r.get(k, 0.0) for r in runs), 1) for k in keys}
        deps = {k: v for k, v in median.items() if not k.startswith("(") and k not in OWN}
        top = dict(sorted(deps.items(), key=lambda kv: -kv[1])[:5])
        out[name] = {
            "module": spec.module,
            "total_ms": median["(total)"],
            "own_ms": median["(own: shared/functions)"],
            "dependencies_ms": round(sum(deps.values()), 1),
            "top_dependencies_ms": top,
        }
    return out
