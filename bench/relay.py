"""The smallest gateway: an AWS call, the upstream's answer relayed as it comes, an AWS call. A baseline.

``bench.ttfb_steps`` measures what an AWS round trip costs a process on this machine beyond its
time in flight. A process that waits a few milliseconds with both CPUs idle runs slower when it
wakes, and so does the upstream it then calls (docs/BENCHMARKS.md, ninth and tenth rounds). This
relay pays the same waits with none of Sluice's work: per request it reads the body, makes one
signed TransactWriteItems call (to moto, to ``bench/responder.py``, or none) over the hot path's
own HTTP/1.1 core, sends the body to the upstream and relays the answer's bytes as they arrive, and
makes one SendMessage call before the response ends (the gateway's usage event: the machine idles
through it as behind the gateway, before the next request).
Same server as the gateway (uvicorn on uvloop, ``shared.http.server.protocol()``), same marks as
``bench/stack.py`` (``/__relay/events``), so its steps line up with the gateway's.

Its time to first byte with the calls, less the admission's time in flight, minus the same without
calls, is what the waits cost a process that does nothing else; the gateway's own figure with the
same responder, less its in-process one, is what the wait costs the gateway.

``python -m bench.relay --port P --upstream URL --region R --table T --queue-url Q`` (the moto
stack's region, a table keyed by ``pk``, a queue); ``/__relay/aws?<url>`` sends the calls to moto
or a responder at ``<url>``, ``/__relay/aws?`` makes none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import ssl
import time
from typing import Any

from shared.adapters import h1
from shared.adapters.aws_http import _request_bytes
from shared.adapters.aws_json import DYNAMODB, SQS, Credentials, Service, signed_headers

CREDENTIALS = Credentials("bench", "bench", None)  # moto and the responder check nothing: signed all the same
TIMEOUT_S = 30.0


def admission(table: str) -> bytes:
    """One counter's update in a transaction (the gateway's admission updates several items)."""
    update = {
        "TableName": table,
        "Key": {"pk": {"S": "bench#relay"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    return json.dumps({"TransactItems": [{"Update": update}]}).encode()


def usage(queue_url: str) -> bytes:
    return json.dumps({"QueueUrl": queue_url, "MessageBody": '{"bench": "relay"}'}).encode()


class Relay:
    def __init__(self, upstream: str, region: str, table: str, queue_url: str) -> None:
        self.upstream = upstream.rstrip("/") + "/v1/chat/completions"
        self.region = region
        self.admission, self.usage = admission(table), usage(queue_url)
        self.aws = ""  # no calls
        self.events: list[tuple[float, str]] = []
        self.pool: h1.Pool | None = None

    def record(self, kind: str) -> None:
        self.events.append((time.perf_counter(), kind))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/__relay/"):
            await self._control(scope, send)
            return
        self.record("request")
        body = bytearray()
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        pool = self.pool = self.pool or h1.Pool(ssl.create_default_context)
        await self._call(pool, DYNAMODB, "TransactWriteItems", self.admission)
        self.record("upstream")
        origin = h1.Origin.of(self.upstream)
        request = _request_bytes(self.upstream, {"content-type": "application/json"}, bytes(body))
        connection = await pool.open(origin, request, connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S)
        try:
            self.record("upstream head")
            kept = [(n, v) for n, v in connection.headers if n.lower() == b"content-type"]
            await send({"type": "http.response.start", "status": connection.status, "headers": kept})
            async for piece in connection.body(TIMEOUT_S):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        finally:
            pool.release(origin, connection)
        self.record("upstream end")
        # Before the response ends, as the gateway's usage event: the next request waits for it.
        await self._call(pool, SQS, "SendMessage", self.usage)
        await send({"type": "http.response.body", "body": b""})

    async def _call(self, pool: h1.Pool, service: Service, operation: str, body: bytes) -> None:
        """One signed AWS JSON call to moto or the responder, its answer read whole; none without one
        (marked all the same, with nothing in flight: the steps line up with the gateway's)."""
        kind = f"{service.name}:{operation}"
        if not self.aws:
            self.record(f"call:{kind}")
            self.record(f"done:{kind}")
            return
        now = dt.datetime.now(dt.UTC)
        headers = signed_headers(
            service, operation, body, url=self.aws, region=self.region, credentials=CREDENTIALS, now=now
        )
        origin = h1.Origin.of(self.aws)
        self.record(f"call:{kind}")
        connection = await pool.open(
            origin, _request_bytes(self.aws, headers, body), connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S
        )
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
    parser.add_argument("--region", required=True, help="moto keeps a region's tables apart")
    parser.add_argument("--table", required=True, help="a DynamoDB table with a string key 'pk'")
    parser.add_argument("--queue-url", required=True)
    args = parser.parse_args()
    import uvicorn

    from shared.http.server import protocol, serve

    relay = Relay(args.upstream, args.region, args.table, args.queue_url)
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
