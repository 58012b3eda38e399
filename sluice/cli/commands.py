"""The CLI's commands. Each prints JSON or a short line; raw keys are printed once, at issue."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def account_create(args: argparse.Namespace) -> None:
    from shared.accounts.models import Account, Consent
    from shared.adapters import account_store
    from shared.keys.service import now_iso

    account_id = args.account_id or "acct_" + secrets.token_hex(8)
    consent = None
    if args.consent:
        consent = Consent(
            terms_version=args.consent,
            privacy_version=args.consent,
            responsible_ai_version=args.consent,
            accepted_at=now_iso(),
        )
    account = Account(
        account_id=account_id, email=args.email, plan=args.plan, consent=consent, created_at=now_iso()
    )
    if not account_store.create_account(account):
        raise SystemExit(f"account {account_id} already exists")
    _print(account.model_dump(mode="json"))


def account_set_plan(args: argparse.Namespace) -> None:
    from shared.keys.service import set_plan

    set_plan(args.account_id, args.plan)
    print(f"{args.account_id}: plan {args.plan}")


def account_show(args: argparse.Namespace) -> None:
    from shared.adapters import account_store
    from shared.credits.ledger import balance

    account = account_store.get_account(args.account_id)
    if account is None:
        raise SystemExit(f"no account {args.account_id}")
    _print({**account.model_dump(mode="json"), "balance": balance(args.account_id)})


def key_issue(args: argparse.Namespace) -> None:
    from shared.keys.service import issue_key

    issued = issue_key(args.account_id, args.name, require_consent=not args.skip_consent_check)
    _print(issued.record.public())
    print(f"\nAPI key (shown once, store it now): {issued.raw_key}")


def key_list(args: argparse.Namespace) -> None:
    from shared.adapters import key_store

    _print([k.public() for k in key_store.list_account_keys(args.account_id)])


def key_revoke(args: argparse.Namespace) -> None:
    from shared.keys.service import revoke_key

    _print(revoke_key(args.account_id, args.key_id).public())


def credits_grant(args: argparse.Namespace) -> None:
    from shared.credits.ledger import LotSource, balance
    from shared.credits.manual import grant_by_hand
    from shared.credits.packages import find_package, package_expiry

    if (args.amount is None) == (args.package is None):
        raise SystemExit("give either AMOUNT or --package NAME")
    if args.package and args.expires_days is not None:
        raise SystemExit("--expires-days is for an AMOUNT grant; a package expires after its own validity")
    now = dt.datetime.now(dt.UTC)
    source: LotSource = "package" if args.package else "admin"
    if args.package:
        package = find_package(args.package)
        amount, expires = package.credits, package_expiry(package, now)
    else:
        amount = args.amount
        expires = now + dt.timedelta(days=args.expires_days) if args.expires_days is not None else None
    reference = args.reference or "admin-" + secrets.token_hex(6)
    granted = grant_by_hand(args.account_id, amount, source=source, reference=reference, expires_at=expires)
    print(f"{'granted' if granted else 'already granted'} ({reference}); balance {balance(args.account_id)}")


def usage_show(args: argparse.Namespace) -> None:
    from shared.credits.report import credit_report

    _print(credit_report(args.account_id, days=args.days, hours=args.hours))


def catalog_load(args: argparse.Namespace) -> None:
    from shared.adapters.catalog_store import write_catalog
    from shared.catalog.loader import DEFAULT_CATALOG_FILE, load_catalog_file

    catalog = load_catalog_file(Path(args.file) if args.file else DEFAULT_CATALOG_FILE)
    write_catalog(catalog)
    print(f"loaded {len(catalog.models)} models")


def catalog_list(args: argparse.Namespace) -> None:
    from shared.adapters.catalog_store import read_catalog

    for m in read_catalog().models:
        eol = f" EOL {m.eol_date}" if m.eol_date else ""
        print(f"{m.id:20} {m.tier:4} {m.status}{eol} cost={m.credit_cost} routes={len(m.routes)}")


def at_least_one(text: str, what: str = "a whole number", hint: str = "") -> int:
    """An argparse ``type``: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value}){hint}")
    return value


def _positive_days(text: str) -> int:
    """``--expires-days``: a whole number of days, at least 1 (0 would be a lot that never expires)."""
    days = at_least_one(
        text, "a whole number of days", "; leave --expires-days out for credits that never expire"
    )
    latest = (dt.datetime(9999, 12, 30, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)).days
    if days > latest:
        raise argparse.ArgumentTypeError(f"must be at most {latest:,} (an expiry before the year 10000)")
    return days


def register(sub: Any) -> None:
    """Add every command to the ``sluice`` parser."""
    accounts = sub.add_parser("accounts", help="create accounts and set plans").add_subparsers(required=True)
    p = accounts.add_parser("create")
    p.add_argument("--email")
    p.add_argument("--plan", choices=["free", "pro"], default="free")
    p.add_argument("--account-id")
    p.add_argument("--consent", metavar="VERSION", help="record policy consent given outside the dashboard")
    p.set_defaults(run=account_create)
    p = accounts.add_parser("set-plan")
    p.add_argument("account_id")
    p.add_argument("plan", choices=["free", "pro"])
    p.set_defaults(run=account_set_plan)
    p = accounts.add_parser("show")
    p.add_argument("account_id")
    p.set_defaults(run=account_show)

    keys = sub.add_parser("keys", help="issue, list and revoke API keys").add_subparsers(required=True)
    p = keys.add_parser("issue")
    p.add_argument("account_id")
    p.add_argument("--name", default="cli")
    p.add_argument("--skip-consent-check", action="store_true", help="operator override for service accounts")
    p.set_defaults(run=key_issue)
    p = keys.add_parser("list")
    p.add_argument("account_id")
    p.set_defaults(run=key_list)
    p = keys.add_parser("revoke")
    p.add_argument("account_id")
    p.add_argument("key_id")
    p.set_defaults(run=key_revoke)

    credit = sub.add_parser("credits", help="grant credits").add_subparsers(required=True)
    p = credit.add_parser("grant")
    p.add_argument("account_id")
    p.add_argument("amount", type=int, nargs="?", help="credits (or --package)")
    p.add_argument("--package", help="grant a package from shared/credits/packages.json (its expiry too)")
    p.add_argument(
        "--expires-days",
        type=_positive_days,
        metavar="DAYS",
        help="the lot expires DAYS days from now (>= 1)",
    )
    p.add_argument("--reference", help="idempotency reference (a grant with the same one is applied once)")
    p.set_defaults(run=credits_grant)

    usage = sub.add_parser("usage", help="an account's credits and usage").add_subparsers(required=True)
    p = usage.add_parser("show")
    p.add_argument("account_id")
    p.add_argument("--days", type=int, default=30, choices=range(1, 91), metavar="1-90")
    p.add_argument("--hours", type=int, default=24, choices=range(1, 169), metavar="1-168")
    p.set_defaults(run=usage_show)

    catalog = sub.add_parser("catalog", help="load and list the model catalog").add_subparsers(required=True)
    p = catalog.add_parser("load")
    p.add_argument("file", nargs="?")
    p.set_defaults(run=catalog_load)
    p = catalog.add_parser("list")
    p.set_defaults(run=catalog_list)

    from sluice.cli import users

    users.register(sub)
