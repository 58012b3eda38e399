"""The account record."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Plan = Literal["free", "pro"]


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True)

    terms_version: str
    privacy_version: str
    responsible_ai_version: str
    accepted_at: str


class Account(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    email: str | None = None
    name: str | None = None  # display name, set by the user
    plan: Plan = "free"
    default_key_id: str | None = None
    invite_code: str | None = None
    invited_by: str | None = None
    consent: Consent | None = None
    created_at: str
