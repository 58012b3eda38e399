"""template.yaml: valid, lint-clean, buildable, and the source of the local schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from sluice.local.resources import LocalResources
from sluice.local.template import LocalTemplate

REPO = Path(__file__).resolve().parents[2]


def sam_cli() -> str:
    candidate = os.environ.get("SAM_CLI") or str(REPO / ".tools/sam/bin/sam")
    assert Path(candidate).exists(), "aws-sam-cli is missing: run `make test` (it installs .tools/sam)"
    return candidate


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        args, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_sam_validate_lint_is_clean() -> None:
    result = run(sam_cli(), "validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_reports_no_error_or_warning() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is a dev dependency"
    result = run(cfn_lint, "--format", "parseable", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_sam_build_succeeds(tmp_path: Path) -> None:
    result = run(sam_cli(), "build", "--build-dir", str(tmp_path / "build"), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = tmp_path / "build" / "SluiceLayer" / "python"
    assert (layer / "shared" / "errors.py").exists(), "the layer ships the shared package"
    assert (layer / "starlette").is_dir() and (layer / "mangum").is_dir()


def test_local_tables_equal_the_template(aws: LocalResources, template: LocalTemplate) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    declared = template.resources("AWS::DynamoDB::Table")
    assert declared, "the template declares tables"
    for logical_id, props in declared.items():
        table = dynamodb.describe_table(TableName=aws.names[logical_id])["Table"]
        assert table["KeySchema"] == props["KeySchema"], logical_id
        assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
            props["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        ), logical_id
        local_gsis = {g["IndexName"]: g["KeySchema"] for g in table.get("GlobalSecondaryIndexes", [])}
        assert local_gsis == {g["IndexName"]: g["KeySchema"] for g in props.get("GlobalSecondaryIndexes", [])}
        ttl = dynamodb.describe_time_to_live(TableName=aws.names[logical_id])["TimeToLiveDescription"]
        spec = props.get("TimeToLiveSpecification")
        if spec:
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": spec["AttributeName"]}, logical_id
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED", logical_id


def test_every_queue_with_a_consumer_has_a_dead_letter_queue(
    aws: LocalResources, template: LocalTemplate
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queues = template.resources("AWS::SQS::Queue")
    dead_letter = {
        p["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for p in queues.values()
        if "RedrivePolicy" in p
    }
    for logical_id, props in queues.items():
        if logical_id in dead_letter:
            continue
        assert "RedrivePolicy" in props, f"{logical_id} has no DLQ"
        attrs = sqs.get_queue_attributes(QueueUrl=aws.names[logical_id], AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]
        policy = json.loads(attrs["RedrivePolicy"])
        assert policy["maxReceiveCount"] == props["RedrivePolicy"]["maxReceiveCount"]
        assert policy["deadLetterTargetArn"].endswith(
            aws.names[props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]].rsplit("/", 1)[-1]
        )


def test_sqs_visibility_timeout_is_at_least_six_times_the_consumer_timeout(template: LocalTemplate) -> None:
    """AWS's guidance for a Lambda consumer: six times the function's timeout, plus the batching
    window."""
    globals_timeout = template.document["Globals"]["Function"]["Timeout"]
    queues = template.resources("AWS::SQS::Queue")
    for mapping in template.queue_mappings:
        function = template.document["Resources"][mapping.function]["Properties"]
        timeout = function.get("Timeout", globals_timeout)
        assert queues[mapping.queue]["VisibilityTimeout"] >= 6 * timeout + mapping.window_seconds, (
            mapping.queue
        )


def test_every_api_route_has_a_sample_event(template: LocalTemplate) -> None:
    events_root = REPO / "events"
    samples = set()
    for path in events_root.rglob("*.json"):
        event = json.loads(path.read_text())
        if "httpMethod" in event:
            samples.add((path.parent.name, event["resource"], event["httpMethod"]))
    for route in template.routes:
        folder = Path(template.functions[route.function].code_uri).name
        assert (folder, route.path, route.method) in samples, (
            f"no event for {route.method} {route.path} in events/{folder}"
        )


def test_no_function_logs_events_or_bodies(template: LocalTemplate) -> None:
    env = template.global_environment
    assert env.get("POWERTOOLS_LOGGER_LOG_EVENT") == "false"
    for spec in template.functions.values():
        assert spec.environment.get("POWERTOOLS_LOGGER_LOG_EVENT", "false") == "false"


@pytest.mark.parametrize(
    "spelling", ["ResponseTransferMode: STREAM", "ResponseTransferMode: BUFFERED", "responseTransferMode"]
)
def test_streaming_is_spelled_the_one_way_sam_understands(spelling: str) -> None:
    assert spelling not in (REPO / "template.yaml").read_text()


def test_function_code_imports_only_the_layer(template: LocalTemplate) -> None:
    """Deployed, a function directory is its code root: it imports ``shared``, never ``functions``."""
    for spec in template.functions.values():
        for source in (REPO / spec.code_uri).glob("*.py"):
            text = source.read_text()
            assert "from functions" not in text and "import functions" not in text, source


@pytest.fixture(scope="module")
def translated() -> dict:
    """template.yaml as SAM translates it (samtranslator lives in aws-sam-cli's environment)."""
    python = Path(sam_cli()).parent / "python"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [str(python), str(REPO / "tests/infrastructure/translate_template.py"), str(REPO / "template.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _integrations(translated: dict) -> dict[tuple[str, str], dict]:
    paths = translated["Resources"]["SluiceApi"]["Properties"]["Body"]["paths"]
    return {
        (path, method.upper()): op["x-amazon-apigateway-integration"]
        for path, ops in paths.items()
        for method, op in ops.items()
        if isinstance(op, dict) and "x-amazon-apigateway-integration" in op
    }


def test_streaming_routes_use_response_streaming_invocations(
    template: LocalTemplate, translated: dict
) -> None:
    integrations = _integrations(translated)
    streaming = [r for r in template.routes if template.functions[r.function].streaming]
    assert streaming, "the chat routes stream"
    for route in streaming:
        integration = integrations[(route.path, route.method)]
        assert integration["uri"]["Fn::Sub"].endswith("/response-streaming-invocations"), route.path
        assert integration["responseTransferMode"] == "STREAM", route.path
        assert route.streaming, (
            f"{route.path}: its function runs the web adapter but the event does not stream"
        )


def test_buffered_routes_use_plain_invocations(template: LocalTemplate, translated: dict) -> None:
    integrations = _integrations(translated)
    for route in template.routes:
        if not template.functions[route.function].streaming:
            assert integrations[(route.path, route.method)]["uri"]["Fn::Sub"].endswith("/invocations")


def test_streaming_functions_run_under_the_lambda_web_adapter(template: LocalTemplate) -> None:
    for spec in template.functions.values():
        if spec.streaming:
            assert spec.environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
            assert spec.handler == "run.sh"
            assert (REPO / spec.code_uri / "run.sh").stat().st_mode & 0o111, "run.sh is executable"


_LIMITED = ("enforce(", "execute_call(", "handle_chat(")


def _grants_limit_updates(policies: list) -> bool:
    for policy in policies:
        if not isinstance(policy, dict):
            continue
        crud = policy.get("DynamoDBCrudPolicy")
        if crud and crud.get("TableName") == {"Ref": "LimitsTable"}:
            return True
        for statement in policy.get("Statement", []):
            actions = statement.get("Action", [])
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if "dynamodb:UpdateItem" in actions and {"Fn::GetAtt": ["LimitsTable", "Arn"]} in resources:
                return True
    return False


def test_every_rate_limited_function_may_update_the_limits_table(template: LocalTemplate) -> None:
    """A route that counts requests needs UpdateItem on the limits table, and nothing broader."""
    for name, spec in template.functions.items():
        code = "".join(p.read_text() for p in (REPO / spec.code_uri).glob("*.py"))
        if any(call in code for call in _LIMITED):
            policies = template.document["Resources"][name]["Properties"].get("Policies", [])
            assert _grants_limit_updates(policies), f"{name} is rate limited but cannot update LimitsTable"


def _bedrock_statements(document: dict) -> list[dict]:
    found = []
    for resource in document["Resources"].values():
        props = resource.get("Properties", {})
        documents = [p for p in props.get("Policies", []) if isinstance(p, dict)]
        documents += [props["PolicyDocument"]] if "PolicyDocument" in props else []
        for policy in documents:
            found += [s for s in policy.get("Statement", []) if "bedrock:InvokeModel" in s.get("Action", [])]
    return found


def test_bedrock_grants_cover_every_model_id_a_route_may_name(template: LocalTemplate) -> None:
    """A Bedrock route may name a foundation model, a system or an application inference profile
    (a route's ``family`` names the model behind the last: shared/providers/bedrock_request.py), in
    its own region (``route.region``): each grant covers all three, in any region, for this
    account's profiles."""
    statements = _bedrock_statements(template.document)
    assert len(statements) == 2  # the chat function, and the policy of the dashboard's chat
    for statement in statements:
        arns = {r["Fn::Sub"] for r in statement["Resource"]}
        assert arns == {
            "arn:${AWS::Partition}:bedrock:*::foundation-model/*",
            "arn:${AWS::Partition}:bedrock:*:${AWS::AccountId}:inference-profile/*",
            "arn:${AWS::Partition}:bedrock:*:${AWS::AccountId}:application-inference-profile/*",
        }


def test_api_gateways_own_errors_carry_the_cors_origin(template: LocalTemplate, translated: dict) -> None:
    """A 401 from the Cognito authorizer, a 429 from throttling or a 504 reach a browser as errors
    it can read, with the same origin header as the functions' answers, not as CORS failures."""
    origin = template.document["Resources"]["SluiceApi"]["Properties"]["Cors"]["AllowOrigin"]
    body = translated["Resources"]["SluiceApi"]["Properties"]["Body"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        response = body["x-amazon-apigateway-gateway-responses"][kind]
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == origin
