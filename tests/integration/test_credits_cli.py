"""``sluice credits grant --package`` and ``sluice usage show``."""

from __future__ import annotations

import json

import pytest

from shared.adapters import ledger_store
from shared.credits.ledger import balance
from sluice.cli.main import main


def test_credits_grant_package_grants_the_package_with_its_expiry(aws, capsys) -> None:
    assert (
        main(["--env", "credits", "grant", "acct_cli", "--package", "Premium", "--reference", "ops-1"]) == 0
    )
    assert (
        main(["--env", "credits", "grant", "acct_cli", "--package", "premium", "--reference", "ops-1"]) == 0
    )

    out = capsys.readouterr().out
    assert "granted (ops-1)" in out and "already granted (ops-1)" in out
    assert balance("acct_cli") == 20_000
    (lot,) = list(ledger_store.iter_lots("acct_cli"))
    assert lot.source == "package" and lot.expiry is not None


def test_credits_grant_of_an_unknown_package_fails(aws, capsys) -> None:
    assert main(["--env", "credits", "grant", "acct_cli", "--package", "gold"]) == 1
    assert "Unknown package" in capsys.readouterr().err


def test_credits_grant_needs_an_amount_or_a_package(aws) -> None:
    with pytest.raises(SystemExit):
        main(["--env", "credits", "grant", "acct_cli"])


def test_usage_show_prints_the_credit_report(aws, capsys) -> None:
    main(["--env", "credits", "grant", "acct_cli", "42"])
    capsys.readouterr()

    assert main(["--env", "usage", "show", "acct_cli", "--days", "7"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["balance"] == 42 and report["usage"]["requests"] == 0
