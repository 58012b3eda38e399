"""The smallest gateway: an AWS call, the upstream's answer relayed as it comes, an AWS call. A baseline.

``bench.ttfb_steps`` measures what an AWS round trip costs a process on this machine beyond its
time in flight: whether a process that waits a few milliseconds runs slower when it wakes, and
the upstream it then calls (docs/BENCHMARKS.md, ninth to eleventh rounds). This relay makes the
gateway's two calls and does nothing else. Per request it reads the body and makes one signed
TransactWriteItems call (the gateway's warm admission, the same four writes on the relay's own
items) over the hot path's own HTTP/1.1 core. It then sends the body to the upstream, relays the
answer's bytes as they arrive, and makes one SendMessage call before the response ends (the
gateway's usage event: the machine idles through it as behind the gateway). The calls go to
moto, to ``bench/responder.py``, or nowhere (built and signed all the same, nothing sent).
Same server as the gateway (uvicorn on uvloop, ``shared.http.server.protocol()``), same marks as
``bench/stack.py`` (``/__relay/events``), so its steps line up with the gateway's.

Its time to first byte with the calls, less the admission's time in flight, minus the same without
calls, is what the waits cost a process that does nothing else; the gateway's own figure with the
same AWS, less its in-process one, is what the waits cost the gateway.

``python -m bench.relay --port P --upstream URL``, with the stack's ``AWS_REGION``,
``SLUICE_LIMITS_TABLE``, ``SLUICE_LEDGER_TABLE`` and ``SLUICE_USAGE_QUEUE_URL`` in the environment;
``/__relay/aws?<url>`` sends the calls to moto or a responder at ``<url>``, ``/__relay/aws?``
makes none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import ssl
import time
import uuid
from typing import Any

from shared.adapters import h1
from shared.adapters.aws_http import _request_bytes
from shared.adapters.aws_json import DYNAMODB, SQS, Credentials, Service, signed_headers
from sluice.local.moto_server import whole_body

CREDENTIALS = Credentials("bench", "bench", None)  # moto and the responder check nothing: signed all the same
TIMEOUT_S = 30.0


ACCOUNT = "bench-relay"
START_BALANCE = 10**12


class Admission:
    """The gateway's warm admission, on the relay's own items: one TransactWriteItems with its two
    counters (the endpoint's IP and key rules), the balance take and the reservation, each
    conditioned on the value the relay knows (the only writer of them), as the gateway states
    the values it knows (shared/limits/known.py). Built by the gateway's own item builders."""

    def __init__(self) -> None:
        self.count = 0
        self.balance = START_BALANCE

    def seed(self) -> bytes:
        """A PutItem of the relay's balance (the first call after a switch to moto)."""
        from shared.adapters.ledger_store import BALANCE_SK, item_key, table_name

        item = {**item_key(ACCOUNT, BALANCE_SK), "balance": {"N": str(self.balance)}}
        return json.dumps({"TableName": table_name(), "Item": item}).encode()

    def next(self) -> bytes:
        from shared.adapters.limit_store import CounterUpdate, _update
        from shared.adapters.reservation_store import reservation_items

        now = dt.datetime.now(dt.UTC)
        expires = int(now.timestamp()) + 3600
        counters = [CounterUpdate(f"bench-relay#{rule}", 10**12, expires) for rule in ("ip", "key")]
        items = [{"Update": _update(c, self.count)} for c in counters]
        request_id = uuid.uuid4().hex
        now_iso = now.isoformat(timespec="milliseconds")
        items += reservation_items(ACCOUNT, request_id, 1, "bench-relay-key", now_iso, balance=self.balance)
        self.count, self.balance = self.count + 1, self.balance - 1
        return json.dumps({"TransactItems": items, "ClientRequestToken": uuid.uuid4().hex}).encode()


def usage(queue_url: str) -> bytes:
    return json.dumps({"QueueUrl": queue_url, "MessageBody": '{"bench": "relay"}'}).encode()


class Relay:
    def __init__(self, upstream: str) -> None:
        from shared.settings import get_settings

        settings = get_settings()  # the stack's region, tables and queue, from the environment
        self.upstream = upstream.rstrip("/") + "/v1/chat/completions"
        self.region = settings.region
        self.usage = usage(settings.usage_queue_url)
        self.admission = Admission()
        self.aws = ""  # no calls
        self.events: list[tuple[float, str]] = []
        self.pool: h1.Pool | None = None

    def _pool(self) -> h1.Pool:
        if self.pool is None:
            self.pool = h1.Pool(ssl.create_default_context)
        return self.pool

    def record(self, kind: str) -> None:
        self.events.append((time.perf_counter(), kind))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/__relay/"):
            await self._control(scope, send)
            return
        self.record("request")
        body = await whole_body(receive)
        pool = self._pool()
        await self._call(pool, DYNAMODB, "TransactWriteItems", self.admission.next())
        self.record("upstream")
        origin = h1.Origin.of(self.upstream)
        request = _request_bytes(self.upstream, {"content-type": "application/json"}, body)
        connection = await pool.open(origin, request, connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S)
        try:
            self.record("upstream head")
            self.record("committed")  # a relay commits to its upstream at the head
            kept = [(n, v) for n, v in connection.headers if n.lower() == b"content-type"]
            await send({"type": "http.response.start", "status": connection.status, "headers": kept})
            out = False
            async for piece in connection.body(TIMEOUT_S):
                if piece and not out:
                    out = True
                    self.record("response out")  # the head goes with this piece (the server joins them)
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        finally:
            pool.release(origin, connection)
        self.record("upstream end")
        # Before the response ends, as the gateway's usage event: the next request waits for it.
        await self._call(pool, SQS, "SendMessage", self.usage)
        await send({"type": "http.response.body", "body": b""})

    async def _call(self, pool: h1.Pool, service: Service, operation: str, body: bytes) -> None:
        """One signed AWS JSON call to moto or the responder, its answer read whole. With no calls
        the body is built and signed all the same and nothing is sent (as the gateway's "AWS in
        process"): the difference is the exchange and its wait alone. Marked either way, with
        nothing in flight when nothing is sent, so that the steps line up with the gateway's."""
        kind = f"{service.name}:{operation}"
        url = self.aws or "http://127.0.0.1/"
        now = dt.datetime.now(dt.UTC)
        headers = signed_headers(
            service, operation, body, url=url, region=self.region, credentials=CREDENTIALS, now=now
        )
        request = _request_bytes(url, headers, body)
        self.record(f"call:{kind}")
        if not self.aws:
            self.record(f"done:{kind}")
            return
        origin = h1.Origin.of(url)
        connection = await pool.open(origin, request, connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S)
        try:
            async for _ in connection.body(TIMEOUT_S):
                pass
        finally:
            pool.release(origin, connection)
        self.record(f"done:{kind}")
        if connection.status >= 300:  # the stream fails: the benchmark counts it as an error
            raise RuntimeError(f"{kind} answered {connection.status}")

    async def _control(self, scope: dict[str, Any], send: Any) -> None:
        body = json.dumps({"events": self.events}).encode()
        if scope["path"] == "/__relay/reset":
            self.events = []
        elif scope["path"] == "/__relay/aws":
            query = scope.get("query_string", b"").decode()
            self.aws = query.rstrip("/") + "/" if query else ""
            if self.aws:  # its own balance, where the calls now go (the responder answers anything)
                self.admission = Admission()
                await self._call(self._pool(), DYNAMODB, "PutItem", self.admission.seed())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    import uvicorn

    from shared.http.server import protocol, serve

    relay = Relay(args.upstream)
    config = uvicorn.Config(
        relay,
        host="127.0.0.1",
        port=args.port,
        http=protocol(),
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    serve(config)


if __name__ == "__main__":
    main()
