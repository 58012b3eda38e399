"""Which stack the CLI talks to: the local stack, a deployed stack, or the environment as it is.

- ``--local`` (default when ``.sluice/local.env`` exists): the moto endpoint the local stack wrote,
  and the local table names.
- ``--stack NAME``: table and queue names from the CloudFormation stack's outputs.
- otherwise: ``SLUICE_*_TABLE`` (and ``SLUICE_*_QUEUE_URL``) variables already in the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

LOCAL_ENV = Path(".sluice/local.env")  # written by the local stack (``make dev``) where it runs

OUTPUT_TO_ENV = {
    "KeysTableName": "SLUICE_KEYS_TABLE",
    "AccountsTableName": "SLUICE_ACCOUNTS_TABLE",
    "CatalogTableName": "SLUICE_CATALOG_TABLE",
    "LimitsTableName": "SLUICE_LIMITS_TABLE",
    "LedgerTableName": "SLUICE_LEDGER_TABLE",
    "UsageTableName": "SLUICE_USAGE_TABLE",
    "UsageQueueUrl": "SLUICE_USAGE_QUEUE_URL",
    # the queues and dead-letter queues of ``sluice dlq`` (sluice/cli/dlq.py)
    "UsageDeadLetterQueueUrl": "SLUICE_USAGE_DEAD_LETTER_QUEUE_URL",
    "ContactQueueUrl": "SLUICE_CONTACT_QUEUE_URL",
    "ContactDeadLetterQueueUrl": "SLUICE_CONTACT_DEAD_LETTER_QUEUE_URL",
    "AgentRunsQueueUrl": "SLUICE_AGENT_RUNS_QUEUE_URL",
    "AgentRunsDeadLetterQueueUrl": "SLUICE_AGENT_RUNS_DEAD_LETTER_QUEUE_URL",
}


def local_values(env_file: Path) -> dict[str, str]:
    """``SLUICE_BASE_URL``, ``SLUICE_API_KEY`` and ``SLUICE_AWS_ENDPOINT_URL`` of the local stack."""
    if not env_file.exists():
        raise SystemExit(f"{env_file} not found: start the local stack with `make dev` first")
    lines = env_file.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def use_local(env_file: Path) -> None:
    """Point boto3 at the local stack's moto server and its tables (named from template.yaml)."""
    values = local_values(env_file)
    from sluice.local.resources import LocalResources
    from sluice.local.stack import LOCAL_AWS_ENV
    from sluice.local.template import parse_template

    os.environ.update({**LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": values["SLUICE_AWS_ENDPOINT_URL"]})
    template = parse_template()
    resources = LocalResources(template)
    for logical_id in template.resources("AWS::DynamoDB::Table"):
        resources.names[logical_id] = resources.physical_name(logical_id)
    env = resources.environment()
    os.environ.update({k: v for k, v in env.items() if k.endswith("_TABLE") or k == "SLUICE_KEY_PREFIX"})


def use_stack(stack_name: str) -> None:
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        env = OUTPUT_TO_ENV.get(output["OutputKey"])
        if env:
            os.environ[env] = output["OutputValue"]
