"""template.yaml facts of the dashboard functions: auth per route, streaming, queues, tables, secrets."""

from __future__ import annotations

from typing import Any

from sluice.local.template import LocalTemplate

COGNITO = {
    ("ToolsFunction", "/api/tools/starter", "GET"),
    ("ToolsFunction", "/api/tools", "GET"),
    ("ToolsFunction", "/api/tools", "POST"),
    ("ToolsFunction", "/api/tools/{tool_id}", "GET"),
    ("ToolsFunction", "/api/tools/{tool_id}", "PATCH"),
    ("ToolsFunction", "/api/tools/{tool_id}", "DELETE"),
    ("ToolsFunction", "/api/tools/{tool_id}/runs", "GET"),
    ("ToolsFunction", "/api/tools/proxy/chat", "POST"),
    ("WorkspaceFunction", "/api/internal/chat", "POST"),
    ("PlaygroundFunction", "/api/playground/token", "POST"),
}
PLAYGROUND_TOKEN = {
    ("PlaygroundFunction", "/api/playground/chat", "POST"),
    ("PlaygroundFunction", "/api/playground/sessions", "GET"),
    ("PlaygroundFunction", "/api/playground/sessions", "POST"),
    ("PlaygroundFunction", "/api/playground/sessions/{session_id}/messages", "GET"),
    ("PlaygroundFunction", "/api/playground/sessions/{session_id}/export", "GET"),
}


def resource(template: LocalTemplate, name: str) -> dict[str, Any]:
    return template.document["Resources"][name]


def test_each_route_has_the_auth_it_needs(template: LocalTemplate) -> None:
    functions = ("ToolsFunction", "WorkspaceFunction", "PlaygroundFunction", "ContactFunction")
    routes = {(r.function, r.path, r.method): r for r in template.routes if r.function in functions}

    assert set(routes) == COGNITO | PLAYGROUND_TOKEN | {("ContactFunction", "/api/contact", "POST")}
    for key, route in routes.items():
        assert route.authorized == (key in COGNITO), key


def test_the_chat_shaped_functions_stream_and_contact_is_buffered(template: LocalTemplate) -> None:
    for name in ("ToolsFunction", "WorkspaceFunction", "PlaygroundFunction"):
        spec = template.functions[name]
        assert spec.streaming and spec.handler == "run.sh"
        assert all(r.streaming for r in template.routes if r.function == name)
    assert not template.functions["ContactFunction"].streaming
    assert template.functions["ContactFunction"].handler == "app.handler"


def test_the_contact_queue_feeds_the_notifier_with_partial_failures_and_a_dlq(
    template: LocalTemplate,
) -> None:
    [mapping] = [m for m in template.queue_mappings if m.function == "ContactNotifierFunction"]
    queue = resource(template, "ContactQueue")["Properties"]

    assert mapping.queue == "ContactQueue" and mapping.report_failures
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ContactDeadLetterQueue", "Arn"]}
    assert (
        queue["VisibilityTimeout"]
        >= 6 * resource(template, "ContactNotifierFunction")["Properties"]["Timeout"]
    )


def test_the_tools_function_may_read_and_write_the_tool_run_log_and_nothing_more(
    template: LocalTemplate,
) -> None:
    """It pages the log, and writes the item of a run refused before its admission (which sends no
    usage event for the consumer to log): Query and PutItem on the usage table, in its own policy."""
    policies = resource(template, "ToolsFunction")["Properties"]["Policies"]
    usage_actions: set[str] = set()
    for policy in policies:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement["Resource"] == {"Fn::GetAtt": ["UsageTable", "Arn"]}:
                actions = statement["Action"]
                usage_actions.update([actions] if isinstance(actions, str) else actions)
    assert usage_actions == {"dynamodb:Query", "dynamodb:PutItem"}


def test_tables_keys_and_ttls(template: LocalTemplate) -> None:
    def keys(name: str) -> list[tuple[str, str]]:
        return [
            (k["AttributeName"], k["KeyType"]) for k in resource(template, name)["Properties"]["KeySchema"]
        ]

    assert keys("ToolsTable") == [("account_id", "HASH"), ("tool_id", "RANGE")]
    assert keys("SessionsTable") == [("pk", "HASH"), ("sk", "RANGE")]
    assert keys("ContactTable") == [("contact_id", "HASH")]
    assert keys("IdempotencyTable") == [("id", "HASH")]
    idempotency = resource(template, "IdempotencyTable")["Properties"]
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_playground_secret_and_the_notify_address_are_wired(template: LocalTemplate) -> None:
    playground = resource(template, "PlaygroundFunction")["Properties"]
    notifier = resource(template, "ContactNotifierFunction")["Properties"]

    assert resource(template, "PlaygroundTokenSecret")["Type"] == "AWS::SecretsManager::Secret"
    assert playground["Environment"]["Variables"]["SLUICE_PLAYGROUND_SECRET_ARN"] == {
        "Ref": "PlaygroundTokenSecret"
    }
    assert int(playground["Environment"]["Variables"]["SLUICE_PLAYGROUND_TOKEN_SECONDS"]) <= 900
    assert template.document["Parameters"]["ContactNotifyEmail"]["Default"] == ""
    assert notifier["Environment"]["Variables"]["SLUICE_CONTACT_NOTIFY_EMAIL"] == {
        "Ref": "ContactNotifyEmail"
    }
    [ses] = [p for p in notifier["Policies"] if "Fn::If" in p]
    assert ses["Fn::If"][0] == "HasContactNotifyEmail"
