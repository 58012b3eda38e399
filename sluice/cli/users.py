"""``sluice users``: sign dashboard users up and in, against the local stack or a deployed stack.

Which user pool: ``SLUICE_USER_POOL_ID`` and ``SLUICE_USER_POOL_CLIENT_ID`` when both are set;
else the ``UserPoolId``/``UserPoolClientId`` outputs of ``--stack NAME``; else the local stack's
pool in moto. Locally a sign-up is confirmed at once and the PostConfirmation trigger is played
(moto runs no triggers); deployed, Cognito emails a code for ``sluice users confirm``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from sluice.local.cognito import CLIENT_ID_ENV, POOL_ID_ENV, LocalUserPool

PASSWORD_ENV = "SLUICE_USER_PASSWORD"  # noqa: S105 - the name of a variable, not a password
CONSENT_ATTRIBUTES = ("custom:terms_version", "custom:privacy_version", "custom:rai_version")
DEFAULT_POLICY_VERSION = "1"


@dataclass(frozen=True)
class Target:
    cognito: Any
    pool: LocalUserPool
    local: bool


def _stack_pool(stack_name: str) -> LocalUserPool:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return LocalUserPool(pool_id=outputs["UserPoolId"], client_id=outputs["UserPoolClientId"])


def _local_resources() -> Any:
    from sluice.local.resources import LocalResources
    from sluice.local.template import parse_template

    resources = LocalResources(parse_template())
    for logical_id in resources.template.resources("AWS::DynamoDB::Table"):
        resources.names[logical_id] = resources.physical_name(logical_id)
    return resources


def _target(args: argparse.Namespace) -> Target:
    import boto3

    cognito = boto3.client("cognito-idp")
    local = os.environ.get("SLUICE_ENVIRONMENT") == "local"
    pool_id, client_id = os.environ.get(POOL_ID_ENV), os.environ.get(CLIENT_ID_ENV)
    if pool_id and client_id:
        return Target(cognito, LocalUserPool(pool_id, client_id), local)
    if getattr(args, "stack", None):
        return Target(cognito, _stack_pool(args.stack), local=False)
    if local:
        from sluice.local.cognito import find_local_pool

        return Target(cognito, find_local_pool(_local_resources(), cognito), local=True)
    raise SystemExit(f"which user pool? use --stack NAME, --local, or set {POOL_ID_ENV} and {CLIENT_ID_ENV}")


def _password(args: argparse.Namespace) -> str:
    return args.password or os.environ.get(PASSWORD_ENV) or getpass.getpass("Password: ")


def _cognito_call(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one Cognito API call; its error message (never the password) ends the command."""
    from botocore.exceptions import ClientError

    try:
        return dict(call(**kwargs))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SystemExit(f"error: {error.get('Code')}: {error.get('Message')}") from None


def signup(args: argparse.Namespace) -> None:
    """Register a user with email and password, with policy consent when ``--accept-policies``."""
    from shared.auth.users import account_id_for_sub

    target = _target(args)
    attributes = [{"Name": "email", "Value": args.email}]
    if args.accept_policies:
        attributes += [{"Name": name, "Value": args.policy_version} for name in CONSENT_ATTRIBUTES]
    result = _cognito_call(
        target.cognito.sign_up,
        ClientId=target.pool.client_id,
        Username=args.email,
        Password=_password(args),
        UserAttributes=attributes,
    )
    confirmed = bool(result.get("UserConfirmed"))
    if target.local and not confirmed:
        from sluice.local.cognito import run_post_confirmation

        _cognito_call(
            target.cognito.admin_confirm_sign_up, UserPoolId=target.pool.pool_id, Username=args.email
        )
        with contextlib.redirect_stdout(sys.stderr):  # the trigger's logs; stdout is the result
            run_post_confirmation(_local_resources(), target.pool, target.cognito, args.email)
        confirmed = True
    print(
        json.dumps(
            {
                "user_sub": result["UserSub"],
                "account_id": account_id_for_sub(result["UserSub"]),
                "confirmed": confirmed,
                "consent": bool(args.accept_policies),
            },
            indent=2,
        )
    )
    if not confirmed:
        print(f"Cognito emailed a code to {args.email}: run `sluice users confirm --email ... --code ...`")


def confirm(args: argparse.Namespace) -> None:
    """Confirm a deployed sign-up with the emailed code (Cognito then runs PostConfirmation)."""
    target = _target(args)
    _cognito_call(
        target.cognito.confirm_sign_up,
        ClientId=target.pool.client_id,
        Username=args.email,
        ConfirmationCode=args.code,
    )
    print(f"{args.email}: confirmed")


def signin(args: argparse.Namespace) -> None:
    """Print the user's ID token (what the dashboard routes take in ``Authorization``)."""
    target = _target(args)
    result = _cognito_call(
        target.cognito.initiate_auth,
        ClientId=target.pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": args.email, "PASSWORD": _password(args)},
    )
    if "AuthenticationResult" not in result:
        raise SystemExit(
            f"sign-in needs the {result.get('ChallengeName')} challenge, which the CLI cannot answer"
        )
    tokens = result["AuthenticationResult"]
    if args.json:
        keep = ("IdToken", "AccessToken", "RefreshToken", "ExpiresIn")
        print(json.dumps({k: tokens[k] for k in keep if k in tokens}, indent=2))
    else:
        print(tokens["IdToken"])


def register(sub: Any) -> None:
    """Add ``sluice users signup|confirm|signin`` to the ``sluice`` parser."""
    users = sub.add_parser("users", help="sign dashboard users up and in").add_subparsers(required=True)
    password_help = f"the password (else ${PASSWORD_ENV}, else a prompt)"
    p = users.add_parser("signup", help="register a user (confirmed at once on the local stack)")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help=password_help)
    p.add_argument("--accept-policies", action="store_true", help="accept Terms, Privacy and Responsible AI")
    p.add_argument("--policy-version", default=DEFAULT_POLICY_VERSION, help="policy version accepted")
    p.set_defaults(run=signup)
    p = users.add_parser("confirm", help="confirm a deployed sign-up with the emailed code")
    p.add_argument("--email", required=True)
    p.add_argument("--code", required=True)
    p.set_defaults(run=confirm)
    p = users.add_parser("signin", help="print the user's ID token")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help=password_help)
    p.add_argument("--json", action="store_true", help="print ID, access and refresh tokens as JSON")
    p.set_defaults(run=signin)
