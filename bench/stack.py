"""The local stack as ``make bench`` runs it: the same gateway and function code, instrumented.

Differences from ``python -m sluice.local``, all for measuring:
- the rate limits are raised (every rule x 10^6): they are still checked and counted, in the same
  DynamoDB transaction, but a benchmark's thousands of requests are not refused;
- no SQS pollers: the usage consumer is another Lambda function when deployed, so its work is
  not charged to the chat request (the usage events wait on the queue, which ``/__bench/reset``
  empties between phases);
- botocore event hooks count AWS calls, timestamped together with each request's start, its
  upstream call, the head of the upstream's answer and its end, and ``GET /__bench/events`` hands
  them over (``/__bench/reset`` clears); ``/__bench/gc``, the garbage collector's pauses since the
  server started (bench/gc_pauses.py);
- ``/__bench/cold`` empties the key and catalog caches and the known counts and balances (the
  next request is a cold one);
- ``/__bench/aws?<where>`` says where the request path's AWS calls go (cold-cache reads always go
  to moto): ``moto`` (the default); ``in-process``, answered inside the gateway: each call is still
  serialised and signed (shared/adapters/aws_json.py), but no HTTP request is sent or parsed, so
  what remains is the gateway's own cost; or the URL of a ``bench/responder.py``, which answers
  after a pause in another process: a real wait and exchange, without moto's CPU on the machine.

``--no-freeze`` serves with the heap unfrozen (``gc.freeze`` does nothing): the baseline of
``shared.http.server.serve``'s freeze, for ``python -m bench.run --no-freeze``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from bench.aws_answers import BENCH_CREDITS
from bench.gc_pauses import GcPauses
from bench.marks import AWS, EVENTS, LOCK, count_aws_calls, mark_upstream_calls, record

GC = GcPauses()
LIMIT_FACTOR = 1_000_000


def _no_freeze() -> None:
    """``gc.freeze`` for ``--no-freeze``: nothing is frozen."""


def raise_limits() -> None:
    """Every policy row x LIMIT_FACTOR, before any module binds ``load_policy``."""
    from shared.limits import policy

    original = policy.load_policy

    @lru_cache(maxsize=1)
    def load_raised(path: Path = policy.POLICY_FILE) -> policy.Policy:
        base = original(path)
        rules = tuple(
            replace(
                rule,
                free=policy.Window(rule.free.limit * LIMIT_FACTOR, rule.free.seconds),
                pro=policy.Window(rule.pro.limit * LIMIT_FACTOR, rule.pro.seconds),
            )
            for rule in base.rules
        )
        return replace(base, rules=rules)

    policy.load_policy = load_raised


class BenchGateway:
    """The local gateway, plus the ``/__bench`` endpoints and a ``request`` event per request."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        GC.install()  # at the first request: collections while serving, not the start's
        if scope["type"] == "http" and scope["path"].startswith("/__bench/"):
            await self._bench(scope, send)
            return
        if scope["type"] == "http":
            record("request")
        await self.gateway(scope, receive, send)

    @staticmethod
    async def _bench(scope: Scope, send: Send) -> None:
        with LOCK:
            body = json.dumps({"pid": os.getpid(), "events": EVENTS}).encode()
            if scope["path"] == "/__bench/gc":
                body = json.dumps(GC.snapshot()).encode()
            elif scope["path"] == "/__bench/reset":
                EVENTS.clear()
            elif scope["path"] == "/__bench/aws":
                from shared.limits import known

                AWS["by"] = scope.get("query_string", b"").decode() or "moto"
                known.clear()  # values one answered are not another's
            elif scope["path"] == "/__bench/cold":
                from shared.adapters.catalog_store import clear_catalog_cache
                from shared.auth.api_keys import clear_cache
                from shared.limits import known

                clear_cache()  # the next request looks its key up again, and the catalog
                clear_catalog_cache()
                known.clear()  # and reads the counts and balance after its admission
        if scope["path"] == "/__bench/reset":
            # Outside the lock (its own call is recorded, before any request: no request's), and
            # before the answer: a phase that starts next does not share the machine with the purge.
            await _drain_usage_queue()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _drain_usage_queue() -> None:
    """Deployed, the usage consumer empties the queue as events arrive; this stack runs none, so
    the events would pile up in moto's memory over a run (and, before sluice/local/moto_speedups.py,
    made each SendMessage cost moto more than the last). Emptied between phases instead, with the hot
    path's own SQS client (a boto3 one would add its service model to the measured RSS), at most
    once a minute: SQS allows one purge a minute per queue, and moto refuses the next one
    (``PurgeQueueInProgress``) as SQS does. Until then the events wait, which costs a SendMessage
    nothing more (sluice/local/moto_speedups.py)."""
    from shared.adapters.aws_json import AwsError, async_sqs
    from shared.settings import get_settings

    try:
        await async_sqs().call("PurgeQueue", {"QueueUrl": get_settings().usage_queue_url})
    except AwsError as error:
        if error.code != "PurgeQueueInProgress":
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--catalog-file", type=Path, required=True)
    parser.add_argument(
        "--no-freeze", action="store_true", help="serve with the heap unfrozen (the baseline of gc.freeze)"
    )
    args = parser.parse_args()
    if args.no_freeze:
        gc.freeze = _no_freeze  # serve() calls it through the module
    raise_limits()
    from sluice.local.stack import LocalStack, StackOptions, stop_on_sigterm

    options = StackOptions(
        port=args.port,
        env_file=args.env_file,
        catalog_file=args.catalog_file,
        token_rate=0,
        run_schedules=False,
    )
    stack = LocalStack(options)
    stop_on_sigterm()
    try:
        stack.start_backends()
        count_aws_calls()
        mark_upstream_calls()
        from shared.credits.ledger import grant_credits
        from shared.settings import get_settings
        from sluice.local.seed import DEMO_ACCOUNT, seed_catalog, seed_demo_account

        seed_catalog(options.catalog_file)
        seeded = seed_demo_account(None)
        grant_credits(DEMO_ACCOUNT, BENCH_CREDITS, source="admin", reference="bench", expires_at=None)
        assert stack.moto is not None and stack.moto.process is not None, "bench/stack.py starts its own moto"
        settings = get_settings()  # bench/relay.py's calls to moto go to the same table and queue
        args.env_file.parent.mkdir(parents=True, exist_ok=True)
        args.env_file.write_text(
            f"SLUICE_API_KEY={seeded.raw_key}\nMOTO_PID={stack.moto.process.pid}\n"
            f"SIMULATOR_PID={stack.simulator.pid if stack.simulator else ''}\nMOTO_ENDPOINT={stack.moto.endpoint}\n"
            f"REGION={settings.region}\nLIMITS_TABLE={settings.limits_table}\nLEDGER_TABLE={settings.ledger_table}\n"
            f"USAGE_QUEUE={settings.usage_queue_url}\n",
            encoding="utf-8",
        )
        import uvicorn

        from shared.http.server import protocol, serve

        gateway = BenchGateway(stack.build_gateway())
        config = uvicorn.Config(
            gateway,
            host="127.0.0.1",
            port=args.port,
            http=protocol(),
            proxy_headers=False,  # the local gateway sets the request context from the peer
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        serve(config, collect_first=True)  # as the local stack: the seeding left garbage
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
