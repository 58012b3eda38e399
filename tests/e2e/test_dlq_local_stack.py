"""`sluice dlq` against `make dev`'s stack: a usage event that kept failing lands in the usage DLQ,
`list` and `peek` show it (ids, not bodies, unless asked), and once its cause is gone `redrive`
moves it back and the usage consumer counts and charges the request exactly once, a duplicate copy
included. A redrive keeps bodies and message attributes, and keeps what it could not send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import openai
import pytest
from support.polling import wait_for
from support.stack import RunningStack, cli_output

from sluice.local.stack import LOCAL_AWS_ENV

pytestmark = pytest.mark.e2e


def waiting(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]) + int(attributes[names[1]])


def local_queue(sqs: Any, logical_id: str) -> str:
    from sluice.local.resources import LocalResources
    from sluice.local.template import parse_template

    name = LocalResources(parse_template()).physical_name(logical_id)
    return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def dlq_row(listed: str, queue: str) -> list[int]:
    """The counts `sluice dlq list` printed for one queue: in DLQ, DLQ hidden, queued, in flight."""
    [row] = [line.split() for line in listed.splitlines() if line.split()[:1] == [queue]]
    return [int(value) for value in row[1:]]


def fresh_account_with_key(credits: int) -> tuple[str, str]:
    from shared.accounts.models import Account, Consent
    from shared.adapters import account_store
    from shared.credits.ledger import grant_credits
    from shared.keys.service import issue_key, now_iso

    account_id = f"acct_dlq_{uuid.uuid4().hex[:8]}"
    consent = Consent(
        terms_version="e2e", privacy_version="e2e", responsible_ai_version="e2e", accepted_at=now_iso()
    )
    assert account_store.create_account(
        Account(account_id=account_id, plan="free", consent=consent, created_at=now_iso())
    )
    grant_credits(account_id, credits, source="admin", reference=f"e2e-{account_id}", expires_at=None)
    return account_id, issue_key(account_id, "dlq-e2e").raw_key


def test_a_usage_event_that_kept_failing_is_redriven_and_counted_once(stack_aws: RunningStack) -> None:
    from shared.adapters import reservation_store, usage_store
    from shared.adapters.aws import dynamodb, sqs
    from shared.credits.ledger import balance
    from shared.settings import get_settings
    from shared.usage.aggregates import seen_key, usage_pk
    from sluice.cli.dead_letters import depth, peek

    queues = sqs()
    usage_queue, usage_dlq = local_queue(queues, "UsageQueue"), local_queue(queues, "UsageDeadLetterQueue")
    account_id, raw_key = fresh_account_with_key(10)
    # Given an account whose lifetime usage counter was edited by hand into a string: the consumer's
    # one transaction ADDs to it, so every delivery of this account's usage events fails
    total_key = {"pk": {"S": usage_pk(account_id)}, "sk": {"S": "TOTAL"}}
    table = get_settings().usage_table
    dynamodb().put_item(TableName=table, Item={**total_key, "requests": {"S": "edited by hand"}})
    already_dead = waiting(queues, usage_dlq)

    # When the account makes one chat request
    client = openai.OpenAI(base_url=f"{stack_aws.base_url}/v1", api_key=raw_key, max_retries=0)
    reply = client.chat.completions.with_raw_response.create(
        model="hrllm", messages=[{"role": "user", "content": "Bok!"}], max_tokens=8
    )
    request_id = reply.headers["x-request-id"]

    # Then it was answered with its credit reserved, and its usage event failed into the DLQ
    assert reply.headers["x-credits-remaining"] == "9"
    wait_for(lambda: waiting(queues, usage_dlq) > already_dead, timeout=40, what="the event in the DLQ")
    assert dlq_row(cli_output(stack_aws, "--local", "dlq", "list"), "usage")[0] == already_dead + 1
    peeked = json.loads(cli_output(stack_aws, "--local", "dlq", "peek", "usage", "--max", "100"))
    [mine] = [m for m in peeked if (m["fields"] or {}).get("request_id") == request_id]
    assert mine["fields"]["account_id"] == account_id and mine["fields"]["charged"] is True
    assert mine["receives"] >= 5 and mine["bytes"] > 0 and "body" not in mine
    assert "input_tokens" in mine["other_fields"], "names of the other fields, not their values"
    with_bodies = cli_output(stack_aws, "--local", "dlq", "peek", "usage", "--max", "100", "--bodies")
    [body] = [m["body"] for m in json.loads(with_bodies) if m["message_id"] == mine["message_id"]]
    assert body["request_id"] == request_id and body["output_tokens"] > 0, "the event, as JSON"
    assert raw_key[-20:] not in with_bodies, "no key in what the CLI prints"
    assert usage_store.get(*seen_key(request_id)) is None, "not recorded"
    reservation = reservation_store.get_reservation(account_id, request_id)
    assert reservation is not None and reservation.state == "open" and balance(account_id) == 9
    assert depth(queues, usage_dlq).waiting == already_dead + 1, "peeked messages stay, visible"

    # When the cause is gone and the operator redrives: with a second copy of the event in the DLQ,
    # as a redrive that sent a message but failed to delete it would leave
    dynamodb().delete_item(TableName=table, Key=total_key)
    [raw] = [m["Body"] for m in peek(queues, usage_dlq, 100) if m["MessageId"] == mine["message_id"]]
    queues.send_message(QueueUrl=usage_dlq, MessageBody=raw)
    redriven = cli_output(stack_aws, "--local", "dlq", "redrive", "usage")

    # Then both copies went back, and the request was recorded and charged once
    assert f"moved {already_dead + 2} message(s)" in redriven, redriven

    def settled() -> bool:
        closed = reservation_store.get_reservation(account_id, request_id)
        return closed is not None and closed.state == "settled"

    wait_for(settled, what="the reservation settled")
    wait_for(lambda: waiting(queues, usage_queue) == 0, what="the usage queue drained")
    total = usage_store.get(usage_pk(account_id), "TOTAL")
    assert total is not None and total["requests"] == 1 and total["credits"] == 1
    assert len(usage_store.query_range(f"REQ#{account_id}", "0", "9")) == 1
    assert balance(account_id) == 9, "charged once: the reserved credit, no more"
    assert all(request_id not in m["Body"] for m in peek(queues, usage_dlq, 100)), "none went back"


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sluice.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_redrive_keeps_bodies_and_attributes_and_keeps_what_it_could_not_send(
    local_stack: RunningStack, tmp_path: Path
) -> None:
    from shared.keys.secrets import new_raw_key

    sqs = boto3.client(
        "sqs",
        endpoint_url=local_stack.moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    suffix = uuid.uuid4().hex[:8]
    source = sqs.create_queue(QueueName=f"e2e-source-{suffix}")["QueueUrl"]
    dead = sqs.create_queue(QueueName=f"e2e-dead-{suffix}")["QueueUrl"]
    # Given three messages in a dead-letter queue, with attributes: two JSON events with text in
    # them and one that is not JSON; all three carry something shaped like a key
    leaked = new_raw_key("sk_sluice_")
    bodies = [json.dumps({"request_id": f"r{i}", "prompt": f"text {i} {leaked}"}) for i in range(2)]
    bodies.append(f"not JSON, text 2 {leaked}")
    for i, body in enumerate(bodies):
        attributes = {
            "origin": {"DataType": "String", "StringValue": "e2e"},
            "n": {"DataType": "Number", "StringValue": str(i)},
        }
        sqs.send_message(QueueUrl=dead, MessageBody=body, MessageAttributes=attributes)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLUICE_", "AWS_"))}
    env.update(LOCAL_AWS_ENV)
    env.update(
        AWS_ENDPOINT_URL=local_stack.moto_endpoint,
        SLUICE_USAGE_QUEUE_URL=source,
        SLUICE_USAGE_DEAD_LETTER_QUEUE_URL=dead,
    )

    # When the operator peeks at them, without and with bodies
    plain = run_cli(env, tmp_path, "--env", "dlq", "peek", "usage")
    full = run_cli(env, tmp_path, "--env", "dlq", "peek", "usage", "--bodies")

    # Then every message is listed once and left in the queue; no body unless asked, no secret ever
    assert plain.returncode == 0 and full.returncode == 0, plain.stderr + full.stderr
    listed = json.loads(plain.stdout)
    assert sorted(m["fields"]["request_id"] for m in listed if m["fields"]) == ["r0", "r1"]
    assert [m["fields"] for m in listed if not m["fields"]] == [None], "the one that is not JSON"
    assert all(m["other_fields"] == ["prompt"] for m in listed if m["fields"])
    assert all(f"text {i}" not in plain.stdout and f"text {i}" in full.stdout for i in range(3))
    assert full.stdout.count("[redacted]") == 3
    assert leaked[len("sk_sluice_") :] not in plain.stdout + full.stdout
    assert waiting(sqs, dead) == 3

    # When two are redriven, then the rest towards a queue that does not exist
    moved = run_cli(env, tmp_path, "--env", "dlq", "redrive", "usage", "--max", "2")
    broken_env = {**env, "SLUICE_USAGE_QUEUE_URL": f"{source}-missing"}
    broken = run_cli(broken_env, tmp_path, "--env", "dlq", "redrive", "usage")

    # Then the two arrived as they were sent, and the third is still in the DLQ, visible at once
    assert moved.returncode == 0 and "moved 2 message(s)" in moved.stdout, moved.stdout + moved.stderr
    arrived = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    got = {m["Body"]: m["MessageAttributes"] for m in arrived["Messages"]}
    assert len(got) == 2 and set(got) < set(bodies)
    for body, attributes in got.items():
        n = str(bodies.index(body))
        assert attributes["origin"]["StringValue"] == "e2e" and attributes["n"]["StringValue"] == n
        assert attributes["n"]["DataType"] == "Number"
    assert broken.returncode == 1 and "send failed" in broken.stderr and "moved 0" in broken.stdout
    kept = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    [left] = kept["Messages"]
    assert left["Body"] in bodies and left["Body"] not in got
