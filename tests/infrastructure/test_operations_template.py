"""template.yaml facts of operations (docs/OPERATIONS.md): every dead-letter queue and every function
whose failure loses work silently has an alarm, every alarm reaches the one topic, the email
subscription exists only when its parameter is set, and `sluice dlq` knows every queue pair."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.credits.expiry import STALE_AFTER
from sluice.cli.dlq import QUEUES
from sluice.cli.target import OUTPUT_TO_ENV
from sluice.local.template import LocalTemplate

REPO = Path(__file__).resolve().parents[2]
TOPIC = {"Ref": "AlarmTopic"}
# Functions whose failure no client sees: SQS consumers and the scheduled credit job.
SILENT_FUNCTIONS = {"UsageFunction", "AgentWorkerFunction", "ContactNotifierFunction", "CreditExpiryFunction"}


def alarms(template: LocalTemplate) -> dict[str, dict[str, Any]]:
    return template.resources("AWS::CloudWatch::Alarm")


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def alarms_on(template: LocalTemplate, metric: str, name: str, value: Any) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in alarms(template).values()
        if alarm["MetricName"] == metric and dimensions(alarm).get(name) == value
    ]


def dead_letter_queues(template: LocalTemplate) -> dict[str, str]:
    """Each queue with a redrive policy, and the dead-letter queue it names."""
    return {
        name: props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for name, props in template.resources("AWS::SQS::Queue").items()
        if "RedrivePolicy" in props
    }


def evaluate(condition: Any, parameters: dict[str, str]) -> Any:
    """The value of a condition built from Fn::Not, Fn::Equals and Ref (all this template uses)."""
    if isinstance(condition, dict) and "Fn::Not" in condition:
        return not evaluate(condition["Fn::Not"][0], parameters)
    if isinstance(condition, dict) and "Fn::Equals" in condition:
        left, right = (evaluate(side, parameters) for side in condition["Fn::Equals"])
        return left == right
    if isinstance(condition, dict) and "Ref" in condition:
        return parameters[condition["Ref"]]
    return condition


def test_the_alarm_topic_is_one_sns_topic_and_an_output(template: LocalTemplate) -> None:
    assert set(template.resources("AWS::SNS::Topic")) == {"AlarmTopic"}
    assert template.document["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC


def test_every_alarm_notifies_the_topic_both_ways_and_chooses_its_missing_data(
    template: LocalTemplate,
) -> None:
    assert len(alarms(template)) >= 10
    for name, alarm in alarms(template).items():
        assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC], name
        assert alarm["TreatMissingData"] == "notBreaching", f"{name}: an idle resource is not failing"
        assert "docs/OPERATIONS.md" in alarm["AlarmDescription"], f"{name} names its runbook"


def test_every_dead_letter_queue_alarms_on_its_first_message(template: LocalTemplate) -> None:
    dead_letters = set(dead_letter_queues(template).values())
    assert dead_letters == {"UsageDeadLetterQueue", "ContactDeadLetterQueue", "AgentRunsDeadLetterQueue"}
    for queue in dead_letters:
        queue_name = {"Fn::GetAtt": [queue, "QueueName"]}
        [alarm] = alarms_on(template, "ApproximateNumberOfMessagesVisible", "QueueName", queue_name)
        assert alarm["Namespace"] == "AWS/SQS" and alarm["Statistic"] == "Maximum"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0, queue
        assert alarm["EvaluationPeriods"] == 1, f"{queue}: one message is enough"


def test_the_usage_queue_alarms_before_reservations_go_stale(template: LocalTemplate) -> None:
    queue_name = {"Fn::GetAtt": ["UsageQueue", "QueueName"]}
    [alarm] = alarms_on(template, "ApproximateAgeOfOldestMessage", "QueueName", queue_name)
    parameter = template.document["Parameters"]["UsageQueueAgeAlarmSeconds"]

    assert alarm["Threshold"] == {"Ref": "UsageQueueAgeAlarmSeconds"}
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert parameter["Default"] < parameter["MaxValue"] <= STALE_AFTER.total_seconds(), (
        "the operator hears of a stuck usage event before the credit job releases its reservation"
    )


@pytest.mark.parametrize("function", sorted(SILENT_FUNCTIONS))
def test_a_function_that_fails_silently_alarms_on_its_first_error(
    template: LocalTemplate, function: str
) -> None:
    [alarm] = alarms_on(template, "Errors", "FunctionName", {"Ref": function})

    assert alarm["Namespace"] == "AWS/Lambda" and alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def test_every_queue_consumer_and_schedule_is_among_the_alarmed_functions(template: LocalTemplate) -> None:
    background = {m.function for m in template.queue_mappings} | {s.function for s in template.schedules}
    assert background == SILENT_FUNCTIONS


def test_chat_throttles_and_api_server_errors_alarm(template: LocalTemplate) -> None:
    [throttles] = alarms_on(template, "Throttles", "FunctionName", {"Ref": "ChatFunction"})
    [server_errors] = [a for a in alarms(template).values() if a["MetricName"] == "5XXError"]

    assert throttles["Namespace"] == "AWS/Lambda" and throttles["Threshold"] == 0
    assert server_errors["Namespace"] == "AWS/ApiGateway"
    assert dimensions(server_errors) == {"ApiName": {"Ref": "AWS::StackName"}, "Stage": {"Ref": "Stage"}}
    assert server_errors["Statistic"] == "Average" and 0 < server_errors["Threshold"] < 1, "a share"


@pytest.mark.parametrize(("email", "subscribed"), [("", False), ("ops@example.com", True)])
def test_the_email_subscription_exists_only_with_an_alarm_email(
    template: LocalTemplate, email: str, subscribed: bool
) -> None:
    resource = template.document["Resources"]["AlarmEmailSubscription"]
    parameter = template.document["Parameters"]["AlarmEmail"]
    condition = template.document["Conditions"][resource["Condition"]]

    assert parameter["Default"] == "", "no subscription unless the operator asks for one"
    assert evaluate(condition, {"AlarmEmail": email}) is subscribed
    assert resource["Type"] == "AWS::SNS::Subscription"
    assert resource["Properties"] == {
        "TopicArn": TOPIC,
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


def test_sluice_dlq_knows_every_queue_pair_and_finds_its_urls_in_the_outputs(template: LocalTemplate) -> None:
    outputs = template.document["Outputs"]

    assert {pair.source: pair.dead_letter for pair in QUEUES} == dead_letter_queues(template)
    for pair in QUEUES:
        for logical_id, env in ((pair.source, pair.source_env), (pair.dead_letter, pair.dead_letter_env)):
            assert outputs[f"{logical_id}Url"]["Value"] == {"Ref": logical_id}
            assert OUTPUT_TO_ENV[f"{logical_id}Url"] == env, "`sluice --stack` sets the URL the CLI reads"


def test_sam_names_the_rest_api_after_the_stack_and_keeps_the_subscription_conditional() -> None:
    """What the 5XXError alarm's ApiName dimension relies on, in the template SAM deploys."""
    python = Path(os.environ.get("SAM_CLI") or REPO / ".tools/sam/bin/sam").parent / "python"
    translated = subprocess.run(
        [str(python), str(REPO / "tests/infrastructure/translate_template.py"), str(REPO / "template.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=120,
        check=True,
    )
    resources = json.loads(translated.stdout)["Resources"]

    assert resources["SluiceApi"]["Properties"]["Body"]["info"]["title"] == {"Ref": "AWS::StackName"}
    assert "Name" not in resources["SluiceApi"]["Properties"]
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
