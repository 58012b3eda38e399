"""``sluice credits grant --package`` and ``sluice usage show``."""

from __future__ import annotations

import json

import pytest

from shared.adapters import ledger_store
from shared.credits.ledger import balance
from sluice.cli.main import main


@pytest.fixture
def aws(aws):
    """The tables, holding the account ``acct_cli`` that these grants go to."""
    assert main(["--env", "accounts", "create", "--account-id", "acct_cli"]) == 0
    return aws


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


@pytest.mark.parametrize("what", [["5"], ["--package", "starter"]])
def test_credits_grant_to_an_unknown_account_is_refused_and_writes_no_lot(aws, capsys, what) -> None:
    """As the payment webhook does: a lot for a typo'd account id could never be spent."""
    assert main(["--env", "credits", "grant", "acct_doesnotexist", *what]) == 1

    captured = capsys.readouterr()
    assert "error: Unknown account 'acct_doesnotexist'." in captured.err
    assert "granted" not in captured.out
    assert balance("acct_doesnotexist") == 0 and list(ledger_store.iter_lots("acct_doesnotexist")) == []


def test_credits_grant_needs_an_amount_or_a_package(aws) -> None:
    with pytest.raises(SystemExit):
        main(["--env", "credits", "grant", "acct_cli"])


def test_usage_show_prints_the_credit_report(aws, capsys) -> None:
    main(["--env", "credits", "grant", "acct_cli", "42"])
    capsys.readouterr()

    assert main(["--env", "usage", "show", "acct_cli", "--days", "7"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["balance"] == 42 and report["usage"]["requests"] == 0


@pytest.mark.parametrize("days", ["0", "-1", "1.5", "forever", "99999999"])
def test_credits_grant_refuses_expires_days_that_are_not_a_positive_whole_number(aws, capsys, days) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--env", "credits", "grant", "acct_cli", "5", "--expires-days", days])

    assert exited.value.code == 2, "an argparse usage error"
    assert "argument --expires-days" in capsys.readouterr().err
    assert balance("acct_cli") == 0 and list(ledger_store.iter_lots("acct_cli")) == [], "nothing granted"


@pytest.mark.parametrize("days", [1, 90, 36_500])
def test_credits_grant_with_expires_days_makes_a_lot_that_expires_that_many_days_from_now(aws, days) -> None:
    import datetime as dt

    assert main(["--env", "credits", "grant", "acct_cli", "5", "--expires-days", str(days)]) == 0

    (lot,) = list(ledger_store.iter_lots("acct_cli"))
    assert lot.source == "admin" and lot.expiry is not None
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    assert abs((dt.datetime.fromisoformat(str(lot.expiry)) - expected).total_seconds()) < 60


def test_credits_grant_of_a_package_refuses_expires_days(aws) -> None:
    with pytest.raises(SystemExit, match="package expires after its own validity"):
        main(["--env", "credits", "grant", "acct_cli", "--package", "starter", "--expires-days", "3"])
    assert balance("acct_cli") == 0
