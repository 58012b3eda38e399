"""``sluice dlq list|peek|redrive``: the dead-letter queues of the usage, contact and agent-run queues.

Queue URLs: ``SLUICE_<QUEUE>_QUEUE_URL`` and ``SLUICE_<QUEUE>_DEAD_LETTER_QUEUE_URL`` when set
(``--stack NAME`` sets them from the stack's outputs); else, against the local stack, the queues
template.yaml declares, by their local names. What a redrive of each queue does:
docs/OPERATIONS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

from sluice.cli.commands import at_least_one

LONG_POLL_S = 2  # deployed: a short poll may miss messages of a small queue; the local moto never waits
DEFAULT_PEEK = 10
MAX_FIELD_CHARS = 128  # ids are shorter (a request id: at most 128)
# Printed text never carries anything shaped like a key's secret part (43 base-62 characters in a row).
_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{43,}(?![A-Za-z0-9])")


# A usage event's ids, outcome and credits (shared/usage/events.py); never a key or prompt text anyway.
USAGE_FIELDS = (
    "request_id",
    "account_id",
    "key_id",
    "tool_id",
    "endpoint",
    "public_model",
    "outcome",
    "status",
    "error_code",
    "credits",
    "charged",
    "created_at_ms",
)


@dataclass(frozen=True)
class QueuePair:
    """A queue with a consumer, and the dead-letter queue its redrive policy names."""

    name: str
    source: str  # logical id in template.yaml
    dead_letter: str
    source_env: str
    dead_letter_env: str
    fields: tuple[str, ...]  # body fields a peek shows by default: ids, types and counts, no text


QUEUES = (
    QueuePair(
        "usage",
        "UsageQueue",
        "UsageDeadLetterQueue",
        "SLUICE_USAGE_QUEUE_URL",
        "SLUICE_USAGE_DEAD_LETTER_QUEUE_URL",
        USAGE_FIELDS,
    ),
    QueuePair(
        "contact",
        "ContactQueue",
        "ContactDeadLetterQueue",
        "SLUICE_CONTACT_QUEUE_URL",
        "SLUICE_CONTACT_DEAD_LETTER_QUEUE_URL",
        ("contact_id",),
    ),
    QueuePair(
        "agent-runs",
        "AgentRunsQueue",
        "AgentRunsDeadLetterQueue",
        "SLUICE_AGENT_RUNS_QUEUE_URL",
        "SLUICE_AGENT_RUNS_DEAD_LETTER_QUEUE_URL",
        ("run_id", "step"),
    ),
)
BY_NAME = {pair.name: pair for pair in QUEUES}


def redact(text: str) -> str:
    return _SECRET_SHAPE.sub("[redacted]", text)


def _sqs() -> Any:
    from shared.adapters.aws import sqs

    return sqs()


def _wait_s() -> int:
    """Long polling on AWS; none against an endpoint override (the local stack's single-threaded moto)."""
    return 0 if os.environ.get("AWS_ENDPOINT_URL") else LONG_POLL_S


@functools.cache
def _local_resources() -> Any:
    """The local stack's resources, read from template.yaml once per command (``list`` names six queues)."""
    from sluice.local.resources import LocalResources
    from sluice.local.template import parse_template

    return LocalResources(parse_template())


def queue_url(env_name: str, logical_id: str) -> str:
    """The variable's URL; else, against the local stack, the local queue of that logical id."""
    url = os.environ.get(env_name)
    if url:
        return url
    if os.environ.get("SLUICE_ENVIRONMENT") == "local":
        name = _local_resources().physical_name(logical_id)
        return str(_sqs().get_queue_url(QueueName=name)["QueueUrl"])
    raise SystemExit(f"no {env_name}: use --stack NAME or --local, or set it (with --env)")


def _aws_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SQS operation; an AWS error ends the command with its message."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call(*args, **kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SystemExit(f"error: {error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise SystemExit(f"error: {exc}") from exc


def dlq_list(args: argparse.Namespace) -> None:
    from sluice.cli.dead_letters import depth

    sqs = _sqs()
    print(f"{'queue':12} {'in DLQ':>8} {'DLQ hidden':>10} {'queued':>8} {'in flight':>9}")
    for pair in QUEUES:
        dead = _aws_call(depth, sqs, queue_url(pair.dead_letter_env, pair.dead_letter))
        source = _aws_call(depth, sqs, queue_url(pair.source_env, pair.source))
        queued = source.waiting + source.delayed
        print(f"{pair.name:12} {dead.waiting:>8} {dead.in_flight:>10} {queued:>8} {source.in_flight:>9}")


def _age(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02}h" if days else f"{hours}h{minutes:02}m" if hours else f"{minutes}m{secs:02}s"


def _scalar(value: Any) -> Any:
    """A known field as printed without ``--bodies``: a short scalar, never a nested document."""
    if isinstance(value, str):
        return value if len(value) <= MAX_FIELD_CHARS else value[:MAX_FIELD_CHARS] + "..."
    if value is None or isinstance(value, bool | int | float):
        return value
    return f"<{type(value).__name__}>"


def describe(pair: QueuePair, message: dict[str, Any], *, body: bool, now_s: float) -> dict[str, Any]:
    """What a peek prints of one message: ids, times and sizes; its body only when asked."""
    attributes = message.get("Attributes") or {}
    text = str(message.get("Body", ""))
    sent_s = int(attributes.get("SentTimestamp", 0)) / 1000
    entry: dict[str, Any] = {
        "message_id": message["MessageId"],
        "sent_at": dt.datetime.fromtimestamp(sent_s, dt.UTC).isoformat(timespec="seconds"),
        "age": _age(max(0.0, now_s - sent_s)),
        "receives": int(attributes.get("ApproximateReceiveCount", 0)),
        "bytes": len(text.encode("utf-8")),
        "message_attributes": sorted(message.get("MessageAttributes") or {}),
    }
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        entry["fields"] = {name: _scalar(parsed[name]) for name in pair.fields if name in parsed}
        entry["other_fields"] = sorted(set(parsed) - set(pair.fields))
    else:
        entry["fields"] = None  # not a JSON object: a message its consumer can never parse
    if body:
        entry["body"] = text if parsed is None else parsed
    return entry


def dlq_peek(args: argparse.Namespace) -> None:
    from sluice.cli.dead_letters import peek

    pair = BY_NAME[args.queue]
    url = queue_url(pair.dead_letter_env, pair.dead_letter)
    messages = _aws_call(peek, _sqs(), url, args.max, wait_s=_wait_s())
    now_s = time.time()
    shown = [describe(pair, m, body=args.bodies, now_s=now_s) for m in messages]
    print(redact(json.dumps(shown, indent=2, default=str, ensure_ascii=False)))


def dlq_redrive(args: argparse.Namespace) -> None:
    from sluice.cli.dead_letters import depth, redrive

    pair = BY_NAME[args.queue]
    sqs = _sqs()
    dead_letter_url = queue_url(pair.dead_letter_env, pair.dead_letter)
    source_url = queue_url(pair.source_env, pair.source)
    # Without --max: the messages there now, so that one failing again cannot keep the loop going.
    limit = args.max if args.max is not None else _aws_call(depth, sqs, dead_letter_url).waiting
    result = _aws_call(redrive, sqs, dead_letter_url, source_url, limit, wait_s=_wait_s())
    left = _aws_call(depth, sqs, dead_letter_url)
    print(f"{pair.name}: moved {result.moved} message(s) back to the queue; {left.waiting} left in its DLQ")
    if result.stopped:
        print(f"error: stopped early: {result.stopped}", file=sys.stderr)
        raise SystemExit(1)


def register(sub: Any) -> None:
    """Add ``sluice dlq ...`` to the ``sluice`` parser."""
    dlq = sub.add_parser(
        "dlq", help="inspect and redrive the dead-letter queues (usage, contact, agent-runs)"
    ).add_subparsers(required=True)
    p = dlq.add_parser("list", help="each dead-letter queue's and its source queue's message counts")
    p.set_defaults(run=dlq_list)
    names = list(BY_NAME)
    p = dlq.add_parser("peek", help="ids, ages and sizes of messages in a dead-letter queue (left there)")
    p.add_argument("queue", choices=names)
    p.add_argument(
        "--max", type=at_least_one, default=DEFAULT_PEEK, help=f"at most N messages ({DEFAULT_PEEK})"
    )
    p.add_argument("--bodies", action="store_true", help="print each message's body too")
    p.set_defaults(run=dlq_peek)
    p = dlq.add_parser("redrive", help="move a dead-letter queue's messages back to their queue")
    p.add_argument("queue", choices=names)
    p.add_argument("--max", type=at_least_one, help="at most N messages (default: those there now)")
    p.set_defaults(run=dlq_redrive)
