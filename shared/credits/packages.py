"""Credit packages and invite rewards, from configuration (``shared/credits/packages.json``).

Operators define their own by pointing ``SLUICE_CREDIT_PACKAGES_FILE`` at a file of the same shape.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidRequest

DEFAULT_PACKAGES_FILE = Path(__file__).with_name("packages.json")


class Package(BaseModel):
    """A purchasable lot: ``credits`` valid for ``valid_months`` calendar months (None: no expiry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    credits: Annotated[int, Field(gt=0)]
    valid_months: Annotated[int | None, Field(ge=1, le=120)] = None


class InviteRewards(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signup: Annotated[int, Field(ge=0)] = 50
    first_payment: Annotated[int, Field(ge=0)] = 500


class CreditConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    packages: Annotated[list[Package], Field(min_length=1)]
    invite_rewards: InviteRewards = InviteRewards()


@lru_cache(maxsize=1)
def credit_config() -> CreditConfig:
    """The configuration, read once (``SLUICE_CREDIT_PACKAGES_FILE`` or the bundled file)."""
    path = Path(os.environ.get("SLUICE_CREDIT_PACKAGES_FILE") or DEFAULT_PACKAGES_FILE)
    return CreditConfig.model_validate_json(path.read_text(encoding="utf-8"))


def find_package(name: str) -> Package:
    """The package whose id or display name is ``name`` (any case), or 400."""
    wanted = name.strip().lower()
    for package in credit_config().packages:
        if wanted in (package.id, package.name.lower()):
            return package
    known = ", ".join(p.id for p in credit_config().packages)
    raise InvalidRequest(f"Unknown package '{name}'. Known packages: {known}.", param="package")


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Same day and time ``months`` later, clamped to the month's last day (Jan 31 + 1 = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def package_expiry(package: Package, granted_at: dt.datetime) -> dt.datetime | None:
    """When a lot of ``package`` granted at ``granted_at`` expires (None: never)."""
    return add_months(granted_at, package.valid_months) if package.valid_months else None
