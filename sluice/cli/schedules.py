"""``sluice --local schedules list|run NAME``: the local stack's schedules, run on demand.

The stack (``make dev``) serves ``GET /__local/schedules`` and ``POST /__local/schedules/{name}``
on its own gateway (``sluice.local.control``; never deployed); its base URL comes from
``.sluice/local.env``. Deployed, EventBridge runs the schedules: invoke the function
(``aws lambda invoke``) to run one now.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sluice.cli.target import LOCAL_ENV, local_values

RUN_TIMEOUT_S = 900.0  # a scheduled function's longest run (Lambda's limit)


def _base_url(args: argparse.Namespace) -> str:
    if args.stack or args.env:
        raise SystemExit(
            "schedules are run on demand in the local stack only (sluice --local schedules ...); "
            "deployed, EventBridge runs them: `aws lambda invoke` the function to run one now"
        )
    return local_values(LOCAL_ENV)["SLUICE_BASE_URL"].strip()


def _call(method: str, url: str) -> Any:
    import httpx

    try:
        response = httpx.request(method, url, timeout=RUN_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise SystemExit(f"the local stack at {url} does not answer ({exc}): is `make dev` running?") from exc
    body = response.json()
    if response.status_code != 200:
        raise SystemExit(f"error: {body['error']['message']}")
    return body


def schedules_list(args: argparse.Namespace) -> None:
    for schedule in _call("GET", f"{_base_url(args)}/__local/schedules")["data"]:
        state = "" if schedule["enabled"] else " (disabled)"
        print(f"{schedule['name']:40} {schedule['expression']}{state}")


def schedules_run(args: argparse.Namespace) -> None:
    ran = _call("POST", f"{_base_url(args)}/__local/schedules/{args.name}")
    print(json.dumps(ran, indent=2, default=str))


def register(sub: Any) -> None:
    schedules = sub.add_parser(
        "schedules", help="run the local stack's schedules on demand (credit expiry, ...)"
    ).add_subparsers(required=True)
    p = schedules.add_parser("list", help="the schedules of template.yaml, by name")
    p.set_defaults(run=schedules_list, needs_tables=False)
    p = schedules.add_parser("run", help="run one schedule now, once; prints what its function returned")
    p.add_argument("name", help="<Function>.<Event> (see `list`), or a function or event name alone")
    p.set_defaults(run=schedules_run, needs_tables=False)
