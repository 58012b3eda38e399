"""The agent runs queue: one message per step to run, and the retry backoff of a failed one."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.aws import sqs
from shared.agents.models import StepMessage
from shared.observability import get_logger
from shared.settings import get_settings

MAX_VISIBILITY_S = 43_200  # SQS's limit (12 hours)


def send_step(run_id: str, step: int) -> None:
    """Ask the worker to run ``step`` of the run (raises if SQS refuses: the caller retries)."""
    body = StepMessage(run_id=run_id, step=step).model_dump_json()
    sqs().send_message(QueueUrl=get_settings().agent_runs_queue_url, MessageBody=body)


def set_visibility(receipt_handle: str, seconds: int) -> None:
    """Keep a received message invisible for ``seconds`` more (best effort): as long as its step's
    lease while it runs, then the retry backoff if it failed.

    If this fails, the queue's own visibility timeout applies.
    """
    try:
        sqs().change_message_visibility(
            QueueUrl=get_settings().agent_runs_queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_S)),
        )
    except (BotoCoreError, ClientError) as error:
        get_logger().warning("message visibility not set", extra={"error": type(error).__name__})
