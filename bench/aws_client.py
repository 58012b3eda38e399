"""CPU per AWS call of the chat hot path's client against boto3's, in the same run.

``python -m bench.aws_client``: starts the embedded AWS (sluice/local/moto_server.py, keep-alive,
one request at a time) in a child process, creates a table, then alternates rounds of N GetItem
calls through a boto3 client (as the cold paths make them: from a worker thread, the way the event
loop must call boto3) and through ``shared.adapters.aws_json`` (signed JSON over a kept-alive
connection, on the loop). Only this process's CPU time is counted; moto's is another process.

Then the wait: the same ``aws_json`` call against minimal servers in other processes
(bench/responder.py), one answering at once and one per ``--delay-ms`` pause (1, 5 and 10 ms:
5 ms is about what a DynamoDB call takes), on uvloop as the gateway runs. The difference is what
waiting itself costs the caller on this machine: its process sleeps, and its next steps run
slower the longer it slept.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from contextlib import ExitStack

TABLE = "bench-aws-client"
KEY = {"pk": {"S": "a"}}


def _setup(endpoint: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item={**KEY, "count": {"N": "1"}})


async def _boto3_round(calls: int) -> float:
    from shared.adapters.aws import dynamodb

    client = dynamodb()
    start = time.process_time()
    for _ in range(calls):
        await asyncio.to_thread(client.get_item, TableName=TABLE, Key=KEY)
    return (time.process_time() - start) / calls * 1000


async def _lean_round(calls: int) -> float:
    from shared.adapters.aws_json import async_dynamodb

    client = async_dynamodb()
    start = time.process_time()
    for _ in range(calls):
        await client.call("GetItem", {"TableName": TABLE, "Key": KEY})
    return (time.process_time() - start) / calls * 1000


async def _measure(rounds: int, calls: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"boto3": [], "aws_json": []}
    await _boto3_round(20)  # warm: clients built, connections open
    await _lean_round(20)
    for _ in range(rounds):
        figures["boto3"].append(await _boto3_round(calls))
        figures["aws_json"].append(await _lean_round(calls))
    return figures


async def _wait_costs(
    endpoints: dict[str, str], rounds: int, calls: dict[str, int]
) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {name: [] for name in endpoints}
    for endpoint in endpoints.values():  # warm: a connection to each
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        await _lean_round(5)
    for _ in range(rounds):
        for name, endpoint in endpoints.items():
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
            figures[name].append(await _lean_round(calls[name]))
    return figures


def _table(title: str, figures: dict[str, list[float]]) -> None:
    print(f"| {title} | CPU per GetItem, each round (ms) | median (ms) |")
    print("| --- | --- | --- |")
    for name, values in figures.items():
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} | {statistics.median(values):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument(
        "--delay-ms", type=float, nargs="+", default=[1.0, 5.0, 10.0], help="the slow responders' pauses"
    )
    args = parser.parse_args()
    from sluice.local.moto_server import MotoProcess

    moto = MotoProcess.start()
    os.environ.update(
        AWS_ENDPOINT_URL=moto.endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto accepts any credentials
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        _setup(moto.endpoint)
        figures = asyncio.run(_measure(args.rounds, args.calls))
    finally:
        moto.stop()
    _table("client", figures)
    ratio = statistics.median(figures["boto3"]) / statistics.median(figures["aws_json"])
    print(f"\nboto3 / aws_json: {ratio:.1f}x\n")

    import uvloop

    from bench.processes import start_responder

    at_once = "aws_json, answered at once"
    paused = {delay: f"aws_json, answered after {delay:g} ms" for delay in args.delay_ms}
    with ExitStack() as responders:
        endpoints = {}
        for name, delay in ((at_once, 0.0), *((name, delay) for delay, name in paused.items())):
            responder = start_responder(delay)
            responders.callback(responder.stop)
            endpoints[name] = responder.base_url
        calls = {name: args.calls * 4 if name == at_once else args.calls for name in endpoints}
        waits = asyncio.run(_wait_costs(endpoints, args.rounds, calls), loop_factory=uvloop.new_event_loop)
    _table("same call, minimal server (bench/responder.py)", waits)
    print()
    for delay, name in paused.items():
        extra = statistics.median(waits[name]) - statistics.median(waits[at_once])
        print(f"what a {delay:g} ms wait costs the caller: {extra:.3f} ms per call")


if __name__ == "__main__":
    main()
