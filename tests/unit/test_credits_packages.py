"""Packages from configuration, their expiry, and operator-defined package files."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from shared.credits import packages
from shared.errors import InvalidRequest


@pytest.fixture(autouse=True)
def fresh_config():
    packages.credit_config.cache_clear()
    yield
    packages.credit_config.cache_clear()


def test_the_default_packages_match_the_spec() -> None:
    config = packages.credit_config()

    assert [(p.id, p.name, p.credits, p.valid_months) for p in config.packages] == [
        ("starter", "Starter", 500, None),
        ("standard", "Standard", 5000, 1),
        ("premium", "Premium", 20000, 1),
    ]
    assert (config.invite_rewards.signup, config.invite_rewards.first_payment) == (50, 500)


@pytest.mark.parametrize("name", ["standard", "Standard", " STANDARD "])
def test_packages_are_found_by_id_or_name_in_any_case(name: str) -> None:
    assert packages.find_package(name).credits == 5000


def test_an_unknown_package_is_an_invalid_request_naming_the_known_ones() -> None:
    with pytest.raises(InvalidRequest, match="starter, standard, premium") as raised:
        packages.find_package("gold")
    assert raised.value.param == "package"


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2025-01-15T10:00:00", 1, "2025-02-15T10:00:00"),
        ("2025-01-31T10:00:00", 1, "2025-02-28T10:00:00"),
        ("2024-01-31T10:00:00", 1, "2024-02-29T10:00:00"),
        ("2025-12-31T23:59:59", 1, "2026-01-31T23:59:59"),
        ("2025-03-31T00:00:00", 13, "2026-04-30T00:00:00"),
    ],
)
def test_a_month_is_a_calendar_month_clamped_to_its_last_day(start: str, months: int, end: str) -> None:
    assert packages.add_months(dt.datetime.fromisoformat(start), months) == dt.datetime.fromisoformat(end)


def test_starter_never_expires() -> None:
    assert packages.package_expiry(packages.find_package("starter"), dt.datetime.now(dt.UTC)) is None


def test_an_operator_file_replaces_the_packages(tmp_path, monkeypatch) -> None:
    custom = tmp_path / "packages.json"
    custom.write_text(
        json.dumps({"packages": [{"id": "team", "name": "Team", "credits": 100000, "valid_months": 12}]})
    )
    monkeypatch.setenv("SLUICE_CREDIT_PACKAGES_FILE", str(custom))

    assert packages.find_package("team").valid_months == 12
    assert packages.credit_config().invite_rewards.signup == 50
    with pytest.raises(InvalidRequest):
        packages.find_package("starter")
