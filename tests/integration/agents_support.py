"""Agent runs in process: runs started with the domain code or the API, the worker driven from SQS.

The worker runs as Lambda runs it: ``SqsPoller`` receives from the test's AgentRunsQueue (made
from template.yaml, visibility shortened to 2 s), invokes the handler through an
``InstancePool`` and deletes what succeeded; redrive to the DLQ is the queue's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chat_support import queued_usage_events
from credits_support import LambdaContext, sqs_records

from shared.adapters import account_store, agent_store
from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item
from shared.agents import service
from shared.agents.models import AgentRun, StepRecord
from shared.agents.wire import CreateRun
from shared.settings import get_settings
from shared.tools import service as tools
from shared.tools.wire import InstallTool
from sluice.local.event_sources import SqsPoller, sqs_event
from sluice.local.lambda_runtime import InstancePool
from sluice.local.resources import LocalResources
from sluice.local.template import LocalTemplate

TOOL_GOAL = "Use a tool to draft a reply to a customer whose order is late."


def install_tool(account_id: str, starter_id: str = "support-reply") -> str:
    account = account_store.get_account(account_id)
    assert account is not None
    return tools.install(account, InstallTool(starter_id=starter_id)).tool_id


# The worker's tests run on a Pro account with a starter tool. The upstream is the simulator: it
# calls the first tool offered when the last user message says "tool" (the goal at step 1, the
# budget note of later steps) and answers when the note asks for the final answer (the last step
# of the budget). A 3-step budget therefore gives: tool call, tool call, answer. Each model turn
# costs 1 credit (qwen3), each tool run 1 (the starter tool's ``auto``).
ACCOUNT = "acct_pro"


@pytest.fixture(name="tool")
def _tool(chat_world) -> str:
    """A starter tool installed on ``ACCOUNT``; its id (import as ``_tool``; use as ``tool``)."""
    return install_tool(ACCOUNT)


def start_run(account_id: str, **fields: Any) -> AgentRun:
    account = account_store.get_account(account_id)
    assert account is not None
    body = CreateRun.model_validate({"goal": TOOL_GOAL, "model": "qwen3", **fields})
    return service.create_run(account, body, "api_key")


def run_of(run_id: str) -> AgentRun:
    run = agent_store.get_run(run_id)
    assert run is not None
    return run


def steps_of(run_id: str) -> list[StepRecord]:
    return sorted(agent_store.list_steps(run_id), key=lambda s: s.step)


def run_items(run_id: str) -> list[dict[str, Any]]:
    """Every item of the run (state and steps), as stored."""
    page = dynamodb().query(
        TableName=get_settings().agent_runs_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"RUN#{run_id}"}},
        ConsistentRead=True,
    )
    return [from_item(i) for i in page["Items"]]


def queue_depth(url: str) -> int:
    attrs = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@dataclass
class Worker:
    """The AgentWorkerFunction behind its queue, driven by the test."""

    aws: LocalResources
    pool: InstancePool
    poller: SqsPoller
    outcomes: list[Any] = field(default_factory=list)

    @property
    def queue(self) -> str:
        return self.aws.names["AgentRunsQueue"]

    @property
    def dead_letters(self) -> str:
        return self.aws.names["AgentRunsDeadLetterQueue"]

    def receive(self) -> dict[str, Any] | None:
        """One message of the queue, left on it (the test decides what to do with it)."""
        messages = boto3.client("sqs", region_name="us-east-1").receive_message(
            QueueUrl=self.queue, MaxNumberOfMessages=1, AttributeNames=["All"]
        )
        found = messages.get("Messages", [])
        return found[0] if found else None

    def deliver(self, message: dict[str, Any]) -> Any:
        """Invoke the handler with ``message`` (as often as a test likes), without deleting it."""
        return self.pool.invoke_blocking(sqs_event([message], self.aws.arns["AgentRunsQueue"]))

    def delete(self, message: dict[str, Any]) -> None:
        boto3.client("sqs", region_name="us-east-1").delete_message(
            QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"]
        )

    def drain(self, until: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll as the event-source mapping does until ``until()`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until():
            if not self.poller.poll_once():
                time.sleep(0.1)
        assert until(), "condition not reached in time"


@contextmanager
def agent_worker(aws: LocalResources, template: LocalTemplate) -> Iterator[Worker]:
    spec = template.functions["AgentWorkerFunction"]
    [mapping] = [m for m in template.queue_mappings if m.function == "AgentWorkerFunction"]
    pool = InstancePool(spec, instances=1)
    sqs = boto3.client("sqs", region_name="us-east-1")
    poller = SqsPoller(mapping, aws.names["AgentRunsQueue"], aws.arns["AgentRunsQueue"], pool, sqs)
    try:
        yield Worker(aws, pool, poller)
    finally:
        pool.shutdown()


def body_of(message: dict[str, Any]) -> dict[str, Any]:
    return json.loads(message["Body"])


def ended(run_id: str) -> Callable[[], bool]:
    return lambda: run_of(run_id).status in ("succeeded", "failed", "cancelled")


def settle_usage(world) -> list[dict]:
    """Run the usage consumer over every queued usage event (charges or releases each call)."""
    from functions.usage.app import handler

    events = queued_usage_events(world.usage_queue)
    if events:
        result = handler(sqs_records([json.dumps(e) for e in events]), LambdaContext())
        assert result == {"batchItemFailures": []}
    return events
