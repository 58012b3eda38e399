"""template.yaml facts of dashboard auth: the user pool, the authorizer, and least-privilege IAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sluice.local.template import LocalTemplate

DASHBOARD = {
    ("/api/profile", "GET"),
    ("/api/profile", "PATCH"),
    ("/api/keys", "POST"),
    ("/api/keys", "GET"),
    ("/api/keys/{key_id}", "DELETE"),
    ("/api/keys/{key_id}/default", "POST"),
    ("/api/keys/{key_id}/reissue", "POST"),
}


def resource(template: LocalTemplate, name: str) -> dict[str, Any]:
    return template.document["Resources"][name]


def statements(template: LocalTemplate, function: str) -> list[dict[str, Any]]:
    found = []
    for policy in resource(template, function)["Properties"]["Policies"]:
        assert set(policy) == {"Statement"}, f"{function}: only explicit statements, no broad SAM templates"
        found += policy["Statement"]
    return found


def test_user_pool_signs_up_by_email_with_a_strong_password_policy(template: LocalTemplate) -> None:
    pool = resource(template, "UserPool")["Properties"]

    assert pool["UsernameAttributes"] == ["email"] and pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert pool["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    custom = {a["Name"] for a in pool["Schema"] if a["Name"] != "email"}
    assert custom == {"terms_version", "privacy_version", "rai_version"}


def test_app_client_is_public_with_srp_password_and_refresh_flows(template: LocalTemplate) -> None:
    client = resource(template, "UserPoolClient")["Properties"]

    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_oauth_providers_are_optional_parameters(template: LocalTemplate) -> None:
    google = resource(template, "GoogleIdentityProvider")

    assert google["Condition"] == "HasGoogle"
    assert template.document["Parameters"]["GoogleClientId"]["Default"] == ""
    assert template.document["Parameters"]["GoogleClientSecret"]["NoEcho"] is True
    assert resource(template, "UserPoolDomain")["Condition"] == "HasGoogle"


def test_cognito_authorizer_guards_exactly_the_dashboard_routes(template: LocalTemplate) -> None:
    auth = resource(template, "SluiceApi")["Properties"]["Auth"]
    assert "DefaultAuthorizer" not in auth, "the public API authenticates keys itself"
    assert auth["Authorizers"]["CognitoAuth"]["UserPoolArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}

    account_routes = {(r.path, r.method) for r in template.routes if r.function == "AccountFunction"}
    assert account_routes == DASHBOARD
    for route in template.routes:
        if route.function == "AccountFunction":
            assert route.authorized, route
        if route.path.startswith(("/v1/", "/api/v1/")):
            assert not route.authorized, f"{route.path} takes API keys, not user tokens"
    for event in resource(template, "AccountFunction")["Properties"]["Events"].values():
        assert event["Properties"]["Auth"] == {"Authorizer": "CognitoAuth"}


def test_post_confirmation_trigger_and_signup_credits_are_wired(template: LocalTemplate) -> None:
    trigger = resource(template, "AccountTriggerFunction")["Properties"]

    assert trigger["Events"]["PostConfirmation"] == {
        "Type": "Cognito",
        "Properties": {"UserPool": {"Ref": "UserPool"}, "Trigger": "PostConfirmation"},
    }
    assert template.document["Parameters"]["SignupCredits"]["Default"] == 100


def test_every_function_that_may_open_an_account_grants_the_configured_signup_credits(
    template: LocalTemplate,
) -> None:
    """An account is opened by the trigger, or on first use by any function that signs a user in
    (``signed_in_account``, ``account_for_claims``). Each must read ``SignupCredits``, or it grants
    the code's default whatever the operator chose; locally every function shares one environment,
    so only the template can show it."""
    repo = Path(__file__).resolve().parents[2]
    openers = set()
    for name, spec in template.functions.items():
        code = "".join(path.read_text() for path in (repo / spec.code_uri).glob("*.py"))
        if any(call in code for call in ("signed_in_account", "account_for_claims", "open_account")):
            openers.add(name)
    assert {"AccountFunction", "AccountTriggerFunction", "ToolsFunction", "PlaygroundFunction"} <= openers
    for name in openers:
        own = resource(template, name)["Properties"].get("Environment", {}).get("Variables", {})
        env = {**template.global_environment, **own}
        assert env.get("SLUICE_SIGNUP_CREDITS") == {"Ref": "SignupCredits"}, name


@pytest.mark.parametrize(
    ("function", "allowed"),
    [
        (
            "AccountFunction",
            {
                ("AccountsTable", "dynamodb:GetItem"),
                ("AccountsTable", "dynamodb:PutItem"),
                ("AccountsTable", "dynamodb:UpdateItem"),
                ("AccountsTable", "dynamodb:ConditionCheckItem"),
                ("KeysTable", "dynamodb:PutItem"),
                ("KeysTable", "dynamodb:UpdateItem"),
                ("KeysTable/index/by_account", "dynamodb:Query"),
                ("LedgerTable", "dynamodb:PutItem"),
                ("LedgerTable", "dynamodb:UpdateItem"),
            },
        ),
        (
            "AccountTriggerFunction",
            {
                ("AccountsTable", "dynamodb:GetItem"),
                ("AccountsTable", "dynamodb:PutItem"),
                ("LedgerTable", "dynamodb:PutItem"),
                ("LedgerTable", "dynamodb:UpdateItem"),
            },
        ),
    ],
)
def test_account_functions_get_only_the_tables_and_actions_they_use(
    template: LocalTemplate, function: str, allowed: set[tuple[str, str]]
) -> None:
    granted = set()
    for statement in statements(template, function):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        target = statement["Resource"]
        if "Fn::GetAtt" in target:
            name = target["Fn::GetAtt"][0]
        else:
            name = target["Fn::Sub"].replace("${", "").replace(".Arn}", "")
        granted |= {(name, action) for action in actions}
    assert granted == allowed
    assert not any("*" in action for _, action in granted)


def test_outputs_name_the_pool_and_client(template: LocalTemplate) -> None:
    outputs = template.document["Outputs"]

    assert outputs["UserPoolId"]["Value"] == {"Ref": "UserPool"}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}
