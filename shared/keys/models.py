"""The stored key record (never the raw key) and its public view."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.accounts.models import Plan

KeyStatus = Literal["active", "revoked"]


class ApiKeyRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key_id: str
    key_hash: str
    key_prefix: str
    last_four: str
    account_id: str
    plan: Plan = "free"  # a copy of the account's plan, so that one lookup authenticates a request
    name: str
    created_at: str
    last_used_at: str | None = None
    status: KeyStatus = "active"
    revoked_at: str | None = None

    def public(self) -> dict[str, Any]:
        """What the dashboard and CLI may show: never the hash, never the raw key."""
        return self.model_dump(exclude={"key_hash"})
