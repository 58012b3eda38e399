"""CPU per AWS call of the chat hot path's client against boto3's, in the same run.

``python -m bench.aws_client``: starts the embedded AWS (sluice/local/moto_server.py, keep-alive,
one request at a time) in a child process, creates a table, then alternates rounds of N GetItem
calls through a boto3 client (as the cold paths make them: from a worker thread, the way the event
loop must call boto3) and through ``shared.adapters.aws_json`` (signed JSON over a kept-alive
connection, on the loop). Only this process's CPU time is counted; moto's is another process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=300)
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
    print("| client | CPU per GetItem, each round (ms) | median (ms) |")
    print("| --- | --- | --- |")
    for name, values in figures.items():
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} | {statistics.median(values):.3f} |")
    ratio = statistics.median(figures["boto3"]) / statistics.median(figures["aws_json"])
    print(f"\nboto3 / aws_json: {ratio:.1f}x")


if __name__ == "__main__":
    main()
