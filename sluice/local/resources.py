"""Create template.yaml's tables and queues in the embedded AWS and resolve references to them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sluice.local.template import LocalTemplate

REGION = "us-east-1"
ACCOUNT = "123456789012"
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


@dataclass
class LocalResources:
    """Physical names of the template's resources in the embedded AWS."""

    template: LocalTemplate
    prefix: str = "sluice-local"
    parameters: dict[str, str] = field(default_factory=dict)
    local_visibility_timeout: int = 2
    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)

    def physical_name(self, logical_id: str) -> str:
        return f"{self.prefix}-{logical_id}"

    def provision(self, dynamodb: Any, sqs: Any) -> None:
        """Create every table and queue of the template (idempotently)."""
        existing = set(dynamodb.list_tables().get("TableNames", []))
        for logical_id, props in self.template.resources("AWS::DynamoDB::Table").items():
            name = self.physical_name(logical_id)
            self.names[logical_id] = name
            self.arns[logical_id] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if name not in existing:
                self._create_table(dynamodb, name, props)
        queues = self.template.resources("AWS::SQS::Queue")
        # Dead-letter queues first: a queue's redrive policy needs its DLQ's ARN.
        for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):
            self._create_queue(sqs, logical_id, queues[logical_id])

    def _create_table(self, dynamodb: Any, name: str, props: dict[str, Any]) -> None:
        spec = {k: props[k] for k in _TABLE_KEYS if k in props}
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **spec)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )

    def _create_queue(self, sqs: Any, logical_id: str, props: dict[str, Any]) -> None:
        name = self.physical_name(logical_id)
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            # Deployed queues hold a failed message for >= 6x the function timeout; locally that
            # would stall retries for minutes, so the local stack shortens it (and says so).
            attributes["VisibilityTimeout"] = str(
                min(int(props["VisibilityTimeout"]), self.local_visibility_timeout)
            )
        if "MessageRetentionPeriod" in props:
            attributes["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": self.resolve(policy["deadLetterTargetArn"]),
                    "maxReceiveCount": int(policy["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.names[logical_id] = url
        self.arns[logical_id] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"

    def resolve(self, value: Any) -> Any:
        """Resolve !Ref, !GetAtt and !Sub against local names and parameter values."""
        if isinstance(value, dict) and "Ref" in value:
            return self._ref(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute == "Arn":
                return self.arns[logical_id]
            if attribute in ("QueueName", "TableName"):
                return self.names[logical_id].rsplit("/", 1)[-1]
            raise ValueError(f"unsupported attribute {attribute} of {logical_id}")
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]
            return re.sub(r"\$\{([\w:.]+)\}", lambda m: str(self._ref(m.group(1))), text)
        return value

    def _ref(self, name: str) -> str:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.names:
            return self.names[name]
        if name in self.parameters:
            return self.parameters[name]
        parameter = self.template.document.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        return self.physical_name(name)

    def environment(self, function: str | None = None) -> dict[str, str]:
        """Environment variables of a function (Globals merged with its own), resolved."""
        env = dict(self.template.global_environment)
        if function is not None:
            env.update(self.template.functions[function].environment)
        return {key: str(self.resolve(value)) for key, value in env.items()}
